"""Hybrid retrieval: BM25 over Mecab morphemes + dense vectors, fused, with reference boosts.

A restricted :class:`~onprem_bot.access.Viewer` is searched only among the chunks of the documents
they may read: both retrievers are restricted before ranking (see :mod:`onprem_bot.index.access_mask`).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from onprem_bot.access import OPERATOR, Viewer
from onprem_bot.config import RetrievalSettings
from onprem_bot.errors import QueryError, SearchIndexError
from onprem_bot.index.access_mask import AccessFilter, PositionFilter
from onprem_bot.index.bm25 import BM25Index, top_k
from onprem_bot.index.fusion import reciprocal_rank_fusion, weighted_fusion
from onprem_bot.index.store import IndexMeta, IndexStore
from onprem_bot.index.vectors import VectorIndex, gpu_available
from onprem_bot.korean.normalize import normalize
from onprem_bot.korean.query import detect_references
from onprem_bot.korean.statute_style import statute_style
from onprem_bot.types import Chunk, Hit

MODES = ("hybrid", "bm25", "dense")
_HANGUL = re.compile(r"[가-힣]")


@dataclass(frozen=True)
class Ranked:
    """A position in the index with its fused and per-retriever scores."""

    position: int
    score: float
    bm25: float
    dense: float


@dataclass
class _Loaded:
    folder: Path
    meta: IndexMeta
    ids: list[str]
    labels: list[tuple[str, str | None]]
    bm25: BM25Index
    vectors: VectorIndex
    by_article: dict[str, list[int]]
    titles: tuple[str, ...]


def check_query(query: str, max_chars: int) -> str:
    """The normalised query, or a :class:`QueryError` for an empty or over-long one."""
    if not isinstance(query, str) or not query.strip():
        raise QueryError("질문이 비어 있습니다 (empty question)")
    if len(query) > max_chars:
        raise QueryError(f"질문이 너무 깁니다 ({len(query):,}자; 최대 {max_chars:,}자) (question too long)")
    return normalize(query)


class HybridRetriever:
    """Searches the live index generation; reloads it when a new one is built.

    ``readable(viewer)``: the ids of the documents a viewer may read, read fresh on every restricted
    query (``DocumentStore.readable``); without it a restricted viewer is refused. ``chunk_documents()``:
    ``{chunk id: document id}`` (``DocumentStore.chunk_documents``), used only for an index generation
    built before ``documents.json`` was written."""

    def __init__(
        self,
        store: IndexStore,
        analyzer: Any,
        embedder: Any,
        synonyms: Any,
        settings: RetrievalSettings,
        fetch: Callable[[Sequence[str]], dict[str, Chunk]] | None = None,
        readable: Callable[[Viewer], frozenset[str]] | None = None,
        chunk_documents: Callable[[], dict[str, str]] | None = None,
    ) -> None:
        self.store = store
        self.analyzer = analyzer
        self.embedder = embedder
        self.synonyms = synonyms
        self.settings = settings
        self.fetch = fetch
        self.access = AccessFilter(readable, chunk_documents)
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the live index (memory-mapped) and the embedder; idempotent, reloads on a new build."""
        folder = self.store.current()
        if folder is None:
            raise SearchIndexError(
                "검색 색인이 아직 없습니다 (no index yet): 먼저 onprem-bot ingest 로 문서를 수집하세요"
            )
        with self._lock:
            if self._loaded is not None and self._loaded.folder == folder:
                return
            meta = self.store.meta(folder)
            if meta.embedder != self.embedder.name:
                raise SearchIndexError(
                    f"색인은 '{meta.embedder}' 임베딩으로 만들어졌고 현재 설정은 '{self.embedder.name}'입니다 "
                    "(index built with another embedder): onprem-bot ingest --reindex <문서 폴더> 로 다시 만드세요"
                )
            self.embedder.warm_up()
            if meta.dimension != self.embedder.dimension:
                raise SearchIndexError(
                    f"색인 차원 {meta.dimension} ≠ 임베딩 차원 {self.embedder.dimension} "
                    "(dimension mismatch): onprem-bot ingest --reindex 로 다시 만드세요"
                )
            self._loaded = _load(self.store, folder, meta)

    @property
    def meta(self) -> IndexMeta:
        """The metadata of the loaded index."""
        self.warm_up()
        assert self._loaded is not None
        return self._loaded.meta

    def titles(self) -> tuple[str, ...]:
        """The titles of the indexed documents, sorted."""
        self.warm_up()
        assert self._loaded is not None
        return self._loaded.titles

    def document_frequency(self, tokens: Sequence[str]) -> tuple[np.ndarray, int]:
        """``(chunks containing each token, number of chunks)`` in the live index (for IDF weights)."""
        self.warm_up()
        assert self._loaded is not None
        return self._loaded.bm25.document_frequency(tokens), self._loaded.meta.count

    def run(
        self,
        query: str,
        k: int | None = None,
        mode: str = "hybrid",
        prefer: Sequence[str] = (),
        viewer: Viewer = OPERATOR,
    ) -> list[Hit]:
        """The ``k`` best chunks for ``query`` (``mode``: hybrid, bm25 or dense); chunks of the documents
        titled in ``prefer`` get ``followup_boost`` unless the query names a document itself. A restricted
        ``viewer`` gets only chunks of documents ``readable(viewer)`` returns (``k`` of them when that many match)."""
        if self.fetch is None:
            raise RuntimeError("HybridRetriever.run needs a chunk fetcher; use rank() for positions")
        ranked, within = self._rank(query, k, mode, prefer, viewer)
        loaded = self._loaded
        assert loaded is not None
        chunks = self.fetch([loaded.ids[r.position] for r in ranked])
        hits: list[Hit] = []
        for r in ranked:
            chunk = chunks.get(loaded.ids[r.position])
            if chunk is None:  # a chunk deleted after the index was built
                continue
            if within is not None and chunk.document_id not in within.documents:
                continue  # never expected (the mask is by document); checked again at no cost
            hits.append(Hit(chunk, r.score, r.bm25, r.dense, len(hits) + 1))
        return hits

    def rank(
        self,
        query: str,
        k: int | None = None,
        mode: str = "hybrid",
        prefer: Sequence[str] = (),
        viewer: Viewer = OPERATOR,
    ) -> list[Ranked]:
        """Like :meth:`run` but returns index positions and scores (no database access but ``readable``)."""
        return self._rank(query, k, mode, prefer, viewer)[0]

    def _rank(
        self, query: str, k: int | None, mode: str, prefer: Sequence[str], viewer: Viewer
    ) -> tuple[list[Ranked], PositionFilter | None]:
        if mode not in MODES:
            raise ValueError(f"mode={mode!r}: valid: {', '.join(MODES)}")
        k = k or self.settings.k
        if k < 1:
            raise QueryError(f"k={k}: 1 이상이어야 합니다 (must be >= 1)")
        text = check_query(query, self.settings.max_query_chars)
        self.warm_up()
        loaded = self._loaded
        assert loaded is not None
        within = self.access.filter(viewer, loaded.folder, loaded.ids, loaded.labels)  # None: sees everything
        tokens = self.analyzer.tokens(
            statute_style(text)
        )  # BM25 sees 1주, 1일, 이내 where people wrote 일주일, 하루, 언제까지
        refs = detect_references(text, loaded.titles if within is None else within.titles)
        if not tokens and not refs.articles:
            raise QueryError("검색할 단어가 없습니다 (no searchable words in the question)")
        n = self.settings.candidates
        allowed = None if within is None else within.allowed
        bm25_all = loaded.bm25.scores(self.synonyms.expand(tokens, self.analyzer, text), allowed)
        bm25_top = dict(top_k(bm25_all, n)) if mode != "dense" else {}
        if not _HANGUL.search(text) and not bm25_top and not refs.articles:
            raise QueryError("한국어로 질문해 주세요 (ask in Korean: no document contains these words)")
        qvec = self.embedder.embed_query(text) if mode != "bm25" else None
        dense_top = dict(loaded.vectors.search(qvec, n, within)) if qvec is not None else {}
        referenced = _referenced(loaded, refs.statutes, refs.articles, allowed) if mode == "hybrid" else []
        union = sorted(set(bm25_top) | set(dense_top) | set(referenced))
        bm25 = {p: float(bm25_all[p]) for p in union}
        dense = loaded.vectors.similarity(qvec, union) if qvec is not None else {}
        if mode == "bm25":
            fused = sorted(bm25_top.items(), key=lambda kv: (-kv[1], kv[0]))
        elif mode == "dense":
            fused = sorted(dense_top.items(), key=lambda kv: (-kv[1], kv[0]))
        else:
            fused = self._fuse(bm25, dense, bm25_top, dense_top)
            fused = _boost(fused, loaded, refs.statutes, refs.articles, self.settings)
            if prefer and not refs.statutes:
                fused = _prefer(fused, loaded, prefer, self.settings.followup_boost)
        return [Ranked(p, s, bm25.get(p, 0.0), dense.get(p, 0.0)) for p, s in fused[:k]], within

    def _fuse(
        self, bm25: dict[int, float], dense: dict[int, float], bm25_top: dict[int, float], dense_top: dict[int, float]
    ) -> list[tuple[int, float]]:
        weights = [self.settings.bm25_weight, self.settings.dense_weight]
        if self.settings.fusion == "rrf":
            return reciprocal_rank_fusion([bm25_top, dense_top], weights, self.settings.rrf_k)
        return weighted_fusion([bm25, dense], weights)


def _load(store: IndexStore, folder: Path, meta: IndexMeta) -> _Loaded:
    ids = store.ids(folder)
    try:
        raw = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
        labels = [(str(t), a) for t, a in raw]
    except (OSError, ValueError, TypeError) as exc:
        raise SearchIndexError(
            f"색인 파일이 손상되었습니다 (corrupt labels.json in {folder}: {exc}); 다시 수집하세요"
        ) from exc
    if not (len(ids) == len(labels) == meta.count):
        raise SearchIndexError(f"색인 파일 수가 맞지 않습니다 (index files disagree in {folder}); 다시 수집하세요")
    bm25 = BM25Index.load(folder / "bm25", size=meta.count)
    vectors = VectorIndex.load(folder / "vectors.faiss", meta.dimension, use_gpu=gpu_available())
    if vectors.size != meta.count:
        raise SearchIndexError(
            f"벡터 색인 크기가 맞지 않습니다 (vector index has {vectors.size} of {meta.count}); 다시 수집하세요"
        )
    by_article: dict[str, list[int]] = {}
    for pos, (_, article) in enumerate(labels):
        if article:
            by_article.setdefault(article, []).append(pos)
    titles = tuple(sorted({t for t, _ in labels if t}))
    return _Loaded(folder, meta, ids, labels, bm25, vectors, by_article, titles)


def _referenced(
    loaded: _Loaded, statutes: Sequence[str], articles: Sequence[str], allowed: np.ndarray | None = None
) -> list[int]:
    """Positions of the chunks of the articles named in the question (of the named statutes, if any),
    among the ``allowed`` positions (bool, shape ``(count,)``; None: all)."""
    out: list[int] = []
    for article in articles:
        for pos in loaded.by_article.get(article, []):
            if allowed is not None and not allowed[pos]:
                continue
            if not statutes or loaded.labels[pos][0] in statutes:
                out.append(pos)
    return out[:200]


def _boost(
    fused: list[tuple[int, float]],
    loaded: _Loaded,
    statutes: Sequence[str],
    articles: Sequence[str],
    settings: RetrievalSettings,
) -> list[tuple[int, float]]:
    if not statutes and not articles:
        return fused
    boosted = []
    for pos, score in fused:
        title, article = loaded.labels[pos]
        if statutes and title in statutes:
            score += settings.statute_boost
        if articles and article in articles and (not statutes or title in statutes):
            score += settings.article_boost
        boosted.append((pos, score))
    return sorted(boosted, key=lambda kv: (-kv[1], kv[0]))


def _prefer(
    fused: list[tuple[int, float]], loaded: _Loaded, titles: Sequence[str], boost: float
) -> list[tuple[int, float]]:
    """``fused`` with ``boost`` added to the chunks of the documents ``titles`` (re-sorted)."""
    wanted = set(titles)
    boosted = [(pos, score + boost if loaded.labels[pos][0] in wanted else score) for pos, score in fused]
    return sorted(boosted, key=lambda kv: (-kv[1], kv[0]))
