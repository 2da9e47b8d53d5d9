"""Passwords, log-in throttling, session timeout, roles, and the `admin create-user` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from onprem_bot.app import App
from onprem_bot.auth import (
    LOGIN_FAILED,
    AuthService,
    LoginError,
    PasswordError,
    hash_password,
    verify_password,
)
from onprem_bot.config import AuthSettings
from onprem_bot.storage.db import Database
from onprem_bot.storage.schema import LoginFailureRow
from onprem_bot.storage.users import UserError, UserStore

REPO = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_hashes_are_salted_scrypt_and_verify() -> None:
    a, b = hash_password("correct horse"), hash_password("correct horse")
    assert a != b and a.startswith("scrypt$")
    assert verify_password("correct horse", a)
    assert not verify_password("correct hors", a)
    assert not verify_password("x", "garbage") and not verify_password("x", "scrypt$1$2$3$!!$!!")


def test_short_password_and_bad_role_are_refused(app: App) -> None:
    with pytest.raises(PasswordError):
        app.auth.create_user("kim", "short", "admin")
    with pytest.raises(UserError):
        app.auth.create_user("kim", "long enough pw", "root")
    app.auth.create_user("kim", "long enough pw", "editor")
    with pytest.raises(UserError):
        app.auth.create_user("KIM", "long enough pw", "editor")


def test_wrong_password_and_unknown_user_get_the_same_message(app: App) -> None:
    app.auth.create_user("kim", "long enough pw", "admin")
    with pytest.raises(LoginError) as wrong:
        app.auth.login("kim", "nope nope", client="a")
    with pytest.raises(LoginError) as unknown:
        app.auth.login("nobody", "nope nope", client="b")
    assert str(wrong.value) == str(unknown.value) == LOGIN_FAILED
    session = app.auth.login("KIM ", "long enough pw", client="c")
    assert session.user == "kim" and session.role == "admin"
    assert app.auth.users.get("kim").last_login_at is not None


def test_failed_logins_are_throttled_then_released(app: App) -> None:
    clock = Clock()
    auth = AuthService(UserStore(app.db), AuthSettings(max_failures=3, lockout_s=300), clock=clock)
    auth.create_user("kim", "long enough pw", "admin")
    for _ in range(3):
        with pytest.raises(LoginError, match="올바르지 않습니다"):
            auth.login("kim", "wrong password", client="s1")
    # locked now, even with the right password, and from another browser for the same name
    with pytest.raises(LoginError, match="너무 많습니다"):
        auth.login("kim", "long enough pw", client="s2")
    clock.now += 301
    assert auth.login("kim", "long enough pw", client="s2").user == "kim"


def test_one_browser_guessing_many_names_is_throttled(app: App) -> None:
    auth = AuthService(UserStore(app.db), AuthSettings(max_failures=3), clock=Clock())
    for name in ("a", "b", "c"):
        with pytest.raises(LoginError):
            auth.login(name, "whatever1", client="same-browser")
    with pytest.raises(LoginError, match="너무 많습니다"):
        auth.login("d", "whatever1", client="same-browser")


def test_session_times_out_when_idle_and_when_the_account_is_disabled(app: App) -> None:
    clock = Clock()
    auth = AuthService(UserStore(app.db), AuthSettings(session_timeout_min=30), clock=clock)
    auth.create_user("kim", "long enough pw", "editor")
    session = auth.login("kim", "long enough pw")
    assert session.can("faq") and session.can("documents") and not session.can("review")
    clock.now += 29 * 60
    session = auth.touch(session)
    assert session is not None
    clock.now += 31 * 60
    assert auth.touch(session) is None
    session = auth.login("kim", "long enough pw")
    auth.users.set_active("kim", False)
    assert auth.touch(session) is None
    with pytest.raises(LoginError):
        auth.login("kim", "long enough pw")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """A migrated database on either backend (the throttle's rows are plain SQL on both)."""
    url = f"sqlite:///{tmp_path / 'auth.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    database = Database(url)
    database.migrate()
    yield database
    database.dispose()


def test_the_throttle_is_shared_by_replicas_and_survives_a_restart(db: Database) -> None:
    clock = Clock()
    settings = AuthSettings(max_failures=3, lockout_s=300, failure_window_s=900)
    one, two = (AuthService(UserStore(db), settings, clock=clock) for _ in range(2))
    one.create_user("kim", "long enough pw", "editor")
    for auth in (one, two, one):  # failures through either replica add up
        with pytest.raises(LoginError, match="올바르지 않습니다"):
            auth.login("kim", "wrong password", client=f"browser-{id(auth)}")
    with pytest.raises(LoginError, match="너무 많습니다"):
        two.login("kim", "long enough pw", client="another")
    restarted = AuthService(UserStore(db), settings, clock=clock)
    with pytest.raises(LoginError, match="5분 후"):
        restarted.login("kim", "long enough pw")
    clock.now += 301
    assert restarted.login("kim", "long enough pw").user == "kim"
    with db.session() as s:  # the lock-out cleared the name's failures; the browsers' stay until their window ends
        keys = sorted(r.key for r in s.query(LoginFailureRow))
    assert keys == sorted([f"client:browser-{id(one)}"] * 2 + [f"client:browser-{id(two)}"])


def test_failures_outside_the_window_are_forgotten_and_pruned(db: Database) -> None:
    clock = Clock()
    auth = AuthService(UserStore(db), AuthSettings(max_failures=3, failure_window_s=60), clock=clock)
    for _ in range(2):
        with pytest.raises(LoginError, match="올바르지 않습니다"):
            auth.login("kim", "wrong password")
    clock.now += 61
    with pytest.raises(LoginError, match="올바르지 않습니다"):
        auth.login("kim", "wrong password")  # only one failure within the window: not locked
    with db.session() as s:
        assert s.query(LoginFailureRow).count() == 1  # the two old rows are gone
    with pytest.raises(LoginError, match="올바르지 않습니다"):
        auth.login("kim", "wrong password")


def test_sessions_carry_groups_and_touch_rereads_them(app: App) -> None:
    clock = Clock()
    auth = AuthService(UserStore(app.db), AuthSettings(), clock=clock)
    auth.create_user("lee", "long enough pw", "user", groups=["인사팀", "임원"])
    auth.create_user("boss", "long enough pw", "admin")
    session = auth.login("lee", "long enough pw")
    assert session.groups == ("인사팀", "임원") and not session.can("faq")
    viewer = session.viewer
    assert viewer.name == "lee" and viewer.may_read(["임원"]) and not viewer.may_read(["재무팀"])
    assert not viewer.everything and auth.login("boss", "long enough pw").viewer.everything
    auth.users.set_groups("lee", ["재무팀"])
    touched = auth.touch(session)
    assert touched is not None and touched.groups == ("재무팀",) and touched.viewer.may_read(["재무팀"])


def run_cli(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from onprem_bot.cli import main; main()", "--home", str(home), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def test_cli_creates_users_with_the_password_from_stdin(tmp_path: Path) -> None:
    home = tmp_path / "cli-home"
    done = run_cli(home, "admin", "create-user", "Admin1", "--role", "admin", "--json", stdin="s3cret-pass\n")
    assert done.returncode == 0, done.stderr
    assert '"role": "admin"' in done.stdout
    again = run_cli(home, "admin", "create-user", "admin1", "--role", "editor", stdin="s3cret-pass\n")
    assert again.returncode != 0 and "이미 있는 사용자" in again.stderr
    empty = run_cli(home, "admin", "create-user", "lee", "--role", "editor", stdin="")
    assert empty.returncode != 0 and "비밀번호" in empty.stderr and "Traceback" not in empty.stderr
    listed = run_cli(home, "admin", "list-users", "--json")
    assert '"name": "admin1"' in listed.stdout and "lee" not in listed.stdout
