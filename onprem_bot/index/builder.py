"""Builds an index generation from the stored chunks: BM25 tokens and dense vectors."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from onprem_bot.config import RetrievalSettings
from onprem_bot.index.access_mask import write_documents
from onprem_bot.index.bm25 import BM25Index
from onprem_bot.index.store import INDEX_FORMAT, IndexMeta, IndexStore
from onprem_bot.index.vectors import VectorIndex
from onprem_bot.types import Chunk

# Lucene idf log(1 + (N - n + 0.5)/(n + 0.5)) never goes negative, so a word found in most chunks of a
# small corpus (a pilot with three regulations) still counts. "robertson" equals rank-bm25 BM25Okapi
# (up to the constant k1 + 1) and is what the reference tests compare exactly.
BM25_METHOD = "lucene"


def bm25_text(chunk: Chunk, title_weight: int) -> str:
    """The text BM25 sees: document title and article label/title repeated (field weighting) + text."""
    fields = " ".join(x for x in (chunk.doc_title, chunk.article or "", chunk.article_title or "") if x)
    return "\n".join([fields] * max(title_weight, 0) + [chunk.text])


def dense_text(chunk: Chunk) -> str:
    """The text the embedder sees: where the chunk is, then the chunk."""
    head = " ".join(x for x in (chunk.doc_title, *chunk.heading_path[-1:]) if x)
    return f"{head}\n{chunk.text}" if head else chunk.text


class IndexBuilder:
    """Turns chunks into a new live index generation (see :class:`IndexStore`)."""

    def __init__(
        self, store: IndexStore, analyzer: Any, embedder: Any, settings: RetrievalSettings, batch_size: int = 32
    ) -> None:
        self.store = store
        self.analyzer = analyzer
        self.embedder = embedder
        self.settings = settings
        self.batch_size = batch_size

    def needs_rebuild(self) -> bool:
        """True when there is no index, or it was built with another embedder or field weighting."""
        folder = self.store.current()
        if folder is None:
            return True
        try:
            meta = self.store.meta(folder)
        except Exception:
            return True
        return meta.embedder != self.embedder.name or meta.title_weight != self.settings.title_weight

    def build(self, chunks: Sequence[Chunk], progress: bool = False) -> IndexMeta:
        """Index ``chunks`` (all of them, in the given order) and make the result live."""
        tokens = self.analyzer.tokens_many(bm25_text(c, self.settings.title_weight) for c in chunks)
        vectors = self.embedder.embed(
            [dense_text(c) for c in chunks], batch_size=self.batch_size, progress=progress, side="passage"
        )
        dimension = int(self.embedder.dimension)

        def write(folder: Path) -> IndexMeta:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "ids.json").write_text(json.dumps([c.id for c in chunks]), encoding="utf-8")
            labels = [[c.doc_title, c.article] for c in chunks]
            (folder / "labels.json").write_text(json.dumps(labels, ensure_ascii=False), encoding="utf-8")
            write_documents(folder, [c.document_id for c in chunks])  # who may read each position
            BM25Index(method=BM25_METHOD).build(tokens if chunks else [[""]]).save(folder / "bm25")
            vector_index = VectorIndex(dimension, self.settings.hnsw_threshold)
            vector_index.build(vectors.reshape(-1, dimension)).save(folder / "vectors.faiss")
            return IndexMeta(
                format=INDEX_FORMAT,
                embedder=self.embedder.name,
                dimension=dimension,
                count=len(chunks),
                built_at=time.time(),
                bm25_method=BM25_METHOD,
                title_weight=self.settings.title_weight,
                vector_kind=vector_index.kind,
            )

        folder = self.store.write(write)
        return self.store.meta(folder)
