"""FAQ commands: import, export, list, match, phrasings / approve / reject, calibrate."""

from __future__ import annotations

import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from onprem_bot.cli import cli
from onprem_bot.cli.common import app_of, print_json

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@cli.group()
def faq() -> None:
    """자주 묻는 질문 관리 (FAQ: import, export, list, match, calibrate)."""


@faq.command(name="import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--by", default="admin", show_default=True, help="변경 기록에 남길 이름 (recorded as the editor)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def faq_import(ctx: click.Context, file: Path, by: str, as_json: bool) -> None:
    """CSV/XLSX (question,answer[,category,alternatives])를 한 번에 가져옵니다 (one transaction)."""
    from tqdm import tqdm

    from onprem_bot.faq.io import read_faq_file

    app = app_of(ctx)
    reader = read_faq_file(file)
    first = next(reader, None)  # a missing file, a bad header or encoding fails here, before any output
    rows = itertools.chain([first] if first else [], reader)
    bar: Any = None
    if not as_json:
        bar = tqdm(unit="행", desc="가져오는 중", file=sys.stderr)

    def progress(done: int) -> None:
        if bar is not None:
            bar.update(done - int(bar.n))

    try:
        report = app.faq_store.import_rows(rows, by=by, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    data = {
        "added": report.added,
        "updated": report.updated,
        "rejected": [{"line": line, "reason": reason} for line, reason in report.rejected],
    }
    if as_json:
        print_json(data)
        return
    click.echo(f"추가 {report.added}, 갱신 {report.updated}, 거부 {len(report.rejected)}")
    for line, reason in report.rejected[:50]:
        click.echo(f"  {line}행: {reason}")
    if len(report.rejected) > 50:
        click.echo(f"  … 외 {len(report.rejected) - 50}건 (--json으로 전부 보기)")


@faq.command(name="export")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def faq_export(ctx: click.Context, file: Path) -> None:
    """FAQ를 CSV/XLSX로 내보냅니다 (cells starting with = + - @ are escaped)."""
    from onprem_bot.faq.io import write_faq_file

    entries = app_of(ctx).faq_store.entries()
    write_faq_file(entries, file)
    click.echo(f"{len(entries)}개 항목을 {file}에 저장했습니다")


@faq.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def faq_list(ctx: click.Context, as_json: bool) -> None:
    """FAQ 목록 (list entries)."""
    entries = app_of(ctx).faq_store.entries()
    if as_json:
        print_json(
            {
                "entries": [
                    {
                        "id": e.id,
                        "question": e.question,
                        "alternatives": list(e.alternatives),
                        "answer": e.answer,
                        "category": e.category,
                        "enabled": e.enabled,
                    }
                    for e in entries
                ]
            }
        )
        return
    for e in entries:
        flag = "" if e.enabled else " (사용 안 함)"
        click.echo(f"#{e.id}\t[{e.category}] {e.question}{flag}")


@faq.command(name="match")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def faq_match(ctx: click.Context, question: str, as_json: bool) -> None:
    """질문이 FAQ에 해당하는지 확인합니다 (score, runner-up, reason)."""
    from onprem_bot.index.retriever import check_query

    app = app_of(ctx)
    check_query(question, app.settings.retrieval.max_query_chars)  # empty or over-long: one line, as search says
    result = app.faq.match(question)
    if as_json:
        print_json(result.as_json())
        return
    if result.matched:
        click.echo(f"일치 #{result.id} (score {result.score:.3f}): {result.question}\n{result.answer}")
    else:
        click.echo(f"일치 없음 (score {result.score:.3f}, {result.reason})")
    if result.confidence is not None:
        click.echo(f"판정기 확률 (confidence): {result.confidence:.3f}")
    if result.runner_up_id is not None:
        click.echo(f"차순위 #{result.runner_up_id} ({result.runner_up_score:.3f}): {result.runner_up_question}")
    for s in result.suggestions:
        click.echo(f"관련 FAQ #{s.id} ({s.score:.3f}): {s.question}")


@faq.command(name="phrasings")
@click.option("--entry", "entry_id", type=int, default=None, help="이 FAQ 번호의 후보만 (only this entry)")
@click.option(
    "--status",
    type=click.Choice(["pending", "approved", "rejected", "all"]),
    default="pending",
    show_default=True,
    help="어떤 후보를 볼지 (which phrasings)",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def faq_phrasings(ctx: click.Context, entry_id: int | None, status: str, as_json: bool) -> None:
    """승인을 기다리는 유사질문 후보 (phrasings learned from chat clicks and the review page)."""
    from onprem_bot.faq.phrasings import SOURCE_NAMES, STATUS_NAMES

    app = app_of(ctx)
    found = app.faq_phrasings.find(entry_id, None if status == "all" else status)
    if as_json:
        print_json({"phrasings": [p.as_json() for p in found]})
        return
    if not found:
        click.echo("유사질문 후보가 없습니다 (no phrasings)")
        return
    current = None
    for p in found:
        if p.entry_id != current:
            current = p.entry_id
            waiting = sum(1 for q in found if q.entry_id == current and q.status == "pending")
            title = p.entry_question if p.entry_question is not None else "(삭제된 항목 / deleted)"
            click.echo(f"FAQ #{p.entry_id} {title}  — 대기 {waiting}건")
        click.echo(
            f"  후보 #{p.id} [{STATUS_NAMES.get(p.status, p.status)}] {p.text}"
            f"  ({p.count}회, {SOURCE_NAMES.get(p.source, p.source)})"
        )


@faq.command(name="approve")
@click.argument("phrasing_id", type=int)
@click.option("--by", default="admin", show_default=True, help="변경 기록에 남길 이름 (recorded as the editor)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def faq_approve(ctx: click.Context, phrasing_id: int, by: str, as_json: bool) -> None:
    """유사질문 후보를 승인합니다: 그 FAQ의 유사질문이 되어 바로 적용됩니다 (becomes an alternative at once)."""
    app = app_of(ctx)
    phrasing = app.faq_phrasings.get(phrasing_id)
    entry = app.faq_phrasings.approve(phrasing_id, by)
    if as_json:
        print_json(
            {"id": phrasing_id, "status": "approved", "entry_id": entry.id, "alternatives": list(entry.alternatives)}
        )
        return
    click.echo(f"승인했습니다: 후보 #{phrasing_id} '{phrasing.text}' → FAQ #{entry.id} {entry.question}")


@faq.command(name="reject")
@click.argument("phrasing_id", type=int)
@click.option("--by", default="admin", show_default=True, help="기록에 남길 이름 (recorded as the reviewer)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def faq_reject(ctx: click.Context, phrasing_id: int, by: str, as_json: bool) -> None:
    """유사질문 후보를 거절합니다 (kept as rejected; the same wording is not proposed again)."""
    phrasing = app_of(ctx).faq_phrasings.reject(phrasing_id, by)
    if as_json:
        print_json({"id": phrasing.id, "status": phrasing.status, "entry_id": phrasing.entry_id})
        return
    click.echo(f"거절했습니다: 후보 #{phrasing.id} '{phrasing.text}' (FAQ #{phrasing.entry_id})")


def _weights(text: str) -> tuple[tuple[float, float], ...]:
    from onprem_bot.errors import OnpremBotError

    try:
        grid = tuple(
            (float(pair.split(":")[0]), float(pair.split(":")[1]) if ":" in pair else 0.0) for pair in text.split(",")
        )
    except (ValueError, IndexError):
        raise OnpremBotError(f"--weights={text}: lexical[:char] 숫자를 쉼표로 (e.g. 0.2:0.4,0.3)") from None
    if not grid or any(not (0 <= a <= 1 and 0 <= b <= 1 and a + b <= 1) for a, b in grid):
        raise OnpremBotError(f"--weights={text}: 각 값은 0..1, 합은 1 이하 (each in 0..1, sum at most 1)")
    return grid


def _episodes(data: Path, seed: int) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    from onprem_bot.errors import OnpremBotError
    from onprem_bot.eval.faq_data import build_calibration_set
    from onprem_bot.eval.faq_episodes import build_episodes, mcfaq_episode

    if not data.is_dir():
        raise OnpremBotError(f"보정 데이터 폴더가 없습니다 (calibration data not found): {data}")
    cal = build_calibration_set(data, seed=seed)
    episodes = build_episodes(cal, seed=seed)
    return cal, episodes, {"mcfaq_all_heldout": mcfaq_episode(cal, seed=seed)}


@faq.command(name="calibrate")
@click.option("--data", type=click.Path(path_type=Path, file_okay=False), default=DEFAULT_DATA, show_default=True)
@click.option(
    "--max-false",
    type=click.FloatRange(0, 1),
    default=0.01,
    show_default=True,
    help="거짓 직접 답변 한도 (tune; half the 2% target: tune has ~200 near-misses a size)",
)
@click.option("--reach", type=click.FloatRange(0, 1), default=0.97, show_default=True)
@click.option("--max-off-suggest", type=click.FloatRange(0, 1), default=0.10, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--weights",
    default="0.2:0.4,0.1:0.2,0",
    show_default=True,
    help="시험할 lexical_weight[:char_weight] 조합 (comma-separated; the rest is the dense cosine)",
)
@click.option(
    "--key-sides",
    default="passage,query",
    show_default=True,
    help="FAQ 키를 passage/query 중 무엇으로 임베딩할지 (e5's two prefixes; compared on the data)",
)
@click.option(
    "--write",
    "write",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="학습된 판정기를 이 파일에 저장 (kept per embedder; point [faq] scorer_file at it)",
)
@click.option("--json", "as_json", is_flag=True, help="모든 설정의 결과를 JSON으로 (every setting)")
@click.pass_context
def faq_calibrate(
    ctx: click.Context,
    data: Path,
    max_false: float,
    reach: float,
    max_off_suggest: float,
    seed: int,
    weights: str,
    key_sides: str,
    write: Path | None,
    as_json: bool,
) -> None:
    """작은 FAQ 에피소드로 판정기를 학습합니다 (fit the decision on 20/50/200-entry episodes)."""
    from onprem_bot.errors import OnpremBotError
    from onprem_bot.eval.faq_episodes import summary
    from onprem_bot.faq.calibrate import calibrate
    from onprem_bot.faq.scorer import save_scorer

    grid = _weights(weights)
    sides = tuple(s.strip() for s in key_sides.split(",") if s.strip())
    if not sides or any(s not in ("passage", "query") for s in sides):
        raise OnpremBotError(f"--key-sides={key_sides}: passage,query 중에서 (one or both of passage, query)")
    app = app_of(ctx)
    _, episodes, extra = _episodes(data, seed)
    report = calibrate(
        app.analyzer,
        app.faq_embedder,
        episodes,
        extra,
        max_false,
        reach,
        max_off_suggest,
        grid,
        sides,
        progress=lambda m: click.echo(m, err=True),
    )
    report["episodes"] = summary(episodes)
    chosen: dict[str, Any] | None = report["chosen"]
    every: list[dict[str, Any]] = report["settings"]
    for n, setting in enumerate(every):
        scorer = setting.pop("scorer")
        setting["scorer"] = scorer.to_json()
        if chosen is not None and chosen is every[n] and write is not None:
            save_scorer(scorer, write)
            setting["written_to"] = str(write)
    if as_json:
        print_json(report)
        return
    click.echo(json.dumps(report["episodes"], ensure_ascii=False))
    for setting in report["settings"]:
        mark = "*" if setting is chosen else " "
        click.echo(
            f"{mark} key_side={setting['key_side']} lexical_weight={setting['lexical_weight']} "
            f"char_weight={setting['char_weight']}: direct bar {setting['direct_bar']:.4f}, "
            f"suggestion bar {setting['suggest_bar']:.4f}"
        )
        _rates_table("tune*", setting["tune_cross_fitted"])
        _rates_table("heldout", setting["heldout"])
        if "mcfaq_all_heldout" in setting:
            _rates_line("국립국어원 FAQ", setting["mcfaq_all_heldout"])
    if chosen is None:
        click.echo("학습된 판정기: 한도를 만족하는 설정이 없습니다 (nothing could be fitted)")
    elif write is not None:
        click.echo(f"저장됨 (written): {write}  → [faq] scorer_file")


@faq.command(name="episodes")
@click.option("--data", type=click.Path(path_type=Path, file_okay=False), default=DEFAULT_DATA, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--split", type=click.Choice(["heldout", "tune"]), default="heldout", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def faq_episodes(ctx: click.Context, data: Path, seed: int, split: str, as_json: bool) -> None:
    """설치된 판정으로 작은 FAQ 에피소드를 평가합니다 (the shipped decision on held-out episodes)."""
    from onprem_bot.eval.faq_episodes import mcfaq_episode, summary
    from onprem_bot.faq.calibrate import MemoAnalyzer, MemoEmbedder, by_size, by_source, rates

    app = app_of(ctx)
    cal, episodes, _ = _episodes(data, seed)
    analyzer, embedder = MemoAnalyzer(app.analyzer), MemoEmbedder(app.faq_embedder)
    chosen = episodes[split]
    rows = _replay(app, chosen, analyzer, embedder)
    whole = _replay(app, [mcfaq_episode(cal, split=split, seed=seed)], analyzer, embedder)
    out = {
        "decision": _decision_of(app.faq.matcher),
        "episodes": summary({split: chosen}),
        "by_size": by_size(*rows),
        "by_source": by_source(*rows),
        "mcfaq_all": rates(*whole),
    }
    if as_json:
        print_json(out)
        return
    click.echo(json.dumps(out["decision"], ensure_ascii=False))
    _rates_table(split, out["by_size"])
    _rates_line("국립국어원 FAQ", out["mcfaq_all"])


def _decision_of(matcher: Any) -> dict[str, Any]:
    scorer = matcher.scorer
    if scorer is None:
        return {"kind": "rule", "threshold": matcher.threshold, "margin": matcher.margin}
    return {
        "kind": "learned",
        "embedder": scorer.embedder,
        "direct_bar": scorer.threshold,
        "suggest_bar": scorer.suggest_threshold,
        "key_side": scorer.key_side,
    }


def _replay(app: Any, episodes: Any, analyzer: Any, embedder: Any) -> tuple[list[Any], list[Any], float, float]:
    """Each probe through the installed decision (exactly :meth:`FaqMatcher.match`), as rows and
    probabilities that :func:`~onprem_bot.faq.calibrate.rates` replays with bars (1, 0) set so that
    the recorded outcome is reproduced."""
    import numpy as np

    from onprem_bot.faq.calibrate import ProbeRow

    rows: list[Any] = []
    probs: list[Any] = []
    for ep in episodes:
        matcher = _like(app.faq.matcher, analyzer, embedder)
        matcher.build(ep.faq)
        for p in ep.probes:
            result = matcher.match(p.text)
            row = ProbeRow(ep.name, ep.size, p.kind, p.gold, p.source, None)
            cands = matcher.candidates(p.text, n=1)
            row.ranked_first = result.id if result.reason == "exact" else (cands[0].entry_id if cands else None)
            if result.matched:  # one candidate at probability 1: a direct answer
                row.ids, row.number, pr = [result.id], [False], [1.0]
            else:  # the suggestions at probability 0.5, nothing direct
                row.ids = [s.id for s in result.suggestions]
                row.number = [False] * len(row.ids)
                pr = [0.5] * len(row.ids)
            row.features = [np.zeros(0)] * len(row.ids)
            rows.append(row)
            probs.append(np.asarray(pr))
    return rows, probs, 1.0, 0.5


def _like(matcher: Any, analyzer: Any | None = None, embedder: Any | None = None) -> Any:
    """A new matcher with the settings, scorer and embedder of ``matcher``."""
    from onprem_bot.faq.matcher import FaqMatcher

    return FaqMatcher(
        analyzer or matcher.analyzer,
        embedder or matcher.embedder,
        matcher.threshold,
        matcher.margin,
        matcher.lexical_weight,
        matcher.check_conflicts,
        matcher.scorer,
        matcher.char_weight,
        matcher.suggest_threshold,
        matcher.key_side,
    )


@faq.command(name="evaluate")
@click.option("--faq", "faq_file", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option("--probes", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def faq_evaluate(ctx: click.Context, faq_file: Path, probes: Path, as_json: bool) -> None:
    """FAQ 파일과 질문 목록으로 판정을 평가합니다 (probes: JSONL of question, kind, gold row number).

    The file is read as ``faq import`` reads it into a temporary FAQ (id = 1-based row number of
    the accepted rows, in order); the installed decision answers every probe.
    """
    from onprem_bot.errors import OnpremBotError
    from onprem_bot.faq.io import read_faq_file

    app = app_of(ctx)
    entries: list[_Item] = []
    for _, row in read_faq_file(faq_file):
        if row["question"].strip() and row["answer"].strip():
            entries.append(_Item(len(entries) + 1, row["question"], row["answer"], tuple(row["alternatives"])))
    if not entries:
        raise OnpremBotError(f"FAQ 파일에 항목이 없습니다 (no entries): {faq_file}")
    labelled = []
    try:
        lines = probes.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise OnpremBotError(f"질문 파일을 읽을 수 없습니다 (cannot read probes): {probes}: {exc}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            question, kind, gold = str(item["question"]), str(item["kind"]), item.get("gold")
        except (ValueError, KeyError, TypeError):
            raise OnpremBotError(f"{probes}:{n}: JSON 행이 아닙니다 (expected question, kind, gold)") from None
        if kind not in ("paraphrase", "near_miss", "off_topic"):
            raise OnpremBotError(f"{probes}:{n}: kind={kind!r} (paraphrase, near_miss or off_topic)")
        if kind == "paraphrase" and not (isinstance(gold, int) and 1 <= gold <= len(entries)):
            raise OnpremBotError(f"{probes}:{n}: gold={gold!r}: 1..{len(entries)} 행 번호여야 합니다 (a row number)")
        labelled.append((question, kind, gold if kind == "paraphrase" else None))
    matcher = _like(app.faq.matcher)
    matcher.build(entries)
    out = evaluate_probes(matcher, labelled)
    out["entries"] = len(entries)
    out["decision"] = _decision_of(matcher)
    if as_json:
        print_json(out)
        return
    for key, value in out.items():
        click.echo(f"{key}: {value}")


@dataclass(frozen=True)
class _Item:
    id: int
    question: str
    answer: str
    alternatives: tuple[str, ...] = ()


def evaluate_probes(matcher: Any, probes: list[tuple[str, str, int | None]]) -> dict[str, Any]:
    """Direct-right, wrong-entry, reached (direct or suggested) on paraphrases; false direct and
    suggested per kind of the others; each probe's outcome under ``matcher``."""
    counts: dict[str, dict[str, int]] = {}
    details = []
    for question, kind, gold in probes:
        result = matcher.match(question)
        suggested = [s.id for s in result.suggestions]
        c = counts.setdefault(kind, {"n": 0, "direct": 0, "right": 0, "reached": 0, "suggested": 0})
        c["n"] += 1
        c["direct"] += result.matched
        c["right"] += bool(result.matched and result.id == gold)
        c["reached"] += bool((result.matched and result.id == gold) or (gold is not None and gold in suggested))
        c["suggested"] += bool(suggested)
        details.append(
            {"question": question, "kind": kind, "gold": gold, "matched": result.matched, "id": result.id,
             "suggestions": suggested}
        )  # fmt: skip
    out: dict[str, Any] = {}
    para = counts.get("paraphrase")
    if para:
        n = para["n"]
        out["paraphrase"] = {
            "n": n,
            "direct_right": round(para["right"] / n, 4),
            "wrong_entry": round((para["direct"] - para["right"]) / n, 4),
            "reached": round(para["reached"] / n, 4),
        }
    for kind in ("near_miss", "off_topic"):
        got = counts.get(kind)
        if got:
            out[kind] = {
                "n": got["n"],
                "false_direct": round(got["direct"] / got["n"], 4),
                "suggested": round(got["suggested"] / got["n"], 4),
            }
    out["probes"] = details
    return out


def _rates_table(split: str, table: dict[str, Any]) -> None:
    for size, r in table.items():
        _rates_line(f"{split} {size}", r)


def _rates_line(label: str, r: dict[str, Any]) -> None:
    click.echo(
        f"  {label:<14} direct right {r['direct_right']:.3f}  wrong {r['wrong_entry']:.3f}  "
        f"reached {r['reached']:.3f}  false direct near-miss {r['false_direct_near_miss']:.3f} "
        f"off-topic {r['false_direct_off_topic']:.3f}  suggested off-topic {r['suggested_off_topic']:.3f}"
    )
