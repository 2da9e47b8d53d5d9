"""Grounding beyond numbers: is each answer sentence said by a cited source sentence, and does the
answer as a whole address the question?

For each answer sentence (its content morphemes, :func:`content_tokens`, less answer filler):

- **support**: the share of its morphemes found in its best source sentence, or in its best two
  together, among the sentences of the sources it cites; below the bar, the cosine of the answer
  sentence (query side) with its closest source sentences (passage side) may still support it
  when the checker has an embedder and the bars give a cosine bar. Else ``unsupported``
  (``low_support``).
- **negation**: the final predicate's polarity (:func:`negative`) differs from that of every
  source sentence about the same thing (``할 수 있다`` for ``할 수 없다``): ``unsupported``
  (``negation``).
- **conditions**: a condition clause of its best source sentence (``…한 경우``, ``…하면``,
  ``… 이상 …한``) none of whose words or values is in the answer sentence or the question:
  ``unsupported`` (``condition_dropped``), or ``exception_as_rule`` when the source sentence is
  an exception (``다만``, ``단,``, ``그러하지 아니하다``).
- **values**: a value whose words match another source sentence far better than the sentences
  stating it (the right number in the wrong sentence): ``unsupported`` (``value_elsewhere``).

The answer as a whole (:mod:`onprem_bot.checker.asked`): the thing asked and the question's
subject, else ``off_topic``. Bars: :mod:`onprem_bot.checker.bars`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from onprem_bot.checker.asked import GENERIC, addressed, asked, topic_coverage
from onprem_bot.checker.bars import GroundingBars
from onprem_bot.checker.facts import extract_facts, same_value
from onprem_bot.checker.polarity import advice, conditions, has_predicate, is_exception, negative, polarities
from onprem_bot.checker.prepare import Sentence, Tokenize, content_tokens

FILLER = frozenset(
    {"따르", "네", "예", "아니", "요", "말", "설명", "답변", "문서", "자료", "출처", "해당", "내용", "규정"}
)
_CONDITION_GENERIC = frozenset({"경우", "때", "시", "이상", "이하", "해당", "이", "그", "하"})
MIN_WORDS = 2
"""An answer sentence with fewer content words is not judged (``모두 합하면 총 7회입니다``)."""
CANDIDATES = 3
"""Source sentences (closest by overlap) whose cosine with an answer sentence is computed."""


@dataclass
class Judgement:
    """The features of one answer sentence and what they say under the bars."""

    sentence: Sentence
    overlap: float = 1.0
    single: float = 1.0
    """The share found in the best source sentence alone (negation and conditions are judged above a bar)."""
    cosine: float | None = None
    best: Sentence | None = None
    polarity_ok: bool = True
    dropped: str | None = None
    exception: bool = False
    value_gap: float = 0.0


class Vectors:
    """Sentence vectors of one embedder, source sentences cached by text."""

    def __init__(self, embedder: Any, size: int = 4096) -> None:
        self.embedder = embedder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.size = size

    def cosines(self, query: str, passages: Sequence[str]) -> list[float]:
        """Cosine of ``query`` (query side) with each of ``passages`` (passage side)."""
        todo = list(dict.fromkeys(p for p in passages if p not in self._cache))
        if todo:
            for text, v in zip(todo, self.embedder.embed(todo, side="passage"), strict=True):
                self._cache[text] = v
                if len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        q = self.embedder.embed([query], side="query")[0]
        return [float(np.dot(q, self._cache[p])) if p in self._cache else 0.0 for p in passages]


def _share(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a) if a else 1.0


def judge_sentence(
    s: Sentence, pool: list[Sentence], tokenize: Tokenize, asked_tokens: frozenset[str], vectors: Vectors | None,
    bars: GroundingBars, measure: bool = False,
) -> Judgement | None:  # fmt: skip
    """The features of answer sentence ``s`` against the source sentences ``pool`` (None: nothing to judge)."""
    if not pool or advice(s.text):
        return None
    used = frozenset().union(*(p.tokens for p in pool))
    words = frozenset(t for t in s.tokens - FILLER if len(t) > 1 or t in used)
    if len(words) < MIN_WORDS:
        return None  # too little to judge by words (the number check judges its values)
    ranked = sorted(pool, key=lambda p: (len(words & p.tokens), -len(p.tokens)), reverse=True)
    j = Judgement(s, best=ranked[0])
    single = _share(words, ranked[0].tokens)
    pair = _share(words, ranked[0].tokens | ranked[1].tokens) if len(ranked) > 1 else single
    j.overlap, j.single = round(max(single, pair - 0.1), 4), round(single, 4)
    if vectors is not None and (measure or (bars.cosine is not None and j.overlap < bars.overlap)):
        plain = s.text
        j.cosine = round(max(vectors.cosines(plain, [p.text for p in ranked[:CANDIDATES]])), 4)
    if single < bars.judged and not measure:
        return j
    close = [p for p in ranked if _share(words, p.tokens) >= max(bars.judged, single - 0.15)]
    if has_predicate(s.text):
        j.polarity_ok = any(negative(s.text) in polarities(p.text) for p in close)
    j.dropped = _dropped(ranked[0].text, s, tokenize, asked_tokens)
    j.exception = j.dropped is not None and is_exception(ranked[0].text)
    j.value_gap = _value_gap(s, pool)
    return j


def _dropped(source: str, s: Sentence, tokenize: Tokenize, asked_tokens: frozenset[str]) -> str | None:
    """The conditions of ``source`` when nothing of any of them is in ``s`` or the question (one kept is
    enough: a sentence with two conditions is often answered for one)."""
    have = s.tokens | asked_tokens
    missing = []
    for clause in conditions(source):
        words = content_tokens(tokenize, clause) - _CONDITION_GENERIC
        values = [f for f in extract_facts(clause) if f.kind != "reference"]
        if not words and not values:
            continue
        if words & have or any(w in s.text for w in words) or any(same_value(f, g) for f in values for g in s.facts):
            return None
        missing.append(clause)
    return " / ".join(missing) or None


def _value_gap(s: Sentence, pool: list[Sentence]) -> float:
    """For the value of ``s`` worst placed: how much better its words match the best source sentence than
    the best one stating the value (0 when every value is where its words are)."""
    gap = 0.0
    for i, f in enumerate(s.facts):
        if f.kind == "reference" or f.weak:
            continue
        words = s.seg_tokens.get(s.seg[i], frozenset()) - FILLER
        if not words:
            continue
        holders = [p for p in pool if any(same_value(f, g) for g in p.facts)]
        if not holders:
            continue  # the number check judges a value no source states
        best = max(_share(words, p.tokens) for p in pool)
        held = max(_share(words, p.tokens) for p in holders)
        gap = max(gap, best - held)
    return round(gap, 4)


def reasons(j: Judgement, bars: GroundingBars) -> list[str]:
    """What is wrong with the sentence of ``j`` under ``bars`` (empty: supported)."""
    out = []
    supported = j.overlap >= bars.overlap or (bars.cosine is not None and (j.cosine or -1.0) >= bars.cosine)
    if bars.on("support") and not supported:
        out.append("low_support")
    if j.single < bars.judged:
        return out
    if bars.on("negation") and not j.polarity_ok:
        out.append("negation")
    if bars.on("condition") and j.dropped is not None:
        out.append("exception_as_rule" if j.exception else "condition_dropped")
    if bars.on("value") and j.value_gap >= bars.value_gap:
        out.append("value_elsewhere")
    return out


def off_topic(
    question: str, answer: str, facts: Sequence[Any], covered: frozenset[str], in_sources: frozenset[str],
    analyzer: Any, tokenize: Tokenize, bars: GroundingBars,
) -> tuple[list[str], float]:  # fmt: skip
    """(what the answer fails to address: ``not_answered:<kind>``, ``subject_missing:<nouns>``; topic share)."""
    out = []
    kind = asked(question)
    if bars.on("asked") and not addressed(kind, answer, facts):
        out.append(f"not_answered:{kind}")
    nouns = getattr(analyzer, "noun_phrases", None)
    phrases = nouns(question) if callable(nouns) else tokenize(question)
    sets = {p: content_tokens(tokenize, p) - GENERIC for p in phrases if p not in GENERIC}
    share, missing = topic_coverage(sets.values(), in_sources, covered)
    if bars.on("topic") and share < bars.topic:
        out.append("subject_missing:" + ",".join(p for p, t in sets.items() if t in missing))
    return out, share
