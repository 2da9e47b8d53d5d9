"""The embedder interface: one abstract method, the conveniences on the base class.

Asymmetric models (multilingual-e5) embed a question and a document differently: the *query*
side is for what a user types (questions, FAQ keys), the *passage* side for what is searched
(chunks). Symmetric models (USE, sentence-transformers, the hash fake) ignore the side.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from onprem_bot.errors import OnpremBotError

SIDES = ("query", "passage")
"""Valid values of ``side``: ``query`` (questions, FAQ keys) and ``passage`` (document chunks)."""


class EmbedderError(OnpremBotError):
    """An embedding model is missing, cannot be loaded, or returned something unusable."""


def check_side(side: str) -> str:
    """``side`` itself, or a ValueError naming the valid sides."""
    if side not in SIDES:
        raise ValueError(f"side={side!r}: valid: {', '.join(SIDES)}")
    return side


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` as float32 with every row scaled to unit L2 norm (all-zero rows stay zero)."""
    out = np.array(vectors, dtype=np.float32, copy=True, ndmin=2)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


class Embedder(ABC):
    """A sentence-embedding model.

    Subclasses set :attr:`name` (a stable key: vectors from embedders of different names are
    never mixed in one index or cache) and :attr:`dimension`, and implement :meth:`embed_batch`
    (the passage side). An asymmetric model also overrides :meth:`embed_query_batch`, sets
    :attr:`symmetric` to False and, when it reads only a prefix of long texts, :meth:`fit`.
    Models are loaded on first use (:meth:`warm_up`), never at construction.
    """

    name: str
    dimension: int
    symmetric: bool = True
    """True when the query and passage sides give the same vector (the side is ignored)."""

    @abstractmethod
    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed one batch on the passage side: shape ``(len(texts), dimension)`` (need not be normalised)."""

    def embed_query_batch(self, texts: list[str]) -> np.ndarray:
        """Embed one batch on the query side; symmetric models: the same as :meth:`embed_batch`."""
        return self.embed_batch(texts)

    def fit(self, text: str, side: str = "passage") -> str:
        """The part of ``text`` the model reads on ``side`` (default: all of it).

        Cache keys are computed on this text, so a key names exactly what was embedded.
        """
        return text

    def warm_up(self) -> None:
        """Load the model now (idempotent); the default has nothing to load."""
        return None

    def embed(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: bool = False,
        desc: str = "임베딩",
        side: str = "passage",
    ) -> np.ndarray:
        """Embed ``texts`` on ``side`` in batches: float32 rows of unit length, in input order.

        ``progress`` shows a tqdm bar on stderr. Empty input gives shape ``(0, dimension)``.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        check_side(side)
        items = [str(t) for t in texts]
        if not items:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.warm_up()
        dimension = self.dimension
        out = np.empty((len(items), dimension), dtype=np.float32)
        run = self.embed_query_batch if side == "query" else self.embed_batch
        from tqdm import tqdm

        with tqdm(total=len(items), desc=desc, unit="문장", disable=not progress, file=sys.stderr) as bar:
            for start in range(0, len(items), batch_size):
                batch = [self.fit(t, side) for t in items[start : start + batch_size]]
                vectors = np.asarray(run(batch), dtype=np.float32)
                if vectors.shape != (len(batch), dimension):
                    raise EmbedderError(
                        f"임베딩 모양이 잘못되었습니다 (bad embedding shape) from {self.name}: "
                        f"{vectors.shape}, expected {(len(batch), dimension)}"
                    )
                out[start : start + len(batch)] = vectors
                bar.update(len(batch))
        return normalize_rows(out)

    def embed_query(self, text: str) -> np.ndarray:
        """One text (a question) on the query side as a 1-D unit vector."""
        return self.embed([text], side="query")[0]

    def embed_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Many texts on the query side (FAQ keys with ``faq.key_side = "query"``): :meth:`embed`."""
        return self.embed(texts, batch_size=batch_size, side="query")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
