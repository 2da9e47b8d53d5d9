"""`onprem-bot bench retrieval`: latency of BM25, dense and hybrid search on a synthetic corpus.

The corpus is sampled from real statute sentences (3-6 sentences a chunk); queries are
half colloquial development questions, half fragments of statute sentences. BM25 tokens are the
real Mecab tokens. Dense vectors are deterministic hash vectors of the default embedder's
dimension, so the FAISS cost is the real one while building 100k chunks takes seconds, not an
hour of embedding; the default embedder's query encoding is measured separately
(``query_encode_p50_ms``). rank-bm25 answers the same queries in the same run (the baseline).
"""

from __future__ import annotations

import hashlib
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from onprem_bot.config import RetrievalSettings
from onprem_bot.embed.e5 import E5_DIMENSION
from onprem_bot.index.access_mask import write_documents
from onprem_bot.index.bm25 import BM25Index, top_k
from onprem_bot.index.builder import BM25_METHOD
from onprem_bot.index.retriever import HybridRetriever
from onprem_bot.index.store import INDEX_FORMAT, IndexMeta, IndexStore
from onprem_bot.index.vectors import VectorIndex

DIMENSION = E5_DIMENSION
"""The embedded default embedder's dimension (multilingual-e5-small: 384; USE, the default before, 512)."""


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of ``values`` (linear interpolation)."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else 0.0


def hash_vector(text: str, dimension: int = DIMENSION) -> np.ndarray:
    """A deterministic unit vector for ``text`` (stands in for an embedding)."""
    seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
    v = np.random.default_rng(seed).standard_normal(dimension).astype(np.float32)
    return v / np.linalg.norm(v)


class _FixedEmbedder:
    """Query vectors computed ahead of time, so that encoding is excluded from the timings."""

    name = "bench-hash"
    dimension = DIMENSION

    def warm_up(self) -> None:
        return None

    def embed_query(self, text: str) -> np.ndarray:
        return hash_vector(text)


def statute_sentences(corpus: Path, limit: int = 60_000) -> list[str]:
    """Sentences of the Markdown statutes under ``corpus`` (deduplicated, in file order)."""
    from onprem_bot.ingest.chunking.base import split_sentences
    from onprem_bot.ingest.loaders import load_document

    seen: dict[str, None] = {}
    for path in sorted(corpus.rglob("*.md")):
        for block in load_document(path).blocks:
            for s in split_sentences(block.text):
                if len(s) >= 8:
                    seen.setdefault(s, None)
    return list(seen)[:limit]


def mixed_queries(questions: Sequence[str], sentences: Sequence[str]) -> list[str]:
    """Half colloquial questions, half fragments of statute sentences (which surely hit BM25)."""
    rng = random.Random(7)
    fragments = []
    for s in rng.sample(list(sentences), min(len(sentences), len(questions))):
        cut = s[:40].rsplit(" ", 1)[0]
        fragments.append(cut if len(cut) >= 10 else s[:40])
    mixed = [q for pair in zip(questions, fragments, strict=False) for q in pair]
    return mixed[: max(len(questions), 2)]


def run_benchmark(
    corpus: Path,
    sizes: Sequence[int],
    questions: Sequence[str],
    analyzer: Any,
    synonyms: Any,
    encoder: Any | None,
    rank_bm25_queries: int = 20,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Measure every size; returns ``{"sizes": [...]}`` as DESIGN.md's bench contract."""
    sentences = statute_sentences(corpus)
    questions = mixed_queries(questions, sentences)
    progress(f"문장 {len(sentences):,}개 형태소 분석")
    sentence_tokens = analyzer.tokens_many(sentences)
    sentence_vectors = np.vstack([hash_vector(s) for s in sentences])
    encode_ms = _query_encode_ms(encoder, questions)
    results = []
    for size in sizes:
        progress(f"{size:,}개 청크 색인")
        tokens, vectors = synthetic_chunks(sentence_tokens, sentence_vectors, size)
        with tempfile.TemporaryDirectory() as tmp:
            results.append(
                {
                    "chunks": size,
                    **_measure(Path(tmp), tokens, vectors, questions, analyzer, synonyms, rank_bm25_queries, progress),
                }
                | {"query_encode_p50_ms": encode_ms}
            )
    return {"sizes": results}


def synthetic_chunks(
    sentence_tokens: Sequence[Sequence[str]], sentence_vectors: np.ndarray, size: int
) -> tuple[list[list[str]], np.ndarray]:
    """``size`` chunks of 3-6 random sentences: (BM25 tokens per chunk, unit vectors float32 ``(size, dim)``)."""
    rng = random.Random(size)
    picks = [rng.sample(range(len(sentence_tokens)), rng.randint(3, 6)) for _ in range(size)]
    tokens = [[t for i in p for t in sentence_tokens[i]] for p in picks]
    vectors = np.vstack([_unit(sentence_vectors[p].sum(axis=0)) for p in picks]).astype(np.float32)
    return tokens, vectors


def write_generation(
    store: IndexStore, tokens: list[list[str]], vectors: np.ndarray, documents: Sequence[str] | None = None
) -> Path:
    """Write a live generation of the synthetic chunks (ids ``"0"..``; ``documents``: one id per chunk)."""
    hnsw_threshold = RetrievalSettings().hnsw_threshold

    def write(folder: Path) -> IndexMeta:
        folder.mkdir(parents=True)
        (folder / "ids.json").write_text(json.dumps([str(i) for i in range(len(tokens))]), encoding="utf-8")
        (folder / "labels.json").write_text(json.dumps([["벤치", None]] * len(tokens)), encoding="utf-8")
        if documents is not None:
            write_documents(folder, documents)
        BM25Index(method=BM25_METHOD).build(tokens).save(folder / "bm25")
        vector_index = VectorIndex(DIMENSION, hnsw_threshold).build(vectors)
        vector_index.save(folder / "vectors.faiss")
        return IndexMeta(
            INDEX_FORMAT, _FixedEmbedder.name, DIMENSION, len(tokens), time.time(), BM25_METHOD, 0, vector_index.kind
        )

    return store.write(write)


def _measure(
    root: Path,
    tokens: list[list[str]],
    vectors: np.ndarray,
    questions: Sequence[str],
    analyzer: Any,
    synonyms: Any,
    rank_bm25_queries: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    settings = RetrievalSettings()
    store = IndexStore(root / "index")
    started = time.perf_counter()
    folder = write_generation(store, tokens, vectors)
    build_s = time.perf_counter() - started
    load = _load_in_subprocess(folder, len(tokens))
    retriever = HybridRetriever(store, analyzer, _FixedEmbedder(), synonyms, replace(settings, k=10))
    retriever.warm_up()
    assert retriever._loaded is not None
    loaded = retriever._loaded
    query_tokens = [synonyms.expand(analyzer.tokens(q), analyzer) for q in questions]
    query_vectors = [hash_vector(q) for q in questions]
    for q in questions[:3]:  # warm caches
        retriever.rank(q, 10)
    bm25_ms = _timed(lambda i: top_k(loaded.bm25.scores(query_tokens[i]), 100), len(questions))
    dense_ms = _timed(lambda i: loaded.vectors.search(query_vectors[i], 100), len(questions))
    hybrid_ms = _timed(lambda i: retriever.rank(questions[i], 10), len(questions))
    progress("rank-bm25 기준선 (baseline)")
    from rank_bm25 import BM25Okapi

    reference = BM25Okapi(tokens)
    n_ref = min(rank_bm25_queries, len(questions))
    ref_ms = _timed(lambda i: top_k(np.asarray(reference.get_scores(query_tokens[i]), dtype=np.float32), 100), n_ref)
    bm25_qps = 1000.0 / statistics.mean(bm25_ms)
    rank_qps = 1000.0 / statistics.mean(ref_ms)
    return {
        "bm25_p50_ms": round(percentile(bm25_ms, 50), 2),
        "bm25_p95_ms": round(percentile(bm25_ms, 95), 2),
        "dense_search_p50_ms": round(percentile(dense_ms, 50), 2),
        "dense_search_p95_ms": round(percentile(dense_ms, 95), 2),
        "hybrid_p50_ms": round(percentile(hybrid_ms, 50), 2),
        "hybrid_p95_ms": round(percentile(hybrid_ms, 95), 2),
        "bm25_qps": round(bm25_qps, 1),
        "rank_bm25_qps": round(rank_qps, 2),
        "bm25_speedup_vs_rank_bm25": round(bm25_qps / rank_qps, 1),
        "vector_index": loaded.vectors.kind,
        "build_s": round(build_s, 2),
        **load,
    }


def _timed(fn: Callable[[int], object], n: int) -> list[float]:
    out = []
    for i in range(n):
        started = time.perf_counter()
        fn(i)
        out.append(1000 * (time.perf_counter() - started))
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v) or 1.0)


def _query_encode_ms(encoder: Any | None, questions: Sequence[str]) -> float | None:
    if encoder is None:
        return None
    encoder.warm_up()
    encoder.embed_query(questions[0])
    return round(percentile(_timed(lambda i: encoder.embed_query(questions[i]), len(questions)), 50), 2)


_LOAD_SCRIPT = """
import json, pathlib, sys, time, psutil
import bm25s, faiss
from onprem_bot.index.access_mask import write_documents
from onprem_bot.index.bm25 import BM25Index, top_k
from onprem_bot.index.builder import BM25_METHOD
from onprem_bot.index.vectors import VectorIndex
folder, size = sys.argv[1], int(sys.argv[2])
before = psutil.Process().memory_info().rss
started = time.perf_counter()
bm25 = BM25Index.load(pathlib.Path(folder) / "bm25", size=size)
vectors = VectorIndex.load(pathlib.Path(folder) / "vectors.faiss", int(sys.argv[3]))
bm25.scores(["근로자"])
elapsed = time.perf_counter() - started
after = psutil.Process().memory_info().rss
print(json.dumps({"index_load_s": round(elapsed, 3), "rss_before_load_mb": round(before / 2**20, 1),
                  "rss_mb": round(after / 2**20, 1), "index_rss_mb": round((after - before) / 2**20, 1)}))
"""


def _load_in_subprocess(folder: Path, size: int) -> dict[str, Any]:
    """Index load time and memory in a fresh process (after the libraries are imported)."""
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_SCRIPT, str(folder), str(size), str(DIMENSION)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result
