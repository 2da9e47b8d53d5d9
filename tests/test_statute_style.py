"""Questions in statute style for BM25: colloquial quantities and deadline questions."""

from __future__ import annotations

import pytest

from onprem_bot.app import App
from onprem_bot.korean.analyzer import KoreanAnalyzer
from onprem_bot.korean.statute_style import statute_quantities, statute_style


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("일주일에 최대 몇 시간까지 일할 수 있어?", "1주에 최대 몇 시간까지 일할 수 있어?"),
        ("1주일 동안", "1주 동안"),
        ("이주일 전에", "2주 전에"),
        ("한 주에 두 번", "1주에 2회"),
        ("하루 근로시간 한도는?", "1일 근로시간 한도는?"),
        ("이틀 전에, 사흘 뒤, 보름 안에", "2일 전에, 3일 뒤, 15일 안에"),
        ("한 달에 하루 쉬는 거", "1개월에 1일 쉬는 거"),
        ("석 달 동안, 3달 동안", "3개월 동안, 3개월 동안"),
        ("일 년에 한 번", "1년에 1회"),
        ("일년, 한 해", "1년, 1년"),
        ("반년만", "6개월만"),
        ("열 시간 일했어, 세 차례", "10시간 일했어, 3회"),
        ("열 살 아이 세 명", "10세 아이 3명"),
    ],
)
def test_colloquial_quantities_become_statute_units(text: str, expected: str) -> None:
    assert statute_quantities(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "하루하루 힘들어요",  # part of a longer word
        "세금 한 푼 안 냈어요",  # 세 and 한 without a counter
        "두고 보자",
        "두 번째 위반",  # an ordinal, not a count
        "한번 알아봐 주세요",  # the adverb 한번 (try), not once
        "매달 주나요",  # Mecab drops the adverb 매월 that statutes write: 매달 stays
        "이 주에 일한 시간",  # this week
        "한국",
        "",
    ],
)
def test_words_that_are_not_counts_stay(text: str) -> None:
    assert statute_quantities(text) == text


def test_the_analyser_then_gives_the_statutes_tokens() -> None:
    analyzer = KoreanAnalyzer()
    # 일주일 alone is read as the numeral 일 (matching every 일, work) and nothing for the week
    assert "1주" not in analyzer.tokens("일주일에 몇 시간")
    assert analyzer.tokens(statute_style("일주일에 몇 시간")) == ["1주", "시간"]
    assert "1회" in analyzer.tokens(statute_style("일주일에 한 번"))
    # 언제까지 is only a stopword and a particle; the statutes' 이내 must survive analysis before a verb
    assert analyzer.tokens("월급은 언제까지 줘야 해요?") == ["월급", "주"]
    assert {"기일", "이내"} <= set(analyzer.tokens(statute_style("월급은 언제까지 줘야 해요?")))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("퇴사하면 밀린 월급은 언제까지 줘야 해요?", "퇴사하면 밀린 월급은 기일 이내에 줘야 해요?"),
        ("며칠 안에 줘야 돼요", "기일 이내에 줘야 돼요"),
        ("몇 일 이내에 신고", "기일 이내에 신고"),
        ("언제까지나 기다려요", "언제까지나 기다려요"),
    ],
)
def test_deadline_questions_use_the_statutes_deadline_words(text: str, expected: str) -> None:
    assert statute_style(text) == expected


def test_bm25_finds_the_article_by_the_statute_unit(indexed: App) -> None:
    # 한 달 is in no document; the statute says 1개월 (제60조 ②: 1개월 개근 시 1일의 유급휴가)
    hits = indexed.retriever.run("한 달 개근", k=1, mode="bm25")
    assert [(h.chunk.doc_title, h.chunk.article) for h in hits] == [("시험근로법", "제60조")]
    hits = indexed.retriever.run("한 달", k=3, mode="bm25")
    assert hits and hits[0].chunk.article == "제60조"
