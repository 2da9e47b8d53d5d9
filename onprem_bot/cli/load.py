"""``onprem-bot bench load``: closed-loop simulated users against the product (:mod:`onprem_bot.bench.load`)."""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

import click

from onprem_bot.cli.common import print_json, settings_of
from onprem_bot.cli.retrieval import bench

DEFAULT_QUESTIONS = Path(__file__).resolve().parents[1] / "data" / "eval" / "statutes_answers.jsonl"


def _levels(_ctx: click.Context, _param: click.Parameter, value: str) -> list[int]:
    try:
        levels = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r}: 쉼표로 나눈 정수 (comma-separated integers, e.g. 1,4,16)") from None
    if not levels:
        raise click.BadParameter("적어도 하나 (at least one level)")
    return levels


@bench.command(name="load")
@click.option("--users", default="1,4,16", show_default=True, callback=_levels, help="동시 사용자 수 단계 (levels)")
@click.option(
    "--questions",
    "questions_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=DEFAULT_QUESTIONS,
    show_default=True,
    help='JSON lines with "question"',
)
@click.option("--per-user", type=click.IntRange(1, 100), help="사용자마다 질문 수 (default 2 unless --duration-s)")
@click.option(
    "--duration-s", type=click.FloatRange(1, 3600), help="단계마다 이 시간(초) 동안 질문 (instead of --per-user)"
)
@click.option("--servers", type=click.IntRange(0, 8), default=2, show_default=True, help="llama.cpp 서버 수 (0: 생략)")
@click.option(
    "--model", "model_path", type=click.Path(path_type=Path, dir_okay=False), help="GGUF (default: llm.model_path)"
)
@click.option(
    "--server-bin",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="llama.cpp 의 llama-server 실행 파일 (default: python -m llama_cpp.server, one request at a time)",
)
@click.option(
    "--slots", type=click.IntRange(1, 32), default=1, show_default=True, help="서버마다 병렬 슬롯 (-np; --server-bin)"
)
@click.option("--server-args", default="", help="서버 명령줄에 덧붙일 인자 (extra server arguments, e.g. --no-repack)")
@click.option("--max-s", type=click.FloatRange(10, 7200), default=1800, show_default=True, help="전체 시간 한도 (초)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def bench_load(
    ctx: click.Context,
    users: list[int],
    questions_file: Path,
    per_user: int | None,
    duration_s: float | None,
    servers: int,
    model_path: Path | None,
    server_bin: Path | None,
    slots: int,
    server_args: str,
    max_s: float,
    as_json: bool,
) -> None:
    """동시 사용자 부하: 첫 토큰 시간 p50/p95, 답/분, 오류, 유실 — 잠금만 있는 기준선과 llama.cpp 서버 대비."""
    from onprem_bot.app import build_app
    from onprem_bot.bench.load import LoadRun, load_questions, markdown_table, product_targets, run_load
    from onprem_bot.errors import ConfigError
    from onprem_bot.llm import install_root, resolve_model_path

    if per_user is not None and duration_s is not None:
        raise click.UsageError("--per-user 와 --duration-s 는 함께 쓸 수 없습니다 (mutually exclusive)")
    if per_user is None and duration_s is None:
        per_user = 2
    settings = settings_of(ctx)
    if settings.answer.mode != "rag":
        raise ConfigError("bench load: answer.mode = rag 이어야 합니다 (the model must write the answers)")
    model = model_path or resolve_model_path(settings.llm, install_root())
    llm = dataclasses.replace(settings.llm, backend="llama-cpp", model_path=model)
    app = build_app(dataclasses.replace(settings, llm=llm))

    def say(message: str) -> None:
        click.echo(message, err=True)

    run = LoadRun(load_questions(questions_file), users, per_user, duration_s, max_s, say)
    try:
        report = run_load(
            app, product_targets(settings, model, servers, say, server_bin, slots, shlex.split(server_args)), run
        )
    finally:
        app.db.dispose()
    report.update(model=str(model), questions_file=str(questions_file))
    if as_json:
        print_json(report)
    else:
        click.echo(markdown_table(report))
        click.echo(f"elapsed {report['elapsed_s']} s, model {model.name}, {report['cpus']} CPUs")
