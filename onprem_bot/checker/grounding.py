"""The sentence judgement of :mod:`onprem_bot.checker.support` turned into checker findings.

Finding kinds (besides the values' ``number``/``money``/…/``reference``):

- ``unsupported``: one answer sentence; ``reason`` is the first of ``low_support`` (too little of it
  in any cited source sentence), ``negation`` (the predicate's polarity flipped),
  ``condition_dropped`` (a condition of its source sentence left out), ``exception_as_rule`` (an
  exception's consequence stated without its condition) and ``value_elsewhere`` (a right number
  in the wrong sentence); ``reasons`` lists all; ``overlap`` and ``cosine`` are the features.
- ``off_topic``: the whole answer; ``reason`` ``not_answered:<what was asked>`` and/or
  ``subject_missing:<nouns>``.

Both have ``supported: False`` and no suggestion, so the verdict is ``flagged`` and the pipeline's
``on_flagged`` policy applies, as for a wrong number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from onprem_bot.checker.bars import GroundingBars
from onprem_bot.checker.facts import same_value
from onprem_bot.checker.prepare import Prepared, Sentence, content_tokens
from onprem_bot.checker.support import Judgement, Vectors, judge_sentence, off_topic, reasons
from onprem_bot.checker.verify import pool_for

_HEADING = re.compile(r"\s*제\s?\d+\s?조(?:의\s?\d+)?\s*\(")


@dataclass
class Grounding:
    """Findings and marks of the sentence judgement, and its features (for calibration)."""

    findings: list[dict[str, object]] = field(default_factory=list)
    edits: list[tuple[int, int, str | None]] = field(default_factory=list)
    judgements: list[Judgement] = field(default_factory=list)
    topic: float = 1.0
    off_topic: list[str] = field(default_factory=list)


def ground(
    answer: str, sentences: Sequence[Sentence], prepared: list[Prepared], analyzer: Any, question: str,
    vectors: Vectors | None, bars: GroundingBars, skip: set[int], measure: bool = False,
) -> Grounding:  # fmt: skip
    """Judge the sentences of ``answer`` not in ``skip`` (already flagged for a value) and the whole answer."""
    out = Grounding()
    if not prepared:
        return out
    tokenize = analyzer.tokens
    asked_tokens = content_tokens(tokenize, question) if question else frozenset()
    covered: set[str] = set()
    headed = _with_headings(prepared)
    for k, s in enumerate(sentences):
        covered |= s.tokens
        pool = [headed[id(x)] for x in pool_for(s, prepared)[0]]
        for x in pool:  # the source sentences stating the sentence's values support it too
            if any(same_value(f, g) for f in s.facts if f.kind != "reference" for g in x.facts):
                covered |= x.tokens
        j = judge_sentence(s, pool, tokenize, asked_tokens, vectors, bars, measure)
        if j is None:
            continue
        out.judgements.append(j)
        if j.best is not None and j.overlap >= bars.judged:
            covered |= j.best.tokens
        why = reasons(j, bars)
        if k in skip or not why:
            continue
        out.findings.append(_finding("unsupported", s.text, why, s.start, s.start + len(s.text), j, prepared))
        out.edits.append((s.start, s.start + len(s.text), None))
    if question.strip():
        facts = [f for s in sentences for f in s.facts]
        in_sources = frozenset(t for p in prepared for s in p.sentences for t in s.tokens)
        why, out.topic = off_topic(question, answer, facts, frozenset(covered), in_sources, analyzer, tokenize, bars)
        out.off_topic = why
        if why:
            body = answer.strip()
            start = answer.find(body)
            out.findings.append(_finding("off_topic", body, why, start, start + len(body), None, prepared))
            if not out.edits and not skip:
                out.edits.append((start, start + len(body), None))
    return out


def _with_headings(prepared: list[Prepared]) -> dict[int, Sentence]:
    """Each source sentence (by id) with the words of its article heading (``제60조(연차 유급휴가)``) and
    its document title added: the subject every sentence of the article is about."""
    out: dict[int, Sentence] = {}
    for p in prepared:
        head = p.sentences[0] if p.sentences and _HEADING.match(p.sentences[0].text) else None
        extra = head.tokens if head is not None else frozenset()
        for s in p.sentences:
            out[id(s)] = replace(s, tokens=s.tokens | extra) if extra and s is not head else s
    return out


def _finding(
    kind: str, text: str, why: list[str], start: int, end: int, j: Judgement | None, prepared: list[Prepared]
) -> dict[str, object]:
    best = j.best if j is not None else None
    src = prepared[best.source].source if best is not None and best.source >= 0 else None
    return {
        "kind": kind,
        "value": text,
        "surface": text,
        "unit": "",
        "supported": False,
        "evidence": best.text if best is not None else None,
        "suggestion": None,
        "reason": why[0],
        "reasons": list(why),
        "n": src.n if src is not None else None,
        "source": " ".join(x for x in (src.doc_title, src.location or src.article or "") if x) if src else None,
        "start": start,
        "end": end,
        "context": "",
        "second_opinion": None,
        "overlap": j.overlap if j is not None else None,
        "cosine": j.cosine if j is not None else None,
    }
