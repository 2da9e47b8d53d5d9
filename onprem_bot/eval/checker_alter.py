"""Altered answers for the checker evaluation, and the naive anchor it is compared with.

An alteration is the kind of error a model makes: one value changed, two values of an answer
swapped, a unit changed, a date or year shifted, a reference pointed at the neighbouring article,
or a sentence added with a date the sources lack. The naive checker only asks whether each
number+unit (or reference label) of the answer occurs anywhere in the sources.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from onprem_bot.checker import Fact, Source, extract_facts
from onprem_bot.checker.facts import same_value
from onprem_bot.checker.text import source_sentences

ALTERATIONS = ("change_value", "swap_values", "change_unit", "shift_date", "neighbour_article", "add_date_sentence")
_UNIT_SWAP = {
    "주일": "개월",
    "개월": "년",
    "일": "개월",
    "년": "개월",
    "주": "개월",
    "시간": "일",
    "분": "시간",
    "세": "년",
    "회": "일",
    "명": "개",
    "퍼센트": "일",
    "%": "배",
    "배": "%",
    "개": "명",
    "건": "개",
    "원": "달러",
}
_UNIT_AT_END = re.compile(r"(주일|개월|시간|퍼센트|%|일|년|주|분|세|회|명|배|원|개|건)$")


def has_fact(text: str) -> bool:
    """Whether ``text`` states a value or an article reference (something to check)."""
    return any(f.kind != "reference" or (f.ref is not None and f.ref.article) for f in extract_facts(text))


def _replace(text: str, f: Fact, new: str) -> str:
    return text[: f.start] + new + text[f.end :]


def _bump(surface: str, rng: random.Random, last: bool = False) -> str | None:
    runs = list(re.finditer(r"\d+", surface))
    if not runs:
        return None
    m = runs[-1] if last else runs[0]
    n = int(m.group(0))
    choices = [n + d for d in (1, -1, 2, 5, 10) if n + d > 0 and n + d != n]
    return surface[: m.start()] + str(rng.choice(choices)) + surface[m.end() :]


def alter(answer: str, sources: Sequence[Source], kind: str, rng: random.Random) -> str | None:
    """``answer`` with one alteration of ``kind``; None when the answer offers nothing to alter."""
    facts = extract_facts(answer)
    values = [f for f in facts if f.kind not in ("reference", "date", "year")]
    if kind == "change_value":
        for f in rng.sample(values, len(values)):
            new = _bump(f.surface, rng)
            if new is not None and not _same_anywhere(new, f, sources):
                return _replace(answer, f, new)
        return None
    if kind == "swap_values":
        pairs = [
            (a, b) for k, a in enumerate(values) for b in values[k + 1 :] if a.kind == b.kind and not same_value(a, b)
        ]
        pairs.sort(key=lambda p: p[0].dim != p[1].dim)
        if not pairs:
            return None
        a, b = pairs[0]
        return answer[: a.start] + b.surface + answer[a.end : b.start] + a.surface + answer[b.end :]
    if kind == "change_unit":
        for f in rng.sample(values, len(values)):
            m = _UNIT_AT_END.search(f.surface)
            if m and any(ch.isdigit() for ch in f.surface):
                return _replace(answer, f, f.surface[: m.start()] + _UNIT_SWAP[m.group(1)])
        return None
    if kind == "shift_date":
        dates = [f for f in facts if f.kind in ("date", "year")]
        if not dates:
            return None
        f = rng.choice(dates)
        for _ in range(5):
            new = _bump(f.surface, rng, last=f.kind == "date" and f.key[1] is None)
            probe = extract_facts(new) if new else []
            if new and probe and probe[0].kind == f.kind:
                return _replace(answer, f, new)
        return None
    if kind == "neighbour_article":
        refs = [f for f in facts if f.ref is not None and f.ref.article and f.ref.art_start >= 0]
        if not refs or (
            sources and (sources[0].article or "").startswith("부칙")
        ):  # 부칙 repeat 제1조, 제2조… in one chunk
            return None
        own = [
            f for f in refs if f.ref is not None and f.ref.law and sources and sources[0].doc_title.endswith(f.ref.law)
        ]
        f = (own or refs)[0]
        r = f.ref
        assert r is not None
        art = answer[r.art_start : r.art_end]
        n = int(re.search(r"\d+", art).group(0))  # type: ignore[union-attr]
        new = f"제{n + rng.choice((1, -1)) if n > 1 else n + 1}조"
        return answer[: r.art_start] + new + answer[r.art_end :]
    if kind == "add_date_sentence":
        year = rng.randint(2015, 2026)
        while any(str(year) in s.text for s in sources):
            year += 1
        extra = f"이 내용은 {year}년 {rng.randint(1, 12)}월 {rng.randint(1, 28)}일부터 적용됩니다 [1]."
        return answer + " " + extra
    raise ValueError(f"unknown alteration {kind!r}")


def _same_anywhere(new_surface: str, f: Fact, sources: Sequence[Source]) -> bool:
    """Whether the changed value is stated next to the original in the source (then it is not wrong)."""
    probe = extract_facts(new_surface)
    if not probe or not sources:
        return True
    text = sources[0].text
    for a, b in source_sentences(text):
        facts = extract_facts(text[a:b])
        if any(same_value(f, g) for g in facts) and any(same_value(probe[0], g) for g in facts):
            return True
    return False


def naive_unsupported(answer: str, sources: Sequence[Source]) -> list[Fact]:
    """The anchor: the facts of the answer whose number+unit (or reference label) occurs nowhere in the
    sources, whatever it is attached to."""
    pool = [g for s in sources for g in extract_facts(s.text)]
    labels = {(s.doc_title, s.article) for s in sources}
    articles = labels | {(None, a) for _, a in labels}
    out = []
    for f in extract_facts(answer):
        if f.kind == "reference":
            r = f.ref
            if r is None or r.level == "law" or (r.article and (r.law, r.article) in articles):
                continue
            if any(g.kind == "reference" and g.ref and g.ref.article == r.article for g in pool):
                continue
            out.append(f)
        elif not any(same_value(f, g) for g in pool):
            out.append(f)
    return out


def naive_flags(answer: str, sources: Sequence[Source]) -> bool:
    """Whether the naive anchor flags ``answer``."""
    return bool(naive_unsupported(answer, sources))
