"""``backup DIR`` / ``restore DIR``: database dump + index + configuration (see onprem_bot.ops.backup)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from onprem_bot.cli import cli
from onprem_bot.cli.common import print_json, settings_of

log = logging.getLogger("onprem_bot.ops")


@cli.command(name="backup")
@click.argument("target", type=click.Path(path_type=Path, file_okay=False))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def backup_cmd(ctx: click.Context, target: Path, as_json: bool) -> None:
    """백업: DB(스냅샷) + 검색 색인 + 설정을 DIR에 씁니다; 앱이 실행 중이어도 됩니다 (consistent while running)."""
    from onprem_bot.ops.backup import backup

    report = backup(settings_of(ctx), target, ctx.obj.get("config"))
    log.info("backup written", extra={"event": "backup", **report.as_json()})
    if as_json:
        print_json(report.as_json())
        return
    rows = sum(report.tables.values())
    click.echo(
        f"백업 완료 (backup written): {report.path} — {report.backend} {report.revision}, {len(report.tables)}개 표 "
        f"{rows}행, 색인 {report.index_generation or '없음'}, {report.bytes / 2**20:.1f} MiB, {report.seconds:.1f}s"
    )


@cli.command(name="restore")
@click.argument("source", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option(
    "--with-config",
    "with_config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="백업의 설정 파일을 이 경로에 복원 (also restore the settings file to this path)",
)
@click.option("--yes", is_flag=True, help="확인 없이 (do not ask)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def restore_cmd(ctx: click.Context, source: Path, with_config: Path | None, yes: bool, as_json: bool) -> None:
    """복원: DIR의 백업으로 DB와 색인을 바꿉니다. 앱을 먼저 멈추세요 (stop the app first)."""
    from onprem_bot.ops.backup import restore

    settings = settings_of(ctx)
    if not yes and not as_json:
        click.confirm(
            f"{settings.db_url.split('@')[-1]} 와 {settings.index_dir} 의 내용을 바꿉니다. 계속할까요?", abort=True
        )
    report = restore(settings, source, with_config=with_config)
    log.info("backup restored", extra={"event": "restore", **report.as_json()})
    if as_json:
        print_json(report.as_json())
        return
    click.echo(
        f"복원 완료 (restored): {sum(report.tables.values())}행, 색인 {report.index_generation or '없음'} ← {report.path}"
    )
