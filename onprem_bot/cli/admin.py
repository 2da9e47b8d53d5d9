"""Administration accounts: ``onprem-bot admin create-user NAME --role admin|editor`` and friends.

The password is never a default and never an argument: it is asked for (hidden, twice) on a
terminal, or read from the first line of standard input (``--password-stdin``, or when input
is not a terminal).
"""

from __future__ import annotations

import sys

import click

from onprem_bot.cli import cli
from onprem_bot.cli.common import app_of, print_json
from onprem_bot.errors import OnpremBotError
from onprem_bot.storage.users import ROLES


@cli.group()
def admin() -> None:
    """관리자 계정 (administration accounts for the web UI)."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise OnpremBotError("표준 입력에 비밀번호가 없습니다 (no password on standard input)")
        return password
    return str(click.prompt("비밀번호 (password)", hide_input=True, confirmation_prompt="비밀번호 확인 (repeat)"))


@admin.command("create-user")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="admin: 전체, editor: FAQ·문서")
@click.option("--password-stdin", is_flag=True, help="비밀번호를 표준 입력 첫 줄에서 읽습니다 (read it from stdin)")
@click.option("--json", "as_json", is_flag=True, help="JSON으로 출력")
@click.pass_context
def create_user(ctx: click.Context, name: str, role: str, password_stdin: bool, as_json: bool) -> None:
    """관리 화면 사용자를 만듭니다 (create a web UI user; the password is asked for)."""
    app = app_of(ctx)
    password = _read_password(password_stdin)
    user = app.auth.create_user(name, password, role)
    if as_json:
        print_json({"user": user.name, "role": user.role})
    else:
        click.echo(f"사용자를 만들었습니다: {user.name} ({user.role})")


@admin.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="비밀번호를 표준 입력 첫 줄에서 읽습니다")
@click.pass_context
def set_password(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """사용자의 비밀번호를 바꿉니다 (change a user's password)."""
    app = app_of(ctx)
    if app.auth.users.get(name) is None:
        raise OnpremBotError(f"사용자가 없습니다 (no such user): {name}")
    app.auth.set_password(name, _read_password(password_stdin))
    click.echo(f"비밀번호를 바꿨습니다: {name.strip().lower()}")


@admin.command("set-active")
@click.argument("name")
@click.argument("active", type=click.BOOL)
@click.pass_context
def set_active(ctx: click.Context, name: str, active: bool) -> None:
    """사용자를 사용/중지합니다 (enable or disable a user: true/false)."""
    app_of(ctx).auth.users.set_active(name, active)
    click.echo(f"{name.strip().lower()}: {'사용' if active else '중지'}")


@admin.command("list-users")
@click.option("--json", "as_json", is_flag=True, help="JSON으로 출력")
@click.pass_context
def list_users(ctx: click.Context, as_json: bool) -> None:
    """관리 화면 사용자 목록 (list web UI users)."""
    users = app_of(ctx).auth.users.list_all()
    if as_json:
        print_json({"users": [{"name": u.name, "role": u.role, "active": u.active} for u in users]})
        return
    for u in users:
        last = f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "-"
        click.echo(f"{u.name}\t{u.role}\t{'사용' if u.active else '중지'}\t마지막 로그인 {last}")
