"""Phrasings learned from use: users' wordings proposed as alternatives of FAQ entries.

Two sources: a chat user who picks an entry among the 관련 FAQ suggestions under an answer
(``click``: their question was that entry after all), and an administrator who links a logged
question to an entry on the review page (``admin``). Each proposal waits (``pending``) until an
editor approves it, which appends it to the entry's alternatives in the same transaction (the
entry's edit history records it, and the FAQ revision moves, so the matcher is rebuilt on the
next question, without a restart), or rejects it (kept as ``rejected`` and never proposed again).

One row per entry and normalised wording: the same wording again only counts (``count``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onprem_bot.errors import OnpremBotError
from onprem_bot.faq.matcher import exact_key
from onprem_bot.faq.store import MAX_QUESTION_CHARS, FaqEntry, FaqError, add_alternative
from onprem_bot.storage.db import Database
from onprem_bot.storage.schema import FaqEntryRow, FaqPhrasingRow

SOURCES = ("click", "admin")
STATUSES = ("pending", "approved", "rejected")
SOURCE_NAMES = {"click": "채팅 선택", "admin": "관리자 연결"}
STATUS_NAMES = {"pending": "대기", "approved": "승인", "rejected": "거절"}


class PhrasingError(OnpremBotError):
    """A phrasing cannot be recorded, approved or rejected (the message says why; nothing changed)."""


@dataclass(frozen=True)
class Phrasing:
    """One proposed wording of an FAQ entry as the CLI and the editor see it."""

    id: int
    entry_id: int
    text: str
    source: str
    status: str
    count: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    entry_question: str | None = None
    """The entry's current question; None when the entry was deleted."""

    def as_json(self) -> dict[str, Any]:
        """The ``faq phrasings --json`` row."""
        return {
            "id": self.id,
            "entry_id": self.entry_id,
            "entry_question": self.entry_question,
            "entry_deleted": self.entry_question is None,
            "text": self.text,
            "source": self.source,
            "status": self.status,
            "count": self.count,
            "created_by": self.created_by,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "decided_by": self.decided_by,
            "decided_at": _iso(self.decided_at),
        }


def text_hash(text: str) -> str:
    """The key two wordings share when they differ only in spacing, punctuation or width."""
    return hashlib.sha256(exact_key(text).encode("utf-8")).hexdigest()


class PhrasingStore:
    """Records, lists, approves and rejects phrasings in one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, entry_id: int, text: str, source: str, by: str, message_id: int | None = None) -> Phrasing | None:
        """Propose ``text`` as a wording of entry ``entry_id``; the stored phrasing.

        The same wording again (for that entry) counts on the existing row, whatever its status
        (a rejected one stays rejected). None when there is nothing to learn: the wording already
        is the entry's question or one of its alternatives, or it is too long to be one.
        :class:`PhrasingError` for an empty text, an unknown source or a missing entry.
        """
        if source not in SOURCES:
            raise PhrasingError(f"알 수 없는 출처 (unknown source) {source!r}; valid: {', '.join(SOURCES)}")
        text = " ".join((text or "").split())
        if not exact_key(text):
            raise PhrasingError("빈 질문은 유사질문 후보가 될 수 없습니다 (empty phrasing)")
        if len(text) > MAX_QUESTION_CHARS:
            return None
        key = text_hash(text)
        for _attempt in range(2):  # a concurrent insert of the same wording: count on its row instead
            try:
                with self.db.session() as s:
                    entry = s.get(FaqEntryRow, entry_id)
                    if entry is None:
                        raise PhrasingError(f"FAQ #{entry_id}이(가) 없습니다 (no such entry)")
                    if exact_key(text) in {exact_key(k) for k in (entry.question, *entry.alternatives)}:
                        return None
                    now = _now()
                    row = s.scalar(
                        select(FaqPhrasingRow).where(
                            FaqPhrasingRow.entry_id == entry_id, FaqPhrasingRow.text_hash == key
                        )
                    )
                    if row is None:
                        row = FaqPhrasingRow(
                            entry_id=entry_id,
                            text=text,
                            text_hash=key,
                            source=source,
                            status="pending",
                            seen_count=1,
                            message_id=message_id,
                            created_by=(by or "unknown")[:64],
                            created_at=now,
                            updated_at=now,
                        )
                        s.add(row)
                    else:  # counted in SQL, so two replicas counting at once both count
                        row.seen_count = FaqPhrasingRow.seen_count + 1
                        row.updated_at = now
                    s.flush()
                    s.refresh(row)
                    return _phrasing(row, entry.question)
            except IntegrityError:
                continue
        raise PhrasingError("유사질문 후보를 저장하지 못했습니다 (concurrent writes); 다시 시도하세요")

    def find(self, entry_id: int | None = None, status: str | None = "pending") -> list[Phrasing]:
        """Phrasings (by default the pending ones), by entry, most often seen first."""
        if status is not None and status not in STATUSES:
            raise PhrasingError(f"알 수 없는 상태 (unknown status) {status!r}; valid: {', '.join(STATUSES)}")
        query = (
            select(FaqPhrasingRow, FaqEntryRow.question)
            .outerjoin(FaqEntryRow, FaqEntryRow.id == FaqPhrasingRow.entry_id)
            .order_by(FaqPhrasingRow.entry_id, FaqPhrasingRow.seen_count.desc(), FaqPhrasingRow.id)
        )
        if status is not None:
            query = query.where(FaqPhrasingRow.status == status)
        if entry_id is not None:
            query = query.where(FaqPhrasingRow.entry_id == entry_id)
        with self.db.session() as s:
            return [_phrasing(row, question) for row, question in s.execute(query)]

    def pending(self, entry_id: int | None = None) -> list[Phrasing]:
        """The phrasings waiting for a decision."""
        return self.find(entry_id, "pending")

    def pending_counts(self) -> dict[int, int]:
        """Entry id → how many phrasings wait for it."""
        query = (
            select(FaqPhrasingRow.entry_id, func.count(FaqPhrasingRow.id))
            .where(FaqPhrasingRow.status == "pending")
            .group_by(FaqPhrasingRow.entry_id)
        )
        with self.db.session() as s:
            return {int(e): int(n) for e, n in s.execute(query)}

    def get(self, phrasing_id: int) -> Phrasing:
        """One phrasing; :class:`PhrasingError` when there is none."""
        with self.db.session() as s:
            row = _row(s, phrasing_id)
            entry = s.get(FaqEntryRow, row.entry_id)
            return _phrasing(row, entry.question if entry is not None else None)

    def approve(self, phrasing_id: int, by: str) -> FaqEntry:
        """Add the phrasing to its entry's alternatives (one transaction, in the entry's history).

        Refused with a one-line Korean :class:`PhrasingError`, changing nothing (the phrasing
        stays pending), when the entry was deleted, when another entry already asks the same
        question (named), or when the phrasing was already approved.
        """
        with self.db.session() as s:
            row = _row(s, phrasing_id, lock=True)
            if row.status == "approved":
                raise PhrasingError(
                    f"유사질문 후보 #{phrasing_id}은(는) 이미 승인되었습니다: FAQ #{row.entry_id}의 유사질문입니다 "
                    "(already approved)"
                )
            if s.get(FaqEntryRow, row.entry_id) is None:
                raise PhrasingError(
                    f"FAQ #{row.entry_id}이(가) 삭제되어 유사질문 후보 #{phrasing_id}을(를) 승인할 수 없습니다 "
                    "(entry deleted; 후보는 그대로 남습니다 — 거절하세요)"
                )
            try:
                entry = add_alternative(s, row.entry_id, row.text, by)
            except FaqError as exc:
                raise PhrasingError(
                    f"유사질문 후보 #{phrasing_id} '{row.text}'을(를) 승인할 수 없습니다: {_conflict(exc)} "
                    "(후보는 대기 상태로 남습니다)"
                ) from None
            row.status, row.decided_by, row.decided_at = "approved", by, _now()
            return entry

    def reject(self, phrasing_id: int, by: str) -> Phrasing:
        """Mark the phrasing rejected (kept, so the same wording is never proposed again)."""
        with self.db.session() as s:
            row = _row(s, phrasing_id, lock=True)
            if row.status == "rejected":
                raise PhrasingError(f"유사질문 후보 #{phrasing_id}은(는) 이미 거절되었습니다 (already rejected)")
            if row.status == "approved":
                raise PhrasingError(
                    f"유사질문 후보 #{phrasing_id}은(는) 이미 승인되어 FAQ #{row.entry_id}의 유사질문입니다; "
                    "빼려면 FAQ 편집에서 유사질문을 지우세요 (already approved)"
                )
            row.status, row.decided_by, row.decided_at = "rejected", by, _now()
            entry = s.get(FaqEntryRow, row.entry_id)
            return _phrasing(row, entry.question if entry is not None else None)


def _conflict(exc: FaqError) -> str:
    text = str(exc)
    if text.startswith("이미 있는 질문입니다: "):  # the store's duplicate message names the other entry
        return "다른 항목과 같은 질문입니다 — " + text.removeprefix("이미 있는 질문입니다: ").split(" (duplicate")[0]
    return text


def _row(s: Session, phrasing_id: int, lock: bool = False) -> FaqPhrasingRow:
    query = select(FaqPhrasingRow).where(FaqPhrasingRow.id == phrasing_id)
    row = s.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise PhrasingError(f"유사질문 후보 #{phrasing_id}이(가) 없습니다 (no such phrasing)")
    return row


def _phrasing(row: FaqPhrasingRow, entry_question: str | None) -> Phrasing:
    return Phrasing(
        row.id,
        row.entry_id,
        row.text,
        row.source,
        row.status,
        int(row.seen_count),
        row.created_by,
        row.created_at,
        row.updated_at,
        row.decided_by,
        row.decided_at,
        entry_question,
    )


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat(timespec="seconds")


def _now() -> datetime:
    return datetime.now(UTC)
