"""Comparison mode: two evaluation reports (two settings files, or two models) on the same dataset.

:func:`compare_reports` pairs the questions, puts the totals side by side with their deltas and
marks each question ``better`` / ``worse`` / ``changed`` / ``same`` (keyword score first, then
gold citation, ROUGE-L; a different route or verdict alone is ``changed``).
"""

from __future__ import annotations

from typing import Any

from onprem_bot.eval.report import (
    ROUTE_COLORS,
    esc,
    latency_table,
    meta_line,
    page,
    summary_lines,
    svg_bars,
    svg_route_mix,
)

TOTALS = (
    ("keyword accuracy", ("keyword", "accuracy")),
    ("keyword total", ("keyword", "total")),
    ("TF-IDF cosine", ("text", "tfidf_cosine")),
    ("ROUGE-L", ("text", "rouge_l")),
    ("BLEU", ("text", "bleu")),
    ("hit@1", ("retrieval", "hit@1")),
    ("hit@5", ("retrieval", "hit@5")),
    ("MRR@10", ("retrieval", "mrr@10")),
    ("gold cited", ("gold_cited",)),
    ("FAQ accuracy", ("faq_accuracy",)),
    ("latency p50 ms", ("latency_ms", "total_ms", "p50")),
    ("latency p95 ms", ("latency_ms", "total_ms", "p95")),
)
LOWER_IS_BETTER = {"latency p50 ms", "latency p95 ms"}
ROUGE_STEP = 0.05
"""A ROUGE-L difference smaller than this does not make a question better or worse."""


def _get(report: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = report
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def question_outcome(a: dict[str, Any], b: dict[str, Any]) -> str:
    """``better``/``worse`` (B vs A), ``changed`` (route/verdict/answer differ, scores not) or ``same``."""
    for key, step in (("keyword_score", 1e-9), ("cites_gold", 0), ("rouge_l", ROUGE_STEP)):
        va, vb = a.get(key), b.get(key)
        if va is None or vb is None:
            continue
        diff = float(vb) - float(va)
        if diff > step:
            return "better"
        if diff < -step:
            return "worse"
    if a.get("route") != b.get("route") or a.get("verdict") != b.get("verdict") or a.get("answer") != b.get("answer"):
        return "changed"
    return "same"


def compare_reports(a: dict[str, Any], b: dict[str, Any], label_a: str = "A", label_b: str = "B") -> dict[str, Any]:
    """Totals side by side with deltas, and every question paired with its outcome."""
    totals = []
    for name, path in TOTALS:
        va, vb = _get(a, path), _get(b, path)
        delta = round(vb - va, 4) if isinstance(va, int | float) and isinstance(vb, int | float) else None
        totals.append({"name": name, "a": va, "b": vb, "delta": delta, "lower_is_better": name in LOWER_IS_BETTER})
    questions = []
    for da, db in zip(a["details"], b["details"], strict=False):
        if da["question"] != db["question"]:
            raise ValueError(f"question {da['n']} differs between the two runs")
        keys = ("route", "verdict", "rank", "cites_gold", "keyword_score", "tfidf_cosine", "rouge_l", "bleu")
        row = {"n": da["n"], "question": da["question"], "outcome": question_outcome(da, db)}
        row.update({f"{k}_a": da.get(k) for k in keys})
        row.update({f"{k}_b": db.get(k) for k in keys})
        row["total_ms_a"] = da["timings"].get("total_ms")
        row["total_ms_b"] = db["timings"].get("total_ms")
        row["answer_a"], row["answer_b"] = da["answer"], db["answer"]
        questions.append(row)
    outcomes = {k: sum(1 for q in questions if q["outcome"] == k) for k in ("better", "worse", "changed", "same")}
    return {
        "labels": {"a": label_a, "b": label_b},
        "meta": {"a": a.get("meta"), "b": b.get("meta")},
        "questions": len(questions),
        "outcomes": outcomes,
        "totals": totals,
        "routes": {"a": a["routes"], "b": b["routes"]},
        "latency_ms": {"a": a["latency_ms"], "b": b["latency_ms"]},
        "details": questions,
        "reports": {"a": a, "b": b},
    }


def _v(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def format_compare_table(cmp: dict[str, Any]) -> str:
    """The comparison for the console: totals with deltas, then the questions that differ."""
    la, lb = cmp["labels"]["a"], cmp["labels"]["b"]
    lines = [f"A = {la}", f"B = {lb}", "", f"{'figure':<18}{'A':>10}{'B':>10}{'B-A':>10}"]
    for t in cmp["totals"]:
        lines.append(f"{t['name']:<18}{_v(t['a']):>10}{_v(t['b']):>10}{_v(t['delta']):>10}")
    lines.append("")
    lines.append(f"routes A {cmp['routes']['a']}  B {cmp['routes']['b']}")
    lines.append("질문별 (per question): " + "  ".join(f"{k} {v}" for k, v in cmp["outcomes"].items()))
    marks = {"better": "+", "worse": "-", "changed": "~"}
    for q in cmp["details"]:
        if q["outcome"] == "same":
            continue
        lines.append(
            f"{marks[q['outcome']]} {q['n']:>3} kw {_v(q['keyword_score_a'], 1)}→{_v(q['keyword_score_b'], 1)}"
            f"  rougeL {_v(q['rouge_l_a'], 2)}→{_v(q['rouge_l_b'], 2)}"
            f"  {q['route_a']}/{q['verdict_a']}→{q['route_b']}/{q['verdict_b']}  {q['question'][:36]}"
        )
    return "\n".join(lines)


def render_compare_html(cmp: dict[str, Any], title: str = "onprem-bot 비교 보고서 (comparison)") -> str:
    """The comparison as one self-contained HTML page; differing questions highlighted."""
    la, lb = cmp["labels"]["a"], cmp["labels"]["b"]
    a, b = cmp["reports"]["a"], cmp["reports"]["b"]
    rows = []
    for t in cmp["totals"]:
        cls = ""
        if t["delta"]:
            good = (t["delta"] < 0) if t["lower_is_better"] else (t["delta"] > 0)
            cls = "better" if good else "worse"
        rows.append(
            f"<tr class='{cls}'><td>{esc(t['name'])}</td><td class='num'>{_v(t['a'])}</td>"
            f"<td class='num'>{_v(t['b'])}</td><td class='num'>{_v(t['delta'])}</td></tr>"
        )
    totals = f"<table><tr><th>figure</th><th>A</th><th>B</th><th>B − A</th></tr>{''.join(rows)}</table>"
    qrows = []
    for q in cmp["details"]:
        cls = "" if q["outcome"] == "same" else q["outcome"]
        cells = [
            f"<td class='num'>{q['n']}</td><td>{esc(q['question'])}</td><td>{esc(q['outcome'])}</td>",
            f"<td>{esc(q['route_a'])} / {esc(q['verdict_a'])}</td><td>{esc(q['route_b'])} / {esc(q['verdict_b'])}</td>",
            f"<td class='num'>{_v(q['keyword_score_a'], 1)}</td><td class='num'>{_v(q['keyword_score_b'], 1)}</td>",
            f"<td class='num'>{_v(q['rouge_l_a'])}</td><td class='num'>{_v(q['rouge_l_b'])}</td>",
            f"<td class='num'>{_v(q['total_ms_a'], 0)}</td><td class='num'>{_v(q['total_ms_b'], 0)}</td>",
            f"<td><details><summary>답변</summary><div class='ans'><b>A</b> {esc(q['answer_a'])}<br>"
            f"<b>B</b> {esc(q['answer_b'])}</div></details></td>",
        ]
        qrows.append(f"<tr class='{cls}'>{''.join(cells)}</tr>")
    qtable = (
        "<table><tr><th>#</th><th>질문</th><th>결과</th><th>A route/verdict</th><th>B route/verdict</th>"
        "<th>A kw</th><th>B kw</th><th>A ROUGE-L</th><th>B ROUGE-L</th><th>A ms</th><th>B ms</th><th>답변</th></tr>"
        + "".join(qrows)
        + "</table>"
    )

    def scores(report: dict[str, Any]) -> str:
        details = report["details"]
        return svg_bars(
            [d["keyword_score"] for d in details],
            [f"{d['n']}. {d['question'][:30]} ({d['route']})" for d in details],
            [ROUTE_COLORS.get(d["route"], "#bab0ac") for d in details],
            5.0,
            "keyword score per question",
        )

    body = [
        f"<h1>{esc(title)}</h1>",
        f"<p><b>A</b> = {esc(la)}</p>",
        meta_line(a.get("meta") or {}),
        f"<p><b>B</b> = {esc(lb)}</p>",
        meta_line(b.get("meta") or {}),
        "<p>" + " · ".join(f"{esc(k)} {v}" for k, v in cmp["outcomes"].items()) + "</p>",
        "<h2>합계 (totals)</h2>",
        totals,
        "<h2>질문별 키워드 점수 (keyword score per question)</h2>",
        "<p>A</p>",
        scores(a),
        "<p>B</p>",
        scores(b),
        "<h2>경로 구성 (route mix)</h2><p>A</p>",
        svg_route_mix(a["routes"]),
        "<p>B</p>",
        svg_route_mix(b["routes"]),
        "<h2>지연시간 (latency per stage)</h2><p>A</p>",
        latency_table(a["latency_ms"]),
        "<p>B</p>",
        latency_table(b["latency_ms"]),
        "<h2>질문별 비교 (per question; green: B better, red: B worse, yellow: changed)</h2>",
        qtable,
        "<h2>요약 (summary)</h2><pre>A\n"
        + esc("\n".join(summary_lines(a)))
        + "\n\nB\n"
        + esc("\n".join(summary_lines(b)))
        + "</pre>",
    ]
    return page(title, "".join(body))
