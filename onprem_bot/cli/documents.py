"""Document commands: ingest, documents, ui."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from onprem_bot.cli import cli
from onprem_bot.cli.common import app_of, print_json, settings_of
from onprem_bot.config import CHUNKER_NAMES
from onprem_bot.errors import OnpremBotError


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="요약을 JSON으로 출력 (print a JSON summary)")
@click.option("--chunker", type=click.Choice(CHUNKER_NAMES), help="청크 방식 강제 (force a chunker; default: auto)")
@click.option("--strict", is_flag=True, help="한 파일이라도 실패하면 실패로 종료 (fail if any file is skipped)")
@click.option("--reindex", is_flag=True, help="변경이 없어도 검색 색인을 다시 만듭니다 (rebuild the search index)")
@click.pass_context
def ingest(
    ctx: click.Context, paths: tuple[Path, ...], as_json: bool, chunker: str | None, strict: bool, reindex: bool
) -> None:
    """문서(파일·폴더)를 수집해 청크로 저장합니다 (ingest files and folders)."""
    from tqdm import tqdm

    from onprem_bot.ingest.pipeline import FileResult, Ingestor

    app = app_of(ctx)
    ingestor = app.ingestor
    if chunker:
        ingestor = Ingestor(app.documents, chunker, app.settings.ingest.max_tokens, ingestor.ocr)
    bar: Any = None
    total_files = 0

    def on_start(total: int) -> None:
        nonlocal bar, total_files
        total_files = total
        if not as_json and total > 1:
            bar = tqdm(total=total, unit="문서", desc="수집 중", file=sys.stderr, dynamic_ncols=True)

    def on_file(result: FileResult) -> None:
        if bar is not None:
            bar.set_postfix_str(f"{result.path.parent.name}/{result.path.name}"[-48:])
            bar.update(1)
        if result.status == "skipped" and total_files > 1:
            message = f"경고: 건너뜀 (skipped) {result.path}: {result.error}"
            (bar.write if bar is not None else click.echo)(message, file=sys.stderr)
        if result.warning:  # stored, but e.g. scanned PDF pages were skipped (one line per file)
            (bar.write if bar is not None else click.echo)(f"경고 (warning): {result.warning}", file=sys.stderr)

    try:
        report = ingestor.run(list(paths), on_file=on_file, on_start=on_start)
    finally:
        if bar is not None:
            bar.close()
    if not report.ok:
        first = report.skipped[0]
        raise OnpremBotError(
            f"{first.path}: {first.error}"
            if len(report.skipped) == 1
            else "모든 파일이 실패했습니다 (every file failed)"
        )
    summary = report.summary()
    seeded = _import_snapshots(app, paths)
    if seeded:
        summary["snapshot_vectors"] = seeded
    changed = summary["new"] or summary["updated"]
    if reindex or changed or app.indexer.needs_rebuild():
        started = time.perf_counter()
        meta = app.reindex(progress=not as_json)
        index_seconds = round(time.perf_counter() - started, 3)
        summary["index"] = {"chunks": meta.count, "embedder": meta.embedder, "seconds": index_seconds}
        summary["seconds"] = round(float(str(summary["seconds"])) + index_seconds, 3)
    if as_json:
        print_json(summary)
    else:
        click.echo(
            f"문서 {summary['documents']}개 (새 문서 {summary['new']}, 변경 {summary['updated']}, "
            f"변경 없음 {summary['unchanged']}), 청크 {summary['chunks']}개, {summary['seconds']}초"
            + (f", 건너뜀 {len(report.skipped)}개" if report.skipped else "")
        )
    if strict and report.skipped:
        raise OnpremBotError(f"{len(report.skipped)}개 파일을 건너뛰었습니다 (files skipped; --strict)")


def _import_snapshots(app: Any, paths: Sequence[Path]) -> int:
    """Vectors imported from the folders' embedding snapshots (:mod:`onprem_bot.embed.snapshot`)."""
    from onprem_bot.embed.snapshot import import_snapshot

    cached = app.indexer.embedder  # the CachedEmbedder the index is built through
    return sum(import_snapshot(cached, p) for p in paths if p.is_dir())


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="JSON으로 출력")
@click.pass_context
def documents(ctx: click.Context, as_json: bool) -> None:
    """저장된 문서 목록 (list stored documents)."""
    docs = app_of(ctx).documents.list_all()
    if as_json:
        print_json({"documents": [{k: v for k, v in d.__dict__.items() if k != "metadata"} for d in docs]})
        return
    for d in docs:
        click.echo(
            f"{d.title}\t{d.doc_type}\t{d.chunker}\t청크 {d.chunk_count}\t{d.ingested_at:%Y-%m-%d %H:%M}\t{d.path}"
        )


@cli.command()
@click.option("--port", type=int, help="포트 (default: settings.ui.port, 8501)")
@click.pass_context
def ui(ctx: click.Context, port: int | None) -> None:
    """Streamlit 웹 화면을 시작합니다 (start the web UI)."""
    from onprem_bot.offline import enforce_offline

    settings = settings_of(ctx)
    app_of(ctx)  # migrate before the UI starts; errors surface here as one line
    app_file = Path(__file__).resolve().parents[2] / "ui" / "app.py"
    if not app_file.is_file():
        raise OnpremBotError(f"UI 파일이 없습니다 (UI not found): {app_file}")
    enforce_offline()
    env = dict(os.environ, ONPREM_BOT_HOME=str(settings.home.resolve()))
    if ctx.obj.get("config"):
        env["ONPREM_BOT_CONFIG"] = str(Path(ctx.obj["config"]).resolve())
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_file),
        "--server.port", str(port or settings.ui.port),
        "--server.address", settings.ui.host,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--server.maxUploadSize", str(settings.ui.max_upload_mb),
        "--server.fileWatcherType", "none",
        "--client.showErrorDetails", "type",
    ]  # fmt: skip
    click.echo(f"웹 화면: http://{settings.ui.host}:{port or settings.ui.port}", err=True)
    sys.stderr.flush()
    os.execve(sys.executable, cmd, env)  # become the server: signals (Ctrl-C, systemd stop) reach it
