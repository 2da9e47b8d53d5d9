"""Character n-gram TF-IDF cosine between a question and the FAQ keys (an inverted index as arrays).

Morphemes miss what Mecab does not know or splits differently: a word asked about
(``'자작자작', '자박자박' 중 어떤 표현이 맞아요?``), a typo, a spacing variant (``몇째``/``몇 째``).
Character 2- and 3-grams of the compact text (no spaces or punctuation) still match them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from onprem_bot.faq.features import compact

NGRAMS = (2, 3)


def char_ngrams(text: str) -> Counter[str]:
    """Counts of the character 2- and 3-grams of ``compact(text)`` (a 1-character text is its own gram)."""
    s = compact(text)
    grams: Counter[str] = Counter()
    for n in NGRAMS:
        grams.update(s[i : i + n] for i in range(len(s) - n + 1))
    if not grams and s:
        grams[s] = 1
    return grams


class CharNgramIndex:
    """Cosine of sublinear TF-IDF character n-gram vectors; IDF from the indexed texts."""

    def __init__(self) -> None:
        self._idf: dict[str, float] = {}
        self._offsets: dict[str, tuple[int, int]] = {}
        self._rows = np.zeros(0, dtype=np.int32)
        self._weights = np.zeros(0, dtype=np.float32)
        self._n = 0

    def build(self, texts: Sequence[str]) -> None:
        """Index ``texts`` (row i of :meth:`scores` is ``texts[i]``)."""
        counts = [char_ngrams(t) for t in texts]
        n = len(counts)
        df = Counter(g for c in counts for g in c)
        self._idf = {g: math.log((1 + n) / (1 + d)) + 1 for g, d in df.items()}
        postings: dict[str, list[tuple[int, float]]] = {}
        for row, c in enumerate(counts):
            for g, w in self._vector(c).items():
                postings.setdefault(g, []).append((row, w))
        rows: list[int] = []
        weights: list[float] = []
        self._offsets = {}
        for g, items in postings.items():
            self._offsets[g] = (len(rows), len(rows) + len(items))
            rows.extend(r for r, _ in items)
            weights.extend(w for _, w in items)
        self._rows = np.asarray(rows, dtype=np.int32)
        self._weights = np.asarray(weights, dtype=np.float32)
        self._n = n

    def _vector(self, counts: Counter[str]) -> dict[str, float]:
        vec = {g: (1 + math.log(c)) * self._idf[g] for g, c in counts.items() if g in self._idf}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {g: v / norm for g, v in vec.items()}

    def scores(self, text: str) -> np.ndarray:
        """Cosine of ``text`` with every indexed text (grams no indexed text has count in the norm)."""
        out = np.zeros(self._n, dtype=np.float32)
        counts = char_ngrams(text)
        if not counts or not self._n:
            return out
        unseen = math.log(1 + self._n) + 1
        raw = {g: (1 + math.log(c)) * self._idf.get(g, unseen) for g, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in raw.values())) or 1.0
        for g, v in raw.items():
            span = self._offsets.get(g)
            if span is not None:
                start, end = span
                out[self._rows[start:end]] += (v / norm) * self._weights[start:end]
        return out
