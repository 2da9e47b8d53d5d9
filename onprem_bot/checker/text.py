"""Sentences, citation markers and clauses ("segments") of answers and sources. Pure functions.

A segment is the part of a sentence a value is attached to: sentences are cut at commas,
semicolons and brackets, and before a value that opens a new condition (``8시간이면``,
``4시간인 경우에는``, ``1개월 개근 시``) once the current segment already holds a result. Two values
in one segment belong together; the checker compares that pairing with the sources'.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from onprem_bot.checker.facts import Fact

_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,，]\s*\d+)*)\s*\]")
_ANSWER_END = re.compile(r"(?<=[가-힣A-Za-z)\]\"'」][.?!。])\s+|(?<=[?!。])\s+|\n+")
_LEADING_MARKERS = re.compile(r"(?:\s*\[\s*\d+(?:\s*[,，]\s*\d+)*\s*\])+[.]?")
_SOURCE_END = re.compile(r"(?<=다\.)\s+|(?<=[?!])\s+|\n+")
_NEW_LINE_BLOCK = re.compile(r"[①-⑳]|\d+\.\s|[가-하]\.\s|제\d+조|[-○●□■▶※·ㆍ<\[(]|부칙")
_SEGMENT_BREAK = re.compile(r"[,;:()\[\]「」]|다만|그리고|또한|하지만|반면|단,")
_CONDITION = re.compile(r"면(?=[\s,]|$)|경우|때(?:[에는,\s]|$)|\s시(?=[\s,에는]|$)|시에|마다|대하여|당(?=[\s,])")
CLAUSE_BREAK = re.compile(r"[,;]|다만|그리고|또한|하지만|반면")
_COORDINATED = re.compile(
    r"\s*(?:,\s*)?(?:이나|나|와|과|또는|및|혹은|내지|부터|에서|~|∼|-|ㆍ|·|/|,)?\s*(?:또는|및)?\s*"
)


def cited(text: str) -> tuple[int, ...]:
    """The source numbers cited in ``text`` (``[1]``, ``[1, 2]``), in order, without repeats."""
    seen: dict[int, None] = {}
    for m in _MARKER.finditer(text):
        for part in re.split(r"[,，]", m.group(1)):
            seen.setdefault(int(part), None)
    return tuple(seen)


def answer_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of an answer. A marker after the full stop (``…합니다. [1]``) stays with its sentence;
    ``2024. 3. 1.`` and ``1.`` do not end a sentence."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _ANSWER_END.finditer(text):
        lead = _LEADING_MARKERS.match(text, m.end())
        if lead is not None and spans is not None:  # markers right after the stop belong to this sentence
            _add(spans, text, start, lead.end())
            start = lead.end()
            continue
        _add(spans, text, start, m.start())
        start = m.end()
    _add(spans, text, start, len(text))
    return spans


def source_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a source: after ``다.``, ``?``, ``!``; a line break ends a sentence only before a
    new block (①, ``1.``, ``가.``, 제N조) or after a full stop, so wrapped PDF lines stay together."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SOURCE_END.finditer(text):
        if "\n" in m.group(0) and text[max(0, m.start() - 1) : m.start()] not in (".", ")", "다"):
            nxt = text[m.end() : m.end() + 4]
            if not _NEW_LINE_BLOCK.match(nxt) and m.start() > start:
                continue
        _add(spans, text, start, m.start())
        start = m.end()
    _add(spans, text, start, len(text))
    return spans


def _add(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def is_condition(text: str, fact: Fact, next_start: int) -> bool:
    """Whether ``fact`` states a condition (``4시간이면``, ``4시간인 경우에는``, ``1개월 개근 시``)."""
    window = text[fact.end : min(next_start, fact.end + 14)]
    return _CONDITION.search(window) is not None


def segments(text: str, facts: Sequence[Fact]) -> tuple[list[int], list[bool]]:
    """For each of ``facts`` (in order, inside one sentence of ``text``): its segment number and whether it
    is a condition. A bracketed aside is a segment of its own; the text after it continues the segment
    before it (``자동차(이륜자동차는 제외한다)의 운전경험이 1년 미만``)."""
    seg_ids: list[int] = []
    conds: list[bool] = []
    seg, next_id = 0, 1
    stack: list[int] = []
    has_result = False
    prev_end = 0
    for i, f in enumerate(facts):
        nxt = facts[i + 1].start if i + 1 < len(facts) else len(text)
        cond = is_condition(text, f, nxt)
        for m in _SEGMENT_BREAK.finditer(text, prev_end, f.start):
            mark = m.group(0)
            if mark in "(「[":
                stack.append(seg)
                seg, next_id = next_id, next_id + 1
            elif mark in ")」]" and stack:
                seg = stack.pop()
            elif i > 0:
                seg, next_id = next_id, next_id + 1
            has_result = False if mark not in ")」]" else has_result
        if i > 0 and cond and has_result:
            seg, next_id = next_id, next_id + 1
            has_result = False
        seg_ids.append(seg)
        conds.append(cond)
        if not cond:
            has_result = True
        prev_end = f.end
    return seg_ids, conds


def coordinated(text: str, a: Fact, b: Fact) -> bool:
    """Whether ``a`` and ``b`` are listed together (``30분 또는 1시간``, ``3일~5일``) rather than one bound to
    the other."""
    between = text[a.end : b.start]
    return len(between) <= 8 and _COORDINATED.fullmatch(between) is not None and between.strip() != ""
