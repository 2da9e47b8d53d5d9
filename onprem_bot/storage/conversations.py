"""Conversation logs: conversations per browser session, every answered message with its route,
citations and verdict, and the employees' feedback; the review list and the dashboard figures.

Questions, answers and comments pass through a masker (:mod:`onprem_bot.privacy`) before they
are stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, select

from onprem_bot.errors import OnpremBotError
from onprem_bot.storage.db import Database
from onprem_bot.storage.schema import ConversationRow, FeedbackRow, MessageRow
from onprem_bot.types import Answer, Check, Citation

MAX_COMMENT_CHARS = 2000


class ConversationError(OnpremBotError):
    """A conversation or message does not exist, or feedback is invalid."""


@dataclass(frozen=True)
class StoredMessage:
    """A logged question/answer as the chat page re-draws it and the review page lists it."""

    id: int
    conversation_id: str
    question: str
    answer: Answer
    created_at: datetime
    rating: int | None = None
    comment: str = ""


class ConversationSummary(NamedTuple):
    """One entry of a session's conversation list (the chat page's sidebar)."""

    id: str
    created_at: datetime
    messages: int
    title: str
    """The conversation's first question (masked as stored); empty while it has no message."""
    updated_at: datetime


@dataclass(frozen=True)
class Dashboard:
    """The figures of the administration dashboard over a date range."""

    questions: int
    per_day: tuple[tuple[date, int], ...]
    faq_hits: int
    flagged: int
    refused: int
    negative: int
    positive: int

    @property
    def faq_hit_rate(self) -> float:
        """Share of questions answered from the FAQ (0..1)."""
        return self.faq_hits / self.questions if self.questions else 0.0


class ConversationStore:
    """Stores conversations, messages and feedback in one :class:`Database`."""

    def __init__(self, db: Database, mask: Callable[[str], str] = lambda s: s) -> None:
        self.db = db
        self.mask = mask

    def start(self, session_key: str) -> str:
        """A new conversation for a browser session; its id."""
        now = _now()
        conv_id = uuid.uuid4().hex
        with self.db.session() as s:
            s.add(ConversationRow(id=conv_id, session_key=session_key[:64], created_at=now, updated_at=now))
        return conv_id

    def conversations(self, session_key: str, limit: int = 100) -> list[ConversationSummary]:
        """A session's conversations with their message count and first question, latest activity first."""
        firsts = (
            select(
                MessageRow.conversation_id.label("conv"),
                func.min(MessageRow.id).label("first_id"),
                func.count(MessageRow.id).label("n"),
            )
            .group_by(MessageRow.conversation_id)
            .subquery()
        )
        conv = ConversationRow
        stmt = (
            select(conv.id, conv.created_at, func.coalesce(firsts.c.n, 0), MessageRow.question, conv.updated_at)
            .outerjoin(firsts, firsts.c.conv == conv.id)
            .outerjoin(MessageRow, MessageRow.id == firsts.c.first_id)
            .where(conv.session_key == session_key[:64])
            .order_by(conv.updated_at.desc(), conv.created_at.desc(), conv.id)
            .limit(limit)
        )
        with self.db.session() as s:
            return [ConversationSummary(i, c, int(n), q or "", u) for i, c, n, q, u in s.execute(stmt)]

    def record(self, conversation_id: str, question: str, answer: Answer) -> StoredMessage:
        """Store one answered question (masked); the stored message."""
        now = _now()
        with self.db.session() as s:
            conv = s.get(ConversationRow, conversation_id)
            if conv is None:
                raise ConversationError(f"대화가 없습니다 (no such conversation): {conversation_id}")
            conv.updated_at = now
            row = MessageRow(
                conversation_id=conversation_id,
                question=self.mask(question),
                answer=self.mask(answer.answer),
                route=answer.route,
                citations=[dict(c.__dict__) for c in answer.citations],
                verdict=answer.check.verdict,
                findings=[_jsonable(f) for f in answer.check.findings],
                notices=list(answer.notices),
                timings=dict(answer.timings or {}),
                created_at=now,
                faq_suggestions=[_jsonable(x.as_json()) for x in answer.faq_suggestions],
                standalone_question=None
                if answer.standalone_question is None
                else self.mask(answer.standalone_question),
            )
            s.add(row)
            s.flush()
            return _message(row, None)

    def messages(self, conversation_id: str) -> list[StoredMessage]:
        """A conversation's messages in order, with their feedback."""
        stmt = (
            select(MessageRow, FeedbackRow)
            .outerjoin(FeedbackRow, FeedbackRow.message_id == MessageRow.id)
            .where(MessageRow.conversation_id == conversation_id)
            .order_by(MessageRow.id)
        )
        with self.db.session() as s:
            return [_message(m, f) for m, f in s.execute(stmt)]

    def message(self, message_id: int) -> StoredMessage:
        """One message with its feedback."""
        stmt = (
            select(MessageRow, FeedbackRow)
            .outerjoin(FeedbackRow, FeedbackRow.message_id == MessageRow.id)
            .where(MessageRow.id == message_id)
        )
        with self.db.session() as s:
            found = s.execute(stmt).first()
            if found is None:
                raise ConversationError(f"메시지가 없습니다 (no such message): {message_id}")
            return _message(found[0], found[1])

    def feedback(self, message_id: int, rating: int, comment: str = "") -> None:
        """Record (or replace) the rating (+1 or -1) and comment on an answer."""
        if rating not in (1, -1):
            raise ConversationError(f"평가는 1 또는 -1이어야 합니다 (rating must be 1 or -1): {rating}")
        comment = self.mask((comment or "").strip()[:MAX_COMMENT_CHARS])
        with self.db.session() as s:
            if s.get(MessageRow, message_id) is None:
                raise ConversationError(f"메시지가 없습니다 (no such message): {message_id}")
            row = s.scalar(select(FeedbackRow).where(FeedbackRow.message_id == message_id))
            if row is None:
                s.add(FeedbackRow(message_id=message_id, rating=rating, comment=comment, created_at=_now()))
            else:
                row.rating, row.comment, row.created_at = rating, comment, _now()

    def review(self, since: date | None = None, until: date | None = None, limit: int = 1000) -> list[StoredMessage]:
        """Questions in the date range (inclusive): negative feedback first, then newest first."""
        negative_first = func.coalesce(FeedbackRow.rating, 0)
        stmt = select(MessageRow, FeedbackRow).outerjoin(FeedbackRow, FeedbackRow.message_id == MessageRow.id)
        stmt = _in_range(stmt, since, until).order_by(negative_first.asc(), MessageRow.id.desc()).limit(limit)
        with self.db.session() as s:
            return [_message(m, f) for m, f in s.execute(stmt)]

    def dashboard(self, since: date | None = None, until: date | None = None) -> Dashboard:
        """Questions per day, FAQ hits, flagged and refused answers, feedback counts."""
        stmt = _in_range(
            select(MessageRow.created_at, MessageRow.route, MessageRow.verdict, FeedbackRow.rating).outerjoin(
                FeedbackRow, FeedbackRow.message_id == MessageRow.id
            ),
            since,
            until,
        )
        per_day: dict[date, int] = {}
        total = faq = flagged = refused = negative = positive = 0
        with self.db.session() as s:
            for created, route, verdict, rating in s.execute(stmt):
                total += 1
                day = local_time(created).date()
                per_day[day] = per_day.get(day, 0) + 1
                faq += route == "faq"
                flagged += verdict == "flagged"
                refused += route == "refused"
                negative += rating == -1
                positive += rating == 1
        return Dashboard(total, tuple(sorted(per_day.items())), faq, flagged, refused, negative, positive)


def _in_range(stmt: Any, since: date | None, until: date | None) -> Any:
    """Dates are the server's local calendar days; stored times are UTC."""
    if since is not None:
        stmt = stmt.where(MessageRow.created_at >= _local_midnight_utc(since))
    if until is not None:
        stmt = stmt.where(MessageRow.created_at < _local_midnight_utc(until + timedelta(days=1)))
    return stmt


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min).astimezone().astimezone(UTC)


def _message(row: MessageRow, fb: FeedbackRow | None) -> StoredMessage:
    from onprem_bot.faq.matcher import FaqSuggestion

    citations = tuple(Citation(**c) for c in row.citations or ())
    suggestions = tuple(
        FaqSuggestion(x.get("id"), str(x.get("question") or ""), float(x.get("score") or 0.0))
        for x in row.faq_suggestions or ()
    )
    answer = Answer(
        row.answer,
        row.route,
        citations,
        Check(row.verdict, tuple(row.findings or ())),
        dict(row.timings or {}),
        tuple(row.notices or ()),
        suggestions,
        row.standalone_question,
    )
    return StoredMessage(
        row.id,
        row.conversation_id,
        row.question,
        answer,
        row.created_at,
        fb.rating if fb is not None else None,
        fb.comment if fb is not None else "",
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def local_time(value: datetime) -> datetime:
    """In the server's local time zone (SQLite returns naive datetimes; they were stored in UTC)."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone()


def _now() -> datetime:
    return datetime.now(UTC)
