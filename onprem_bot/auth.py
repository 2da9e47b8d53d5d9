"""Administration log-in: salted scrypt password hashes, failed-login throttling, session timeout.

Passwords are hashed with ``hashlib.scrypt`` (N=2**15, r=8, p=1, a 16-byte random salt) and
stored as ``scrypt$N$r$p$salt$hash``; verification is constant-time. A wrong user name and a
wrong password get the same message (and take about the same time). After
``auth.max_failures`` failures within ``auth.failure_window_s`` for one user name or one
browser, log-in is refused for ``auth.lockout_s`` seconds. An administrator session ends after
``auth.session_timeout_min`` idle minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from onprem_bot.config import AuthSettings
from onprem_bot.errors import OnpremBotError
from onprem_bot.storage.users import User, UserStore

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MIN_PASSWORD_CHARS = 8
LOGIN_FAILED = "아이디 또는 비밀번호가 올바르지 않습니다."
THROTTLED = "로그인 시도가 너무 많습니다. {minutes}분 후에 다시 시도해 주세요."
PERMISSIONS = {"admin": frozenset({"faq", "documents", "review", "users"}), "editor": frozenset({"faq", "documents"})}
"""What each role may open."""


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
    """A logged-in administrator (kept in the browser session's state)."""

    user: str
    role: str
    started: float
    last_seen: float

    def can(self, area: str) -> bool:
        """Whether this role may open ``area`` (``faq``, ``documents``, ``review``, ``users``)."""
        return area in PERMISSIONS.get(self.role, frozenset())


class AuthService:
    """Log-in, throttling and session timeout over a :class:`UserStore`."""

    def __init__(self, users: UserStore, settings: AuthSettings, clock: Callable[[], float] = time.time) -> None:
        self.users = users
        self.settings = settings
        self.clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def create_user(self, name: str, password: str, role: str) -> User:
        """A new account with a hashed password."""
        return self.users.create(name, hash_password(check_new_password(password)), role)

    def set_password(self, name: str, password: str) -> None:
        """Replace an account's password."""
        self.users.set_password_hash(name, hash_password(check_new_password(password)))

    def login(self, name: str, password: str, client: str = "") -> AuthSession:
        """A session for valid credentials; :class:`LoginError` (generic or throttled) otherwise."""
        keys = [f"user:{(name or '').strip().lower()}"] + ([f"client:{client}"] if client else [])
        now = self.clock()
        wait = max((self._locked_until.get(k, 0.0) - now for k in keys), default=0.0)
        if wait > 0:
            raise LoginError(THROTTLED.format(minutes=max(1, round(wait / 60))))
        found = self.users.credentials(name)
        if found is None:
            verify_password(password or "", _dummy_hash())  # same work as for a real account
            ok = False
        else:
            user, stored = found
            ok = verify_password(password or "", stored) and user.active
        if not ok:
            self._fail(keys, now)
            raise LoginError(LOGIN_FAILED)
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
        assert found is not None
        self.users.record_login(found[0].name)
        return AuthSession(found[0].name, found[0].role, now, now)

    def touch(self, session: AuthSession | None) -> AuthSession | None:
        """The session with its idle clock reset, or None when it has expired or the account is gone."""
        if session is None:
            return None
        now = self.clock()
        if now - session.last_seen > self.settings.session_timeout_min * 60:
            return None
        user = self.users.get(session.user)
        if user is None or not user.active:
            return None
        return replace(session, role=user.role, last_seen=now)

    def _fail(self, keys: list[str], now: float) -> None:
        window, limit = self.settings.failure_window_s, self.settings.max_failures
        with self._lock:
            for k in keys:
                q = self._failures[k]
                q.append(now)
                while q and now - q[0] > window:
                    q.popleft()
                if len(q) >= limit:
                    self._locked_until[k] = now + self.settings.lockout_s
                    q.clear()


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(8))
    return _DUMMY_HASH
