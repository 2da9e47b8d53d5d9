"""Quantities in Korean text and the bands of regulation tables (pure functions).

Tables in regulations give values by band: ``16일～30일째``, ``61일 이상``, ``0.08퍼센트 이상 0.2퍼센트
미만``, ``5톤 초과 7.5톤 이하``. A question gives one quantity (``70일째``, ``혈중알코올 0.1%``, ``6톤``);
:func:`in_band` tells whether a row's band holds it, so the row can be chosen without the question
repeating the row's words. Units are compared after folding (``%`` = ``퍼센트``, ``살`` = ``세``,
``일째`` = ``일``, ``만원`` = 10,000 ``원``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_UNITS = r"일째|일|개월|년|세|살|%|퍼센트|만원|천원|원|톤|시간|회|km|㎞|m3|㎥"
_QUANTITY = re.compile(rf"(\d+(?:,\d{{3}})*(?:\.\d+)?)\s*({_UNITS})")
_RANGE = re.compile(
    rf"(\d+(?:,\d{{3}})*(?:\.\d+)?)\s*({_UNITS})?\s*(?:～|~|∼|〜|-|–|부터)\s*"
    rf"(\d+(?:,\d{{3}})*(?:\.\d+)?)\s*({_UNITS})"
)
_BOUND = re.compile(rf"(\d+(?:,\d{{3}})*(?:\.\d+)?)\s*({_UNITS})\s*(?:을|를|이|가)?\s*(이상|초과|이하|미만)")
_FOLD = {"일째": "일", "살": "세", "%": "퍼센트", "만원": "원", "천원": "원", "㎞": "km", "㎥": "m3"}
_SCALE = {"만원": 10_000.0, "천원": 1_000.0}


@dataclass(frozen=True)
class Quantity:
    """A number with its folded unit (``value`` scaled: ``3만원`` → 30,000 ``원``)."""

    value: float
    unit: str


@dataclass(frozen=True)
class Band:
    """``low`` ≤ (or <) value ≤ (or <) ``high`` in ``unit``; open ends are ±inf."""

    unit: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def holds(self, q: Quantity) -> bool:
        """Whether ``q`` (same unit) lies in the band."""
        if q.unit != self.unit:
            return False
        above = q.value > self.low if self.low_open else q.value >= self.low
        below = q.value < self.high if self.high_open else q.value <= self.high
        return above and below


def _quantity(number: str, unit: str) -> Quantity:
    return Quantity(float(number.replace(",", "")) * _SCALE.get(unit, 1.0), _FOLD.get(unit, unit))


def quantities(text: str) -> list[Quantity]:
    """Every number with a unit in ``text`` (``70일째`` → 70 일, ``0.1%`` → 0.1 퍼센트)."""
    return [_quantity(m.group(1), m.group(2)) for m in _QUANTITY.finditer(text)]


def bands(text: str) -> list[Band]:
    """The bands ``text`` states: ``A～B unit`` / ``A unit부터 B unit``, and ``A unit 이상|초과``
    followed (or not) by ``B unit 이하|미만``; a lone upper bound is a band from −inf."""
    found: list[Band] = []
    for m in _RANGE.finditer(text):
        low, high = _quantity(m.group(1), m.group(2) or m.group(4)), _quantity(m.group(3), m.group(4))
        found.append(Band(high.unit, low.value, high.value))
    pending: Band | None = None
    for m in _BOUND.finditer(text):
        q, word = _quantity(m.group(1), m.group(2)), m.group(3)
        if word in ("이상", "초과"):
            if pending is not None:
                found.append(pending)
            pending = Band(q.unit, low=q.value, low_open=word == "초과")
        elif pending is not None and pending.unit == q.unit and q.value > pending.low:
            found.append(Band(q.unit, pending.low, q.value, pending.low_open, word == "미만"))
            pending = None
        else:
            found.append(Band(q.unit, high=q.value, high_open=word == "미만"))
    if pending is not None:
        found.append(pending)
    return found


def in_band(question: str, text: str) -> bool:
    """Whether a quantity of ``question`` lies in a band ``text`` states."""
    asked = quantities(question)
    return bool(asked) and any(b.holds(q) for b in bands(text) for q in asked)


def band_keys(question: str, text: str) -> set[str]:
    """A key for each band of ``text`` that holds a quantity of ``question`` (``"§일[61.0,inf]"``):
    matched like words, so a band every row repeats weighs as little as a repeated header."""
    asked = quantities(question)
    if not asked:
        return set()
    return {f"§{b.unit}[{b.low},{b.high}]" for b in bands(text) if any(b.holds(q) for q in asked)}
