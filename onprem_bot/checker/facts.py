"""Checkable facts in Korean text: numbers with units, percentages and fractions, money, years and
dates, clock times, native Korean quantities and legal references. Pure functions.

Every fact has a comparison ``key``: ``(dimension, value…)``. Durations share a dimension and are
converted (``1년`` = ``12개월``, ``1주`` = ``7일``, ``1시간`` = ``60분``); ``100분의 50``, ``2분의 1`` and
``50%`` are the same ratio (a statute's fraction restated as a percentage is the same fact); money
is normalised to won (``1억 2천만 원`` = ``120,000,000원``). Numbers inside URLs, e-mail addresses,
phone numbers and ``[n]`` citation markers are not facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from onprem_bot.checker.numerals import NATIVE_ADNOMINAL, NATIVE_DAYS, fmt_value, scan_number
from onprem_bot.checker.refs import Ref, find_law_mentions, find_refs

# unit → (kind, dimension, factor to the dimension's base unit, canonical unit for display)
UNITS: dict[str, tuple[str, str, Fraction, str]] = {
    "개월": ("number", "month", Fraction(1), "개월"), "달": ("number", "month", Fraction(1), "개월"),
    "년": ("number", "month", Fraction(12), "년"), "해": ("number", "month", Fraction(12), "년"),
    "주일": ("number", "day", Fraction(7), "주"), "주": ("number", "day", Fraction(7), "주"),
    "일": ("number", "day", Fraction(1), "일"),
    "시간": ("number", "minute", Fraction(60), "시간"), "분": ("number", "minute", Fraction(1), "분"),
    "초": ("number", "minute", Fraction(1, 60), "초"),
    "세": ("number", "age", Fraction(1), "세"), "살": ("number", "age", Fraction(1), "세"),
    "회": ("number", "times", Fraction(1), "회"), "번": ("number", "times", Fraction(1), "회"),
    "차례": ("number", "times", Fraction(1), "회"),
    "명": ("number", "persons", Fraction(1), "명"), "인": ("number", "persons", Fraction(1), "명"),
    "사람": ("number", "persons", Fraction(1), "명"),
    "기": ("number", "term", Fraction(1), "기"), "배": ("number", "multiple", Fraction(1), "배"),
    "개": ("number", "count", Fraction(1), "개"), "가지": ("number", "kinds", Fraction(1), "가지"),
    "건": ("number", "cases", Fraction(1), "건"), "개소": ("number", "places", Fraction(1), "개소"),
    "호봉": ("number", "step", Fraction(1), "호봉"), "등급": ("number", "grade", Fraction(1), "등급"),
    "급": ("number", "class", Fraction(1), "급"),
    "원": ("money", "money", Fraction(1), "원"), "달러": ("money", "usd", Fraction(1), "달러"),
    "유로": ("money", "eur", Fraction(1), "유로"),
    "%": ("percent", "ratio", Fraction(1, 100), "%"), "퍼센트": ("percent", "ratio", Fraction(1, 100), "%"),
    "프로": ("percent", "ratio", Fraction(1, 100), "%"),
    "%p": ("percent", "pp", Fraction(1), "%p"), "%포인트": ("percent", "pp", Fraction(1), "%p"),
    "퍼센트포인트": ("percent", "pp", Fraction(1), "%p"),
}  # fmt: skip
_PARTICLE_NEXT = "이가을를은는의에와과도만로으부까씩마간동내분전후당치인임입였짜"
_UNIT_RE = re.compile(
    r"\s?(" + "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True) if u not in ("해", "사람")) + r")"
    rf"(?=$|[^가-힣]|[{_PARTICLE_NEXT}])"
)
_DATE_DOT = re.compile(r"(\d{4})\s?[.\-/]\s?(\d{1,2})\s?[.\-/]\s?(\d{1,2})(?:\s?\.)?(?!\d)")
_YM_DOT = re.compile(r"(\d{4})\s?\.\s?(\d{1,2})\s?\.(?!\s?\d)")
_DATE_KO = re.compile(r"(\d{4})\s?년\s?(\d{1,2})\s?월(?:\s?(\d{1,2})\s?일)?")
_YEAR = re.compile(r"(\d{4})\s?년(?:도)?(?!\s?(?:간|동안))")
_MONTH_DAY = re.compile(r"(\d{1,2})\s?월\s?(\d{1,2})\s?일")
_MONTH = re.compile(r"(\d{1,2})\s?월(?=$|[^가-힣\d]|[에의은는부까말초중분과와이도])")
_TIME = re.compile(r"(\d{1,2})\s?시(?:\s?(\d{1,2})\s?분|\s?(반))?(?=$|[^가-힣]|[에부까전후경이가반정])")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?!\d)")
_AMPM = re.compile(r"(오전|오후|새벽|아침|낮|저녁|밤)\s?$")
_FRACTION_MID = re.compile(r"\s?분의\s?(?=\d)")
_RANGE_MID = re.compile(r"\s?[~∼〜～]\s?(?=\d)")
_NATIVE_DAY = re.compile(
    r"(?<![가-힣])(" + "|".join(NATIVE_DAYS) + r")(?=$|[^가-힣]|[이가을를은는의에와과도만로부까씩마간동내치])"
)
_NATIVE_COUNT = re.compile(
    r"(?<![가-힣])(" + "|".join(sorted(NATIVE_ADNOMINAL, key=len, reverse=True)) + r")\s?"
    r"(달|해|번|차례|명|사람|개|시간|살|주|가지|배)(?=$|[^가-힣]|[이가을를은는의에와과도만로부까씩마간동내])"
)
_SINO = re.compile(r"(?<![가-힣])(일주일|일\s?년|반년)(?=$|[^가-힣]|[이가을를은는의에와과도만로부까씩마간동내])")
_SINO_VALUES = {"일주일": ("주", 1), "일년": ("년", 1), "일 년": ("년", 1), "반년": ("개월", 6)}
_NOISE = re.compile(
    r"(?:https?|ftp)://\S+|www\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:kr|com|net|org|go\.kr|or\.kr)(?:/\S*)?"
    r"|(?<!\d)(?:\+82[-\s]?)?\(?0\d{1,2}\)?[-.\s]\d{3,4}[-.\s]\d{4}(?!\d)"
    r"|(?<![\d-])1[5-9]\d{2}-\d{4}(?!\d)"
    r"|\[\s*\d+(?:\s*[,，]\s*\d+)*\s*\]"
    r"|[<\[(]\s*별표\s?(?:제\s?)?\d+[^>\])]*[>\])]|별표\s?(?:제\s?)?\d+(?:호)?(?:의\d+)?"
)
_FOLD = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)}, "％": "%", "，": ",", "．": "."})
_QUAL_AFTER = re.compile(
    r"\s?(?:[을를이가의은는에]\s?)?(이상|이하|초과|미만|이내|부터|전까지|까지|한도|내에|안에|넘지\s?않|넘지\s?못|넘는|넘으면|넘어|넘을|"
    r"전(?![가-힣])|전에|후(?![가-힣])|후에|뒤|경과)"
)
_QUAL_BEFORE = re.compile(r"(최대|최소|적어도|최고|최저|최장|최단)\s?$")
QUALIFIER_TAGS: dict[str, frozenset[str]] = {
    "이상": frozenset({"ge"}), "초과": frozenset({"ge"}), "넘는": frozenset({"ge"}), "넘으면": frozenset({"ge"}),
    "넘어": frozenset({"ge"}), "넘을": frozenset({"ge"}), "최소": frozenset({"ge"}), "적어도": frozenset({"ge"}),
    "최저": frozenset({"ge"}), "최단": frozenset({"ge"}),
    "이하": frozenset({"le"}), "미만": frozenset({"le"}), "이내": frozenset({"le"}), "한도": frozenset({"le"}),
    "내에": frozenset({"le"}), "안에": frozenset({"le"}), "넘지않": frozenset({"le"}), "넘지못": frozenset({"le"}),
    "최대": frozenset({"le"}), "최고": frozenset({"le"}), "최장": frozenset({"le"}),
    "까지": frozenset({"le", "until"}), "전까지": frozenset({"until", "before"}), "부터": frozenset({"from"}),
    "전": frozenset({"before"}), "전에": frozenset({"before"}), "후": frozenset({"after"}),
    "후에": frozenset({"after"}), "뒤": frozenset({"after"}), "경과": frozenset({"after"}),
}  # fmt: skip
_OPPOSITE = (("ge", "le"), ("from", "until"), ("before", "after"))


@dataclass(frozen=True)
class Fact:
    """A checkable fact: its kind, canonical value and unit, where it is, and the words around it."""

    kind: str
    """``number``, ``percent``, ``money``, ``year``, ``date``, ``time`` or ``reference``."""
    value: str
    unit: str
    surface: str
    start: int
    end: int
    key: tuple[Any, ...]
    context: str = ""
    qualifier: str = ""
    """``이상``, ``미만``, ``까지``, ``최대``…: what bounds the value, when the text says."""
    weak: bool = False
    """An idiomatic native numeral (``한 번``): not found is reported as unverifiable, not wrong."""
    ref: Ref | None = None

    @property
    def dim(self) -> str:
        """The dimension: facts of one dimension can stand in for each other (``30분`` and ``1시간``)."""
        return str(self.key[0])

    @property
    def magnitude(self) -> Fraction | None:
        """The number in the written unit (``15`` for ``15일``), when the fact is a plain quantity."""
        return self.key[2] if len(self.key) > 2 and isinstance(self.key[2], Fraction) else None


def fold(text: str) -> str:
    """Full-width digits and signs as ASCII, keeping every offset (one character for one)."""
    return text.translate(_FOLD)


def mask_noise(text: str) -> str:
    """``text`` with URLs, e-mail addresses, phone numbers, ``[n]`` markers and 별표 numbers blanked."""
    return _NOISE.sub(lambda m: " " * len(m.group(0)), text)


def qualifier_conflict(a: str, b: str) -> bool:
    """Whether two qualifiers bound a value in opposite directions (``이상`` vs ``미만``)."""
    ta, tb = QUALIFIER_TAGS.get(a.replace(" ", ""), frozenset()), QUALIFIER_TAGS.get(b.replace(" ", ""), frozenset())
    return any((x in ta and y in tb) or (y in ta and x in tb) for x, y in _OPPOSITE)


def extract_facts(text: str) -> list[Fact]:
    """Every checkable fact in ``text``, in order of position (offsets into ``text``)."""
    if not text or not text.strip():
        return []
    work = mask_noise(fold(text))
    facts: list[Fact] = []
    for ref, start, end in find_refs(work):
        facts.append(_fact(text, "reference", ref.label(), "조", start, end, ("ref", ref.level, ref.label()), ref=ref))
    for law, start, end in find_law_mentions(work):
        if not any(f.start <= start < f.end for f in facts):
            ref = Ref(law=law)
            facts.append(_fact(text, "reference", law, "법", start, end, ("ref", "law", law), ref=ref))
    if facts:
        chars = list(work)
        for f in facts:
            chars[f.start : f.end] = " " * (f.end - f.start)
        work = "".join(chars)
    facts.extend(_scan_digits(text, work))
    facts.extend(_scan_native(text, work))
    return sorted(facts, key=lambda f: f.start)


def _fact(text: str, kind: str, value: str, unit: str, start: int, end: int, key: tuple[Any, ...], **kw: Any) -> Fact:
    after = _QUAL_AFTER.match(text, end)
    before = _QUAL_BEFORE.search(text, max(0, start - 6), start)
    qualifier = (after.group(1) if after else "") or (before.group(1) if before else "")
    context = text[max(0, start - 20) : min(len(text), end + 20)].replace("\n", " ").strip()
    return Fact(kind, value, unit, text[start:end], start, end, key, context, qualifier.replace(" ", ""), **kw)


def _quantity(text: str, start: int, end: int, amount: Fraction, unit: str, weak: bool = False) -> Fact:
    kind, dim, factor, shown = UNITS[unit]
    if kind == "money":
        value = f"{fmt_value(amount)}{shown}"
    elif dim == "ratio" and unit not in ("%", "퍼센트", "프로"):
        value = f"{fmt_value(amount * 100)}%"
    else:
        value = f"{fmt_value(amount)}{shown}"
    return _fact(text, kind, value, shown, start, end, (dim, amount * factor, amount), weak=weak)


def _date(text: str, start: int, end: int, y: int | None, m: int | None, d: int | None) -> Fact | None:
    if m is not None and not 1 <= m <= 12:
        return None
    if d is not None and not 1 <= d <= 31:
        return None
    if y is not None and not 1900 <= y <= 2100:
        return None
    shown = " ".join(p for p in (f"{y}년" if y else "", f"{m}월" if m else "", f"{d}일" if d else "") if p)
    return _fact(text, "date", shown, "date", start, end, ("date", y, m, d))


def _scan_digits(text: str, work: str) -> list[Fact]:
    out: list[Fact] = []
    for m in re.finditer(r"\d+", work):
        pos = m.start()
        if out and pos < out[-1].end:
            continue
        if pos > 0 and (work[pos - 1] in ".," or (work[pos - 1].isascii() and work[pos - 1].isalpha())):
            continue
        out.extend(_at(text, work, pos))
    return out


def _at(text: str, work: str, pos: int) -> list[Fact]:
    """The facts that start at the digit ``work[pos]`` (most specific pattern first)."""
    if (mt := _DATE_DOT.match(work, pos)) and (f := _date(text, pos, mt.end(), *map(int, mt.groups()))):
        return [f]
    if (mt := _YM_DOT.match(work, pos)) and (f := _date(text, pos, mt.end(), int(mt[1]), int(mt[2]), None)):
        return [f]
    if mt := _DATE_KO.match(work, pos):
        day = int(mt[3]) if mt[3] else None
        if f := _date(text, pos, mt.end(), int(mt[1]), int(mt[2]), day):
            return [f]
    if (mt := _YEAR.match(work, pos)) and 1900 <= int(mt[1]) <= 2100:
        return [_fact(text, "year", f"{mt[1]}년", "년", pos, mt.end(), ("year", int(mt[1])))]
    if (mt := _MONTH_DAY.match(work, pos)) and (f := _date(text, pos, mt.end(), None, int(mt[1]), int(mt[2]))):
        return [f]
    if (mt := _MONTH.match(work, pos)) and (f := _date(text, pos, mt.end(), None, int(mt[1]), None)):
        return [f]
    if (mt := _TIME.match(work, pos)) or (mt := _CLOCK.match(work, pos)):
        f = _time(text, work, pos, mt)
        if f is not None:
            return [f]
    scanned = scan_number(work, pos)
    if scanned is None:
        return []
    amount, end = scanned
    if fm := _FRACTION_MID.match(work, end):
        second = scan_number(work, fm.end())
        if second is not None and amount != 0:
            ratio = second[0] / amount
            value = f"{fmt_value(ratio * 100)}%"
            return [_fact(text, "percent", value, "%", pos, second[1], ("ratio", ratio, ratio))]
    if rm := _RANGE_MID.match(work, end):  # 3~5일: the unit of the second number is the first's too
        second = scan_number(work, rm.end())
        if second is not None and (um := _UNIT_RE.match(work, second[1])):
            return [_quantity(text, pos, end, amount, um[1]), _quantity(text, rm.end(), um.end(), second[0], um[1])]
    if um := _UNIT_RE.match(work, end):
        return [_quantity(text, pos, um.end(), amount, um[1])]
    return []


def _time(text: str, work: str, pos: int, mt: re.Match[str]) -> Fact | None:
    hour = int(mt[1])
    minute = int(mt[2]) if mt[2] else (30 if mt.lastindex and mt.lastindex >= 3 and mt[3] else 0)
    if hour > 24 or minute >= 60:
        return None
    start = pos
    ampm = _AMPM.search(work, max(0, pos - 4), pos)
    ambiguous = True
    if ampm is not None:
        start, ambiguous = ampm.start(), False
        if ampm[1] in ("오후", "저녁", "밤") and hour < 12:
            hour += 12
        elif ampm[1] in ("오전", "새벽", "아침") and hour == 12:
            hour = 0
    elif ":" in mt.group(0) or hour > 12 or hour == 0:
        ambiguous = False
    shown = f"{hour:02d}:{minute:02d}" if not ambiguous else f"{hour}시" + (f" {minute}분" if minute else "")
    return _fact(text, "time", shown, "time", start, mt.end(), ("time", hour * 60 + minute, ambiguous))


def _scan_native(text: str, work: str) -> list[Fact]:
    out: list[Fact] = []
    for m in _NATIVE_DAY.finditer(work):
        # 하루 is as often "per day" (하루 8시간) as a quantity: never a hard failure
        out.append(_quantity(text, m.start(), m.end(), Fraction(NATIVE_DAYS[m[1]]), "일", weak=m[1] == "하루"))
    for m in _NATIVE_COUNT.finditer(work):
        n = NATIVE_ADNOMINAL[m[1]]
        out.append(_quantity(text, m.start(), m.end(), Fraction(n), m[2], weak=n == 1 and m[2] not in ("달", "해")))
    for m in _SINO.finditer(work):
        unit, n = _SINO_VALUES[m[1]]
        out.append(_quantity(text, m.start(), m.end(), Fraction(n), unit))
    return out


def same_value(a: Fact, b: Fact) -> bool:
    """Whether ``a`` (from an answer) states the value of ``b`` (from a source).

    Quantities compare in their dimension's base unit; a date without a year matches any year; a
    clock time without 오전/오후 matches both halves of the day; references compare by their label.
    """
    ka, kb = a.key, b.key
    if ka[0] != kb[0]:
        return False
    if ka[0] == "date":
        return all(x is None or (y is None and i == 1) or x == y for i, (x, y) in enumerate(zip(ka, kb, strict=True)))
    if ka[0] == "time":
        if ka[2] or kb[2]:
            return ka[1] % 720 == kb[1] % 720
        return bool(ka[1] == kb[1])
    return bool(ka[1] == kb[1])
