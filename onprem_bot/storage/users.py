"""Administration users: a name, a salted slow password hash and a role (``admin`` or ``editor``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from onprem_bot.access import Viewer, parse_groups
from onprem_bot.errors import OnpremBotError
from onprem_bot.storage.db import Database
from onprem_bot.storage.schema import Base

ROLES = ("admin", "editor", "user")
"""``admin``: every page and every document; ``editor``: the FAQ and the documents pages; ``user``: the
chat only. Editors and users read the documents of their groups (:mod:`onprem_bot.access`)."""
SOURCES = ("local", "ldap")
"""Where an account's password lives: the database (``local``) or the directory (``ldap``)."""


class UserError(OnpremBotError):
    """A user cannot be created or changed (bad name, unknown role, duplicate)."""


class UserRow(Base):
    """One administration account (migration 0004)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    """The groups whose documents the account reads (migration 0007)."""
    source: Mapped[str] = mapped_column(String(16), default="local")


@dataclass(frozen=True)
class User:
    """An account as the services see it (no password hash)."""

    id: int
    name: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None
    groups: tuple[str, ...] = ()
    source: str = "local"

    @property
    def viewer(self) -> Viewer:
        """What this account may read: an ``admin`` everything, others their groups' documents."""
        return Viewer(self.name, frozenset(self.groups), everything=self.role == "admin")


def clean_name(name: str) -> str:
    """A trimmed, lower-case user name; :class:`UserError` when unusable."""
    name = (name or "").strip().lower()
    if not name or len(name) > 64 or any(ch.isspace() for ch in name):
        raise UserError("사용자 이름은 공백 없이 1~64자여야 합니다 (user name: 1-64 characters, no spaces)")
    return name


def check_role(role: str) -> str:
    """``role`` when it is one of :data:`ROLES`."""
    if role not in ROLES:
        raise UserError(f"알 수 없는 역할 (unknown role) {role!r}; valid: {', '.join(ROLES)}")
    return role


class UserStore:
    """Reads and writes accounts; password hashing is the caller's (see :mod:`onprem_bot.auth`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self, name: str, password_hash: str, role: str, groups: Sequence[str] = (), source: str = "local"
    ) -> User:
        """A new active account; :class:`UserError` when the name is taken; groups via :func:`parse_groups`."""
        name, role, clean = clean_name(name), check_role(role), list(parse_groups(groups))
        if source not in SOURCES:
            raise UserError(f"알 수 없는 계정 출처 (unknown account source) {source!r}; valid: {', '.join(SOURCES)}")
        with self.db.session() as s:
            if s.scalar(select(UserRow).where(UserRow.name == name)) is not None:
                raise UserError(f"이미 있는 사용자입니다 (user exists): {name}")
            now = _now()
            row = UserRow(
                name=name,
                password_hash=password_hash,
                role=role,
                active=True,
                created_at=now,
                password_changed_at=now,
                groups=clean,
                source=source,
            )
            s.add(row)
            s.flush()
            return _user(row)

    def credentials(self, name: str) -> tuple[User, str] | None:
        """The account and its stored hash, or None when there is no such (active or not) account."""
        try:
            name = clean_name(name)
        except UserError:
            return None
        with self.db.session() as s:
            row = s.scalar(select(UserRow).where(UserRow.name == name))
            return (_user(row), row.password_hash) if row is not None else None

    def get(self, name: str) -> User | None:
        """The account with this name, or None."""
        found = self.credentials(name)
        return found[0] if found else None

    def list_all(self) -> list[User]:
        """Every account, by name."""
        with self.db.session() as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.name))]

    def set_password_hash(self, name: str, password_hash: str) -> None:
        """Replace an account's password hash."""
        with self.db.session() as s:
            row = self._row(s, name)
            row.password_hash, row.password_changed_at = password_hash, _now()

    def set_role(self, name: str, role: str) -> None:
        """Change an account's role."""
        with self.db.session() as s:
            self._row(s, name).role = check_role(role)

    def set_groups(self, name: str, groups: Sequence[str]) -> tuple[str, ...]:
        """Replace an account's groups; returns the previous ones."""
        clean = parse_groups(groups)
        with self.db.session() as s:
            row = self._row(s, name)
            before = tuple(row.groups or ())
            row.groups = list(clean)
            return before

    def set_active(self, name: str, active: bool) -> None:
        """Enable or disable an account (a disabled account cannot log in)."""
        with self.db.session() as s:
            self._row(s, name).active = active

    def record_login(self, name: str) -> None:
        """Remember when the account last logged in."""
        with self.db.session() as s:
            self._row(s, name).last_login_at = _now()

    def count(self) -> int:
        """How many accounts exist."""
        return len(self.list_all())

    def _row(self, s: Session, name: str) -> UserRow:
        row = s.scalar(select(UserRow).where(UserRow.name == clean_name(name)))
        if row is None:
            raise UserError(f"사용자가 없습니다 (no such user): {name}")
        return row


def _user(row: UserRow) -> User:
    return User(
        row.id,
        row.name,
        row.role,
        bool(row.active),
        row.created_at,
        row.last_login_at,
        tuple(row.groups or ()),
        row.source or "local",
    )


def _now() -> datetime:
    return datetime.now(UTC)
