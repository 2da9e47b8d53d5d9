"""Changing who may read what: document groups and accounts, each change in the audit log with who made it.

The CLI (``documents set-groups``, ``admin create-user``) and the administration page call this one
service, so no change to groups or users escapes the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from onprem_bot.access import OPERATOR, Viewer, parse_groups
from onprem_bot.errors import OnpremBotError
from onprem_bot.storage import audit as actions


class UnknownUserError(OnpremBotError):
    """``--user`` (or a log-in) named an account that does not exist or is switched off."""


class AccessAdmin:
    """Document groups and accounts, audited. ``auth`` is the :class:`~onprem_bot.auth.AuthService`."""

    def __init__(self, documents: Any, users: Any, auth: Any, audit: Any) -> None:
        self.documents = documents
        self.users = users
        self.auth = auth
        self.audit = audit

    def set_document_groups(self, document_id: str, groups: str | Sequence[str], by: str) -> tuple[str, ...]:
        """Replace a document's groups (``"인사팀,임원"`` or a list; empty: everyone); returns the new ones.

        Takes effect on the next question and the next source view: a citation given before the
        change is refused to a reader outside the new groups."""
        clean = parse_groups(groups)
        before = self.documents.set_groups(document_id, clean)
        info = self.documents.get(document_id)
        detail = {"title": info.title if info else "", "before": list(before), "after": list(clean)}
        self.audit.record(by, actions.DOCUMENT_GROUPS, document_id, detail)
        return clean

    def create_user(self, name: str, password: str, role: str, groups: str | Sequence[str], by: str) -> Any:
        """A new local account (password rules of :func:`~onprem_bot.auth.check_new_password`)."""
        clean = parse_groups(groups)
        user = self.auth.create_user(name, password, role, clean)
        self.audit.record(by, actions.USER_CREATED, user.name, {"role": role, "groups": list(clean)})
        return user

    def set_user_groups(self, name: str, groups: str | Sequence[str], by: str) -> tuple[str, ...]:
        """Replace an account's groups; returns the new ones."""
        clean = parse_groups(groups)
        before = self.users.set_groups(name, clean)
        self.audit.record(by, actions.USER_GROUPS, name, {"before": list(before), "after": list(clean)})
        return clean

    def set_role(self, name: str, role: str, by: str) -> None:
        """Change an account's role (``admin``, ``editor``, ``user``)."""
        self.users.set_role(name, role)
        self.audit.record(by, actions.USER_ROLE, name, {"role": role})

    def set_active(self, name: str, active: bool, by: str) -> None:
        """Switch an account on or off."""
        self.users.set_active(name, active)
        self.audit.record(by, actions.USER_ACTIVE, name, {"active": active})

    def viewer(self, name: str | None) -> Viewer:
        """The reader for ``--user NAME``; no name: the operator (sees everything).
        :class:`UnknownUserError` for an unknown or switched-off account."""
        if name is None:
            return OPERATOR
        user = self.users.get(name)
        if user is None or not user.active:
            raise UnknownUserError(
                f"사용자 '{name}'이(가) 없거나 사용 중지된 계정입니다 (unknown or disabled user); "
                "onprem-bot admin list-users 로 확인하세요"
            )
        return user.viewer
