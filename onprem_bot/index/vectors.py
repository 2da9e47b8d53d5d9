"""Dense vectors in FAISS: inner product on L2-normalised vectors (flat, or HNSW when large)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from onprem_bot.errors import SearchIndexError


class VectorIndex:
    """Cosine search over normalised vectors. Flat up to ``hnsw_threshold`` vectors, HNSW above."""

    def __init__(self, dimension: int, hnsw_threshold: int = 50_000, ef_search: int = 96) -> None:
        if dimension <= 0:
            raise ValueError(f"dimension={dimension}: must be > 0")
        self.dimension = dimension
        self.hnsw_threshold = hnsw_threshold
        self.ef_search = ef_search
        self._index: Any = None

    @property
    def size(self) -> int:
        """How many vectors are indexed."""
        return int(self._index.ntotal) if self._index is not None else 0

    @property
    def kind(self) -> str:
        """``flat`` or ``hnsw``."""
        import faiss

        return "hnsw" if isinstance(self._index, faiss.IndexHNSWFlat) else "flat"

    def build(self, vectors: np.ndarray) -> VectorIndex:
        """Index ``vectors`` (rows in index order, L2-normalised float32)."""
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(f"vectors of shape {vectors.shape}: expected (n, {self.dimension})")
        index: Any
        if len(vectors) > self.hnsw_threshold:
            index = faiss.IndexHNSWFlat(self.dimension, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
        else:
            index = faiss.IndexFlatIP(self.dimension)
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # building is batch work: use every core
        try:
            index.add(vectors)
        finally:
            faiss.omp_set_num_threads(1)
        self._index = index
        self._configure()
        return self

    def save(self, path: Path) -> None:
        """Write the FAISS index to ``path``."""
        import faiss

        faiss.write_index(faiss.index_gpu_to_cpu(self._index) if _on_gpu(self._index) else self._index, str(path))

    @classmethod
    def load(cls, path: Path, dimension: int, use_gpu: bool = False) -> VectorIndex:
        """Read an index written by :meth:`save`; refuse one of another dimension."""
        import faiss

        try:
            index = faiss.read_index(str(path))
        except Exception as exc:
            raise SearchIndexError(
                f"벡터 색인을 읽을 수 없습니다 (corrupt vector index {path}: {exc}); 다시 수집하세요 (re-ingest)"
            ) from exc
        if index.d != dimension:
            raise SearchIndexError(
                f"벡터 색인의 차원({index.d})이 임베딩 모델의 차원({dimension})과 다릅니다 "
                f"(index built with another embedder); 다시 수집하세요: onprem-bot ingest --reindex"
            )
        out = cls(dimension)
        out._index = _to_gpu(index) if use_gpu else index
        out._configure()
        return out

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest vectors to ``query`` as (position, cosine), best first."""
        if self._index is None or self.size == 0 or k <= 0:
            return []
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(q, min(k, self.size))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def similarity(self, query: np.ndarray, positions: list[int]) -> dict[int, float]:
        """Exact cosine between ``query`` and the stored vectors at ``positions``."""
        if not positions or self._index is None:
            return {}
        vectors = np.vstack([self._index.reconstruct(int(p)) for p in positions])
        sims = vectors @ query.astype(np.float32)
        return {p: float(s) for p, s in zip(positions, sims, strict=True)}

    def _configure(self) -> None:
        import faiss

        # One query is small work: OpenMP threads cost more in wake-ups than they save, and
        # compete with the BLAS threads of the embedder (measured: 10k flat p50 16 ms → ~1 ms).
        # Parallelism comes from concurrent requests instead.
        faiss.omp_set_num_threads(1)
        if isinstance(self._index, faiss.IndexHNSWFlat):
            self._index.hnsw.efSearch = self.ef_search


def gpu_available() -> bool:
    """True when this faiss build has GPU support and sees a GPU."""
    import faiss

    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def _on_gpu(index: Any) -> bool:
    return type(index).__name__.startswith("Gpu")


def _to_gpu(index: Any) -> Any:
    import faiss

    if not gpu_available():
        return index
    return faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)
