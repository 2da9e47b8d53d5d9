"""SQLAlchemy 2 tables. Portable types only: the same schema runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base of every table."""


class DocumentRow(Base):
    """One ingested file. ``id`` is stable: a hash of the file's resolved path."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    title: Mapped[str] = mapped_column(Text)
    doc_type: Mapped[str] = mapped_column(String(16))
    chunker: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    """The groups that may read the document; empty: everyone (migration 0007)."""
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    chunks: Mapped[list[ChunkRow]] = relationship(
        back_populates="document", cascade="all, delete-orphan", passive_deletes=True, order_by="ChunkRow.ordinal"
    )


class ChunkRow(Base):
    """One retrievable piece of a document (an article, part of an article, a section, a Q&A pair)."""

    __tablename__ = "chunks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    ordinal: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    heading_path: Mapped[list[str]] = mapped_column(JSON, default=list)
    article: Mapped[str | None] = mapped_column(String(32), nullable=True)
    article_title: Mapped[str | None] = mapped_column(Text, nullable=True)
    paragraph: Mapped[str | None] = mapped_column(String(64), nullable=True)
    item: Mapped[str | None] = mapped_column(String(64), nullable=True)
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    page_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    token_count: Mapped[int] = mapped_column(Integer)
    amendments: Mapped[list[str]] = mapped_column(JSON, default=list)

    document: Mapped[DocumentRow] = relationship(back_populates="chunks")

    __table_args__ = (Index("ix_chunks_document_ordinal", "document_id", "ordinal"),)


class EmbeddingCacheRow(Base):
    """One cached sentence vector: float32 bytes, keyed by the embedder name and sha256 of the text."""

    __tablename__ = "embedding_cache"

    model: Mapped[str] = mapped_column(String(128), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class FaqEntryRow(Base):
    """One FAQ entry: the approved answer to a question and its alternative phrasings.

    ``version`` grows with every edit, so an editor saving a row that someone else changed
    meanwhile is told so instead of silently overwriting it.
    """

    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(Text)
    alternatives: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(64), default="")
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    """The groups that may be answered from the entry; empty: everyone (migration 0007)."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FaqHistoryRow(Base):
    """One change to the FAQ: who did what to which entry, with the old and new values.

    Kept when the entry is deleted (no foreign key), so the history outlives the entry.
    """

    __tablename__ = "faq_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(16))
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class FaqPhrasingRow(Base):
    """A user's wording proposed as an alternative of an FAQ entry (migration 0005).

    ``source`` is ``click`` (a chat user picked the entry among the suggestions under an answer)
    or ``admin`` (linked on the review page); ``status`` is ``pending``, ``approved`` (added to
    the entry's alternatives) or ``rejected`` (kept, never proposed again). One row per entry and
    normalised wording (``text_hash``): the same wording again only raises ``seen_count``. No
    foreign key: a phrasing outlives a deleted entry, like its history.
    """

    __tablename__ = "faq_phrasings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    seen_count: Mapped[int] = mapped_column(Integer, default=1)
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_faq_phrasings_entry_text", "entry_id", "text_hash", unique=True),)


class ConversationRow(Base):
    """One conversation of one browser session (migration 0004)."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_key: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MessageRow(Base):
    """One question and the answer it got."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    route: Mapped[str] = mapped_column(String(16))
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    verdict: Mapped[str] = mapped_column(String(16))
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    notices: Mapped[list[str]] = mapped_column(JSON, default=list)
    timings: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    faq_suggestions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """The 관련 FAQ offered with the answer (``{"id", "question", "score"}``; migration 0005)."""
    standalone_question: Mapped[str | None] = mapped_column(Text, nullable=True)
    """What retrieval searched when a follow-up was rewritten, masked; NULL otherwise (migration 0006)."""


class FeedbackRow(Base):
    """An employee's rating (+1/-1) and comment on one answer (the latest one counts)."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """Who did what, when (migration 0007): questions asked with what was retrieved and cited, and
    changes to groups and accounts. ``subject`` is what was acted on (a document id, a user name, the
    masked question); ``detail`` the rest."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LoginFailureRow(Base):
    """One failed log-in for a throttle key (``user:<name>`` or ``client:<id>``), at a Unix time (migration
    0007): kept in the database so the throttle survives a restart and is shared by replicas."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(160), index=True)
    at: Mapped[float] = mapped_column(Float)


class LoginLockoutRow(Base):
    """A throttle key refused until a Unix time (migration 0007)."""

    __tablename__ = "login_lockouts"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    until: Mapped[float] = mapped_column(Float)


class RevisionRow(Base):
    """A counter bumped in the same transaction as every change of one kind of data (migration 0007):
    ``documents`` for stored documents and their groups. A process caches what it read with the counter
    and reads again only when it moved (one primary-key read per question instead of every row)."""

    __tablename__ = "revisions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
