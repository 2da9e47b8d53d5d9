"""Log-in (local accounts and the directory), failed-login throttling, session timeout.

Passwords are hashed with ``hashlib.scrypt`` (N=2**15, r=8, p=1, a 16-byte random salt) and
stored as ``scrypt$N$r$p$salt$hash``; verification is constant-time. A wrong user name and a
wrong password get the same message. After ``auth.max_failures`` failures within
``auth.failure_window_s`` for one user name or one browser, log-in is refused for
``auth.lockout_s`` seconds; the failures and lock-outs live in the database (``login_failures``,
``login_lockouts``), so a restart or another replica sees them too. A session ends after
``auth.session_timeout_min`` idle minutes.

A name that is a local account (``source = 'local'``) is checked here and never sent to the
directory; any other name goes to the directory (:mod:`onprem_bot.directory`) when
``auth.ldap.url`` is set, and its account row (``source = 'ldap'``) is created or updated with the
directory's groups on every log-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from onprem_bot.access import Viewer
from onprem_bot.config import AuthSettings
from onprem_bot.directory import Directory, DirectoryLoginError, DirectoryUnavailable
from onprem_bot.errors import OnpremBotError
from onprem_bot.storage.schema import LoginFailureRow, LoginLockoutRow
from onprem_bot.storage.users import User, UserError, UserStore

log = logging.getLogger(__name__)

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MIN_PASSWORD_CHARS = 8
LOGIN_FAILED = "아이디 또는 비밀번호가 올바르지 않습니다."
THROTTLED = "로그인 시도가 너무 많습니다. {minutes}분 후에 다시 시도해 주세요."
LDAP_HASH = "ldap$"
"""The password hash of a directory account: matches no password (the directory checks it)."""
PERMISSIONS = {
    "admin": frozenset({"faq", "documents", "review", "users"}),
    "editor": frozenset({"faq", "documents"}),
    "user": frozenset(),
}
"""What each role may open (``user``: the chat only)."""


class LoginError(OnpremBotError):
    """A log-in was refused; the message never says whether the user exists."""


class PasswordError(OnpremBotError):
    """A new password is unacceptable (too short, empty)."""


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password`` in ``scrypt$N$r$p$salt$hash`` form."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(("scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)))


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches the ``stored`` hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def check_new_password(password: str) -> str:
    """``password`` when acceptable for a new account."""
    if not password or len(password) < MIN_PASSWORD_CHARS:
        raise PasswordError(f"비밀번호는 {MIN_PASSWORD_CHARS}자 이상이어야 합니다 (password too short)")
    if password.strip() != password:
        raise PasswordError("비밀번호 앞뒤에 공백을 넣을 수 없습니다 (leading/trailing spaces)")
    return password


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int = 32) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=128 * n * r * 2, dklen=length)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


_DUMMY_HASH: str | None = None


@dataclass(frozen=True)
class AuthSession:
    """A logged-in person (kept in the browser session's state); ``started``/``last_seen`` in Unix seconds."""

    user: str
    role: str
    started: float
    last_seen: float
    groups: tuple[str, ...] = ()
    """The groups whose documents this person reads (refreshed from the account on every :meth:`AuthService.touch`)."""

    def can(self, area: str) -> bool:
        """Whether this role may open ``area`` (``faq``, ``documents``, ``review``, ``users``)."""
        return area in PERMISSIONS.get(self.role, frozenset())

    @property
    def viewer(self) -> Viewer:
        """What this person may read: an ``admin`` everything, others the documents of their groups."""
        return Viewer(self.user, frozenset(self.groups), everything=self.role == "admin")


class AuthService:
    """Log-in (local accounts, then the directory), the shared throttle and session timeout.

    ``clock`` gives Unix seconds (injectable for tests); the directory is built from ``settings.ldap``
    when its ``url`` is set (:class:`~onprem_bot.errors.ConfigError` for a bad one). With an ``audit``
    (:class:`~onprem_bot.storage.audit.AuditLog`), log-ins and the accounts and group changes the
    directory brings are recorded (actor ``directory``)."""

    def __init__(
        self,
        users: UserStore,
        settings: AuthSettings,
        clock: Callable[[], float] = time.time,
        audit: Any = None,
    ) -> None:
        self.users = users
        self.settings = settings
        self.clock = clock
        self.audit = audit
        self.directory = Directory(settings.ldap) if settings.ldap.url else None

    def create_user(self, name: str, password: str, role: str, groups: Sequence[str] = ()) -> User:
        """A new local account with a hashed password; :class:`PasswordError` / :class:`UserError` when refused."""
        return self.users.create(name, hash_password(check_new_password(password)), role, groups)

    def set_password(self, name: str, password: str) -> None:
        """Replace a local account's password; a directory account's password is changed in the directory."""
        user = self.users.get(name)
        if user is not None and user.source == "ldap":
            raise PasswordError("디렉터리(LDAP) 계정의 비밀번호는 사내 디렉터리에서 바꿉니다 (directory account)")
        self.users.set_password_hash(name, hash_password(check_new_password(password)))

    def login(self, name: str, password: str, client: str = "") -> AuthSession:
        """A session for valid credentials; :class:`LoginError` otherwise.

        The message is :data:`LOGIN_FAILED` for any wrong name or password (counted by the throttle),
        :data:`THROTTLED` while locked out, and the directory's unreachable message
        (:data:`onprem_bot.directory.UNAVAILABLE`, not counted) when a non-local name cannot be checked."""
        keys = [k[:160] for k in [f"user:{(name or '').strip().lower()}"] + ([f"client:{client}"] if client else [])]
        now = self.clock()
        wait = self._locked_for(keys, now)
        if wait > 0:
            raise LoginError(THROTTLED.format(minutes=max(1, round(wait / 60))))
        found = self.users.credentials(name)
        user: User | None = None
        if found is not None and found[0].source == "local":
            if verify_password(password or "", found[1]) and found[0].active:
                user = found[0]
        elif self.directory is not None:
            user = self._directory_login(self.directory, name, password, found[0] if found else None)
        else:
            verify_password(password or "", _dummy_hash())  # same work as for a real account
        if user is None:
            self._audit((name or "").strip().lower()[:64], "login_failed", "", {"client": client})
            self._fail(keys, now)
            raise LoginError(LOGIN_FAILED)
        self._forget(keys)
        self.users.record_login(user.name)
        self._audit(user.name, "login", user.name, {"source": user.source, "client": client})
        return AuthSession(user.name, user.role, now, now, user.groups)

    def touch(self, session: AuthSession | None) -> AuthSession | None:
        """The session with its idle clock reset and its role and groups re-read from the account, or None
        when it has expired or the account is gone or disabled."""
        if session is None:
            return None
        now = self.clock()
        if now - session.last_seen > self.settings.session_timeout_min * 60:
            return None
        user = self.users.get(session.user)
        if user is None or not user.active:
            return None
        return replace(session, role=user.role, groups=user.groups, last_seen=now)

    def _directory_login(self, directory: Directory, name: str, password: str, known: User | None) -> User | None:
        """The (created or updated) directory account, None when refused; :class:`LoginError` when unreachable."""
        try:
            found = directory.run(name, password)
        except DirectoryLoginError:
            return None
        except DirectoryUnavailable as exc:
            raise LoginError(str(exc)) from exc
        if known is not None and not known.active:
            return None
        try:
            if known is None:
                created = self.users.create(found.name, LDAP_HASH, self.settings.ldap.role, found.groups, source="ldap")
                self._audit("directory", "user_created", created.name, {"role": created.role, "groups": list(created.groups)})  # fmt: skip
                return created
        except UserError as exc:
            if self.users.get(found.name) is None:  # not a race with another replica: an unusable name
                log.warning("directory user %r cannot be an account: %s", found.name, exc)
                return None
        before = self.users.set_groups(found.name, found.groups)
        if before != found.groups:
            log.info("directory groups of %r: %s -> %s", found.name, list(before), list(found.groups))
            self._audit("directory", "user_groups", found.name, {"before": list(before), "after": list(found.groups)})
        return self.users.get(found.name)

    def _audit(self, actor: str, action: str, subject: str, detail: dict[str, Any]) -> None:
        if self.audit is not None:
            self.audit.record(actor, action, subject, detail)

    def _locked_for(self, keys: list[str], now: float) -> float:
        """Seconds until the longest lock-out among ``keys`` ends (<= 0: not locked)."""
        with self.users.db.session() as s:
            until = s.scalar(select(func.max(LoginLockoutRow.until)).where(LoginLockoutRow.key.in_(keys)))
        return (until or 0.0) - now

    def _fail(self, keys: list[str], now: float) -> None:
        """Record one failure per key; a key with ``max_failures`` within the window is locked out."""
        for attempt in range(2):
            try:
                for key in self._record_failure(keys, now):
                    self._audit(
                        key.split(":", 1)[-1][:64], "login_locked", key, {"minutes": self.settings.lockout_s / 60}
                    )
                return
            except IntegrityError:  # another replica locked the same key at the same moment: retry once
                if attempt:
                    log.warning("log-in failure for %s not recorded (concurrent lock-out)", keys)

    def _record_failure(self, keys: list[str], now: float) -> list[str]:
        """Store the failure; returns the keys this failure locked out."""
        locked: list[str] = []
        window, limit, lockout = self.settings.failure_window_s, self.settings.max_failures, self.settings.lockout_s
        with self.users.db.session() as s:
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.at < now - window))
            s.execute(delete(LoginLockoutRow).where(LoginLockoutRow.until <= now))
            s.add_all([LoginFailureRow(key=k, at=now) for k in keys])
            s.flush()
            for k in keys:
                count = s.scalar(select(func.count()).select_from(LoginFailureRow).where(LoginFailureRow.key == k))
                if (count or 0) < limit:
                    continue
                row = s.get(LoginLockoutRow, k)
                if row is None:
                    s.add(LoginLockoutRow(key=k, until=now + lockout))
                else:
                    row.until = max(row.until, now + lockout)
                s.execute(delete(LoginFailureRow).where(LoginFailureRow.key == k))
                locked.append(k)
        return locked

    def _forget(self, keys: list[str]) -> None:
        with self.users.db.session() as s:
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.key.in_(keys)))


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(8))
    return _DUMMY_HASH
