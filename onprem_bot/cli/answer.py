"""`ask` (streamed answer with its sources) and `doctor` (can this machine run the configured model?)."""

from __future__ import annotations

import sys

import click

from onprem_bot.cli import cli
from onprem_bot.cli.common import app_of, print_json
from onprem_bot.types import Answer

ROUTE_NAMES = {"faq": "FAQ", "rag": "문서 기반", "extractive": "원문 인용", "refused": "답변 불가"}
VERDICT_NAMES = {"pass": "검증 통과", "corrected": "수치 교정됨", "flagged": "검증 실패"}


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="DESIGN.md 형식의 JSON")
@click.pass_context
def ask(ctx: click.Context, question: str, as_json: bool) -> None:
    """질문에 답합니다: FAQ 먼저, 없으면 문서 검색과 언어 모델 (FAQ first, then the documents)."""
    pipeline = app_of(ctx).pipeline
    if as_json:
        print_json(pipeline.ask(question).as_json())
        return
    streamed = ""
    final: Answer | None = None
    for item in pipeline.stream(question):
        if isinstance(item, Answer):
            final = item
        else:
            streamed += item
            click.echo(item, nl=False)
            sys.stdout.flush()
    assert final is not None
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
    for notice in final.notices:
        click.echo(f"  * {notice}", err=True)
