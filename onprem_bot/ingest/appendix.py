"""Appendix headings of regulations: 별표 (tables), 별지 (forms) and 서식 (pure functions).

Korean regulations end with appendices after their 부칙: ``[별표 제1호] <개정 2024. 2. 14.>`` then a
title line (``국 내 여 비 지 급 표``), ``[별표 1] 음식물 등의 가액 범위(제22조 관련)``, ``<별표 제5호>``,
``[별지 제3호 서식]``. Each starts a section of its own whose ``article`` is the normalised label:
``별표 1`` for ``[별표 1]``, ``[별표 제1호]`` and ``<별표제1호>`` alike; ``별지 3`` for ``[별지 제3호 서식]``;
``별표 1의2`` for ``[별표 제1호의2]``; ``별표`` for a lone ``[별표]``. A line that only *refers* to an
appendix (``[별지 제2호]를 작성하여``, ``[별표 제6호] 징계양정기준, [별표 제7호] …``) is not a heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from onprem_bot.ingest.amendments import split_amendments
from onprem_bot.ingest.tables import unspace_letters

_HEADING = re.compile(
    r"^(?P<open>[\[<【［〔]?)\s*(?P<kind>별\s*표|별\s*지|서\s*식)\s*"
    r"(?:제\s*)?(?P<num>\d+)?\s*(?:호)?\s*(?:의\s*(?P<sub>\d+))?\s*(?:호)?\s*(?:서\s*식)?\s*"
    r"(?P<close>[\]>】］〕]?)\s*(?P<rest>.*)$"
)
_MENTION = re.compile(r"[\[<【［]\s*(?:별\s*표|별\s*지)|별\s*표\s*제?\s*\d|별\s*지\s*제?\s*\d")
_PARTICLE = re.compile(
    r"^(?:에|의|를|을|은|는|와|과|및|로|으로|이|가|부터|까지|중|에서|에도|에게|에\s*따른|에\s*의한|참조|와\s*같)"
)
_OPEN_TAG = re.compile(r"<\s*(?:개정|신설|삭제|전문개정)[^<>]*$")
_TAG_TAIL = re.compile(r"^(?=.*\d)[\d.,\s]*(?:>\s*(?:<[^<>]*>\s*)*)?$")
MAX_TITLE_CHARS = 80
"""A heading's title is at most this long; longer text after a label is a sentence, not a title."""


@dataclass(frozen=True)
class AppendixHeading:
    """One appendix heading: ``label`` (``별표 1``), ``title`` (may be ``""`` when the title is on
    the next line), ``open_tag`` (an amendment tag left open at the line end, continued below)."""

    label: str
    title: str = ""
    open_tag: bool = False

    @property
    def caption(self) -> str:
        """``[별표 1] 국내여비지급표``: what a table row of this appendix is prefixed with."""
        return f"[{self.label}] {self.title}".strip()


def appendix_label(kind: str, number: str | None, sub: str | None) -> str:
    """``('별 표', '1', None)`` → ``별표 1``; ``('별지', '10', '2')`` → ``별지 10의2``; no number → ``별표``."""
    base = kind.replace(" ", "")
    if not number:
        return base
    return f"{base} {int(number)}" + (f"의{int(sub)}" if sub else "")


def parse_appendix_heading(text: str) -> AppendixHeading | None:
    """The heading on this line, or ``None`` when the line is not an appendix heading.

    A bare ``별표 2`` (no brackets) counts only when nothing but a title or amendment tags follows;
    a particle right after the label, another appendix mention, or a sentence ending (``다.``)
    make the line a reference.
    """
    m = _HEADING.match(text.strip())
    if not m:
        return None
    bracketed = bool(m.group("open")) and bool(m.group("close"))
    if not bracketed and not m.group("num"):
        return None
    if m.group("kind").replace(" ", "") == "서식" and not bracketed:
        return None
    rest = m.group("rest")
    open_tag = bool(_OPEN_TAG.search(rest))
    if open_tag:
        rest = _OPEN_TAG.sub("", rest)
    title, _ = split_amendments(rest)
    title = title.strip()
    if _PARTICLE.match(title) or _MENTION.search(title) or title.endswith("다.") or len(title) > MAX_TITLE_CHARS:
        return None
    if not bracketed and title and not re.match(r"^[가-힣「『(]", title):
        return None
    label = appendix_label(m.group("kind"), m.group("num"), m.group("sub"))
    return AppendixHeading(label, unspace_letters(title), open_tag)


def is_tag_tail(text: str) -> bool:
    """True for a line that is only amendment history: the rest of a tag broken over lines
    (``2023.3.13., 2024. 2. 14.>``, ``2015. 2. 13,2016. 2. 25``) or whole tags (``<개정 2021.12.27>``)."""
    text = text.strip()
    return bool(_TAG_TAIL.match(text)) or (text.startswith("<") and not split_amendments(text)[0])


def title_line(text: str) -> str | None:
    """The appendix title when ``text`` (the line after a heading without a title) is one, else ``None``.

    A title is short, holds Hangul, and is not a note (``※``), a unit (``(단위 : 원)``), a page side
    (``(앞쪽)``), a list item or a sentence."""
    text = text.strip()
    if not text or len(text) > MAX_TITLE_CHARS or not re.search(r"[가-힣]", text):
        return None
    if text[0] in "※(<[［*-·•○□0123456789" or re.match(r"^(?:\d+\s*[.)]|[가-하]\.|[①-⑳])", text):
        return None
    if text.endswith("다.") or parse_appendix_heading(text) is not None:
        return None
    return unspace_letters(split_amendments(text)[0].strip()) or None
