"""Answer-vs-reference text metrics as pure functions over token lists.

The seed teams compared a generated answer with the reference answer by TF-IDF cosine
similarity, ROUGE and BLEU; here every metric takes tokens (the project's Mecab tokens from
:class:`onprem_bot.korean.analyzer.KoreanAnalyzer`, via :func:`tokenize`) so that the functions
stay pure and are tested on hand-computed cases.

* :func:`tfidf_cosine`: raw term counts × smoothed IDF ``ln((1 + N) / (1 + df)) + 1`` fitted on
  the given documents (by default just the two texts, as scikit-learn's ``TfidfVectorizer`` does
  when fitted on the pair), cosine of the two vectors.
* :func:`rouge_l`: longest common subsequence precision, recall and F1.
* :func:`bleu`: sentence BLEU, geometric mean of modified n-gram precisions (n = 1..4) × brevity
  penalty; with ``smooth`` (default) n-gram orders above 1 get add-one smoothing (Lin & Och
  2004), so that a short answer without a matching 4-gram does not score 0.
* :func:`hit_at_k` / :func:`reciprocal_rank`: one question's retrieval rank, 1-based or None.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

Tokens = Sequence[str]


def tokenize(analyzer: Any, text: str) -> list[str]:
    """Mecab content tokens of ``text`` (numbers with their units, legal references as one token)."""
    return list(analyzer.tokens(text or ""))


def idf_table(documents: Iterable[Tokens]) -> dict[str, float]:
    """Smoothed IDF per term: ``ln((1 + N) / (1 + df)) + 1`` over ``documents``."""
    docs = [set(d) for d in documents]
    n = len(docs)
    df: Counter[str] = Counter()
    for d in docs:
        df.update(d)
    return {term: math.log((1 + n) / (1 + count)) + 1.0 for term, count in df.items()}


def tfidf_cosine(a: Tokens, b: Tokens, idf: dict[str, float] | None = None) -> float:
    """Cosine similarity of the TF-IDF vectors of ``a`` and ``b`` (0.0 when either is empty).

    ``idf`` defaults to :func:`idf_table` over the two texts; a term missing from a given table
    gets the table's largest IDF (the rarest term's).
    """
    if not a or not b:
        return 0.0
    table = idf_table([a, b]) if idf is None else idf
    unseen = max(table.values(), default=1.0)
    ca, cb = Counter(a), Counter(b)

    def weight(term: str, count: int) -> float:
        return count * table.get(term, unseen)

    va = {t: weight(t, c) for t, c in ca.items()}
    vb = {t: weight(t, c) for t, c in cb.items()}
    dot = sum(w * vb.get(t, 0.0) for t, w in va.items())
    norm = math.sqrt(sum(w * w for w in va.values())) * math.sqrt(sum(w * w for w in vb.values()))
    return dot / norm if norm else 0.0


def lcs_length(a: Tokens, b: Tokens) -> int:
    """Length of the longest common subsequence of two token lists."""
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, start=1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l(candidate: Tokens, reference: Tokens) -> dict[str, float]:
    """ROUGE-L: ``{"precision", "recall", "f1"}`` from the LCS of candidate and reference."""
    lcs = lcs_length(candidate, reference)
    if lcs == 0:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    p, r = lcs / len(candidate), lcs / len(reference)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r)}


def ngrams(tokens: Tokens, n: int) -> Counter[tuple[str, ...]]:
    """Counts of the ``n``-grams of ``tokens``."""
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def bleu(candidate: Tokens, reference: Tokens, max_n: int = 4, smooth: bool = True) -> float:
    """Sentence BLEU of ``candidate`` against one ``reference`` (0..1).

    ``BP × exp(mean(log p_n))`` for n = 1..max_n, ``p_n`` the clipped n-gram precision and
    ``BP = exp(1 - r/c)`` when the candidate is shorter than the reference (else 1). With
    ``smooth``, ``p_n = (matches + 1) / (total + 1)`` for n ≥ 2; without it any zero precision
    gives 0. An empty candidate scores 0.
    """
    if not candidate or not reference:
        return 0.0
    logs = []
    for n in range(1, max_n + 1):
        cand, ref = ngrams(candidate, n), ngrams(reference, n)
        total = sum(cand.values())
        matches = sum(min(c, ref[g]) for g, c in cand.items())
        if smooth and n > 1:
            matches, total = matches + 1, total + 1
        if total == 0 or matches == 0:
            return 0.0
        logs.append(math.log(matches / total))
    c, r = len(candidate), len(reference)
    bp = 1.0 if c > r else math.exp(1 - r / c)
    return bp * math.exp(sum(logs) / len(logs))


def hit_at_k(rank: int | None, k: int) -> float:
    """1.0 when the first relevant result is within the top ``k`` (rank is 1-based), else 0.0."""
    return 1.0 if rank is not None and 1 <= rank <= k else 0.0


def reciprocal_rank(rank: int | None, k: int | None = None) -> float:
    """``1/rank`` of the first relevant result (0.0 when none, or when beyond ``k``)."""
    if rank is None or rank < 1 or (k is not None and rank > k):
        return 0.0
    return 1.0 / rank


def mean(values: Iterable[float]) -> float | None:
    """Arithmetic mean, None for no values."""
    vals = list(values)
    return sum(vals) / len(vals) if vals else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) by linear interpolation (numpy's default), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
