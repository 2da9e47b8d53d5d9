"""The full evaluation behind ``eval DATASET`` and ``bench report`` / ``bench all``."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from onprem_bot.cli.common import app_of, print_json, settings_of
from onprem_bot.cli.retrieval import bench, dev_set_path
from onprem_bot.errors import OnpremBotError

REPO = Path(__file__).resolve().parents[2]


def latest_paths(home: Path) -> tuple[Path, Path]:
    """Where the last evaluation's HTML and JSON are kept (``<home>/eval/latest.*``; the admin UI can show them)."""
    folder = home / "eval"
    return folder / "latest.html", folder / "latest.json"


def _evaluate_app(app: Any, rows: list[dict[str, Any]], modes: list[str], no_faq: bool, label: str) -> dict[str, Any]:
    from onprem_bot.eval.report import describe_settings, evaluate

    pipeline = app.pipeline
    if no_faq:
        pipeline.faq_enabled = False

    def progress(i: int, n: int) -> None:
        click.echo(f"\r{label} {i}/{n}", nl=False, err=True)

    report = evaluate(
        pipeline,
        app.retriever,
        app.analyzer,
        rows,
        modes=modes,
        progress=progress,
        meta={"run": label, **describe_settings(app.settings, app.llm)},
    )
    click.echo("", err=True)
    return report


def run_eval(
    ctx: click.Context,
    dataset: Path,
    modes: list[str],
    as_json: bool,
    out: Path | None,
    compare: Path | None,
    compare_model: Path | None,
    limit: int | None,
    no_faq: bool,
) -> None:
    """Evaluate DATASET with the current settings (and, for a comparison, with settings/model B)."""
    from onprem_bot.eval.report import format_console, read_eval_rows, render_html

    if compare and compare_model:
        raise click.UsageError("--compare와 --compare-model 중 하나만 (use one of --compare, --compare-model)")
    if compare_model and not compare_model.is_file():
        raise OnpremBotError(f"모델 파일이 없습니다 (model file not found): {compare_model}")
    rows = read_eval_rows(dataset)[:limit]
    settings = settings_of(ctx)
    obj = ctx.ensure_object(dict)
    label_a = str(obj.get("config") or "현재 설정 (current settings)")
    dataset_meta = {"dataset": str(dataset), "questions_in_file": len(rows)}
    if not (compare or compare_model):
        report = _evaluate_app(app_of(ctx), rows, modes, no_faq, "eval")
        report["meta"].update(dataset_meta)
        _emit(report, render_html(report), format_console, settings.home, out, as_json)
        return

    from onprem_bot.app import build_app
    from onprem_bot.config import load_settings
    from onprem_bot.eval.compare import compare_reports, format_compare_table, render_compare_html

    if compare:
        settings_b = load_settings(compare, home=settings.home)
        label_b = str(compare)
    else:
        assert compare_model is not None
        settings_b = dataclasses.replace(settings, llm=dataclasses.replace(settings.llm, model_path=compare_model))
        label_b = f"{label_a} + model {compare_model.name}"
        label_a = f"{label_a} (model {settings.llm.model_path or 'default'})"
    report_a = _evaluate_app(app_of(ctx), rows, modes, no_faq, "A")
    app_b = build_app(settings_b)
    try:
        report_b = _evaluate_app(app_b, rows, modes, no_faq, "B")
    finally:
        app_b.db.dispose()
    for r in (report_a, report_b):
        r["meta"].update(dataset_meta)
    cmp = compare_reports(report_a, report_b, label_a, label_b)
    _emit(cmp, render_compare_html(cmp), format_compare_table, settings.home, out, as_json)


def _emit(
    report: dict[str, Any],
    html_text: str,
    console: Callable[[dict[str, Any]], str],
    home: Path,
    out: Path | None,
    as_json: bool,
) -> None:
    """Write the report files (``--out`` and the latest copy for the UI), then print JSON or the table."""
    from onprem_bot.eval.report import write_outputs

    written = write_outputs(report, out, html_text)
    _keep_latest(home, report, html_text)
    if as_json:
        print_json(report)
        return
    click.echo(console(report))
    for path in written:
        click.echo(f"보고서 (report): {path}")


def _keep_latest(home: Path, report: dict[str, Any], html_text: str) -> list[Path]:
    html_path, json_path = latest_paths(home)
    try:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(html_text, encoding="utf-8")
        json_path.write_text(json.dumps(report, ensure_ascii=False, default=str), encoding="utf-8")
    except OSError:
        return []
    return [html_path, json_path]


@bench.command(name="report")
@click.option("--repeats", type=click.IntRange(1, 20), default=3, show_default=True, help="구성요소별 반복 횟수")
@click.option(
    "--chunks",
    default="10000",
    show_default=True,
    help="검색 벤치 청크 수, 쉼표로 여러 개 (retrieval sizes, comma-separated)",
)
@click.option("--faq-entries", type=click.IntRange(10, 200_000), default=2000, show_default=True)
@click.option("--faq-probes", type=click.IntRange(10, 10_000), default=100, show_default=True)
@click.option("--check-answers", type=click.IntRange(5, 5000), default=50, show_default=True)
@click.option("--gen-repeats", type=click.IntRange(1, 50), default=3, show_default=True, help="생성 벤치 반복")
@click.option("--gen-max-tokens", type=click.IntRange(8, 1024), default=32, show_default=True)
@click.option(
    "--model", "model_path", type=click.Path(path_type=Path, dir_okay=False), help="GGUF (default: llm.model_path)"
)
@click.option(
    "--skip",
    default="",
    help="건너뛸 구성요소, 쉼표로 (skip: ingest,faq,retrieval,check,generation)",
)
@click.option("--corpus", type=click.Path(path_type=Path, file_okay=False), help="법령 폴더 (default: corpus/)")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="JSON 파일 (and .md beside it)")
@click.option(
    "--markdown", type=click.Path(path_type=Path, dir_okay=False), help="Markdown 파일 (e.g. docs/benchmarks.md)"
)
@click.option("--note", default="", help="Markdown 머리말에 넣을 메모")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def bench_report(
    ctx: click.Context,
    repeats: int,
    chunks: str,
    faq_entries: int,
    faq_probes: int,
    check_answers: int,
    gen_repeats: int,
    gen_max_tokens: int,
    model_path: Path | None,
    skip: str,
    corpus: Path | None,
    out: Path | None,
    markdown: Path | None,
    note: str,
    as_json: bool,
) -> None:
    """모든 벤치마크를 한 보고서로 (faq, retrieval, generation, check, ingest; median/min/max)."""
    from onprem_bot.bench.report import render_markdown, run_bench_report
    from onprem_bot.eval.retrieval import read_dataset
    from onprem_bot.llm import install_root, resolve_model_path

    try:
        sizes = [int(s) for s in chunks.split(",") if s.strip()]
    except ValueError:
        raise click.BadParameter(f"{chunks!r}: 정수 목록 (comma-separated integers)", param_hint="--chunks") from None
    if not sizes or any(s < 100 for s in sizes):
        raise click.BadParameter(f"{chunks!r}: each size must be >= 100", param_hint="--chunks")
    valid = {"ingest", "faq", "retrieval", "check", "generation"}
    skipped = [s.strip() for s in skip.split(",") if s.strip()]
    if set(skipped) - valid:
        raise click.BadParameter(f"{skip!r}: valid: {', '.join(sorted(valid))}", param_hint="--skip")
    app = app_of(ctx)
    corpus = corpus or REPO / "corpus"
    if not corpus.is_dir():
        raise OnpremBotError(f"{corpus}: 법령 폴더가 없습니다 (corpus folder not found)")
    model = model_path or resolve_model_path(settings_of(ctx).llm, install_root())
    questions = [r["question"] for r in read_dataset(dev_set_path())][:60]
    report = run_bench_report(
        app,
        corpus,
        questions,
        repeats=repeats,
        chunks=sizes,
        faq_entries=faq_entries,
        faq_probes=faq_probes,
        check_answers=check_answers,
        generation_model=model,
        generation_repeats=gen_repeats,
        generation_max_tokens=gen_max_tokens,
        skip=skipped,
        progress=lambda m: click.echo(m, err=True),
    )
    md = render_markdown(report, note)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        if not markdown:
            out.with_suffix(".md").write_text(md, encoding="utf-8")
    if markdown:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(md, encoding="utf-8")
    if as_json:
        print_json(report)
    else:
        click.echo(md)


bench.add_command(bench_report, name="all")
