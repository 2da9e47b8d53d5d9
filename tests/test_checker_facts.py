"""Fact extraction: numbers with units, money, ratios, dates, times, native numerals, legal references."""

from __future__ import annotations

from fractions import Fraction

import pytest

from onprem_bot.checker import extract_facts
from onprem_bot.checker.facts import Fact, qualifier_conflict, same_value
from onprem_bot.checker.numerals import korean_money, scan_number
from onprem_bot.checker.refs import find_refs, law_matches, resolve


def one(text: str) -> Fact:
    facts = extract_facts(text)
    assert len(facts) == 1, [(f.surface, f.value) for f in facts]
    return facts[0]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1억 2천만", 120_000_000),
        ("5천만", 50_000_000),
        ("1,000억", 100_000_000_000),
        ("3만 5천", 35_000),
        ("3천5백만", 35_000_000),
        ("120,000,000", 120_000_000),
        ("1.5", Fraction(3, 2)),
        ("3조5천억", 3_500_000_000_000),
    ],
)
def test_scan_number_reads_korean_multipliers(text: str, value: Fraction | int) -> None:
    scanned = scan_number(text, 0)
    assert scanned is not None
    assert scanned == (value, len(text))


def test_money_forms_normalise_to_one_value() -> None:
    a, b = one("1억 2천만 원"), one("120,000,000원")
    assert a.kind == b.kind == "money"
    assert a.value == b.value == "120,000,000원"
    assert same_value(a, b)
    assert one("5천만원").value == "50,000,000원"
    assert one("1,000억원").value == "100,000,000,000원"
    assert one("3만 원").value == "30,000원"
    assert korean_money(Fraction(120_000_000)) == "1억 2천만"


def test_fractions_and_percentages_are_one_ratio() -> None:
    # documented choice: 100분의 50, 2분의 1 and 50% state the same fact
    half = [one(t) for t in ("100분의 50", "2분의 1", "50%", "50퍼센트", "50 프로")]
    assert all(f.kind == "percent" and f.value == "50%" for f in half)
    assert all(same_value(half[0], f) for f in half)
    assert not same_value(one("100분의 60"), half[0])
    assert one("30분의 1").key[1] == Fraction(1, 30)


def test_durations_convert_within_their_dimension() -> None:
    assert same_value(one("1년"), one("12개월"))
    assert same_value(one("1주"), one("7일"))
    assert same_value(one("1시간"), one("60분"))
    assert not same_value(one("15일"), one("15개월"))
    assert not same_value(one("3일"), one("3회"))  # other dimension
    assert one("5년간").value == "5년"
    assert one("30일분").value == "30일"


def test_dates_years_and_times() -> None:
    dot, ko = one("2024. 3. 1."), one("2024년 3월 1일")
    assert dot.kind == ko.kind == "date" and same_value(dot, ko)
    assert one("2024년").kind == "year"
    md = one("3월 1일")
    assert md.key == ("date", None, 3, 1) and same_value(md, dot)  # no year in the answer: any year
    assert not same_value(ko, one("2024년 3월 2일"))
    rel = [f for f in extract_facts("다음 연도 1월 1일부터") if f.kind == "date"]
    assert rel and rel[0].value == "1월 1일"
    night, ten = one("오후 10시"), one("22:00")
    assert night.kind == "time" and same_value(night, ten)
    assert not same_value(one("오전 10시"), ten)
    assert same_value(one("10시"), ten)  # no 오전/오후: either half of the day
    assert one("오전 6시").value == "06:00"


def test_native_korean_numerals_carry_quantities() -> None:
    assert same_value(one("이틀"), one("2일"))
    assert same_value(one("한 달"), one("1개월"))
    assert same_value(one("두 번"), one("2회"))
    assert same_value(one("일주일"), one("7일"))
    assert one("한 번").weak  # idiomatic: never a hard failure
    assert extract_facts("정한 달력") == []  # 한 inside a word is not a numeral


def test_not_facts_urls_phones_markers_and_bare_numbers() -> None:
    assert extract_facts("문의: 02-405-5118, 010-1234-5678, 1588-1234") == []
    assert extract_facts("https://www.law.go.kr/법령/근로기준법/60일 참고 [1] [2, 3]") == []
    assert extract_facts("help@kisa.or.kr 로 보내세요") == []
    assert extract_facts("1. 근로자 2. 사용자") == []
    assert extract_facts("답변에 숫자가 없습니다.") == []
    assert extract_facts("") == []
    assert [f.value for f in extract_facts("3세대 2주택 1분기 회계")] == []


def test_qualifiers_and_their_direction() -> None:
    assert one("30분 이상").qualifier == "이상"
    assert one("최대 25일").qualifier == "최대"
    assert one("25일을 한도로").qualifier == "한도"
    assert qualifier_conflict("이상", "미만")
    assert qualifier_conflict("부터", "까지")
    assert not qualifier_conflict("최대", "한도")
    assert not qualifier_conflict("", "이상")


def test_ranges_give_both_ends() -> None:
    assert [f.value for f in extract_facts("3~5일")] == ["3일", "5일"]


def test_legal_references() -> None:
    labels = [f.value for f in extract_facts("제60조, 제6조의3, 제23조제1항, 제2호")]
    assert labels == ["제60조", "제6조의3", "제23조 제1항", "제2호"]
    f = one("「근로기준법」 제26조")
    assert f.kind == "reference" and f.ref is not None and f.ref.law == "근로기준법" and f.ref.article == "제26조"
    assert one("근로기준법 60조").value == "근로기준법 제60조"
    assert one("「개인정보 보호법」에 따라").ref.level == "law"  # type: ignore[union-attr]
    assert extract_facts("3조원") and extract_facts("3조원")[0].kind == "money"
    assert not [f for f in extract_facts("이 방법 3조") if f.kind == "reference"]


def test_same_article_and_same_law_are_resolved() -> None:
    refs = [r for r, _, _ in find_refs("「민법」 제750조와 같은 법 제751조, 같은 조 제2항")]
    resolved = resolve(refs, None)
    assert [r.label() for r in resolved] == ["민법 제750조", "민법 제751조", "민법 제751조 제2항"]
    in_source = resolve([r for r, _, _ in find_refs("제60조 제1항 및 이 법 제61조")], "근로기준법")
    assert [r.label() for r in in_source] == ["근로기준법 제60조 제1항", "근로기준법 제61조"]
    decree = resolve([r for r, _, _ in find_refs("법 제2조제1항제6호")], "근로기준법 시행령")
    assert decree[0].label() == "근로기준법 제2조 제1항 제6호"


def test_law_titles_match_with_spaces_brackets_and_abbreviations() -> None:
    assert law_matches("개인정보보호법", "개인정보 보호법")
    assert law_matches("「근로기준법」", "근로기준법")
    assert law_matches("근기법", "근로기준법")
    assert law_matches("임대차보호법", "상가건물 임대차보호법")
    assert law_matches("시행령", "근로기준법 시행령")
    assert not law_matches("근로기준법", "근로기준법 시행령")
    assert not law_matches("민법", "근로기준법")
    assert law_matches(None, "민법")


def test_listed_references_share_their_law_and_same_paragraph_is_resolved() -> None:
    from onprem_bot.checker.prepare import _resolved

    text = "「상법」 제382조의3(이사의 충실의무), 제382조의4 및 제399조의 규정은 준용한다(정관 제9조)."
    refs = [f.ref for f in _resolved(extract_facts(text), "한국인터넷진흥원 정관") if f.ref is not None]
    assert [(r.law, r.article) for r in refs[:3]] == [
        ("상법", "제382조의3"),
        ("상법", "제382조의4"),
        ("상법", "제399조"),
    ]
    assert refs[-1].claim  # a bracketed citation is the text's own source
    same = _resolved(extract_facts("제1항제1호에 따른 산정, 같은 항 제2호에 따른 산정"), "근로기준법")
    assert [(f.ref.paragraph, f.ref.item) for f in same if f.ref is not None] == [(1, 1), (1, 2)]
