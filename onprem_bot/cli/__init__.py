"""The ``onprem-bot`` command line. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from onprem_bot.errors import OnpremBotError

EXIT_FAILED = 1


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(path_type=Path), help="설정 파일 (TOML); 기본: ./onprem-bot.toml")
@click.option("--home", type=click.Path(path_type=Path), help="데이터 폴더 (ONPREM_BOT_HOME, 기본 ./var)")
@click.version_option(package_name="onprem-bot")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, home: Path | None) -> None:
    """onprem-bot: 오프라인 한국어 문서 챗봇 (offline Korean document chatbot)."""
    ctx.ensure_object(dict).update(config=config, home=home)
    from onprem_bot.ops.logs import start_command_log

    start_command_log(ctx)  # structured, rotated logs under <home>/logs (settings: [log])


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the CLI and turns every error into one line and an exit code."""
    try:
        cli.main(args=argv, prog_name="onprem-bot", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("중단되었습니다 (aborted)", err=True)
        sys.exit(130)
    except click.UsageError as exc:  # a bad option or argument: one line, in Korean, with where to look
        where = exc.ctx.command_path if exc.ctx is not None else "onprem-bot"
        click.echo(f"오류: 잘못된 사용 (usage error): {exc.format_message()} — {where} --help", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"오류: {exc.format_message()}", err=True)
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


from onprem_bot.cli import admin as _admin  # noqa: E402,F401  (registers commands)
from onprem_bot.cli import answer as _answer  # noqa: E402,F401
from onprem_bot.cli import check as _check  # noqa: E402,F401
from onprem_bot.cli import doctor as _doctor  # noqa: E402,F401
from onprem_bot.cli import documents as _documents  # noqa: E402,F401
from onprem_bot.cli import embedder as _embedder  # noqa: E402,F401
from onprem_bot.cli import evaluate as _evaluate  # noqa: E402,F401
from onprem_bot.cli import faq as _faq  # noqa: E402,F401
from onprem_bot.cli import load as _load  # noqa: E402,F401
from onprem_bot.cli import models as _models  # noqa: E402,F401
from onprem_bot.cli import ops as _ops  # noqa: E402,F401
from onprem_bot.cli import retrieval as _retrieval  # noqa: E402,F401

if __name__ == "__main__":  # pragma: no cover
    main()
