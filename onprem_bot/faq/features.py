"""Features of a (question, FAQ key) pair for the learned FAQ scorer (pure functions).

A paraphrase and a near-miss can have the same cosine: ``내일 비 올 확률 알려줘`` is close to
``오늘 오후 비 올 확률 알려줘`` and far from nothing. What tells them apart is *which* words differ:
a near-miss keeps the wording and swaps a rare noun, a paraphrase keeps the nouns and changes the
wording. So besides the two similarities the features measure the rare-word mass each side lacks,
noun differences, character n-gram overlap, quoted terms (``'훑었다'의 발음``), numbers, lengths
and the margin over the other candidates. :mod:`onprem_bot.faq.scorer` weighs them.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from onprem_bot.korean.normalize import normalize

FEATURES: tuple[str, ...] = (
    "combined", "dense", "lexical",
    "combined_margin", "dense_margin", "lexical_margin",
    "query_only_mass", "key_only_mass",
    "query_only_nouns_mass", "key_only_nouns_mass", "query_only_nouns", "key_only_nouns",
    "bigram_jaccard", "bigram_in_key", "bigram_in_query",
    "number_conflict", "term_conflict",
    "abs_length_ratio", "length_ratio", "query_tokens",
    "min_nouns_mass", "only_mass_product",
    "trigram_in_key", "quoted_in_key", "key_quoted_in_query", "rarest_in_key",
    "runner_trigram_in_key", "runner_quoted_in_key", "runner_key_quoted_in_query", "runner_rarest_in_key",
    "trigram_margin",
    "char", "char_margin", "runner_char",
)  # fmt: skip
"""Names of the values :func:`pair_features` returns, in order (stored with a fitted scorer)."""

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_QUOTED = re.compile(r"['\"‘’“”]([^'\"‘’“”]{1,30})['\"‘’“”]")


@dataclass(frozen=True)
class Text:
    """A question or FAQ key, analysed once: morpheme tokens, nouns, character n-grams, quoted terms."""

    raw: str
    tokens: tuple[str, ...]
    nouns: frozenset[str]
    compact: str
    bigrams: frozenset[str]
    trigrams: frozenset[str]
    quoted: tuple[str, ...]

    @property
    def token_set(self) -> frozenset[str]:
        """The distinct tokens."""
        return frozenset(self.tokens)


def compact(text: str) -> str:
    """NFKC, lower case, no spaces or punctuation (what character n-grams are taken from)."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", normalize(text)).lower())


def _grams(s: str, n: int) -> frozenset[str]:
    return frozenset(s[i : i + n] for i in range(max(len(s) - n + 1, 1)))


def analyse(analyzer: object, text: str) -> Text:
    """:class:`Text` of ``text`` (one Mecab pass through ``analyzer.tokens_and_nouns``)."""
    tokens, nouns = analyzer.tokens_and_nouns(text)  # type: ignore[attr-defined]
    c = compact(text)
    quoted = tuple(q for q in (compact(x) for x in _QUOTED.findall(text)) if q)
    return Text(text, tuple(tokens), frozenset(nouns), c, _grams(c, 2), _grams(c, 3), quoted)


@dataclass(frozen=True)
class Side:
    """A candidate key as seen from one question: the key, its entry's words, and its similarities."""

    key: Text
    entry_tokens: frozenset[str]
    entry_nouns: frozenset[str]
    lexical: float
    dense: float
    char: float = 0.0
    combined: float = 0.0
    """The matcher's weighted mix of the three."""


def _contained(part: Iterable[str], whole: str, empty: float = 0.5) -> float:
    items = list(part)
    return float(all(p in whole for p in items)) if items else empty


def _shared(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(len(a), 1)


def _key_side(query: Text, side: Side, idf: Mapping[str, float], unseen: float) -> list[float]:
    rarest = max(query.tokens, key=lambda t: idf.get(t, unseen)) if query.tokens else None
    return [
        _shared(query.trigrams, side.key.trigrams),
        _contained(query.quoted, side.key.compact),
        _contained(side.key.quoted, query.compact),
        0.5 if rarest is None else float(rarest in side.key.token_set),
    ]


def pair_features(
    query: Text,
    top: Side,
    runner: Side | None,
    others_max: tuple[float, float, float, float],
    idf: Mapping[str, float],
    rare: float,
    unseen: float | None = None,
) -> np.ndarray:
    """The :data:`FEATURES` of ``query`` against its best candidate ``top``.

    ``runner`` is the second candidate (another entry), ``others_max`` the best (combined, dense,
    lexical, char) over the other candidates, ``idf`` the FAQ keys' IDF, ``rare`` the median IDF and
    ``unseen`` the weight of a word no key has (default: the largest IDF; pass it precomputed).
    """
    if unseen is None:
        unseen = max(idf.values(), default=1.0)

    def weight(tokens: Iterable[str]) -> float:
        return sum(idf.get(t, unseen) for t in tokens)

    combined = top.combined
    q, k = query.token_set, top.key.token_set
    q_only = weight(q - top.entry_tokens) / (weight(q) or 1.0)
    k_only = weight(k - q) / (weight(k) or 1.0)
    qn_only_set = query.nouns - top.entry_nouns
    kn_only_set = top.key.nouns - query.nouns
    qn_only, kn_only = weight(qn_only_set), weight(kn_only_set)
    shared2 = len(query.bigrams & top.key.bigrams)
    q_numbers = {t for t in q if any(ch.isdigit() for ch in t)}
    k_numbers = {t for t in k if any(ch.isdigit() for ch in t)}
    rare_q = {t for t in q - k if idf.get(t, math.inf) >= rare}
    rare_k = {t for t in k - q if idf.get(t, 0.0) >= rare}
    length_ratio = math.log((len(query.compact) + 1) / (len(top.key.compact) + 1))
    mine = _key_side(query, top, idf, unseen)
    theirs = _key_side(query, runner, idf, unseen) if runner is not None else [0.0, 0.0, 0.0, 0.0]
    values = [
        combined,
        top.dense,
        top.lexical,
        combined - others_max[0],
        top.dense - others_max[1],
        top.lexical - others_max[2],
        q_only,
        k_only,
        qn_only,
        kn_only,
        float(len(qn_only_set)),
        float(len(kn_only_set)),
        shared2 / max(len(query.bigrams | top.key.bigrams), 1),
        shared2 / max(len(query.bigrams), 1),
        shared2 / max(len(top.key.bigrams), 1),
        float(bool(q_numbers and k_numbers and q_numbers != k_numbers)),
        float(bool(rare_q and rare_k and q & k)),
        abs(length_ratio),
        length_ratio,
        float(len(q)),
        min(qn_only, kn_only),
        q_only * k_only,
        *mine,
        *theirs,
        mine[0] - theirs[0],
        top.char,
        top.char - others_max[3],
        runner.char if runner is not None else 0.0,
    ]
    return np.asarray(values, dtype=np.float64)
