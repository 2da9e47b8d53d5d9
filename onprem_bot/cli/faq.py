"""FAQ commands: import, export, list, match, phrasings / approve / reject, calibrate."""

from __future__ import annotations

import itertools
import json
import sys
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
    from onprem_bot.errors import QueryError

    if not question.strip():
        raise QueryError("질문이 비어 있습니다 (empty question)")
    result = app_of(ctx).faq.match(question)
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
@click.option("--max-false", type=click.FloatRange(0, 1), default=0.02, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--weights",
    default="0.2:0.4,0.3,0.5,1.0",
    show_default=True,
    help="시험할 lexical_weight[:char_weight] 조합 (comma-separated; the rest is the dense cosine)",
)
@click.option(
    "--write",
    "write",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="학습된 판정기를 이 파일에 저장 (write the learned scorer; point [faq] scorer_file at it)",
)
@click.option("--json", "as_json", is_flag=True, help="곡선 전체를 JSON으로 (the whole curve)")
@click.pass_context
def faq_calibrate(
    ctx: click.Context, data: Path, max_false: float, seed: int, weights: str, write: Path | None, as_json: bool
) -> None:
    """실데이터로 임계값을 정합니다: paraKQC, Question_pair, 국립국어원 FAQ, ChatbotData."""
    from onprem_bot.errors import OnpremBotError
    from onprem_bot.eval.faq_data import build_calibration_set, summary
    from onprem_bot.faq.calibrate import calibrate
    from onprem_bot.faq.scorer import save_scorer

    if not data.is_dir():
        raise OnpremBotError(f"보정 데이터 폴더가 없습니다 (calibration data not found): {data}")
    try:
        grid = tuple(
            (float(pair.split(":")[0]), float(pair.split(":")[1]) if ":" in pair else 0.0)
            for pair in weights.split(",")
        )
    except (ValueError, IndexError):
        raise OnpremBotError(f"--weights={weights}: lexical[:char] 숫자를 쉼표로 (e.g. 0.2:0.4,0.3)") from None
    if not grid or any(not (0 <= a <= 1 and 0 <= b <= 1 and a + b <= 1) for a, b in grid):
        raise OnpremBotError(f"--weights={weights}: 각 값은 0..1, 합은 1 이하 (each in 0..1, sum at most 1)")
    app = app_of(ctx)
    cal = build_calibration_set(data, seed=seed)
    report = calibrate(app.analyzer, app.faq_embedder, cal, max_false, grid, progress=lambda m: click.echo(m, err=True))
    report["data"] = summary(cal)
    learned: dict[str, Any] | None = report["learned"]
    if learned is not None:
        scorer = learned.pop("scorer")
        learned["scorer"] = scorer.to_json()
        if write is not None:
            save_scorer(scorer, write)
            learned["written_to"] = str(write)
    if as_json:
        print_json(report)
        return
    click.echo(json.dumps(report["data"], ensure_ascii=False))
    chosen: dict[str, Any] | None = report["chosen"]
    if chosen is None:
        click.echo(f"거짓 일치 {max_false:.0%} 이하를 만족하는 설정이 없습니다 (no setting meets the limit)")
    else:
        click.echo(
            "threshold  margin  recall  wrong  false_near  false_off   (lexical_weight="
            + str(chosen["lexical_weight"])
            + ", tune)"
        )
        for row in report["curves"][f"{chosen['lexical_weight']}:{chosen['char_weight']}"][::5]:
            click.echo(
                f"{row['threshold']:>9.2f} {row['margin']:>7.2f} {row['recall']:>7.3f} {row['wrong_entry']:>6.3f}"
                f" {row['false_near_miss']:>11.3f} {row['false_off_topic']:>10.3f}"
            )
        click.echo(
            f"규칙 선택 (rule chosen): threshold={chosen['threshold']} margin={chosen['margin']} "
            f"lexical_weight={chosen['lexical_weight']} char_weight={chosen['char_weight']}"
        )
        _rates_line("tune", chosen["tune"])
        _rates_line("heldout", chosen["heldout"])
    if learned is None:
        click.echo("학습된 판정기: 한도를 만족하는 설정이 없습니다 (learned scorer: nothing meets the limit)")
        return
    click.echo(
        f"학습된 판정기 (learned scorer): probability >= {learned['threshold']:.4f}, margin {learned['margin']}, "
        f"lexical_weight={learned['lexical_weight']} char_weight={learned['char_weight']}"
    )
    _rates_line("tune*", learned["tune_cross_fitted"])
    _rates_line("heldout", learned["heldout"])
    for source, row in learned["heldout_by_source"].items():
        click.echo(f"    {source:<22} " + "  ".join(f"{k} {v}" for k, v in row.items()))
    if write is not None:
        click.echo(f"저장됨 (written): {write}  → [faq] scorer_file")


def _rates_line(split: str, r: dict[str, float]) -> None:
    click.echo(
        f"  {split:<8} recall {r['recall']:.3f}  wrong {r['wrong_entry']:.3f}  "
        f"false near-miss {r['false_near_miss']:.3f}  false off-topic {r['false_off_topic']:.3f}"
    )
