"""`ask` (streamed answer with its sources) and `doctor` (can this machine run the configured model?)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from onprem_bot.cli import cli
from onprem_bot.cli.common import app_of, print_json
from onprem_bot.llm.admission import Waiting, waiting_text
from onprem_bot.llm.queued import admission_request
from onprem_bot.types import Answer, Citation, Turn

ROUTE_NAMES = {"faq": "FAQ", "rag": "문서 기반", "extractive": "원문 인용", "refused": "답변 불가"}
VERDICT_NAMES = {"pass": "검증 통과", "corrected": "수치 교정됨", "flagged": "검증 실패"}


def read_history(path: Path) -> list[Turn]:
    """The earlier turns in a ``--history`` file: a JSON list of ``{"question", "answer"}``, oldest
    first, ``citations`` (``[{"doc_title", "article"}]``) and ``standalone_question`` optional.

    Raises :class:`click.BadParameter` with one Korean line naming the file for anything else."""
    where = f"--history {path}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise click.BadParameter(f"읽을 수 없습니다 (cannot read: {exc.strerror})", param_hint=where) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.BadParameter(f"JSON이 아닙니다 (not JSON: {exc})", param_hint=where) from None
    if not isinstance(data, list):
        raise click.BadParameter("JSON 목록이어야 합니다 (must be a JSON list of turns)", param_hint=where)
    turns: list[Turn] = []
    for n, item in enumerate(data, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise click.BadParameter(
                f"{n}번째 항목에 question 문자열이 없습니다 (turn {n}: no question)", param_hint=where
            )
        raw = item.get("citations")
        cites: list[object] = raw if isinstance(raw, list) else []
        citations = tuple(
            Citation(i, str(c.get("doc_title") or ""), c.get("article"), str(c.get("location") or ""), None, "", "")
            for i, c in enumerate(cites, start=1)
            if isinstance(c, dict)
        )
        standalone = item.get("standalone_question")
        turns.append(
            Turn(
                item["question"],
                str(item.get("answer") or ""),
                citations,
                standalone if isinstance(standalone, str) else None,
            )
        )
    return turns


def waiting_printer() -> Callable[[Waiting], None]:
    """An ``on_wait`` that prints ``대기 중: 앞에 N명 · 약 M초`` to stderr when the place changes."""
    shown: list[int] = []

    def show(waiting: Waiting) -> None:
        if not shown or shown[-1] != waiting.ahead:
            shown.append(waiting.ahead)
            click.echo(waiting_text(waiting), err=True)

    return show


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="DESIGN.md 형식의 JSON")
@click.option(
    "--history",
    "history_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help='앞선 대화 (earlier turns): JSON 목록 [{"question", "answer"}], 오래된 것부터',
)
@click.option(
    "--user", help="이 사용자로 묻습니다: 그 사람이 볼 수 있는 문서·FAQ만 (default: the operator, everything)"
)
@click.pass_context
def ask(ctx: click.Context, question: str, as_json: bool, history_file: Path | None, user: str | None) -> None:
    """질문에 답합니다: FAQ 먼저, 없으면 문서 검색과 언어 모델 (FAQ first, then the documents)."""
    history = read_history(history_file) if history_file is not None else []
    app = app_of(ctx)
    with admission_request(owner="cli", on_wait=waiting_printer()):
        _ask(app, question, as_json, history, user)


def _ask(app: Any, question: str, as_json: bool, history: list[Turn], user: str | None) -> None:
    """The answer printed (streamed, or as JSON), then logged to the audit log."""
    viewer = app.access.viewer(user)
    pipeline = app.pipeline
    if as_json:
        answer = pipeline.ask(question, history, viewer)
        app.audit.asked(viewer.name, question, answer)
        print_json(answer.as_json())
        return
    streamed = ""
    final: Answer | None = None
    for item in pipeline.stream(question, history, viewer):
        if isinstance(item, Answer):
            final = item
        else:
            streamed += item
            click.echo(item, nl=False)
            sys.stdout.flush()
    assert final is not None
    app.audit.asked(viewer.name, question, final)
    if streamed and final.answer.strip() != streamed.strip():
        click.echo("\n\n(검증 후 수정된 답변 / final answer after checking)")
        click.echo(final.answer)
    elif not streamed:
        click.echo(final.answer)
    else:
        click.echo()
    click.echo(f"\n[{ROUTE_NAMES.get(final.route, final.route)}] {VERDICT_NAMES.get(final.check.verdict, '')}".rstrip())
    for c in final.citations:
        click.echo(f"  [{c.n}] {c.doc_title} {c.location}".rstrip())
    for finding in final.check.findings:
        if finding.get("supported") is not True:
            click.echo(
                f"  ! {finding.get('kind')}: {finding.get('value')} → {finding.get('suggestion') or '확인 불가'}"
            )
    if final.faq_suggestions:
        click.echo("관련 FAQ (이 질문을 찾으셨나요?):")
        for s in final.faq_suggestions:
            click.echo(f"  FAQ #{s.id} {s.question}")
    if final.standalone_question:
        click.echo(f"  검색한 질문 (searched): {final.standalone_question}")
    for notice in final.notices:
        click.echo(f"  * {notice}", err=True)


@cli.command(name="eval-answers")
@click.argument("dataset", type=click.Path(path_type=Path), required=False)
@click.option("--mode", type=click.Choice(["rag", "extractive"]), help="answer.mode for this run (default: settings)")
@click.option("--limit", type=click.IntRange(1, 100_000), help="첫 N개 질문만 (first N questions)")
@click.option("--no-faq", is_flag=True, help="FAQ를 건너뛰고 문서로만 답합니다 (documents only)")
@click.option("--json", "as_json", is_flag=True, help="JSON으로 출력 (per-question details included)")
@click.pass_context
def eval_answers(
    ctx: click.Context, dataset: Path | None, mode: str | None, limit: int | None, no_faq: bool, as_json: bool
) -> None:
    """답변 평가: 정답 조문 인용률, 키워드 점수 (gold article cited, seed keyword score)."""
    from dataclasses import replace

    from onprem_bot.eval.answers import evaluate_answers
    from onprem_bot.eval.retrieval import read_dataset

    app = app_of(ctx)
    dataset = dataset or Path(__file__).resolve().parents[1] / "data" / "eval" / "statutes_answers.jsonl"
    rows = read_dataset(dataset)[:limit]
    pipeline = app.pipeline
    if mode:
        pipeline.settings = replace(pipeline.settings, mode=mode)
    if no_faq:
        pipeline.faq_enabled = False
    report = evaluate_answers(pipeline, rows, progress=lambda i, n: click.echo(f"\r{i}/{n}", nl=False, err=True))
    click.echo("", err=True)
    report["mode"] = pipeline.settings.mode
    report["model"] = getattr(app.llm, "name", None)
    if as_json:
        print_json(report)
        return
    for d in report["details"]:
        mark = {True: "O", False: "X", None: "-"}[d["cites_gold"]]
        click.echo(f"{mark} {d['keyword_score']:.1f} {d['route']:<10} {d['question']}")
    click.echo(
        f"정답 조문 인용 {report['gold_cited']}  키워드 {report['keyword_total']}/{report['keyword_max']}"
        f" ({report['keyword_accuracy']})  routes {report['routes']}  p50 {report['seconds_p50']}s"
    )
