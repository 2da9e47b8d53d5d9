"""Quantities and table bands (onprem_bot.korean.quantities)."""

from __future__ import annotations

import pytest

from onprem_bot.citations import extractive_answer
from onprem_bot.korean.analyzer import KoreanAnalyzer
from onprem_bot.korean.quantities import Band, Quantity, band_keys, bands, in_band, quantities
from onprem_bot.types import Chunk, Hit


def test_quantities_fold_units_and_scale() -> None:
    assert quantities("70일째, 혈중알코올 0.1%, 3만원, 1,500원") == [
        Quantity(70, "일"),
        Quantity(0.1, "퍼센트"),
        Quantity(30_000, "원"),
        Quantity(1_500, "원"),
    ]


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("16일～30일째", Band("일", 16, 30)),
        ("61일 이상", Band("일", low=61)),
        ("0.08퍼센트 미만", Band("퍼센트", high=0.08, high_open=True)),
        ("0.08퍼센트 이상 0.2퍼센트 미만", Band("퍼센트", 0.08, 0.2, high_open=True)),
        ("5톤 초과 7.5톤 이하", Band("톤", 5, 7.5, low_open=True)),
        ("1일부터 15일까지", Band("일", 1, 15)),
    ],
)
def test_bands(text: str, band: Band) -> None:
    assert bands(text) == [band]


def test_in_band_and_keys() -> None:
    assert in_band("혈중알코올 0.1%면", "0.08퍼센트 이상 0.2퍼센트 미만")
    assert not in_band("혈중알코올 0.05%면", "0.08퍼센트 이상 0.2퍼센트 미만")
    assert not in_band("0.1톤", "0.08퍼센트 이상 0.2퍼센트 미만")  # another unit
    assert band_keys("70일째", "61일 이상") == {"§일[61.0,inf]"} and band_keys("무슨 요일", "61일 이상") == set()


def test_extractive_quotes_the_row_whose_band_holds_the_asked_quantity() -> None:
    table = "\n".join(
        ["[별표 7] 일비 감액 기준"]
        + [
            f"[별표 7] 일비 감액 기준 | 구분: 15일을 초과한 경우 | 초과기간: {days} | 감액비율: {rate}"
            for days, rate in (("16일～30일째", "10분의 1"), ("31일～60일째", "10분의 2"), ("61일 이상", "10분의 3"))
        ]
    )
    hit = Hit(Chunk("c", "d", 0, "appendix", table, "출장규칙", article="별표 7"), 1.0)
    text, _ = extractive_answer("같은 곳에 70일째 있는데 일비 감액비율은?", [hit], KoreanAnalyzer())
    assert "초과기간: 61일 이상 | 감액비율: 10분의 3" in text.split('"')[1]
