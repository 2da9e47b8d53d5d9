"""Statute titles and article numbers named in a question (``근기법 60조`` → 근로기준법, 제60조)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from onprem_bot.korean.normalize import normalize, normalize_spacing_for_refs

# Common abbreviations → the full title without spaces (matched against the index titles without spaces).
ABBREVIATIONS: dict[str, str] = {
    "근기법": "근로기준법",
    "주임법": "주택임대차보호법",
    "상임법": "상가건물임대차보호법",
    "개보법": "개인정보보호법",
    "개인정보법": "개인정보보호법",
    "도교법": "도로교통법",
    "국공법": "국가공무원법",
    "최임법": "최저임금법",
}
_RE_ABBREVIATION = re.compile("|".join(sorted(map(re.escape, ABBREVIATIONS), key=len, reverse=True)))

# 제60조, 60조, 제6조의3 (after normalize_spacing_for_refs: 제 60 조 → 제60조); not 3조원 (money).
_RE_ARTICLE = re.compile(r"(?<![\d.,])(?:제)?(\d+)조(?!\s*(?:원|억|만|천))(?:의(\d+))?")
_IGNORED_IN_TITLES = str.maketrans("", "", " 「」『』")


@dataclass(frozen=True)
class QueryRefs:
    """What a question points at: index titles (``근로기준법``) and articles (``제60조``, ``제6조의3``)."""

    statutes: tuple[str, ...]
    articles: tuple[str, ...]


def _compact(text: str) -> str:
    """``text`` without spaces and 「」 brackets, for comparing titles."""
    return normalize(text).translate(_IGNORED_IN_TITLES)


def _detect_statutes(question: str, titles: Iterable[str]) -> tuple[str, ...]:
    """The titles that ``question`` names, longest match first at each place, in order of appearance."""
    text = _RE_ABBREVIATION.sub(lambda m: ABBREVIATIONS[m.group(0)], _compact(question))
    by_compact: dict[str, str] = {}
    for title in titles:
        key = _compact(title)
        if key:
            by_compact.setdefault(key, title)
    covered = [False] * len(text)
    found: list[tuple[int, str]] = []
    for key in sorted(by_compact, key=len, reverse=True):
        start = text.find(key)
        first = -1
        while start != -1:
            end = start + len(key)
            if not any(covered[start:end]):
                covered[start:end] = [True] * len(key)
                if first == -1:
                    first = start
            start = text.find(key, start + 1)
        if first != -1:
            found.append((first, by_compact[key]))
    return tuple(title for _, title in sorted(found))


def _detect_articles(question: str) -> tuple[str, ...]:
    """The article numbers in ``question`` as ``제N조`` / ``제N조의M``, without repeats, in order."""
    text = normalize_spacing_for_refs(normalize(question))
    articles: list[str] = []
    for m in _RE_ARTICLE.finditer(text):
        article = f"제{int(m.group(1))}조" + (f"의{int(m.group(2))}" if m.group(2) else "")
        if article not in articles:
            articles.append(article)
    return tuple(articles)


def detect_references(question: str, titles: Iterable[str]) -> QueryRefs:
    """The statutes (among the index ``titles``) and articles that ``question`` names.

    A title matches with spaces and 「」 ignored (``개인정보보호법`` finds ``개인정보 보호법``), the
    longest title wins where several overlap (``근로기준법 시행령`` over ``근로기준법``), and the common
    abbreviations in :data:`ABBREVIATIONS` (근기법, 주임법, 상임법, 개보법, …) count as their titles.
    Articles are ``제60조``, ``60조``, ``제 60 조`` and ``제6조의3``, normalised to ``제60조`` / ``제6조의3``.
    """
    return QueryRefs(statutes=_detect_statutes(question, titles), articles=_detect_articles(question))
