"""Accounts: ``onprem-bot admin create-user NAME --role user|editor|admin --groups G1,G2`` and friends;
``admin audit`` exports the audit log. Every change to an account goes to the audit log (by ``operator``).

The password is never a default and never an argument: it is asked for (hidden, twice) on a
terminal, or read from the first line of standard input (``--password-stdin``, or when input
is not a terminal).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from onprem_bot.cli import cli
from onprem_bot.cli.common import app_of, print_json
from onprem_bot.errors import OnpremBotError
from onprem_bot.storage.audit import AUDIT_EXPORT, EXPORT_FORMATS
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
@click.option(
    "--role", type=click.Choice(ROLES), required=True, help="admin: 전체 문서·관리, editor: FAQ·문서 관리, user: 채팅"
)
@click.option("--groups", default="", help="소속 그룹, 쉼표로 구분 (groups: 인사팀,임원)")
@click.option("--password-stdin", is_flag=True, help="비밀번호를 표준 입력 첫 줄에서 읽습니다 (read it from stdin)")
@click.option("--json", "as_json", is_flag=True, help="JSON으로 출력")
@click.pass_context
def create_user(ctx: click.Context, name: str, role: str, groups: str, password_stdin: bool, as_json: bool) -> None:
    """사용자를 만듭니다 (create an account; the password is asked for)."""
    from onprem_bot.access import parse_groups

    parse_groups(groups)  # a bad group name stops before the password is asked for
    app = app_of(ctx)
    password = _read_password(password_stdin)
    user = app.access.create_user(name, password, role, groups, by="operator")
    if as_json:
        print_json({"user": user.name, "role": user.role, "groups": list(user.groups)})
    else:
        click.echo(f"사용자를 만들었습니다: {user.name} ({user.role}; 그룹 {','.join(user.groups) or '없음'})")


@admin.command("set-groups")
@click.argument("name")
@click.option("--groups", required=True, help="소속 그룹, 쉼표로 구분 ('' = 그룹 없음)")
@click.pass_context
def set_user_groups(ctx: click.Context, name: str, groups: str) -> None:
    """사용자의 그룹을 바꿉니다 (replace an account's groups; applies on their next question)."""
    after = app_of(ctx).access.set_user_groups(name, groups, by="operator")
    click.echo(f"{name.strip().lower()}: 그룹 {','.join(after) or '없음'}")


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
    app_of(ctx).access.set_active(name, active, by="operator")
    click.echo(f"{name.strip().lower()}: {'사용 중 (로그인 가능)' if active else '사용 중지됨 (로그인할 수 없음)'}")


@admin.command("list-users")
@click.option("--json", "as_json", is_flag=True, help="JSON으로 출력")
@click.pass_context
def list_users(ctx: click.Context, as_json: bool) -> None:
    """관리 화면 사용자 목록 (list web UI users)."""
    users = app_of(ctx).auth.users.list_all()
    if as_json:
        print_json(
            {
                "users": [
                    {"name": u.name, "role": u.role, "active": u.active, "groups": list(u.groups), "source": u.source}
                    for u in users
                ]
            }
        )
        return
    for u in users:
        last = f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "-"
        groups = ",".join(u.groups) or "-"
        click.echo(
            f"{u.name}\t{u.role}\t{'사용' if u.active else '중지'}\t그룹 {groups}\t{u.source}\t마지막 로그인 {last}"
        )


@admin.command("audit")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]), help="이 시각부터 (UTC, 2026-11-01)")
@click.option("--until", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]), help="이 시각 전까지 (UTC)")
@click.option("--actor", help="이 사용자의 기록만 (one account)")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="파일로 저장 (default: standard output)")
@click.pass_context
def audit(
    ctx: click.Context, since: datetime | None, until: datetime | None, actor: str | None, fmt: str, out: Path | None
) -> None:
    """감사 기록을 내보냅니다 (export the audit log: questions, documents retrieved and cited, changes)."""
    app = app_of(ctx)
    utc = [None if t is None else t.replace(tzinfo=UTC) for t in (since, until)]
    entries = app.audit.entries(utc[0], utc[1], actor)
    if actor and not entries and app.auth.users.get(actor) is None:
        click.echo(f"경고: '{actor}' 계정도, 그 이름의 기록도 없습니다 (no such account and no rows)", err=True)
    data = app.audit.export(fmt, entries)
    app.audit.record("operator", AUDIT_EXPORT, "", {"rows": len(entries), "format": fmt})
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        out.write_bytes(data)
        click.echo(f"감사 기록 {len(entries)}건을 저장했습니다: {out}", err=True)
