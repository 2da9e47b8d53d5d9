"""Korean numbers as exact values: ``1,000억``, ``1억 2천만``, ``3천5백``, ``2분의 1``, ``이틀``, ``두 번``.

Pure functions; values are :class:`fractions.Fraction` so that ``1.5``, ``30분의 1`` and
``120,000,000`` compare exactly.
"""

from __future__ import annotations

import re
from fractions import Fraction

# One Arabic number: 1,000 (thousands separators) or 12 or 1.5. Not preceded by a digit, a dot or a letter.
NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_SMALL = {"십": 10, "백": 100, "천": 1000}
_BIG = {"만": 10**4, "억": 10**8, "조": 10**12}
# A group: digits with optional small multipliers (3천5백, 1,000, 2천), then an optional big multiplier.
# 조 multiplies only when money follows (3조 원, 3조5천억); otherwise it is an article (제3조, 60조).
_GROUP = re.compile(
    rf"({NUM}(?:[십백천](?:{NUM}[십백천]?)*)?)"
    r"(만|억|조(?=\s?(?:\d|원|억|만))|)"
)
_GROUP_PART = re.compile(rf"({NUM})([십백천]?)")

# Native Korean day counts and adnominal numerals (before a counter word).
NATIVE_DAYS: dict[str, int] = {
    "하루": 1, "이틀": 2, "사흘": 3, "나흘": 4, "닷새": 5, "엿새": 6, "이레": 7, "여드레": 8,
    "아흐레": 9, "열흘": 10, "보름": 15,
}  # fmt: skip
NATIVE_ADNOMINAL: dict[str, int] = {
    "한": 1, "두": 2, "세": 3, "석": 3, "네": 4, "넉": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8,
    "아홉": 9, "열": 10, "열한": 11, "열두": 12, "스무": 20,
}  # fmt: skip


def parse_plain(text: str) -> Fraction:
    """``1,000`` → 1000, ``1.5`` → 3/2 (an Arabic number as written)."""
    return Fraction(text.replace(",", ""))


def _group_value(digits: str) -> Fraction:
    """``3천5백`` → 3500, ``1,000`` → 1000, ``2천`` → 2000, ``1.5`` → 3/2."""
    total = Fraction(0)
    for num, small in _GROUP_PART.findall(digits):
        total += parse_plain(num) * _SMALL.get(small, 1)
    return total


def scan_number(text: str, pos: int) -> tuple[Fraction, int] | None:
    """The Korean-style number starting at ``text[pos]`` (a digit) and the index after it.

    ``1억 2천만`` → 120000000, ``5천만`` → 50000000, ``3만 5천`` → 35000, ``1,000억`` → 100000000000.
    A space separates groups only after a big multiplier (만/억/조), and the multipliers must fall.
    """
    m = _GROUP.match(text, pos)
    if m is None:
        return None
    value = Fraction(0)
    last_big = 10**20
    end = pos
    while m is not None:
        group = _group_value(m.group(1))
        big = _BIG.get(m.group(2), 1)
        if big >= last_big:
            break
        value += group * big
        end = m.end()
        if big == 1:
            break
        last_big = big
        nxt = end + 1 if text[end : end + 1] == " " else end
        m = _GROUP.match(text, nxt) if nxt < len(text) and text[nxt].isdigit() else None
        if m is not None and m.group(2) == "" and not _ends_number(text, m.end()) and m.group(1)[-1] not in _SMALL:
            break  # 3만 5 (a loose digit after a big unit) is not a continuation unless a unit follows
    return value, end


def _ends_number(text: str, end: int) -> bool:
    """Whether a unit-ish character follows ``end`` (a continuation group is really part of the number)."""
    nxt = text[end : end + 2].lstrip()
    return bool(nxt) and ("가" <= nxt[0] <= "힣" or nxt[0] == "%")


def fmt_value(value: Fraction) -> str:
    """A value for display: ``120000000`` → ``120,000,000``, ``3/2`` → ``1.5``, ``1/3`` → ``0.333``."""
    if value.denominator == 1:
        return f"{value.numerator:,}"
    as_float = float(value)
    text = f"{as_float:,.3f}".rstrip("0").rstrip(".")
    return text


def plain_digits(value: Fraction) -> str:
    """A value as digits without separators (for rewriting an answer): ``120000000``, ``1.5``."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.4f}".rstrip("0").rstrip(".")


def korean_money(value: Fraction) -> str:
    """``120000000`` → ``1억 2천만``, ``30000`` → ``3만``, ``1500`` → ``1,500`` (how answers write won)."""
    if value.denominator != 1 or value < 10_000:
        return fmt_value(value)
    n = value.numerator
    parts: list[str] = []
    for name, unit in (("조", 10**12), ("억", 10**8), ("만", 10**4)):
        if n >= unit:
            q, n = divmod(n, unit)
            parts.append(_small_korean(q) + name)
    if n:
        parts.append(f"{n:,}")
    return " ".join(parts)


def _small_korean(q: int) -> str:
    """``2000`` → ``2천``, ``1500`` → ``1,500`` (only a round thousand uses 천)."""
    if q >= 1000 and q % 1000 == 0:
        return f"{q // 1000}천"
    return f"{q:,}"
