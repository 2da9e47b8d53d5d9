"""Directory log-in against a real OpenLDAP server (tests/ldap_server.py): groups, mapping, wrong
passwords and the throttle, an unreachable directory, injection through the user name."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from onprem_bot.app import App
from onprem_bot.auth import LDAP_HASH, LOGIN_FAILED, AuthService, LoginError, PasswordError
from onprem_bot.config import AuthSettings
from onprem_bot.config_auth import LdapSettings
from onprem_bot.directory import UNAVAILABLE, Directory, DirectoryLoginError, DirectoryUnavailable
from onprem_bot.errors import ConfigError
from onprem_bot.storage.users import UserStore
from tests.ldap_server import PEOPLE, SUFFIX, LdapServer, free_port, start_ldap_server

USER_DN = f"uid={{name}},ou=people,{SUFFIX}"
GROUP_BASE = f"ou=groups,{SUFFIX}"


@pytest.fixture(scope="session")
def ldap_server() -> Iterator[LdapServer]:
    """One slapd for the module's tests (skipped without slapd; tests that stop a server start their own)."""
    server = start_ldap_server()
    yield server
    server.close()


class Clock:
    def __init__(self) -> None:
        self.now = 2_000_000.0

    def __call__(self) -> float:
        return self.now


def make_auth(app: App, url: str, clock: Any = time.time, **over: Any) -> AuthService:
    ldap = {"url": url, "user_dn": USER_DN, "group_base": GROUP_BASE, "timeout_s": 2.0}
    ldap.update({k: v for k, v in over.items() if k in LdapSettings.__dataclass_fields__})
    rest = {k: v for k, v in over.items() if k not in LdapSettings.__dataclass_fields__}
    return AuthService(UserStore(app.db), AuthSettings(ldap=LdapSettings(**ldap), **rest), clock=clock, audit=app.audit)


def test_a_directory_user_logs_in_with_their_groups(app: App, ldap_server: LdapServer, caplog: Any) -> None:
    auth = make_auth(app, ldap_server.url)
    session = auth.login("Kim ", PEOPLE["kim"], client="b1")
    assert (session.user, session.role, session.groups) == ("kim", "user", ("staff", "인사팀"))
    assert session.viewer.may_read(["인사팀"]) and not session.viewer.may_read(["재무팀"])
    found = auth.users.credentials("kim")
    assert found is not None
    user, stored = found
    assert user.source == "ldap" and stored == LDAP_HASH and user.last_login_at is not None
    with caplog.at_level(logging.WARNING, logger="onprem_bot.directory"):
        lee = auth.login("lee", PEOPLE["lee"])
    assert lee.groups == ("staff",)  # "Sales Team" has a space: skipped, with a warning
    assert "Sales Team" in caplog.text
    park = auth.login("park", PEOPLE["park"])
    assert park.groups == () and not park.viewer.may_read(["staff"]) and park.viewer.may_read([])
    with pytest.raises(PasswordError, match="디렉터리"):
        auth.set_password("kim", "a new long password")


def test_wrong_password_and_unknown_user_are_generic_and_throttled(app: App, ldap_server: LdapServer) -> None:
    clock = Clock()
    auth = make_auth(app, ldap_server.url, clock=clock, max_failures=3, lockout_s=300)
    with pytest.raises(LoginError) as unknown:
        auth.login("nobody", "some password", client="x")
    assert str(unknown.value) == LOGIN_FAILED and auth.users.get("nobody") is None
    for _ in range(3):
        with pytest.raises(LoginError) as wrong:
            auth.login("kim", "wrong password", client="b2")
        assert str(wrong.value) == LOGIN_FAILED
    with pytest.raises(LoginError, match="너무 많습니다"):
        auth.login("kim", PEOPLE["kim"], client="b3")
    with pytest.raises(LoginError, match="너무 많습니다"):  # another replica / a restart sees the lock-out
        make_auth(app, ldap_server.url, clock=clock).login("kim", PEOPLE["kim"])
    clock.now += 301
    assert auth.login("kim", PEOPLE["kim"], client="b3").groups == ("staff", "인사팀")
    with pytest.raises(LoginError, match="올바르지 않습니다"):
        auth.login("kim", "", client="b4")  # an empty password is never an anonymous bind


def test_group_map_renames_and_drops_directory_groups(app: App, ldap_server: LdapServer) -> None:
    auth = make_auth(app, ldap_server.url, group_map={"인사팀": "hr", "STAFF": "직원"}, role="editor")
    kim = auth.login("kim", PEOPLE["kim"])
    assert kim.groups == ("hr", "직원") and kim.role == "editor" and kim.can("faq")
    assert auth.login("lee", PEOPLE["lee"]).groups == ("직원",)  # "Sales Team" is not in the map: dropped
    auth.users.set_role("kim", "admin")  # the role is the directory's only on the first log-in
    again = auth.login("kim", PEOPLE["kim"])
    assert again.role == "admin" and again.viewer.everything


def test_a_group_change_in_the_directory_applies_on_the_next_log_in(app: App, ldap_server: LdapServer) -> None:
    auth = make_auth(app, ldap_server.url)
    kim = auth.login("kim", PEOPLE["kim"])
    assert kim.groups == ("staff", "인사팀")
    ldap_server.set_members("인사팀", ["lee"])
    try:
        assert auth.login("lee", PEOPLE["lee"]).groups == ("staff", "인사팀")
        assert auth.login("kim", PEOPLE["kim"]).groups == ("staff",)
        touched = auth.touch(kim)  # the older session picks up the account's new groups too
        assert touched is not None and touched.groups == ("staff",) and not touched.viewer.may_read(["인사팀"])
        changes = [(e.actor, e.action, e.subject, e.detail) for e in app.audit.entries() if e.action != "login"]
        assert ("directory", "user_groups", "kim", {"before": ["staff", "인사팀"], "after": ["staff"]}) in changes
        assert ("directory", "user_created", "lee") in {c[:3] for c in changes}
        assert [e.actor for e in app.audit.entries() if e.action == "login"] == ["kim", "lee", "kim"]
    finally:
        ldap_server.set_members("인사팀", ["kim"])


def test_ldap_characters_in_the_name_do_not_inject(app: App, ldap_server: LdapServer) -> None:
    auth = make_auth(app, ldap_server.url)
    for name in ("a*)(uid=*", "*", "kim)(|(uid=*", "kim,ou=people"):
        with pytest.raises(LoginError) as refused:
            auth.login(name, PEOPLE["kim"])
        assert str(refused.value) == LOGIN_FAILED
    # a real user whose name holds filter syntax: unescaped, "(memberUid={name})" would become
    # "(memberUid=x)(cn=*)" and match every group
    injected = auth.login("x)(cn=*", PEOPLE["x)(cn=*"])
    assert injected.groups == ()
    conn = ldap_server.admin()
    try:
        conn.search(GROUP_BASE, "(|(memberUid=x)(cn=*))", attributes=["cn"])
        assert len(conn.entries) == 3  # what the injection would have given
    finally:
        conn.unbind()


def test_an_unreachable_directory_does_not_stop_local_accounts(app: App) -> None:
    server = start_ldap_server()
    try:
        auth = make_auth(app, server.url, clock=Clock(), max_failures=1)
        auth.create_user("admin1", "local password", "admin")
        assert auth.login("kim", PEOPLE["kim"]).groups == ("staff", "인사팀")
        server.stop()
        assert auth.login("admin1", "local password", client="c1").role == "admin"
        for _ in range(3):  # unreachable is not a wrong password: never throttled
            with pytest.raises(LoginError) as down:
                auth.login("kim", PEOPLE["kim"], client="c2")
            assert str(down.value) == UNAVAILABLE
        with pytest.raises(LoginError) as wrong:
            auth.login("admin1", "bad password", client="c3")  # a local name never asks the directory
        assert str(wrong.value) == LOGIN_FAILED
        server.start()
        assert auth.login("kim", PEOPLE["kim"], client="c2").user == "kim"
    finally:
        server.close()


def test_a_silent_server_times_out_and_the_next_server_is_tried(app: App, ldap_server: LdapServer) -> None:
    with socket.socket() as silent:  # accepts connections (kernel backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        silent_url = f"ldap://127.0.0.1:{silent.getsockname()[1]}"
        directory = Directory(LdapSettings(url=silent_url, user_dn=USER_DN, timeout_s=1))
        started = time.monotonic()
        with pytest.raises(DirectoryUnavailable, match="LDAP"):
            directory.run("kim", PEOPLE["kim"])
        assert time.monotonic() - started < 5
        closed = f"ldap://127.0.0.1:{free_port()}"
        auth = make_auth(app, f"{closed} {silent_url} {ldap_server.url}", timeout_s=1)
        assert auth.login("kim", PEOPLE["kim"]).groups == ("staff", "인사팀")


def test_a_local_account_is_never_checked_against_the_directory(app: App, ldap_server: LdapServer) -> None:
    auth = make_auth(app, ldap_server.url)
    auth.create_user("kim", "the local one", "editor", groups=["재무팀"])
    with pytest.raises(LoginError, match="올바르지 않습니다"):
        auth.login("kim", PEOPLE["kim"])
    session = auth.login("kim", "the local one")
    assert session.groups == ("재무팀",) and auth.users.get("kim").source == "local"
    auth.login("lee", PEOPLE["lee"])
    auth.users.set_active("lee", False)
    with pytest.raises(LoginError, match="올바르지 않습니다"):  # a disabled directory account stays out
        auth.login("lee", PEOPLE["lee"])


def test_directory_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="ldap://"):
        LdapSettings(url="http://dir.example.org", user_dn=USER_DN)
    with pytest.raises(ConfigError, match="user_dn"):
        LdapSettings(url="ldap://dir.example.org", user_dn="uid=kim,ou=people")
    with pytest.raises(ConfigError, match="group_map"):
        LdapSettings(group_map={"Sales Team": "영업 팀"})
    with pytest.raises(ConfigError, match="empty"):
        Directory(LdapSettings())
    directory = Directory(LdapSettings(url="ldap://127.0.0.1:1", user_dn=USER_DN))
    with pytest.raises(DirectoryLoginError):
        directory.run("kim", "")  # refused before any network traffic
