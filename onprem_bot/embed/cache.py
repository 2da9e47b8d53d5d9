"""An embedding cache in the database, so that re-ingesting unchanged text embeds nothing again.

Rows of ``embedding_cache`` are keyed by the embedder's :attr:`~Embedder.name` (with ``#query``
or ``#passage`` appended for an asymmetric model such as e5, whose two sides differ) and the
sha256 of the exact text embedded (after :meth:`~Embedder.fit` cut it to what the model reads);
the vector is stored as little-endian float32 bytes (unit length).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select

from onprem_bot.embed.base import Embedder, check_side, normalize_rows
from onprem_bot.storage.db import Database
from onprem_bot.storage.schema import EmbeddingCacheRow

CHUNK_SIZE = 500
"""Keys per lookup query and rows per insert statement (well under SQLite's variable limit)."""

_DTYPE = np.dtype("<f4")


def text_hash(text: str) -> str:
    """The cache key of ``text``: sha256 of its UTF-8 bytes, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheStats:
    """What the last :meth:`CachedEmbedder.embed` call did, counted over distinct texts."""

    hits: int = 0
    misses: int = 0


class CachedEmbedder(Embedder):
    """Wraps an :class:`Embedder`: :meth:`embed` reads and fills the database cache.

    Same :attr:`name` and :attr:`dimension` as the wrapped embedder, so an index built through
    the cache matches one built without it. Single queries (:meth:`embed_query`) are not cached;
    :meth:`embed` caches either side (``side="query"`` for FAQ keys).
    """

    def __init__(self, embedder: Embedder, db: Database) -> None:
        self.embedder = embedder
        self.db = db
        self.stats = CacheStats()

    @property
    def name(self) -> str:  # type: ignore[override]
        """The wrapped embedder's name (also the cache's ``model`` column)."""
        return self.embedder.name

    @property
    def dimension(self) -> int:  # type: ignore[override]
        """The wrapped embedder's dimension."""
        return self.embedder.dimension

    @property
    def symmetric(self) -> bool:  # type: ignore[override]
        """The wrapped embedder's symmetry."""
        return self.embedder.symmetric

    def warm_up(self) -> None:
        """Load the wrapped model."""
        self.embedder.warm_up()

    def fit(self, text: str, side: str = "passage") -> str:
        """The part of ``text`` the wrapped model reads."""
        return self.embedder.fit(text, side)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """The wrapped embedder's passage batch, uncached."""
        return self.embedder.embed_batch(texts)

    def embed_query_batch(self, texts: list[str]) -> np.ndarray:
        """The wrapped embedder's query batch, uncached."""
        return self.embedder.embed_query_batch(texts)

    def embed_query(self, text: str) -> np.ndarray:
        """The wrapped embedder's query vector, uncached."""
        return self.embedder.embed_query(text)

    def model_key(self, side: str = "passage") -> str:
        """The cache's ``model`` column for ``side``: the name, plus ``#side`` for an asymmetric model."""
        check_side(side)
        return self.name if self.symmetric else f"{self.name}#{side}"

    def embed(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: bool = False,
        desc: str = "임베딩",
        side: str = "passage",
    ) -> np.ndarray:
        """Unit float32 rows for ``texts`` on ``side`` in input order; only texts not in the cache are embedded.

        The progress bar counts the texts being embedded (the misses). New vectors are stored
        in one transaction; :attr:`stats` tells hits and misses of this call.
        """
        model = self.model_key(side)
        raw = [str(t) for t in texts]
        if raw:
            self.embedder.warm_up()  # fit() may need the model's tokenizer
        items = [self.embedder.fit(t, side) for t in raw]
        hashes = [text_hash(t) for t in items]
        distinct: dict[str, str] = {}
        for key, text in zip(hashes, items, strict=True):
            distinct.setdefault(key, text)
        dimension = self.dimension
        if not items:
            self.stats = CacheStats()
            return np.zeros((0, dimension), dtype=np.float32)
        found, stale = self._lookup(model, list(distinct), dimension)
        missing = [key for key in distinct if key not in found]
        if missing:
            fresh = self.embedder.embed(
                [distinct[k] for k in missing], batch_size=batch_size, progress=progress, desc=desc, side=side
            )
            self._store(model, dict(zip(missing, fresh, strict=True)), stale, dimension)
            found.update(zip(missing, fresh, strict=True))
        self.stats = CacheStats(hits=len(distinct) - len(missing), misses=len(missing))
        return normalize_rows(np.stack([found[key] for key in hashes]))

    def _lookup(self, model: str, keys: list[str], dimension: int) -> tuple[dict[str, np.ndarray], list[str]]:
        """Cached vectors by key, and the keys whose stored row has the wrong size (to replace)."""
        found: dict[str, np.ndarray] = {}
        stale: list[str] = []
        table = EmbeddingCacheRow
        with self.db.session() as session:
            for start in range(0, len(keys), CHUNK_SIZE):
                query = select(table.text_hash, table.dim, table.vector).where(
                    table.model == model, table.text_hash.in_(keys[start : start + CHUNK_SIZE])
                )
                for key, dim, blob in session.execute(query):
                    if dim == dimension and len(blob) == dimension * _DTYPE.itemsize:
                        found[key] = np.frombuffer(blob, dtype=_DTYPE)
                    else:
                        stale.append(key)
        return found, stale

    def _store(self, model: str, vectors: dict[str, np.ndarray], stale: list[str], dimension: int) -> None:
        """Insert ``vectors`` (replacing ``stale`` rows) in one transaction."""
        rows = [
            {"model": model, "text_hash": key, "dim": dimension, "vector": np.asarray(vec, dtype=_DTYPE).tobytes()}
            for key, vec in vectors.items()
        ]
        table = EmbeddingCacheRow
        with self.db.session() as session:
            for start in range(0, len(stale), CHUNK_SIZE):
                part = stale[start : start + CHUNK_SIZE]
                session.execute(delete(table).where(table.model == model, table.text_hash.in_(part)))
            statement = _insert_ignoring_duplicates(session.get_bind().dialect.name)
            for start in range(0, len(rows), CHUNK_SIZE):
                session.execute(statement, rows[start : start + CHUNK_SIZE])

    def put(self, model: str, vectors: dict[str, np.ndarray]) -> int:
        """Store ``vectors`` (cache key → unit vector) under ``model`` where not cached yet; how many were new."""
        dimension = self.dimension
        found, stale = self._lookup(model, list(vectors), dimension)
        new = {k: v for k, v in vectors.items() if k not in found}
        if new:
            self._store(model, new, stale, dimension)
        return len(new)

    def key(self, text: str, side: str = "passage") -> str:
        """The cache key of ``text`` on ``side``: :func:`text_hash` of what the model reads of it."""
        self.embedder.warm_up()
        return text_hash(self.embedder.fit(text, side))

    def prune(self, keep_hashes: Iterable[str], side: str = "passage") -> int:
        """Delete this model's cached vectors of ``side`` whose key is not in ``keep_hashes``; returns how many.

        Keys come from :meth:`key` of the texts still in use.
        """
        keep = set(keep_hashes)
        model = self.model_key(side)
        table = EmbeddingCacheRow
        with self.db.session() as session:
            stored = session.scalars(select(table.text_hash).where(table.model == model)).all()
            drop = [key for key in stored if key not in keep]
            for start in range(0, len(drop), CHUNK_SIZE):
                part = drop[start : start + CHUNK_SIZE]
                session.execute(delete(table).where(table.model == model, table.text_hash.in_(part)))
        return len(drop)


def _insert_ignoring_duplicates(dialect: str) -> Any:
    """An INSERT that skips rows already present (another process may have cached them meanwhile)."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(EmbeddingCacheRow).on_conflict_do_nothing()
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(EmbeddingCacheRow).on_conflict_do_nothing()
    return insert(EmbeddingCacheRow)
