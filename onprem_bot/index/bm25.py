"""BM25 over pre-tokenised documents (bm25s sparse matrices), persisted and memory-mapped."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from onprem_bot.errors import SearchIndexError

BM25_METHODS = ("lucene", "robertson", "atire", "bm25l", "bm25+")


class BM25Index:
    """BM25 scores for token lists; ``build`` or ``load``, then ``scores``/``top``."""

    def __init__(self, k1: float = 1.5, b: float = 0.75, method: str = "robertson") -> None:
        if method not in BM25_METHODS:
            raise ValueError(f"bm25 method={method!r}: valid: {', '.join(BM25_METHODS)}")
        if k1 <= 0 or not 0 <= b <= 1:
            raise ValueError(f"k1={k1}, b={b}: need k1 > 0 and 0 <= b <= 1")
        self.k1, self.b, self.method = k1, b, method
        self._model: object | None = None
        self._vocab: dict[str, int] = {}
        self.size = 0

    def build(self, corpus: Sequence[Sequence[str]]) -> BM25Index:
        """Index ``corpus`` (one token list per document, in index order)."""
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        model = bm25s.BM25(k1=self.k1, b=self.b, method=self.method)
        model.index([list(doc) for doc in corpus], show_progress=False)
        self._model, self._vocab, self.size = model, dict(model.vocab_dict), len(corpus)
        return self

    def save(self, folder: Path) -> None:
        """Write the sparse matrices and vocabulary into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        self._require().save(str(folder), show_progress=False)  # type: ignore[attr-defined]

    @classmethod
    def load(cls, folder: Path, size: int, mmap: bool = True) -> BM25Index:
        """Load an index written by :meth:`save` (memory-mapped by default)."""
        import bm25s

        try:
            model = bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False)
        except Exception as exc:
            raise SearchIndexError(
                f"BM25 색인을 읽을 수 없습니다 (corrupt BM25 index in {folder}: {exc}); 다시 수집하세요 (re-ingest)"
            ) from exc
        index = cls(k1=model.k1, b=model.b, method=model.method)
        index._model, index._vocab, index.size = model, dict(model.vocab_dict), size
        return index

    def known(self, tokens: Sequence[str]) -> list[str]:
        """The tokens that occur in the index vocabulary."""
        return [t for t in tokens if t in self._vocab]

    def document_frequency(self, tokens: Sequence[str]) -> np.ndarray:
        """How many documents contain each of ``tokens`` (0 for a token not in the index), shape ``(len(tokens),)``.

        Read from bm25s's token-major score matrix: a token's postings run from ``indptr[id]`` to ``indptr[id + 1]``.
        """
        indptr = self._require().scores["indptr"]  # type: ignore[attr-defined]
        out = np.zeros(len(tokens), dtype=np.int64)
        for i, t in enumerate(tokens):
            tid = self._vocab.get(t)
            if tid is not None:
                out[i] = int(indptr[tid + 1]) - int(indptr[tid])
        return out

    def scores(self, tokens: Sequence[str], allowed: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every document for the query ``tokens`` (unknown tokens ignored), float32 shape ``(size,)``.

        ``allowed`` (bool, shape ``(size,)``): the other documents score 0, so :func:`top_k` never returns them."""
        known = self.known(tokens)
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        scores = np.asarray(self._require().get_scores(known), dtype=np.float32)  # type: ignore[attr-defined]
        return scores if allowed is None else np.where(allowed, scores, np.float32(0))

    def _require(self) -> object:
        if self._model is None:
            raise SearchIndexError("BM25 색인이 없습니다 (BM25 index not built or loaded)")
        return self._model


def top_k(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Indices and scores of the ``k`` best positive scores, best first."""
    if k <= 0 or scores.size == 0:
        return []
    k = min(k, scores.size)
    idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return [(int(i), float(scores[i])) for i in idx if scores[i] > 0]
