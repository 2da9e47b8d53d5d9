"""`onprem-bot bench retrieval --groups`: group-filtered hybrid search against unfiltered, same run.

The synthetic corpus of :mod:`onprem_bot.bench.retrieval` (real Mecab tokens, hash vectors, HNSW
above 50k chunks) is split into documents of ``CHUNKS_PER_DOCUMENT`` chunks; 10 groups; a document
has no group (10 %), one (75 %) or two (15 %); users have 1-3 groups. Every question is asked
unfiltered (the operator) and filtered (a user, round robin) in alternation, ``ROUNDS`` times, so
both see the same machine state. The allowed set is recomputed per query from an in-memory
``{document: groups}`` the way ``DocumentStore.readable`` does (its database read is not included).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from onprem_bot.access import Viewer
from onprem_bot.bench.retrieval import (
    _FixedEmbedder,
    hash_vector,
    mixed_queries,
    percentile,
    statute_sentences,
    synthetic_chunks,
    write_generation,
)
from onprem_bot.config import RetrievalSettings
from onprem_bot.index.access_mask import AccessMasks, documents_from_chunks
from onprem_bot.index.retriever import HybridRetriever
from onprem_bot.index.store import IndexStore

GROUPS = tuple(f"팀{i}" for i in range(10))
CHUNKS_PER_DOCUMENT = 30
USERS = 12
ROUNDS = 3


def group_layout(documents: int, seed: int = 19) -> tuple[dict[str, tuple[str, ...]], list[Viewer]]:
    """``({document id: groups}, users)``: groups per document as the module docstring says."""
    rng = random.Random(seed)
    groups: dict[str, tuple[str, ...]] = {}
    for d in range(documents):
        roll = rng.random()
        count = 0 if roll < 0.10 else 1 if roll < 0.85 else 2
        groups[f"doc{d}"] = tuple(sorted(rng.sample(GROUPS, count)))
    users = [Viewer(f"user{u}", frozenset(rng.sample(GROUPS, rng.randint(1, 3)))) for u in range(USERS)]
    return groups, users


def run_groups_benchmark(
    corpus: Path,
    size: int,
    questions: Sequence[str],
    analyzer: Any,
    synonyms: Any,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Filtered vs unfiltered hybrid ``rank`` (k=10) at ``size`` chunks; times in ms, ratios of p95s."""
    sentences = statute_sentences(corpus)
    questions = mixed_queries(questions, sentences)
    progress(f"문장 {len(sentences):,}개 형태소 분석")
    sentence_tokens = analyzer.tokens_many(sentences)
    sentence_vectors = np.vstack([hash_vector(s) for s in sentences])
    tokens, vectors = synthetic_chunks(sentence_tokens, sentence_vectors, size)
    chunk_docs = [f"doc{i // CHUNKS_PER_DOCUMENT}" for i in range(size)]
    groups, users = group_layout(len(set(chunk_docs)))

    def readable(viewer: Viewer) -> frozenset[str]:
        return frozenset(d for d, g in groups.items() if viewer.may_read(g))

    progress(f"{size:,}개 청크 색인 (문서 {len(groups):,}개, 그룹 {len(GROUPS)}개)")
    with tempfile.TemporaryDirectory() as tmp:
        store = IndexStore(Path(tmp) / "index")
        write_generation(store, tokens, vectors, chunk_docs)
        settings = replace(RetrievalSettings(), k=10)
        retriever = HybridRetriever(store, analyzer, _FixedEmbedder(), synonyms, settings, readable=readable)
        retriever.warm_up()
        by_chunk = {str(i): d for i, d in enumerate(chunk_docs)}
        masks = AccessMasks(*documents_from_chunks(list(by_chunk), by_chunk), ["벤치"] * size)
        mask_ms = []
        for user in users:  # a cache miss: the first query of a new allowed set
            allowed = readable(user)
            started = time.perf_counter()
            masks.filter(allowed)
            mask_ms.append(1000 * (time.perf_counter() - started))
        for user in users:  # warm the retriever's own cache and the libraries
            retriever.rank(questions[0], 10, viewer=user)
        progress("검색 (filtered / unfiltered)")
        plain_ms: list[float] = []
        filtered_ms: list[float] = []
        full_k = 0
        for i in range(ROUNDS * len(questions)):
            question, user = questions[i % len(questions)], users[i % len(users)]
            started = time.perf_counter()
            retriever.rank(question, 10)
            plain_ms.append(1000 * (time.perf_counter() - started))
            started = time.perf_counter()
            ranked = retriever.rank(question, 10, viewer=user)
            filtered_ms.append(1000 * (time.perf_counter() - started))
            full_k += len(ranked) == 10
        kind = retriever._loaded.vectors.kind if retriever._loaded else "?"
    shares = [len(readable(u)) / len(groups) for u in users]
    return {
        "chunks": size,
        "documents": len(groups),
        "users": len(users),
        "queries": len(plain_ms),
        "allowed_share_mean": round(float(np.mean(shares)), 3),
        "allowed_share_min": round(min(shares), 3),
        "unfiltered_p50_ms": round(percentile(plain_ms, 50), 2),
        "unfiltered_p95_ms": round(percentile(plain_ms, 95), 2),
        "filtered_p50_ms": round(percentile(filtered_ms, 50), 2),
        "filtered_p95_ms": round(percentile(filtered_ms, 95), 2),
        "filtered_p95_ratio": round(percentile(filtered_ms, 95) / percentile(plain_ms, 95), 2),
        "filtered_full_k_share": round(full_k / len(filtered_ms), 3),
        "mask_build_p50_ms": round(percentile(mask_ms, 50), 2),
        "vector_index": kind,
    }
