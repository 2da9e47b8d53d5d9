"""Features of a (question, FAQ entry) pair for the learned FAQ decision (pure functions).

A paraphrase and a near-miss can have the same cosine: ``복지카드 사용처`` is as close to
``복지카드 발급 방법`` as ``복지카드 신청은 어디서 해요?`` is. What tells them apart is whether the
question's own content words are *covered* by the entry: by its question and alternatives, or by
its answer (the answer of ``복지카드 발급 방법`` talks about 신청, never about 사용처).

Every feature is **size-invariant**: it looks at the question and one entry (and, for the gap,
the few best other candidates), never at statistics of the whole FAQ such as its IDF, so one
decision fitted on calibration episodes holds for a 10-entry FAQ and a 500-entry one alike
(the morpheme TF-IDF of the matcher only *ranks* candidates). :mod:`onprem_bot.faq.scorer`
weighs the features.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from onprem_bot.korean.normalize import normalize

FEATURES: tuple[str, ...] = (
    "dense", "dense_gap", "dense_rank_first",
    "combined_gap",
    "bigram_dice", "bigram_in_key", "key_bigrams_in_query", "trigram_in_key",
    "bigram_in_entry",
    "uncovered_by_keys", "uncovered_by_entry", "uncovered_nouns_by_keys", "uncovered_nouns_by_entry",
    "uncovered_share_by_entry",
    "key_nouns_missing", "key_missing_share",
    "quoted_in_key", "key_quoted_in_query",
    "number_conflict",
    "abs_length_ratio", "query_tokens",
    "dense_x_uncovered",
)  # fmt: skip
"""Names of the values :func:`candidate_features` returns, in order (stored with a fitted scorer)."""

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_QUOTED = re.compile(r"['\"‘’“”]([^'\"‘’“”]{1,30})['\"‘’“”]")


@dataclass(frozen=True)
class Text:
    """A question, FAQ key or answer, analysed once: morpheme tokens, nouns, character n-grams, quoted terms."""

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
class EntryText:
    """What an FAQ entry offers to cover a question's words: its keys' words and its answer's words."""

    key_tokens: frozenset[str]
    key_nouns: frozenset[str]
    key_compact: str
    """The compact keys joined by a newline (for substring coverage of compounds)."""
    all_tokens: frozenset[str]
    all_nouns: frozenset[str]
    all_compact: str
    """The same with the answer added."""
    all_bigrams: frozenset[str]
    has_answer: bool


def entry_text(keys: Iterable[Text], answer: Text | None) -> EntryText:
    """:class:`EntryText` of an entry's analysed keys and answer."""
    keys = list(keys)
    key_tokens = frozenset(t for k in keys for t in k.tokens)
    key_nouns = frozenset(n for k in keys for n in k.nouns)
    key_compact = "\n".join(k.compact for k in keys)
    if answer is None or not answer.compact:
        bigrams = frozenset(g for k in keys for g in k.bigrams)
        return EntryText(key_tokens, key_nouns, key_compact, key_tokens, key_nouns, key_compact, bigrams, False)
    return EntryText(
        key_tokens,
        key_nouns,
        key_compact,
        key_tokens | answer.token_set,
        key_nouns | answer.nouns,
        key_compact + "\n" + answer.compact,
        frozenset(g for k in keys for g in k.bigrams) | answer.bigrams,
        True,
    )


def _covered(word: str, tokens: frozenset[str], text: str) -> bool:
    """``word`` is one of ``tokens``, or (two characters or more) appears in ``text`` (compounds, spacing)."""
    return word in tokens or (len(word) >= 2 and word.lower() in text)


def uncovered(words: Iterable[str], tokens: frozenset[str], text: str) -> list[str]:
    """The ``words`` an entry does not cover (see :func:`_covered`)."""
    return [w for w in words if not _covered(w, tokens, text)]


def _contained(part: Iterable[str], whole: str, empty: float = 0.5) -> float:
    items = list(part)
    return float(all(p in whole for p in items)) if items else empty


def _shared(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(len(a), 1)


def numbers(tokens: Iterable[str]) -> frozenset[str]:
    """The tokens that hold a digit (``3개월``, ``80%``)."""
    return frozenset(t for t in tokens if any(ch.isdigit() for ch in t))


def candidate_features(
    query: Text, key: Text, entry: EntryText, dense: float, dense_other: float, combined_gap: float, dense_first: bool
) -> np.ndarray:
    """The :data:`FEATURES` of ``query`` against one candidate entry.

    ``key`` is the entry's best key for the question, ``entry`` its words, ``dense`` the embedding
    cosine with that key, ``dense_other`` the best cosine of the other candidates, ``combined_gap``
    the matcher's mixed score minus the best other candidate's, and ``dense_first`` whether no other
    candidate has a higher cosine.
    """
    q_tokens = query.token_set
    q_words = sorted(q_tokens)
    q_nouns = sorted(query.nouns)
    by_keys = uncovered(q_words, entry.key_tokens, entry.key_compact)
    by_entry = uncovered(by_keys, entry.all_tokens, entry.all_compact)
    nouns_by_keys = uncovered(q_nouns, entry.key_tokens | entry.key_nouns, entry.key_compact)
    nouns_by_entry = uncovered(nouns_by_keys, entry.all_tokens | entry.all_nouns, entry.all_compact)
    key_missing = uncovered(sorted(key.token_set), q_tokens, query.compact)
    key_nouns_missing = uncovered(sorted(key.nouns), q_tokens | query.nouns, query.compact)
    shared2 = len(query.bigrams & key.bigrams)
    q_numbers, k_numbers = numbers(q_tokens), numbers(key.token_set)
    length_ratio = math.log((len(query.compact) + 1) / (len(key.compact) + 1))
    share_by_entry = len(by_entry) / max(len(q_words), 1)
    values = [
        dense,
        dense - dense_other,
        float(dense_first),
        combined_gap,
        2 * shared2 / max(len(query.bigrams) + len(key.bigrams), 1),
        shared2 / max(len(query.bigrams), 1),
        shared2 / max(len(key.bigrams), 1),
        _shared(query.trigrams, key.trigrams),
        _shared(query.bigrams, entry.all_bigrams),
        float(len(by_keys)),
        float(len(by_entry)),
        float(len(nouns_by_keys)),
        float(len(nouns_by_entry)),
        share_by_entry,
        float(len(key_nouns_missing)),
        len(key_missing) / max(len(key.token_set), 1),
        _contained(query.quoted, key.compact),
        _contained(key.quoted, query.compact),
        float(bool(q_numbers and k_numbers and q_numbers != k_numbers)),
        abs(length_ratio),
        math.log1p(len(q_tokens)),
        dense * share_by_entry,
    ]
    return np.asarray(values, dtype=np.float64)
