"""Dense vectors in FAISS: inner product on L2-normalised vectors (flat, or HNSW when large)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from onprem_bot.errors import SearchIndexError

if TYPE_CHECKING:
    from onprem_bot.index.access_mask import PositionFilter

EXACT_LIMIT = 2048
"""A filtered HNSW search over at most this many allowed vectors scores them all (exact, ~0.5 ms at 384 dims)."""
_EXACT_BATCH = 8192


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

    def search(self, query: np.ndarray, k: int, within: PositionFilter | None = None) -> list[tuple[int, float]]:
        """The ``k`` nearest vectors to ``query`` (shape ``(dimension,)``) as (position, cosine), best first.

        ``within``: only those positions are searched (faiss ``IDSelectorBitmap``, so ``min(k, allowed)``
        results come back, never a disallowed one); a GPU index, an HNSW index with at most
        :data:`EXACT_LIMIT` allowed vectors, or an HNSW search that found fewer than ``k`` is answered by
        scoring the allowed vectors exactly."""
        if self._index is None or self.size == 0 or k <= 0:
            return []
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if within is None:
            scores, ids = self._index.search(q, min(k, self.size))
            return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        k = min(k, within.count)
        if k == 0:
            return []
        import faiss as faiss_module

        faiss: Any = faiss_module  # the stubs lack the search parameters
        hnsw = isinstance(self._index, faiss.IndexHNSWFlat)
        if _on_gpu(self._index) or (hnsw and within.count <= EXACT_LIMIT):
            return self._exact(q[0], within.positions, k)
        selector = faiss.IDSelectorBitmap(self.size, faiss.swig_ptr(within.bits))
        params: Any
        if hnsw:
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(self.ef_search, k))
        else:  # flat: exact, and faster than unfiltered (disallowed vectors are skipped)
            params = faiss.SearchParameters(sel=selector)
        scores, ids = self._index.search(q, k, params=params)
        found = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        return found if len(found) >= k else self._exact(q[0], within.positions, k)

    def _exact(self, query: np.ndarray, positions: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` best of ``positions`` by exact inner product, batch by batch (bounded memory)."""
        best_pos = np.empty(0, dtype=np.int64)
        best_sim = np.empty(0, dtype=np.float32)
        for start in range(0, positions.size, _EXACT_BATCH):
            part = positions[start : start + _EXACT_BATCH]
            sims = self._vectors(part) @ query
            best_pos = np.concatenate([best_pos, part])
            best_sim = np.concatenate([best_sim, sims.astype(np.float32)])
            if best_pos.size > k:
                keep = np.argpartition(-best_sim, k - 1)[:k]
                best_pos, best_sim = best_pos[keep], best_sim[keep]
        order = np.lexsort((best_pos, -best_sim))
        return [(int(best_pos[i]), float(best_sim[i])) for i in order[:k]]

    def _vectors(self, positions: np.ndarray) -> np.ndarray:
        """The stored vectors at ``positions``, shape ``(len(positions), dimension)`` float32."""
        try:
            return np.asarray(self._index.reconstruct_batch(np.ascontiguousarray(positions, dtype=np.int64)))
        except (RuntimeError, AttributeError):  # an index type without batch reconstruction
            return np.vstack([self._index.reconstruct(int(p)) for p in positions])

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
