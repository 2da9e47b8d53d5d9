"""The full evaluation (`onprem-bot eval DATASET.jsonl`): every question through the pipeline, scored.

Rows are ``{question, answer?, keywords?, doc_title?, article?, chunk_text_contains?, faq_id?}``.
Per question and in total the report holds: the route, retrieval hit@k / MRR where a gold source
is given, whether the answer cites the gold article, the seed keyword score (m of n keywords →
``5 × m / n``; accuracy = total / (5 × questions with keywords)), TF-IDF cosine (Mecab tokens),
ROUGE-L and BLEU against the reference answer, the checker's verdict and latency per stage.

Outputs: the report dict (JSON), :func:`format_console` (a table) and :func:`render_html` (one
self-contained HTML page, inline CSS and SVG charts, no external assets, so the admin UI can show
it as is).
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import platform
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from onprem_bot.errors import OnpremBotError
from onprem_bot.eval.metrics import cites_gold, keyword_score
from onprem_bot.eval.retrieval import GOLD_KEYS, read_questions
from onprem_bot.eval.text_metrics import (
    bleu,
    hit_at_k,
    mean,
    percentile,
    reciprocal_rank,
    rouge_l,
    tfidf_cosine,
    tokenize,
)

CUTOFFS = (1, 3, 5, 10)
ROUTES = ("faq", "rag", "extractive", "refused", "error")
ROUTE_COLORS = {"faq": "#4c78a8", "rag": "#54a24b", "extractive": "#f58518", "refused": "#e45756", "error": "#9d755d"}
STAGES = ("faq_ms", "retrieval_ms", "prompt_ms", "first_token_ms", "generation_ms", "check_ms", "total_ms")


def read_eval_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of an evaluation JSONL file; only ``question`` is required. Errors name the line."""
    rows = []
    for n, row in read_questions(path):
        keywords = row.get("keywords")
        if keywords is not None and (
            not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords)
        ):
            raise OnpremBotError(
                f"{path}:{n}: keywords는 문자열 목록이어야 합니다 (keywords must be a list of strings)"
            )
        for key in ("answer", *GOLD_KEYS):
            if row.get(key) is not None and not isinstance(row[key], str):
                raise OnpremBotError(f"{path}:{n}: {key}는 문자열이어야 합니다 ({key} must be a string)")
        rows.append(row)
    return rows


def gold_of(row: dict[str, Any]) -> dict[str, str]:
    """The row's gold source (document title / article / text phrase), possibly empty."""
    return {k: row[k] for k in GOLD_KEYS if row.get(k)}


def score_answer(row: dict[str, Any], answer: dict[str, Any], analyzer: Any) -> dict[str, Any]:
    """Scores of one answer (``ask --json`` shape) against its row: keywords, text metrics, citations."""
    text = str(answer.get("answer") or "")
    keywords = list(row.get("keywords") or [])
    out: dict[str, Any] = {
        "keywords": len(keywords),
        "keyword_score": round(keyword_score(text, keywords), 4) if keywords else None,
        "keywords_missing": [k for k in keywords if "".join(k.split()) not in "".join(text.split())],
    }
    reference = str(row.get("answer") or "").strip()
    if reference:
        cand, ref = tokenize(analyzer, text), tokenize(analyzer, reference)
        out["tfidf_cosine"] = round(tfidf_cosine(cand, ref), 4)
        out["rouge_l"] = round(rouge_l(cand, ref)["f1"], 4)
        out["bleu"] = round(bleu(cand, ref), 4)
    else:
        out["tfidf_cosine"] = out["rouge_l"] = out["bleu"] = None
    gold = {k: row[k] for k in ("doc_title", "article", "page") if row.get(k)}
    out["cites_gold"] = cites_gold(answer.get("citations") or [], gold) if gold else None
    if row.get("faq_id") not in (None, ""):
        ids = [str(c.get("chunk_id")) for c in answer.get("citations") or []]
        out["faq_hit"] = answer.get("route") == "faq" and f"faq:{row['faq_id']}" in ids
    else:
        out["faq_hit"] = None
    return out


def evaluate(
    pipeline: Any,
    retriever: Any,
    analyzer: Any,
    rows: Sequence[dict[str, Any]],
    *,
    modes: Sequence[str] = ("bm25", "dense", "hybrid"),
    progress: Callable[[int, int], None] = lambda _i, _n: None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run every question through ``pipeline`` and score it; the whole report as a dict."""
    from onprem_bot.eval.retrieval import evaluate_retrieval

    gold_rows = [r for r in rows if gold_of(r)]
    retrieval = evaluate_retrieval(retriever, gold_rows, modes) if gold_rows and modes else None
    main_mode = "hybrid" if "hybrid" in modes else (modes[-1] if modes else None)
    ranks: dict[int, int | None] = {}
    if retrieval is not None and main_mode is not None:
        ranks = dict(zip([id(r) for r in gold_rows], retrieval["modes"][main_mode]["ranks"], strict=True))
    details = []
    for i, row in enumerate(rows, start=1):
        started = time.perf_counter()
        try:
            answer = pipeline.ask(row["question"]).as_json()
        except OnpremBotError as exc:  # one bad question must not stop the evaluation
            answer = {"answer": "", "route": "error", "citations": [], "check": {}, "timings": {}, "error": str(exc)}
        seconds = time.perf_counter() - started
        d: dict[str, Any] = {"n": i, "question": row["question"], "route": answer["route"]}
        check = answer.get("check") or {}
        d["verdict"] = check.get("verdict")
        d["unsupported"] = sum(1 for f in check.get("findings") or [] if f.get("supported") is False)
        if id(row) in ranks:
            rank = ranks[id(row)]
            d["rank"] = rank
            d.update({f"hit@{k}": hit_at_k(rank, k) for k in CUTOFFS})
            d["rr"] = round(reciprocal_rank(rank, max(CUTOFFS)), 4)
        else:
            d["rank"] = None
        d.update(score_answer(row, answer, analyzer))
        d["timings"] = {k: v for k, v in (answer.get("timings") or {}).items() if k.endswith("_ms")}
        d["seconds"] = round(seconds, 3)
        d["answer"] = answer["answer"]
        d["reference"] = row.get("answer")
        d["gold"] = gold_of(row) or None
        d["citations"] = [f"{c.get('doc_title')} {c.get('location') or ''}".strip() for c in answer["citations"]]
        if answer.get("error"):
            d["error"] = answer["error"]
        details.append(d)
        progress(i, len(rows))
    report = summarize(details, meta)
    if retrieval is not None:
        report["modes"] = retrieval["modes"]
        report["retrieval_mode"] = main_mode
    return report


def summarize(details: list[dict[str, Any]], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Totals over the per-question details (the report's top level)."""
    with_rank = [d for d in details if "hit@1" in d]
    with_kw = [d for d in details if d["keyword_score"] is not None]
    with_ref = [d for d in details if d["rouge_l"] is not None]
    with_gold = [d for d in details if d["cites_gold"] is not None]
    with_faq = [d for d in details if d["faq_hit"] is not None]
    kw_total = sum(d["keyword_score"] for d in with_kw)

    def avg(rows: list[dict[str, Any]], key: str) -> float | None:
        value = mean(d[key] for d in rows)
        return round(value, 4) if value is not None else None

    latency: dict[str, dict[str, float | None]] = {}
    for stage in STAGES:
        values = [d["timings"][stage] for d in details if stage in d["timings"]]
        if values:
            latency[stage] = {
                "n": len(values),
                "p50": _r(percentile(values, 50)),
                "p95": _r(percentile(values, 95)),
                "max": _r(max(values)),
                "mean": _r(mean(values)),
            }
    return {
        "meta": {**(meta or {}), "created": _dt.datetime.now().isoformat(timespec="seconds")},
        "questions": len(details),
        "routes": dict(Counter(d["route"] for d in details)),
        "verdicts": dict(Counter(d["verdict"] or "none" for d in details)),
        "retrieval": {
            "questions": len(with_rank),
            **{f"hit@{k}": avg(with_rank, f"hit@{k}") for k in CUTOFFS},
            "mrr@10": avg(with_rank, "rr"),
        },
        "gold_cited": avg([{"v": float(d["cites_gold"])} for d in with_gold], "v"),
        "faq_accuracy": avg([{"v": float(d["faq_hit"])} for d in with_faq], "v"),
        "keyword": {
            "questions": len(with_kw),
            "total": round(kw_total, 2),
            "max": 5 * len(with_kw),
            "accuracy": round(kw_total / (5 * len(with_kw)), 4) if with_kw else None,
        },
        "text": {
            "questions": len(with_ref),
            "tfidf_cosine": avg(with_ref, "tfidf_cosine"),
            "rouge_l": avg(with_ref, "rouge_l"),
            "bleu": avg(with_ref, "bleu"),
        },
        "latency_ms": latency,
        "seconds_total": round(sum(d["seconds"] for d in details), 2),
        "errors": sum(1 for d in details if d.get("error")),
        "details": details,
    }


def _r(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def describe_settings(settings: Any, llm: Any = None) -> dict[str, Any]:
    """What produced the answers (model, embedder, answer mode, fusion), for the report's header."""
    model = getattr(llm, "name", None) or (str(settings.llm.model_path) if settings.llm.model_path else None)
    return {
        "llm_backend": settings.llm.backend,
        "model": model,
        "embedder": settings.embedder.backend
        + (f" ({settings.embedder.model_path})" if settings.embedder.model_path else ""),
        "answer_mode": settings.answer.mode,
        "on_flagged": settings.answer.on_flagged,
        "fusion": settings.retrieval.fusion,
        "k": settings.retrieval.k,
        "faq": settings.faq.enabled,
        "python": platform.python_version(),
        "machine": platform.node(),
    }


# ---------------------------------------------------------------- console


def _fmt(value: Any, spec: str = ".2f", width: int = 6) -> str:
    if value is None:
        return f"{'-':>{width}}"
    return f"{value:>{width}{spec}}"


def format_console(report: dict[str, Any]) -> str:
    """A console table: one line per question, then the totals and the retrieval modes."""
    head = f"{'#':>3} {'route':<10} {'verdict':<9} {'rank':>4} {'kw':>5} {'tfidf':>6} {'rougeL':>6} {'bleu':>6} {'ms':>8}  question"
    lines = [head]
    for d in report["details"]:
        lines.append(
            f"{d['n']:>3} {d['route']:<10} {(d['verdict'] or '-'):<9} {(d['rank'] or '-')!s:>4} "
            f"{_fmt(d['keyword_score'], '.1f', 5)} {_fmt(d['tfidf_cosine'])} {_fmt(d['rouge_l'])} {_fmt(d['bleu'])} "
            f"{_fmt(d['timings'].get('total_ms'), '.0f', 8)}  {d['question'][:40]}"
        )
    lines.append("")
    lines.extend(summary_lines(report))
    if report.get("modes"):
        from onprem_bot.eval.retrieval import format_table

        lines.append("")
        lines.append(format_table({"questions": report["retrieval"]["questions"], "modes": report["modes"]}))
    return "\n".join(lines)


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The totals as a few readable lines."""
    kw, text, ret = report["keyword"], report["text"], report["retrieval"]
    total = report["latency_ms"].get("total_ms") or {}
    lines = [
        f"질문 {report['questions']}개  routes {report['routes']}  verdicts {report['verdicts']}",
        f"키워드 점수 (keyword score) {kw['total']}/{kw['max']}  accuracy {_fmt(kw['accuracy'], '.3f', 0)}",
        f"TF-IDF cosine {_fmt(text['tfidf_cosine'], '.3f', 0)}  ROUGE-L {_fmt(text['rouge_l'], '.3f', 0)}"
        f"  BLEU {_fmt(text['bleu'], '.3f', 0)}  (참조 답변 {text['questions']}개)",
        f"검색 (retrieval) hit@1 {_fmt(ret['hit@1'], '.3f', 0)}  hit@5 {_fmt(ret['hit@5'], '.3f', 0)}"
        f"  MRR@10 {_fmt(ret['mrr@10'], '.3f', 0)}  정답 조문 인용 (gold cited) {_fmt(report['gold_cited'], '.3f', 0)}",
        f"지연 (latency) total p50 {_fmt(total.get('p50'), '.0f', 0)} ms  p95 {_fmt(total.get('p95'), '.0f', 0)} ms",
    ]
    if report.get("faq_accuracy") is not None:
        lines.append(f"FAQ 정답률 (faq accuracy) {report['faq_accuracy']:.3f}")
    if report.get("errors"):
        lines.append(f"오류 (errors) {report['errors']}")
    return lines


# ---------------------------------------------------------------- HTML

CSS = """
body{font-family:system-ui,-apple-system,"Malgun Gothic","Apple SD Gothic Neo",sans-serif;margin:24px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 6px;vertical-align:top}
th{background:#f4f4f4;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:120px}
.card b{display:block;font-size:20px}.muted{color:#777;font-size:12px}
tr.better td{background:#e8f5e9}tr.worse td{background:#fdecea}tr.changed td{background:#fff8e1}
details summary{cursor:pointer}.ans{max-width:520px;white-space:pre-wrap}
svg text{font-family:inherit}
"""


def esc(value: Any) -> str:
    """HTML-escaped text of ``value`` ('-' for None)."""
    return "-" if value is None else html.escape(str(value))


def svg_bars(
    values: Sequence[float | None], labels: Sequence[str], colors: Sequence[str], vmax: float, title: str
) -> str:
    """A vertical bar chart (one bar per value), inline SVG."""
    n = max(len(values), 1)
    width, height, left, bottom = max(360, 18 * n + 50), 180, 36, 24
    bar = (width - left - 10) / n
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    parts.append(f"<title>{esc(title)}</title>")
    plot_h = height - bottom - 10
    for frac in (0, 0.5, 1):
        y = 10 + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{width - 5}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{vmax * frac:g}</text>')
    for i, (v, label, color) in enumerate(zip(values, labels, colors, strict=True)):
        x = left + i * bar + 1
        h = 0 if v is None or vmax <= 0 else plot_h * min(v, vmax) / vmax
        if v is not None and h < 2:  # a zero score stays visible (no bar at all means "not scored")
            h = 2
        parts.append(
            f'<rect x="{x:.1f}" y="{10 + plot_h - h:.1f}" width="{max(bar - 2, 1):.1f}" height="{h:.1f}" fill="{color}">'
            f"<title>{esc(label)}: {esc(v if v is None else round(v, 3))}</title></rect>"
        )
        if n <= 40:
            parts.append(
                f'<text x="{x + bar / 2 - 1:.1f}" y="{height - 8}" font-size="9" text-anchor="middle">{i + 1}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def svg_histogram(values: Sequence[float], title: str, unit: str = "ms", bins: int = 12) -> str:
    """A histogram of ``values``, inline SVG."""
    if not values:
        return '<p class="muted">측정값 없음 (no values)</p>'
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(int((v - lo) / span * bins), bins - 1)] += 1
    labels = [f"{lo + span * i / bins:.0f}–{lo + span * (i + 1) / bins:.0f} {unit}" for i in range(bins)]
    chart = svg_bars([float(c) for c in counts], labels, ["#4c78a8"] * bins, float(max(counts)), title)
    return chart + f'<div class="muted">{lo:.0f} {unit} … {hi:.0f} {unit} (막대 위에 마우스를 올리면 구간과 개수)</div>'


def svg_route_mix(routes: dict[str, int]) -> str:
    """One horizontal stacked bar of the route shares with a legend, inline SVG."""
    total = sum(routes.values()) or 1
    width, x = 520, 0.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="60" role="img"><title>route mix</title>']
    legend_x = 0
    for route in [*ROUTES, *sorted(set(routes) - set(ROUTES))]:
        count = routes.get(route, 0)
        if not count:
            continue
        w = width * count / total
        color = ROUTE_COLORS.get(route, "#bab0ac")
        parts.append(
            f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="26" fill="{color}"><title>{esc(route)}: {count}</title></rect>'
        )
        x += w
        parts.append(f'<rect x="{legend_x}" y="36" width="10" height="10" fill="{color}"/>')
        parts.append(
            f'<text x="{legend_x + 14}" y="45" font-size="11">{esc(route)} {count} ({100 * count / total:.0f}%)</text>'
        )
        legend_x += 120
    parts.append("</svg>")
    return "".join(parts)


def _cards(report: dict[str, Any]) -> str:
    kw, text, ret = report["keyword"], report["text"], report["retrieval"]
    total = report["latency_ms"].get("total_ms") or {}
    cards = [
        ("질문 (questions)", report["questions"]),
        ("키워드 정확도 (keyword accuracy)", _pct(kw["accuracy"])),
        ("키워드 점수", f"{kw['total']} / {kw['max']}"),
        ("TF-IDF cosine", _num(text["tfidf_cosine"])),
        ("ROUGE-L", _num(text["rouge_l"])),
        ("BLEU", _num(text["bleu"])),
        ("hit@5", _num(ret["hit@5"])),
        ("MRR@10", _num(ret["mrr@10"])),
        ("정답 조문 인용 (gold cited)", _num(report["gold_cited"])),
        ("지연 p50 / p95", f"{_num(total.get('p50'), 0)} / {_num(total.get('p95'), 0)} ms"),
    ]
    return (
        '<div class="cards">' + "".join(f'<div class="card"><b>{esc(v)}</b>{esc(k)}</div>' for k, v in cards) + "</div>"
    )


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _num(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def latency_table(latency: dict[str, dict[str, Any]]) -> str:
    """Per-stage latency figures as an HTML table."""
    rows = "".join(
        f"<tr><td>{esc(stage)}</td>"
        + "".join(f'<td class="num">{esc(f[k])}</td>' for k in ("n", "p50", "p95", "max", "mean"))
        + "</tr>"
        for stage, f in latency.items()
    )
    return (
        "<table><tr><th>stage</th><th>n</th><th>p50 ms</th><th>p95 ms</th><th>max ms</th><th>mean ms</th></tr>"
        + rows
        + "</table>"
    )


def modes_table(report: dict[str, Any]) -> str:
    """The retrieval comparison (bm25 / dense / hybrid) as an HTML table."""
    modes = report.get("modes") or {}
    if not modes:
        return '<p class="muted">정답 출처가 있는 질문 없음 (no gold sources)</p>'
    head = "".join(f"<th>hit@{k}</th>" for k in CUTOFFS)
    rows = "".join(
        f"<tr><td>{esc(mode)}</td>"
        + "".join(f'<td class="num">{m[f"hit@{k}"]:.3f}</td>' for k in CUTOFFS)
        + f'<td class="num">{m["mrr@10"]:.3f}</td><td class="num">{m["mean_ms"]}</td></tr>'
        for mode, m in modes.items()
    )
    return f"<table><tr><th>mode</th>{head}<th>MRR@10</th><th>ms/q</th></tr>{rows}</table>"


def question_table(details: list[dict[str, Any]]) -> str:
    """Every question with its scores, answer and reference."""
    head = (
        "<tr><th>#</th><th>질문</th><th>route</th><th>verdict</th><th>rank</th><th>gold cited</th><th>kw</th>"
        "<th>TF-IDF</th><th>ROUGE-L</th><th>BLEU</th><th>total ms</th><th>답변 / 참조</th></tr>"
    )
    rows = []
    for d in details:
        missing = (
            f"<div class='muted'>빠진 키워드: {esc(', '.join(d['keywords_missing']))}</div>"
            if d["keywords_missing"]
            else ""
        )
        answer = (
            f"<details><summary>{esc(d['answer'][:60])}…</summary><div class='ans'><b>답변</b> {esc(d['answer'])}"
            f"<br><b>참조</b> {esc(d['reference'])}<br><b>출처</b> {esc('; '.join(d['citations']))}"
            f"<br><b>정답</b> {esc(d['gold'])}</div></details>{missing}"
        )
        rows.append(
            f"<tr><td class='num'>{d['n']}</td><td>{esc(d['question'])}</td><td>{esc(d['route'])}</td>"
            f"<td>{esc(d['verdict'])}</td><td class='num'>{esc(d['rank'])}</td><td>{esc(d['cites_gold'])}</td>"
            f"<td class='num'>{esc(d['keyword_score'])}</td><td class='num'>{esc(d['tfidf_cosine'])}</td>"
            f"<td class='num'>{esc(d['rouge_l'])}</td><td class='num'>{esc(d['bleu'])}</td>"
            f"<td class='num'>{esc(d['timings'].get('total_ms'))}</td><td>{answer}</td></tr>"
        )
    return "<table>" + head + "".join(rows) + "</table>"


def page(title: str, body: str) -> str:
    """A complete self-contained HTML page."""
    return (
        f'<!DOCTYPE html>\n<html lang="ko"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{CSS}</style></head><body>{body}</body></html>\n"
    )


def meta_line(meta: dict[str, Any]) -> str:
    """The report header's settings summary."""
    return (
        '<p class="muted">' + " · ".join(f"{esc(k)}: {esc(v)}" for k, v in meta.items() if v not in (None, "")) + "</p>"
    )


def render_html(report: dict[str, Any], title: str = "onprem-bot 평가 보고서 (evaluation report)") -> str:
    """The report as one self-contained HTML page with inline SVG charts."""
    details = report["details"]
    scores = [None if d["keyword_score"] is None else d["keyword_score"] for d in details]
    labels = [f"{d['n']}. {d['question'][:30]} ({d['route']})" for d in details]
    colors = [ROUTE_COLORS.get(d["route"], "#bab0ac") for d in details]
    rouge = [d["rouge_l"] for d in details]
    totals = [d["timings"]["total_ms"] for d in details if "total_ms" in d["timings"]]
    body = [
        f"<h1>{esc(title)}</h1>",
        meta_line(report.get("meta") or {}),
        _cards(report),
        "<h2>질문별 키워드 점수 (keyword score per question, 0–5; colour = route)</h2>",
        svg_bars(scores, labels, colors, 5.0, "keyword score per question"),
    ]
    if any(v is not None for v in rouge):
        body += [
            "<h2>질문별 ROUGE-L (per question, 0–1)</h2>",
            svg_bars(rouge, labels, colors, 1.0, "ROUGE-L per question"),
        ]
    body += [
        "<h2>경로 구성 (route mix)</h2>",
        svg_route_mix(report["routes"]),
        "<h2>지연시간 분포 (latency distribution, total per question)</h2>",
        svg_histogram(totals, "total latency"),
        latency_table(report["latency_ms"]),
        "<h2>검색 (retrieval: BM25 / dense / hybrid)</h2>",
        modes_table(report),
        "<h2>질문별 결과 (per question)</h2>",
        question_table(details),
        '<p class="muted">키워드 점수: 기대 키워드 n개 중 m개가 답변에 있으면 5×m/n점, 정확도 = 합계/(5×질문 수). '
        "TF-IDF cosine·ROUGE-L·BLEU는 Mecab 형태소 토큰으로 참조 답변과 비교.</p>",
    ]
    return page(title, "".join(body))


def write_outputs(report: dict[str, Any], out: Path | None, html_text: str | None = None) -> list[Path]:
    """Write ``out`` (.html: the page plus a .json beside it; .json: the JSON only); the paths written."""
    if out is None:
        return []
    out.parent.mkdir(parents=True, exist_ok=True)
    written = []
    json_path = out if out.suffix.lower() == ".json" else out.with_suffix(".json")
    if out.suffix.lower() != ".json":
        out.write_text(html_text if html_text is not None else render_html(report), encoding="utf-8")
        written.append(out)
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    written.append(json_path)
    return written
