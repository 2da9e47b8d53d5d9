"""The audit log: who asked what and what they were shown, and who changed groups and accounts.

Questions are stored masked exactly as the conversation log masks them (``privacy.mask_logs``).
Actions: :data:`ASK` (subject: the masked question; detail: route, verdict, the retrieved and cited
documents), :data:`DOCUMENT_GROUPS`, :data:`USER_CREATED`, :data:`USER_GROUPS`, :data:`USER_ROLE`,
:data:`USER_ACTIVE`, :data:`LOGIN`, :data:`LOGIN_FAILED` (actor: the name tried), :data:`LOGIN_LOCKED`
(subject: the throttle key, ``user:<name>`` or ``client:<browser>``), :data:`AUDIT_EXPORT`. Export: CSV (UTF-8 with BOM, opens in Excel)
or JSON lines.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from onprem_bot.storage.db import Database
from onprem_bot.storage.schema import AuditRow

ASK, LOGIN, AUDIT_EXPORT = "ask", "login", "audit_export"
LOGIN_FAILED, LOGIN_LOCKED = "login_failed", "login_locked"
DOCUMENT_GROUPS = "document_groups"
USER_CREATED, USER_GROUPS, USER_ROLE, USER_ACTIVE = "user_created", "user_groups", "user_role", "user_active"
ACTIONS = (
    ASK,
    LOGIN,
    LOGIN_FAILED,
    LOGIN_LOCKED,
    AUDIT_EXPORT,
    DOCUMENT_GROUPS,
    USER_CREATED,
    USER_GROUPS,
    USER_ROLE,
    USER_ACTIVE,
)
EXPORT_FORMATS = ("csv", "jsonl")
COLUMNS = ("id", "at", "actor", "action", "subject", "detail")


@dataclass(frozen=True)
class AuditEntry:
    """One audit row: ``at`` in UTC, ``detail`` a JSON object."""

    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """The row as a JSON object (``at`` in ISO 8601)."""
        return {**self.__dict__, "at": self.at.isoformat()}


class AuditLog:
    """Appends audit rows and reads them back; ``mask`` is applied to questions (the privacy setting)."""

    def __init__(self, db: Database, mask: Callable[[str], str] = lambda s: s) -> None:
        self.db = db
        self.mask = mask

    def record(self, actor: str, action: str, subject: str = "", detail: dict[str, Any] | None = None) -> None:
        """Append one row; ``action`` one of :data:`ACTIONS` (ValueError naming the valid ones otherwise)."""
        if action not in ACTIONS:
            raise ValueError(f"audit action={action!r}: valid: {', '.join(ACTIONS)}")
        with self.db.session() as s:
            s.add(AuditRow(at=datetime.now(UTC), actor=actor[:64], action=action, subject=subject, detail=detail or {}))

    def asked(self, actor: str, question: str, answer: Any) -> None:
        """Log a question and its :class:`~onprem_bot.types.Answer`: route, verdict, and the documents
        retrieved and cited as ``[document_id, title]`` pairs (an FAQ answer: ``["faq:<id>", "FAQ"]``)."""
        by_chunk = {chunk: (doc, title) for chunk, doc, title in answer.retrieved}
        retrieved = list(dict.fromkeys((doc, title) for _, doc, title in answer.retrieved))
        cited = list(
            dict.fromkeys(
                by_chunk.get(c.chunk_id, (c.chunk_id if c.chunk_id.startswith("faq:") else "", c.doc_title))
                for c in answer.citations
            )
        )
        detail = {
            "route": answer.route,
            "verdict": answer.check.verdict,
            "retrieved": [list(r) for r in retrieved],
            "cited": [list(c) for c in cited],
        }
        self.record(actor, ASK, self.mask(question), detail)

    def entries(
        self, since: datetime | None = None, until: datetime | None = None, actor: str | None = None, limit: int = 0
    ) -> list[AuditEntry]:
        """Rows oldest first, optionally from ``since`` (inclusive) to ``until`` (exclusive), of one actor;
        ``limit`` > 0 keeps the newest that many."""
        stmt = select(AuditRow)
        if since is not None:
            stmt = stmt.where(AuditRow.at >= since)
        if until is not None:
            stmt = stmt.where(AuditRow.at < until)
        if actor:
            stmt = stmt.where(AuditRow.actor == actor)
        stmt = stmt.order_by(AuditRow.id.desc())
        if limit > 0:
            stmt = stmt.limit(limit)
        with self.db.session() as s:
            rows = [_entry(r) for r in s.scalars(stmt)]
        return rows[::-1]

    def export(self, fmt: str, entries: Sequence[AuditEntry]) -> bytes:
        """``entries`` as CSV (UTF-8 with BOM) or JSON lines; ValueError for another ``fmt``."""
        if fmt not in EXPORT_FORMATS:
            raise ValueError(f"format={fmt!r}: valid: {', '.join(EXPORT_FORMATS)}")
        if fmt == "jsonl":
            return "".join(json.dumps(e.as_json(), ensure_ascii=False) + "\n" for e in entries).encode("utf-8")
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(COLUMNS)
        for e in entries:
            writer.writerow(
                [e.id, e.at.isoformat(), e.actor, e.action, e.subject, json.dumps(e.detail, ensure_ascii=False)]
            )
        return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _entry(row: AuditRow) -> AuditEntry:
    at = row.at if row.at.tzinfo is not None else row.at.replace(tzinfo=UTC)
    return AuditEntry(row.id, at, row.actor, row.action, row.subject or "", dict(row.detail or {}))
