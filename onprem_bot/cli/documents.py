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
@click.option(
    "--groups",
    help="이 문서를 볼 수 있는 그룹, 쉼표로 구분 (who may read them: 인사팀,임원; '' = everyone; "
    "default: ingest.folder_groups, else unchanged)",
)
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[Path, ...],
    as_json: bool,
    chunker: str | None,
    strict: bool,
    reindex: bool,
    groups: str | None,
) -> None:
    """문서(파일·폴더)를 수집해 청크로 저장합니다 (ingest files and folders)."""
    from tqdm import tqdm

    from onprem_bot.access import parse_groups
    from onprem_bot.ingest.pipeline import FileResult, Ingestor
    from onprem_bot.storage.audit import DOCUMENT_GROUPS

    wanted = None if groups is None else parse_groups(groups)  # a bad name stops before any work
    app = app_of(ctx)
    ingestor = app.ingestor
    if chunker:
        ingestor = Ingestor(
            app.documents, chunker, app.settings.ingest.max_tokens, ingestor.ocr, app.settings.ingest.folder_groups
        )
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
        report = ingestor.run(list(paths), on_file=on_file, on_start=on_start, groups=wanted)
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
    via = "ingest --groups" if wanted is not None else "ingest.folder_groups"
    grouped = [r for r in report.ok if r.groups is not None]
    for r in grouped:
        app.audit.record("operator", DOCUMENT_GROUPS, r.document_id, {"title": r.title, "after": list(r.groups or ()), "via": via})  # fmt: skip
    if grouped:
        summary["groups"] = [
            {"document": r.document_id, "title": r.title, "groups": list(r.groups or ())} for r in grouped
        ]
        warn_unknown_groups(app, {g for r in grouped for g in r.groups or ()})
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


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="JSON으로 출력")
@click.pass_context
def documents(ctx: click.Context, as_json: bool) -> None:
    """저장된 문서 목록 (list stored documents; subcommand: set-groups)."""
    if ctx.invoked_subcommand is not None:
        return
    docs = app_of(ctx).documents.list_all()
    if as_json:
        print_json({"documents": [{k: v for k, v in d.__dict__.items() if k != "metadata"} for d in docs]})
        return
    for d in docs:
        who = ",".join(d.groups or ()) or "전체"
        click.echo(
            f"{d.title}\t{d.doc_type}\t{d.chunker}\t청크 {d.chunk_count}\t{d.ingested_at:%Y-%m-%d %H:%M}\t"
            f"열람 {who}\t{d.id}\t{d.path}"
        )


@documents.command("set-groups")
@click.argument("document")
@click.option("--groups", required=True, help="볼 수 있는 그룹, 쉼표로 구분 ('' = 전체 공개)")
@click.option("--json", "as_json", is_flag=True, help="JSON으로 출력")
@click.pass_context
def set_groups(ctx: click.Context, document: str, groups: str, as_json: bool) -> None:
    """문서를 볼 수 있는 그룹을 바꿉니다 (DOCUMENT: id, path or unique title; applies at once)."""
    app = app_of(ctx)
    doc = find_document(app.documents.list_all(), document)
    after = app.access.set_document_groups(doc.id, groups, by="operator")
    warn_unknown_groups(app, set(after))
    if as_json:
        print_json({"document": doc.id, "title": doc.title, "groups": list(after)})
    else:
        click.echo(f"{doc.title}: 열람 그룹 {','.join(after) or '전체'}")


def warn_unknown_groups(app: Any, groups: set[str]) -> None:
    """A warning on stderr for each group no account belongs to yet (a typo makes a document invisible to
    everyone but administrators; directory accounts get their groups at log-in, so it is not an error)."""
    held = {g for u in app.auth.users.list_all() for g in u.groups}
    for g in sorted(groups - held):
        click.echo(f"경고: '{g}' 그룹에 속한 사용자가 아직 없습니다 (no account in this group yet; a typo?)", err=True)


def find_document(docs: Sequence[Any], key: str) -> Any:
    """The document whose id, path (resolved) or title is ``key``; :class:`OnpremBotError` when none or
    several titles match (naming their ids)."""
    for d in docs:
        if d.id == key:
            return d
    path = str(Path(key).expanduser().resolve())
    for d in docs:
        if d.path == path:
            return d
    titled = [d for d in docs if d.title == key]
    if len(titled) == 1:
        return titled[0]
    if titled:
        raise OnpremBotError(
            f"제목이 '{key}'인 문서가 여러 개입니다 (several documents): id로 지정하세요: {', '.join(d.id for d in titled)}"
        )
    raise OnpremBotError(f"문서를 찾을 수 없습니다 (no such document): {key}; onprem-bot documents 로 목록을 보세요")


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
