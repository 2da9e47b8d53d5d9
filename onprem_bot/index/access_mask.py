"""Which index positions a restricted reader may see: one boolean mask per allowed-document set.

An index generation knows the document of every position: ``documents.json`` written at build time
(``{"documents": [document id, ...], "positions": [index into documents, one per position]}``), or,
for an older generation without it, the chunk → document map of the database. A reader's allowed
documents are read fresh for every query (groups change at any time); the mask for a given set is
computed once (O(positions) numpy work) and kept in a small LRU, so a repeated set costs one hash.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from onprem_bot.access import Viewer
from onprem_bot.errors import SearchIndexError

DOCUMENTS_FILE = "documents.json"
MASK_CACHE_SIZE = 32
"""Distinct allowed-document sets kept per index generation (a mask of 100k positions is ~110 KB)."""


@dataclass(frozen=True)
class PositionFilter:
    """The positions one reader may see in one index generation.

    ``allowed``: bool, shape ``(count,)``; ``positions``: the allowed positions, int64 ascending;
    ``bits``: ``allowed`` packed little-endian (uint8, ``ceil(count / 8)``), the layout of faiss'
    ``IDSelectorBitmap``; ``titles``: the sorted titles of the allowed chunks (reference detection)."""

    allowed: np.ndarray
    positions: np.ndarray
    bits: np.ndarray
    titles: tuple[str, ...]
    documents: frozenset[str]

    @property
    def count(self) -> int:
        """How many positions are allowed."""
        return int(self.positions.size)


def write_documents(folder: Path, document_ids: Sequence[str]) -> None:
    """Write ``documents.json`` into a generation ``folder``: the document of each position, in index order."""
    names: dict[str, int] = {}
    codes = [names.setdefault(d, len(names)) for d in document_ids]
    payload = {"documents": list(names), "positions": codes}
    (folder / DOCUMENTS_FILE).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")


def read_documents(folder: Path, count: int) -> tuple[tuple[str, ...], np.ndarray] | None:
    """``(document ids, code per position int32 shape (count,))`` of a generation; None for one built
    before ``documents.json`` existed; :class:`SearchIndexError` for a corrupt or mismatched file."""
    path = folder / DOCUMENTS_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        names = tuple(str(d) for d in data["documents"])
        codes = np.asarray(data["positions"], dtype=np.int32).reshape(-1)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise SearchIndexError(
            f"색인 파일이 손상되었습니다 (corrupt {DOCUMENTS_FILE} in {folder}: {exc}); 다시 수집하세요"
        ) from exc
    if codes.size != count or (codes.size and (codes.min() < 0 or codes.max() >= len(names))):
        raise SearchIndexError(
            f"색인 파일 수가 맞지 않습니다 ({DOCUMENTS_FILE} disagrees in {folder}); 다시 수집하세요"
        )
    return names, codes


def documents_from_chunks(
    chunk_ids: Sequence[str], chunk_documents: Mapping[str, str]
) -> tuple[tuple[str, ...], np.ndarray]:
    """The same pair as :func:`read_documents` from the database's ``{chunk id: document id}``; a chunk
    missing from it (deleted since the build) gets code -1 and is never allowed."""
    names: dict[str, int] = {}
    codes = np.fromiter(
        (names.setdefault(chunk_documents[c], len(names)) if c in chunk_documents else -1 for c in chunk_ids),
        dtype=np.int32,
        count=len(chunk_ids),
    )
    return tuple(names), codes


class AccessMasks:
    """Position → document of one generation, and an LRU of :class:`PositionFilter` per allowed set."""

    def __init__(
        self, names: Sequence[str], codes: np.ndarray, titles: Sequence[str], capacity: int = MASK_CACHE_SIZE
    ) -> None:
        self.names = tuple(names)
        self.codes = np.asarray(codes, dtype=np.int32)
        title_names: dict[str, int] = {}
        self._title_codes = np.fromiter(
            (title_names.setdefault(t, len(title_names)) for t in titles), dtype=np.int32, count=len(titles)
        )
        self._title_names = tuple(title_names)
        self.capacity = capacity
        self._cache: OrderedDict[frozenset[str], PositionFilter] = OrderedDict()
        self._lock = threading.Lock()

    def filter(self, documents: frozenset[str]) -> PositionFilter:
        """The positions of the chunks of ``documents`` (cached per distinct set)."""
        with self._lock:
            hit = self._cache.get(documents)
            if hit is not None:
                self._cache.move_to_end(documents)
                return hit
        made = self._make(documents)
        with self._lock:
            self._cache[documents] = made
            self._cache.move_to_end(documents)
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return made

    def _make(self, documents: frozenset[str]) -> PositionFilter:
        lookup = np.zeros(len(self.names) + 1, dtype=bool)  # the last slot: code -1 (unknown chunk)
        for code, name in enumerate(self.names):
            if name in documents:
                lookup[code] = True
        allowed = lookup[self.codes]
        positions = np.flatnonzero(allowed).astype(np.int64)
        titles = tuple(sorted(t for c in np.unique(self._title_codes[allowed]).tolist() if (t := self._title_names[c])))
        bits = np.packbits(allowed, bitorder="little")
        for array in (allowed, positions, bits):
            array.setflags(write=False)
        return PositionFilter(allowed, positions, bits, titles, documents)


class AccessFilter:
    """Turns a viewer into the positions of the live generation they may see.

    ``readable(viewer)``: the ids of the documents the viewer may read, called on every restricted
    query (groups change at any time). ``chunk_documents()``: ``{chunk id: document id}``, called once
    per generation that has no ``documents.json``. The position → document map is read lazily at the
    first restricted query of a generation, so a viewer who sees everything costs nothing."""

    def __init__(
        self,
        readable: Callable[[Viewer], frozenset[str]] | None = None,
        chunk_documents: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self.readable = readable
        self.chunk_documents = chunk_documents
        self._generation: tuple[Path, AccessMasks] | None = None
        self._lock = threading.Lock()

    def filter(
        self, viewer: Viewer, folder: Path, ids: Sequence[str], labels: Sequence[tuple[str, str | None]]
    ) -> PositionFilter | None:
        """The positions ``viewer`` may see in the generation ``folder`` (``ids``, ``labels`` (title, article):
        one per position); None when they see everything; ValueError when filtering is impossible (never unfiltered)."""
        if not viewer.restricted:
            return None
        if self.readable is None:
            raise ValueError(
                f"viewer {viewer.name!r} is restricted to groups but the retriever has no readable= callable "
                "(pass DocumentStore.readable); refusing to return unfiltered results"
            )
        allowed = self.readable(viewer)
        return self._masks(folder, ids, labels).filter(allowed)

    def _masks(self, folder: Path, ids: Sequence[str], labels: Sequence[tuple[str, str | None]]) -> AccessMasks:
        with self._lock:
            if self._generation is None or self._generation[0] != folder:
                documents = read_documents(folder, len(ids))
                if documents is None:
                    if self.chunk_documents is None:
                        raise ValueError(
                            f"index generation {folder.name} has no {DOCUMENTS_FILE} and the retriever has no "
                            "chunk_documents= callable (pass DocumentStore.chunk_documents), so it cannot filter "
                            "by group; or rebuild the index: onprem-bot ingest --reindex"
                        )
                    documents = documents_from_chunks(ids, self.chunk_documents())
                self._generation = (folder, AccessMasks(*documents, [t for t, _ in labels]))
            return self._generation[1]
