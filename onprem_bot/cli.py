"""The ``onprem-bot`` command line. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from onprem_bot.config import CHUNKER_NAMES, Settings, load_settings
from onprem_bot.errors import OnpremBotError

EXIT_FAILED = 1


def _settings(ctx: click.Context) -> Settings:
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        overrides: dict[str, Any] = {}
        if obj.get("home"):
            overrides["home"] = obj["home"]
        obj["settings"] = load_settings(obj.get("config"), **overrides)
    settings: Settings = obj["settings"]
    return settings


def _app(ctx: click.Context) -> Any:
    from onprem_bot.app import build_app

    obj = ctx.ensure_object(dict)
    if "app" not in obj:
        obj["app"] = build_app(_settings(ctx))
    return obj["app"]


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(path_type=Path), help="설정 파일 (TOML); 기본: ./onprem-bot.toml")
@click.option("--home", type=click.Path(path_type=Path), help="데이터 폴더 (ONPREM_BOT_HOME, 기본 ./var)")
@click.version_option(package_name="onprem-bot")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, home: Path | None) -> None:
    """onprem-bot: 오프라인 한국어 문서 챗봇 (offline Korean document chatbot)."""
    ctx.ensure_object(dict).update(config=config, home=home)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="요약을 JSON으로 출력 (print a JSON summary)")
@click.option("--chunker", type=click.Choice(CHUNKER_NAMES), help="청크 방식 강제 (force a chunker; default: auto)")
@click.option("--strict", is_flag=True, help="한 파일이라도 실패하면 실패로 종료 (fail if any file is skipped)")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], as_json: bool, chunker: str | None, strict: bool) -> None:
    """문서(파일·폴더)를 수집해 청크로 저장합니다 (ingest files and folders)."""
    from tqdm import tqdm

    from onprem_bot.ingest.pipeline import FileResult, Ingestor

    app = _app(ctx)
    ingestor = app.ingestor
    if chunker:
        ingestor = Ingestor(app.documents, chunker, app.settings.ingest.max_tokens)
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
    if as_json:
        _print_json(summary)
    else:
        click.echo(
            f"문서 {summary['documents']}개 (새 문서 {summary['new']}, 변경 {summary['updated']}, "
            f"변경 없음 {summary['unchanged']}), 청크 {summary['chunks']}개, {summary['seconds']}초"
            + (f", 건너뜀 {len(report.skipped)}개" if report.skipped else "")
        )
    if strict and report.skipped:
        raise OnpremBotError(f"{len(report.skipped)}개 파일을 건너뛰었습니다 (files skipped; --strict)")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="JSON으로 출력")
@click.pass_context
def documents(ctx: click.Context, as_json: bool) -> None:
    """저장된 문서 목록 (list stored documents)."""
    docs = _app(ctx).documents.list_all()
    if as_json:
        _print_json({"documents": [{k: v for k, v in d.__dict__.items() if k != "metadata"} for d in docs]})
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

    settings = _settings(ctx)
    _app(ctx)  # migrate before the UI starts; errors surface here as one line
    app_file = Path(__file__).resolve().parents[1] / "ui" / "app.py"
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
    ]  # fmt: skip
    click.echo(f"웹 화면: http://{settings.ui.host}:{port or settings.ui.port}", err=True)
    sys.stderr.flush()
    os.execve(sys.executable, cmd, env)  # become the server: signals (Ctrl-C, systemd stop) reach it


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the CLI and turns every error into one line and an exit code."""
    try:
        cli.main(args=argv, prog_name="onprem-bot", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("중단되었습니다 (aborted)", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except OnpremBotError as exc:
        click.echo(f"오류: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("중단되었습니다 (interrupted)", err=True)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("ONPREM_BOT_DEBUG"):
            raise
        click.echo(f"오류 (unexpected error): {type(exc).__name__}: {exc} — ONPREM_BOT_DEBUG=1로 자세히 보기", err=True)
        sys.exit(EXIT_FAILED)


if __name__ == "__main__":  # pragma: no cover
    main()
