"""The document store: documents and their chunks, replaced atomically per document."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, delete, func, insert, select, update
from sqlalchemy.orm import Session

from onprem_bot.access import OPERATOR, Viewer, parse_groups
from onprem_bot.errors import OnpremBotError
from onprem_bot.storage.db import Database
from onprem_bot.storage.schema import ChunkRow, DocumentRow, RevisionRow
from onprem_bot.types import Chunk


class DocumentError(OnpremBotError):
    """A document that is not stored was named."""


@dataclass(frozen=True)
class DocumentInfo:
    """A stored document as the CLI and the admin page show it."""

    id: str
    path: str
    title: str
    doc_type: str
    chunker: str
    content_hash: str
    size_bytes: int
    chunk_count: int
    ingested_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)
    groups: tuple[str, ...] | None = None
    """The groups that may read it (``()``: everyone). On :meth:`DocumentStore.replace`, None keeps the
    stored document's groups, so a re-ingest without ``--groups`` never opens a restricted document."""


class DocumentStore:
    """Reads and writes documents and chunks through one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._groups_cache: tuple[int, dict[str, tuple[str, ...]]] | None = None
        self._cache_lock = threading.Lock()

    def get(self, document_id: str) -> DocumentInfo | None:
        """The stored document with this id, or None."""
        with self.db.session() as s:
            row = s.get(DocumentRow, document_id)
            return _info(row) if row else None

    def list_all(self, viewer: Viewer = OPERATOR) -> list[DocumentInfo]:
        """Every stored document ``viewer`` may read, by title."""
        with self.db.session() as s:
            rows = s.scalars(select(DocumentRow).order_by(DocumentRow.title, DocumentRow.path))
            return [_info(r) for r in rows if viewer.may_read(r.groups or ())]

    def groups(self) -> dict[str, tuple[str, ...]]:
        """Each stored document's groups by document id (``()``: everyone), as of now: the rows are read
        again whenever the ``documents`` revision moved (any process's change), else served from memory."""
        with self.db.session() as s:
            revision = s.scalar(select(RevisionRow.value).where(RevisionRow.name == REVISION)) or 0
            cached = self._groups_cache
            if cached is not None and cached[0] == revision:
                return cached[1]
            fresh = {i: tuple(g or ()) for i, g in s.execute(select(DocumentRow.id, DocumentRow.groups))}
        with self._cache_lock:
            self._groups_cache = (revision, fresh)
        return fresh

    def readable(self, viewer: Viewer) -> frozenset[str]:
        """The ids of the documents ``viewer`` may read."""
        return frozenset(i for i, g in self.groups().items() if viewer.may_read(g))

    def set_groups(self, document_id: str, groups: Sequence[str]) -> tuple[str, ...]:
        """Replace a document's groups (names checked by :func:`parse_groups`); returns the previous ones.
        :class:`DocumentError` when there is no such document."""
        clean = parse_groups(groups)
        with self.db.session() as s:
            row = s.get(DocumentRow, document_id)
            if row is None:
                raise DocumentError(f"문서가 없습니다 (no such document): {document_id}")
            before = tuple(row.groups or ())
            row.groups = list(clean)
            _bump(s)
            return before

    def chunk_documents(self) -> dict[str, str]:
        """The document id of every stored chunk, by chunk id."""
        with self.db.session() as s:
            return {c: d for c, d in s.execute(select(ChunkRow.id, ChunkRow.document_id))}

    def replace(self, info: DocumentInfo, chunks: Sequence[Chunk]) -> None:
        """Store ``info`` and exactly ``chunks`` for it, in one transaction.

        Readers see either the old document with its old chunks or the new one with its new
        chunks, never a mix; a failure anywhere leaves the previous state untouched.
        """
        rows = [_chunk_row(c) for c in chunks]
        with self.db.session() as s:
            s.execute(delete(ChunkRow).where(ChunkRow.document_id == info.id))
            doc = s.get(DocumentRow, info.id) or DocumentRow(id=info.id)
            doc.path = info.path
            doc.title = info.title
            doc.doc_type = info.doc_type
            doc.chunker = info.chunker
            doc.content_hash = info.content_hash
            doc.size_bytes = info.size_bytes
            doc.chunk_count = len(rows)
            doc.meta = dict(info.metadata)
            doc.ingested_at = info.ingested_at
            if info.groups is not None:
                doc.groups = list(parse_groups(info.groups))
            elif doc.groups is None:
                doc.groups = []
            s.add(doc)
            s.flush()
            if rows:
                s.execute(insert(ChunkRow), rows)
            _bump(s)

    def delete(self, document_id: str) -> bool:
        """Remove a document and its chunks; False when it was not stored."""
        with self.db.session() as s:
            s.execute(delete(ChunkRow).where(ChunkRow.document_id == document_id))
            result: CursorResult[Any] = s.execute(delete(DocumentRow).where(DocumentRow.id == document_id))  # type: ignore[assignment]
            _bump(s)
            return result.rowcount > 0

    def chunks(self, document_id: str | None = None) -> list[Chunk]:
        """All chunks (of one document, or of every document), in document order."""
        stmt = select(ChunkRow, DocumentRow.title).join(DocumentRow)
        if document_id is not None:
            stmt = stmt.where(ChunkRow.document_id == document_id)
        stmt = stmt.order_by(DocumentRow.title, DocumentRow.id, ChunkRow.ordinal)
        with self.db.session() as s:
            return [_chunk(row, title) for row, title in s.execute(stmt)]

    def chunks_by_ids(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """The chunks with these ids (missing ids are left out)."""
        out: dict[str, Chunk] = {}
        with self.db.session() as s:
            for start in range(0, len(ids), 500):
                batch = list(ids[start : start + 500])
                stmt = select(ChunkRow, DocumentRow.title).join(DocumentRow).where(ChunkRow.id.in_(batch))
                out.update({row.id: _chunk(row, title) for row, title in s.execute(stmt)})
        return out

    def counts(self) -> tuple[int, int]:
        """(documents, chunks) stored."""
        with self.db.session() as s:
            docs = s.scalar(select(func.count()).select_from(DocumentRow)) or 0
            chunks = s.scalar(select(func.count()).select_from(ChunkRow)) or 0
            return docs, chunks


REVISION = "documents"
"""The :class:`RevisionRow` bumped by every change of a stored document or its groups."""


def _bump(s: Session) -> None:
    """Move the documents revision forward, inside the caller's transaction: one atomic
    ``UPDATE … SET value = value + 1`` (two concurrent writers never both write the same value)."""
    bumped: CursorResult[Any] = s.execute(  # type: ignore[assignment]
        update(RevisionRow).where(RevisionRow.name == REVISION).values(value=RevisionRow.value + 1)
    )
    if bumped.rowcount == 0:  # migration 0007 creates the row; a database made some other way gets it now
        s.add(RevisionRow(name=REVISION, value=1))


def now() -> datetime:
    """The current time in UTC (what ``ingested_at`` records)."""
    return datetime.now(UTC)


def _info(row: DocumentRow) -> DocumentInfo:
    return DocumentInfo(
        id=row.id,
        path=row.path,
        title=row.title,
        doc_type=row.doc_type,
        chunker=row.chunker,
        content_hash=row.content_hash,
        size_bytes=row.size_bytes,
        chunk_count=row.chunk_count,
        ingested_at=row.ingested_at,
        metadata=dict(row.meta or {}),
        groups=tuple(row.groups or ()),
    )


def _chunk_row(c: Chunk) -> dict[str, Any]:
    return {
        "id": c.id,
        "document_id": c.document_id,
        "ordinal": c.ordinal,
        "kind": c.kind,
        "text": c.text,
        "heading_path": list(c.heading_path),
        "article": c.article,
        "article_title": c.article_title,
        "paragraph": c.paragraph,
        "item": c.item,
        "page": c.page,
        "page_end": c.page_end,
        "char_start": c.char_start,
        "char_end": c.char_end,
        "token_count": c.token_count,
        "amendments": list(c.amendments),
    }


def _chunk(row: ChunkRow, doc_title: str) -> Chunk:
    return Chunk(
        id=row.id,
        document_id=row.document_id,
        ordinal=row.ordinal,
        kind=row.kind,
        text=row.text,
        doc_title=doc_title,
        heading_path=tuple(row.heading_path or ()),
        article=row.article,
        article_title=row.article_title,
        paragraph=row.paragraph,
        item=row.item,
        page=row.page,
        page_end=row.page_end,
        char_start=row.char_start,
        char_end=row.char_end,
        token_count=row.token_count,
        amendments=tuple(row.amendments or ()),
    )
