"""Masking of personal data in conversation logs."""

from __future__ import annotations

import pytest

from onprem_bot.privacy import EMAIL_MASK, PHONE_MASK, RRN_MASK, Masker, mask_personal_data


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("주민번호 900101-1234567 입니다", f"주민번호 {RRN_MASK} 입니다"),
        ("9001012345678", RRN_MASK),
        ("연락처 010-1234-5678", f"연락처 {PHONE_MASK}"),
        ("01012345678로 전화", f"{PHONE_MASK}로 전화"),
        ("+82 10-9876-5432", PHONE_MASK),
        ("본사 02-123-4567, 지사 031-765-4321", f"본사 {PHONE_MASK}, 지사 {PHONE_MASK}"),
        ("대표번호 1588-1234", f"대표번호 {PHONE_MASK}"),
        ("메일은 hong.gildong+hr@corp.co.kr 로", f"메일은 {EMAIL_MASK} 로"),
    ],
)
def test_personal_data_is_masked(text: str, expected: str) -> None:
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01부터 시행",
        "통상임금의 100분의 50 이상, 1,000,000원",
        "근로기준법 제60조 제1항 제2호",
        "1주 40시간, 1일 8시간",
        "사건번호 2019다12345",
    ],
)
def test_ordinary_numbers_are_kept(text: str) -> None:
    assert mask_personal_data(text) == text


def test_masker_can_be_switched_off() -> None:
    assert Masker(False)("010-1234-5678") == "010-1234-5678"
    assert Masker(True)("010-1234-5678") == PHONE_MASK
