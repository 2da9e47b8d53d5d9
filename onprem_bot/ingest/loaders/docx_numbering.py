"""Word automatic list numbering (``word/numbering.xml``) rendered as text.

Word keeps the numbers of a numbered list (``제1조``, ``①``, ``1.``, ``가.``) out of the paragraph
text: a paragraph names a list (``w:numPr``: ``numId`` and level ``ilvl``, on the paragraph or on
its style) and Word counts. :class:`NumberingCounter` replays that count in reading order so the
loader can prefix each paragraph with its number, and the statute chunker sees ``제1조(목적) …``
and ``① …`` as a reader of the document does.

Counters belong to the abstract list definition (``w:abstractNum``), so two ``w:num`` that share
one definition continue each other's count, unless a ``w:num`` restarts a level with
``w:lvlOverride/w:startOverride`` (applied the first time that ``w:num`` is used). Advancing a
level resets every deeper level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from docx.oxml.ns import qn

_CIRCLED = "".join(chr(c) for c in range(0x2460, 0x2474))  # ①..⑳
_GANADA = "가나다라마바사아자차카타파하"
_CHOSUNG = "ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎ"
_ROMAN: tuple[tuple[int, str], ...] = (
    (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
    (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
)  # fmt: skip
_KOREAN_DIGITS = "영일이삼사오육칠팔구"
MAX_LEVELS = 9


def letter(n: int) -> str:
    """1 → ``a``, 26 → ``z``, 27 → ``aa``, 28 → ``bb`` (Word repeats the letter)."""
    if n < 1:
        return str(n)
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def roman(n: int) -> str:
    """1 → ``i``, 4 → ``iv``, 1994 → ``mcmxciv`` (lower case; ``0`` and below as digits)."""
    if n < 1:
        return str(n)
    out = []
    for value, digits in _ROMAN:
        count, n = divmod(n, value)
        out.append(digits * count)
    return "".join(out)


def cycle(alphabet: str, n: int) -> str:
    """The ``n``-th symbol of ``alphabet`` (1-based), starting over after the last."""
    return alphabet[(n - 1) % len(alphabet)] if n >= 1 else str(n)


def circled(n: int) -> str:
    """1 → ``①`` … 20 → ``⑳``; other numbers as digits."""
    return _CIRCLED[n - 1] if 1 <= n <= len(_CIRCLED) else str(n)


def korean_digital(n: int) -> str:
    """12 → ``일이`` (digit by digit, as Word's ``koreanDigital``)."""
    return "".join(_KOREAN_DIGITS[int(d)] for d in str(n)) if n >= 0 else str(n)


_FORMATS: dict[str, Callable[[int], str]] = {
    "decimal": str,
    "decimalZero": lambda n: f"{n:02d}",
    "decimalEnclosedCircle": circled,
    "decimalEnclosedCircleChinese": circled,
    "decimalEnclosedFullstop": lambda n: f"{n}.",
    "decimalEnclosedParen": lambda n: f"({n})",
    "decimalFullWidth": lambda n: "".join(chr(0xFF10 + int(d)) for d in str(n)),
    "decimalHalfWidth": str,
    "ganada": lambda n: cycle(_GANADA, n),
    "chosung": lambda n: cycle(_CHOSUNG, n),
    "lowerLetter": letter,
    "upperLetter": lambda n: letter(n).upper(),
    "lowerRoman": roman,
    "upperRoman": lambda n: roman(n).upper(),
    "koreanDigital": korean_digital,
    "koreanDigital2": korean_digital,
    "none": lambda n: "",
}


def format_number(n: int, num_fmt: str) -> str:
    """``n`` written in Word's ``w:numFmt`` style; ``bullet`` gives ``""``, unknown formats digits."""
    if num_fmt == "bullet":
        return ""
    return _FORMATS.get(num_fmt, str)(n)


def render_level_text(lvl_text: str, counts: list[int], formats: list[str], legal: bool = False) -> str:
    """Fill ``%1``…``%9`` of ``lvl_text`` with the counters of those levels.

    ``render_level_text("%1.%2.", [2, 3], ["decimal", "decimal"])`` → ``"2.3."``; with
    ``legal`` (``w:isLgl``) every level is written as a decimal."""
    out = []
    i = 0
    while i < len(lvl_text):
        ch = lvl_text[i]
        if ch == "%" and i + 1 < len(lvl_text) and lvl_text[i + 1].isdigit():
            level = int(lvl_text[i + 1]) - 1
            if 0 <= level < len(counts):
                out.append(str(counts[level]) if legal else format_number(counts[level], formats[level]))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@dataclass
class Level:
    """One ``w:lvl``: start value, number format, level text, suffix and ``isLgl``."""

    start: int = 1
    num_fmt: str = "decimal"
    text: str = ""
    suffix: str = "tab"
    legal: bool = False


def _val(el: Any, tag: str, default: str = "") -> str:
    child = el.find(qn(tag)) if el is not None else None
    value = child.get(qn("w:val")) if child is not None else None
    return default if value is None else str(value)


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def _level(lvl: Any) -> Level:
    return Level(
        start=_int(_val(lvl, "w:start", "1"), 1),
        num_fmt=_val(lvl, "w:numFmt", "decimal"),
        text=_val(lvl, "w:lvlText"),
        suffix=_val(lvl, "w:suff", "tab"),
        legal=lvl.find(qn("w:isLgl")) is not None and _val(lvl, "w:isLgl", "1") not in ("0", "false"),
    )


@dataclass
class NumberingCounter:
    """Replays Word's list counters over the paragraphs of one document, in reading order."""

    abstracts: dict[str, dict[int, Level]] = field(default_factory=dict)
    nums: dict[str, str] = field(default_factory=dict)  # numId → abstractNumId
    overrides: dict[str, dict[int, Level | int]] = field(default_factory=dict)
    _counts: dict[str, list[int | None]] = field(default_factory=dict)
    _used: set[str] = field(default_factory=set)

    @classmethod
    def from_element(cls, numbering: Any) -> NumberingCounter:
        """Read a ``w:numbering`` element (python-docx ``numbering_part.element``)."""
        counter = cls()
        if numbering is None:
            return counter
        for abstract in numbering.iterfind(qn("w:abstractNum")):
            levels = {_int(lvl.get(qn("w:ilvl"), "0"), 0): _level(lvl) for lvl in abstract.iterfind(qn("w:lvl"))}
            counter.abstracts[abstract.get(qn("w:abstractNumId"), "")] = levels
        for num in numbering.iterfind(qn("w:num")):
            num_id = num.get(qn("w:numId"), "")
            counter.nums[num_id] = _val(num, "w:abstractNumId")
            overrides: dict[int, Level | int] = {}
            for override in num.iterfind(qn("w:lvlOverride")):
                ilvl = _int(override.get(qn("w:ilvl"), "0"), 0)
                lvl = override.find(qn("w:lvl"))
                if lvl is not None:
                    overrides[ilvl] = _level(lvl)
                elif override.find(qn("w:startOverride")) is not None:
                    overrides[ilvl] = _int(_val(override, "w:startOverride", "1"), 1)
            if overrides:
                counter.overrides[num_id] = overrides
        return counter

    def _levels(self, num_id: str) -> dict[int, Level]:
        levels = dict(self.abstracts.get(self.nums.get(num_id, ""), {}))
        for ilvl, override in self.overrides.get(num_id, {}).items():
            if isinstance(override, Level):
                levels[ilvl] = override
            elif ilvl in levels:
                base = levels[ilvl]
                levels[ilvl] = Level(override, base.num_fmt, base.text, base.suffix, base.legal)
        return levels

    def next(self, num_id: str, ilvl: int) -> tuple[str, str]:
        """Advance list ``num_id`` at level ``ilvl``; return ``(number text, suffix)``.

        ``("", "")`` for a list that does not exist, ``numId`` 0 (numbering removed) and
        bullets."""
        if num_id in ("", "0") or num_id not in self.nums:
            return "", ""
        levels = self._levels(num_id)
        ilvl = min(max(ilvl, 0), MAX_LEVELS - 1)
        if ilvl not in levels:
            return "", ""
        key = self.nums[num_id]
        counts = self._counts.setdefault(key, [None] * MAX_LEVELS)
        if num_id not in self._used:  # a restarting w:num starts its overridden levels afresh
            self._used.add(num_id)
            for restarted in self.overrides.get(num_id, {}):
                if 0 <= restarted < MAX_LEVELS:
                    counts[restarted] = None
        current = counts[ilvl]
        counts[ilvl] = levels[ilvl].start if current is None else current + 1
        for deeper in range(ilvl + 1, MAX_LEVELS):
            counts[deeper] = None
        level = levels[ilvl]
        if level.num_fmt == "bullet":
            return "", ""
        values = [c if c is not None else levels.get(i, Level()).start for i, c in enumerate(counts[: ilvl + 1])]
        formats = [levels.get(i, Level()).num_fmt for i in range(ilvl + 1)]
        return render_level_text(level.text, values, formats, level.legal).strip(), level.suffix
