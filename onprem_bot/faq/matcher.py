"""FAQ matching: exact, normalised-exact, then a learned two-tier decision (direct answer / suggestions).

A wrong FAQ answer is worse than none, so a question is answered from the FAQ directly (route
``faq``) only when
1. it equals an entry's question or alternative (after normalisation), or
2. the learned scorer (:class:`~onprem_bot.faq.scorer.LinearScorer`, fitted on small-FAQ
   calibration episodes for this embedder) gives its best candidate a probability of at least
   the scorer's *direct* bar, and the candidate's numbers do not differ (``3개월`` vs ``6개월``).

Otherwise the question goes on to the documents, and the candidates whose probability reaches
the lower *suggestion* bar (at most 3) come back as :attr:`FaqMatch.suggestions` (관련 FAQ).

Candidates are ranked by ``lexical_weight * lexical + char_weight * char + (rest) * dense`` where
*lexical* is the cosine of TF-IDF vectors over Mecab morphemes (IDF from the FAQ keys), *char*
the cosine of character 2/3-gram TF-IDF vectors (:mod:`onprem_bot.faq.chargrams`) and *dense* the
cosine of sentence embeddings; an entry scores its best key. The *decision* only uses the
size-invariant features of :mod:`onprem_bot.faq.features` (absolute similarities, whether the
question's content words are covered by the entry's question, alternatives and answer, a gap to
the other candidates), so it holds for a 10-entry FAQ as for a 500-entry one.

Without a scorer fitted for the embedder the plain rule decides: the mixed score must reach
``threshold``, beat the runner-up by ``margin`` and share the entry's key terms; entries scoring at
least ``suggest_threshold`` are suggested.
"""

from __future__ import annotations

import copy
import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from onprem_bot.faq.chargrams import CharNgramIndex
from onprem_bot.faq.features import EntryText, Text, analyse, candidate_features, entry_text, numbers
from onprem_bot.faq.scorer import LinearScorer
from onprem_bot.korean.normalize import normalize

log = logging.getLogger(__name__)


class EntryLike(Protocol):
    """What the matcher needs of an FAQ entry."""

    @property
    def id(self) -> Any: ...

    @property
    def question(self) -> str: ...

    @property
    def answer(self) -> str: ...

    @property
    def alternatives(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Candidate:
    """An entry's best key for a question, with its scores and any conflicting terms."""

    entry_id: Any
    key: str
    score: float
    lexical: float
    dense: float
    conflicts: tuple[str, ...] = ()
    features: np.ndarray | None = None
    """The scorer's features (when asked for, or with a scorer)."""
    probability: float | None = None
    """The scorer's probability that this entry is the right one (with a scorer)."""


@dataclass(frozen=True)
class FaqSuggestion:
    """An entry offered as 관련 FAQ when the question was not answered from the FAQ directly."""

    id: Any
    question: str
    score: float
    """The decision's score for this entry (the matcher's confidence scale, 0..1)."""

    def as_json(self) -> dict[str, Any]:
        """``{"id", "question", "score"}`` (``faq match --json`` / ``ask --json``)."""
        return {"id": self.id, "question": self.question, "score": round(self.score, 4)}


@dataclass(frozen=True)
class FaqMatch:
    """The decision for one question (``faq match --json``)."""

    matched: bool
    id: Any
    question: str | None
    answer: str | None
    score: float
    runner_up_id: Any = None
    runner_up_question: str | None = None
    runner_up_score: float = 0.0
    reason: str = ""
    matched_key: str | None = None
    confidence: float | None = None
    """The learned scorer's probability that the best entry is right (None under the rule)."""
    suggestions: tuple[FaqSuggestion, ...] = ()
    """At most 3 related entries above the suggestion bar; empty when matched."""

    def as_json(self) -> dict[str, Any]:
        """The DESIGN.md contract plus the runner-up and the reason."""
        return {
            "matched": self.matched,
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "score": round(self.score, 4),
            "runner_up": {
                "id": self.runner_up_id,
                "question": self.runner_up_question,
                "score": round(self.runner_up_score, 4),
            },
            "reason": self.reason,
            "matched_key": self.matched_key,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "suggestions": [s.as_json() for s in self.suggestions],
        }


CANDIDATES = 5
"""Entries the decision looks at (each gets the scorer's features; the gap compares them)."""
SUGGESTIONS = 3
"""At most this many suggestions."""
KEY_SIDES = ("passage", "query")

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


def exact_key(text: str) -> str:
    """Normalised-exact form: NFKC, lower case, no spaces or punctuation, no trailing '?'."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", normalize(text)).lower())


class FaqMatcher:
    """Matches questions against FAQ entries (call :meth:`build` whenever entries change)."""

    def __init__(
        self,
        analyzer: Any,
        embedder: Any | None,
        threshold: float = 0.7,
        margin: float = 0.05,
        lexical_weight: float = 0.5,
        check_conflicts: bool = True,
        scorer: LinearScorer | None = None,
        char_weight: float = 0.0,
        suggest_threshold: float | None = None,
        key_side: str | None = None,
    ) -> None:
        for name, value in (("lexical_weight", lexical_weight), ("char_weight", char_weight)):
            if not 0 <= value <= 1:
                raise ValueError(f"{name}={value}: must be in 0..1")
        if lexical_weight + char_weight > 1 + 1e-9:
            raise ValueError(f"lexical_weight + char_weight = {lexical_weight + char_weight}: must be at most 1")
        if embedder is None and lexical_weight + char_weight < 1 - 1e-9:
            raise ValueError("without an embedder lexical_weight + char_weight must be 1")
        if scorer is not None and key_side is not None and key_side != scorer.key_side:
            log.warning(
                "FAQ scorer for %s was calibrated with keys embedded as %s, not %s: using %s "
                "(re-run `onprem-bot faq calibrate --key-sides %s --write FILE` for the other)",
                scorer.embedder,
                scorer.key_side,
                key_side,
                scorer.key_side,
                key_side,
                extra={"event": "faq_key_side"},
            )
        if scorer is not None:  # the scorer's bars hold for the keys it was calibrated with
            key_side = scorer.key_side
        key_side = key_side or KEY_SIDES[0]
        if key_side not in KEY_SIDES:
            raise ValueError(f"key_side={key_side!r}: one of {KEY_SIDES}")
        self.analyzer = analyzer
        self.embedder = embedder
        self.threshold = threshold
        self.margin = margin
        self.suggest_threshold = threshold - 0.15 if suggest_threshold is None else suggest_threshold
        self.lexical_weight = lexical_weight
        self.char_weight = char_weight
        self.dense_weight = max(0.0, 1.0 - lexical_weight - char_weight)
        self.check_conflicts = check_conflicts
        self.scorer = scorer
        self.key_side = key_side
        self._entries: dict[Any, EntryLike] = {}
        self._keys: list[tuple[Any, str]] = []
        self._exact: dict[str, Any] = {}
        self._idf: dict[str, float] = {}
        self._key_tokens: list[frozenset[str]] = []
        self._key_texts: list[Text] = []
        self._entry_texts: dict[Any, EntryText] = {}
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        """token → (key rows, their TF-IDF weights): scoring a query is one vector add per token."""
        self._dense: np.ndarray | None = None
        self._chars = CharNgramIndex()
        self._rare = 0.0

    def build(self, entries: Sequence[EntryLike]) -> None:
        """Index the questions, alternatives and answers of ``entries``."""
        self._entries = {e.id: e for e in entries}
        self._keys = [(e.id, k) for e in entries for k in dict.fromkeys([e.question, *e.alternatives]) if k.strip()]
        self._exact = {}
        for entry_id, key in self._keys:
            self._exact.setdefault(exact_key(key), entry_id)
        self._key_texts = [analyse(self.analyzer, k) for _, k in self._keys]
        tokens = [list(t.tokens) for t in self._key_texts]
        by_entry: dict[Any, list[Text]] = {}
        for (entry_id, _), text in zip(self._keys, self._key_texts, strict=True):
            by_entry.setdefault(entry_id, []).append(text)
        self._entry_texts = {}
        if self.scorer is not None or self._wants_entry_texts:
            for entry_id, texts in by_entry.items():
                answer = self._entries[entry_id].answer
                self._entry_texts[entry_id] = entry_text(
                    texts, analyse(self.analyzer, answer) if answer and answer.strip() else None
                )
        n = len(tokens)
        df = Counter(t for toks in tokens for t in set(toks))
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._rare = float(np.median(list(self._idf.values()))) if self._idf else 0.0
        self._key_tokens = [t.token_set for t in self._key_texts]
        lists: dict[str, tuple[list[int], list[float]]] = {}
        for i, key_tokens in enumerate(tokens):
            for t, w in self._tfidf(key_tokens).items():
                rows, weights = lists.setdefault(t, ([], []))
                rows.append(i)
                weights.append(w)
        self._postings = {
            t: (np.asarray(rows, dtype=np.int32), np.asarray(weights, dtype=np.float32))
            for t, (rows, weights) in lists.items()
        }
        self._chars.build([k for _, k in self._keys])
        self._dense = None
        if self.embedder is not None and self._keys and (self.dense_weight > 0 or self.scorer is not None):
            self._dense = embed_keys(self.embedder, [k for _, k in self._keys], self.key_side)

    def fresh(self) -> FaqMatcher:
        """A matcher with the same models, weights and bars and no entries (to :meth:`build` over another set)."""
        out = copy.copy(self)
        out._chars = CharNgramIndex()
        out.build([])
        return out

    _wants_entry_texts = False
    """Set on an instance (calibration) to analyse answers without a scorer."""

    @property
    def size(self) -> int:
        """How many entries are indexed."""
        return len(self._entries)

    def candidates(self, question: str, n: int = 2, features: bool = False) -> list[Candidate]:
        """The best ``n`` entries for ``question`` (each with its best key), best first by mixed score.

        With ``features`` (or a scorer) every candidate carries the scorer's features (and with a
        scorer its probability); the features compare each with the best :data:`CANDIDATES` entries.
        """
        if not self._keys:
            return []
        query = analyse(self.analyzer, question)
        qvec = self._tfidf(query.tokens)
        lexical = np.zeros(len(self._keys), dtype=np.float32)
        for t, w in qvec.items():
            posting = self._postings.get(t)
            if posting is not None:
                lexical[posting[0]] += w * posting[1]
        dense = np.zeros(len(self._keys), dtype=np.float32)
        if self._dense is not None and self.embedder is not None:
            # einsum, not BLAS: a threaded BLAS call left spinning slows the next query encoding
            # (e5's OpenMP threads) several-fold on 2 cores
            dense = np.einsum("ij,j->i", self._dense, self.embedder.embed_query(question).astype(np.float32))
        scored = features or self.scorer is not None
        chars = self._chars.scores(question) if self.char_weight > 0 else np.zeros_like(lexical)
        combined = self.lexical_weight * lexical + self.char_weight * chars + self.dense_weight * dense
        want = max(n, CANDIDATES) if scored else n
        best: dict[Any, int] = {}
        for i in _top_indices(combined, max(50, 8 * want)):
            entry_id = self._keys[i][0]
            if entry_id not in best:
                best[entry_id] = int(i)
            if len(best) >= want:
                break
        picked = list(best.values())
        vectors: list[np.ndarray | None] = [None] * len(picked)
        if scored and self._entry_texts:
            vectors = self._features(query, picked, dense, combined)
        out = []
        for rank, i in enumerate(picked[: max(n, len(picked) if scored else n)]):
            conflicts = self._conflicts(query.token_set, i) if self.check_conflicts else ()
            vector = vectors[rank]
            out.append(
                Candidate(
                    self._keys[i][0],
                    self._keys[i][1],
                    float(combined[i]),
                    float(lexical[i]),
                    float(dense[i]),
                    conflicts,
                    vector,
                    self.scorer.probability(vector) if self.scorer is not None and vector is not None else None,
                )
            )
        return out

    def _features(
        self, query: Text, picked: list[int], dense: np.ndarray, combined: np.ndarray
    ) -> list[np.ndarray | None]:
        out: list[np.ndarray | None] = []
        d = [float(dense[i]) for i in picked]
        c = [float(combined[i]) for i in picked]
        for rank, i in enumerate(picked):
            others_d = [x for j, x in enumerate(d) if j != rank]
            others_c = [x for j, x in enumerate(c) if j != rank]
            # an entry's best key by the mix; its dense cosine is the best over its keys
            out.append(
                candidate_features(
                    query,
                    self._key_texts[i],
                    self._entry_texts[self._keys[i][0]],
                    d[rank],
                    max(others_d, default=0.0),
                    c[rank] - max(others_c, default=0.0),
                    d[rank] >= max(others_d, default=-1.0),
                )
            )
        return out

    def match(self, question: str, threshold: float | None = None, margin: float | None = None) -> FaqMatch:
        """Decide whether ``question`` is one of the FAQ entries (else which ones to suggest)."""
        threshold = self.threshold if threshold is None else threshold
        margin = self.margin if margin is None else margin
        if not question or not question.strip():
            return FaqMatch(False, None, None, None, 0.0, reason="empty")
        exact = self._exact.get(exact_key(question))
        if exact is not None:
            entry = self._entries[exact]
            return FaqMatch(True, entry.id, entry.question, entry.answer, 1.0, reason="exact", matched_key=question)
        cands = self.candidates(question, n=2)
        if not cands:
            return FaqMatch(False, None, None, None, 0.0, reason="no_entries")
        confidence = None
        if self.scorer is not None and cands[0].probability is not None:
            ranked = sorted(cands, key=lambda c: -(c.probability or 0.0))
            top = ranked[0]
            confidence = top.probability or 0.0
            reason = decide_learned(confidence, top.conflicts, self.scorer)
            bar = self.scorer.suggest_threshold
            suggest = [(c, c.probability or 0.0) for c in ranked if (c.probability or 0.0) >= bar]
        else:
            ranked = cands
            top = cands[0]
            reason = decide(top.score, cands[1].score if len(cands) > 1 else 0.0, top.conflicts, threshold, margin)
            suggest = [(c, c.score) for c in cands if c.score >= self.suggest_threshold]
        second = ranked[1] if len(ranked) > 1 else None
        entry = self._entries[top.entry_id]
        matched = reason == "score"
        suggestions: tuple[FaqSuggestion, ...] = ()
        if not matched:
            suggestions = tuple(
                FaqSuggestion(c.entry_id, self._entries[c.entry_id].question, s) for c, s in suggest[:SUGGESTIONS]
            )
        return FaqMatch(
            matched,
            entry.id if matched else None,
            entry.question if matched else None,
            entry.answer if matched else None,
            top.score,
            runner_up_id=second.entry_id if second else None,
            runner_up_question=self._entries[second.entry_id].question if second else None,
            runner_up_score=second.score if second else 0.0,
            reason=reason if matched else f"{reason}: {entry.question}",
            matched_key=top.key if matched else None,
            confidence=confidence,
            suggestions=suggestions,
        )

    def _tfidf(self, tokens: Sequence[str]) -> dict[str, float]:
        counts = Counter(tokens)
        vec = {t: (1 + math.log(c)) * self._idf.get(t, 0.0) for t, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items() if v > 0}

    def _conflicts(self, query: frozenset[str], i: int) -> tuple[str, ...]:
        key = self._key_tokens[i]
        q_numbers, k_numbers = numbers(query), numbers(key)
        out = []
        if q_numbers and k_numbers and q_numbers != k_numbers:
            out.append("number: " + ",".join(sorted(q_numbers ^ k_numbers)))
        # a swapped content word: both sides keep a rare word the other lacks, while sharing others
        rare = self._rare
        q_only = {t for t in query - key if self._idf.get(t, math.inf) >= rare}  # unseen words are rare
        k_only = {t for t in key - query if self._idf.get(t, 0.0) >= rare}
        shared = query & key
        if q_only and k_only and shared:
            out.append("term: " + ",".join(sorted(q_only)) + " ≠ " + ",".join(sorted(k_only)))
        return tuple(out)


def embed_keys(embedder: Any, texts: Sequence[str], key_side: str = "passage") -> np.ndarray:
    """The FAQ keys' vectors on ``key_side``: e5 embeds a ``query`` and a ``passage`` differently.

    A symmetric embedder (USE) gives the same vectors either way.
    """
    items = list(texts)
    try:
        return np.asarray(embedder.embed(items, side=key_side), dtype=np.float32)
    except TypeError:  # an embedder without sides
        if key_side == "query":
            return np.vstack([embedder.embed_query(t) for t in items]).astype(np.float32)
        return np.asarray(embedder.embed(items), dtype=np.float32)


def _top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest ``scores``, best first, ties by index (a partial sort)."""
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]


def decide_learned(confidence: float, conflicts: Sequence[str], scorer: LinearScorer) -> str:
    """The learned rule: probability over the direct bar, and no different number (pure)."""
    found = [c for c in conflicts if c.startswith("number")]
    if found:
        return "conflict " + "; ".join(found)
    if confidence < scorer.threshold:  # the bar is named: a 0.98 "low" confidence otherwise reads as a bug
        return f"low_confidence {confidence:.4f} < direct bar {scorer.threshold:.4f}"
    return "score"


def decide(score: float, runner_up: float, conflicts: Sequence[str], threshold: float, margin: float) -> str:
    """``score`` when it is a match, else why not (pure: calibration replays it)."""
    if score < threshold:
        return "below_threshold"
    if score - runner_up < margin:
        return "small_margin"
    if conflicts:
        return "conflict " + "; ".join(conflicts)
    return "score"
