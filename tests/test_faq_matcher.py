"""FAQ matcher: exact forms, paraphrases, and the safety checks that refuse near-misses."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from onprem_bot.embed.backends import HashEmbedder
from onprem_bot.faq.matcher import FaqMatcher, decide, exact_key
from onprem_bot.korean.analyzer import KoreanAnalyzer


@dataclass(frozen=True)
class Entry:
    id: int
    question: str
    answer: str
    alternatives: tuple[str, ...] = ()


ENTRIES = [
    Entry(
        1,
        "비밀번호를 초기화하려면 어떻게 하나요?",
        "포털 로그인 화면의 '비밀번호 찾기'를 누르세요.",
        ("비밀번호 재설정 방법",),
    ),
    Entry(2, "비밀번호 만료 주기는 얼마인가요?", "90일입니다."),
    Entry(3, "연차휴가는 며칠인가요?", "1년간 80% 이상 출근하면 15일입니다.", ("연차 일수 알려주세요",)),
    Entry(4, "수습기간은 3개월인가요?", "수습기간은 3개월입니다."),
    Entry(5, "출장비 정산은 언제까지 해야 하나요?", "출장 후 7일 이내에 정산합니다."),
]


@pytest.fixture(scope="module")
def matcher() -> FaqMatcher:
    m = FaqMatcher(KoreanAnalyzer(), HashEmbedder(64), threshold=0.55, margin=0.05, lexical_weight=0.7)
    m.build(ENTRIES)
    return m


def test_exact_and_normalised_exact(matcher: FaqMatcher) -> None:
    hit = matcher.match("연차휴가는 며칠인가요?")
    assert (hit.matched, hit.id, hit.reason, hit.score) == (True, 3, "exact", 1.0)
    assert hit.answer == "1년간 80% 이상 출근하면 15일입니다."  # verbatim
    assert matcher.match("  연차휴가는   며칠인가요 ").id == 3
    assert matcher.match("비밀번호 재설정 방법?").id == 1  # an alternative
    assert exact_key("ＦＡＱ 질문？") == exact_key("faq질문")


def test_paraphrase_matches_with_runner_up(matcher: FaqMatcher) -> None:
    hit = matcher.match("비밀번호 초기화 어떻게 해요")
    assert hit.matched and hit.id == 1 and hit.reason == "score"
    assert hit.runner_up_id is not None and hit.runner_up_score < hit.score
    data = hit.as_json()
    assert {"matched", "id", "question", "answer", "score", "runner_up"} <= set(data)


def test_a_different_number_is_a_conflict(matcher: FaqMatcher) -> None:
    hit = matcher.match("수습기간은 6개월인가요?")
    assert not hit.matched and "number" in hit.reason


def test_a_swapped_content_word_is_refused(matcher: FaqMatcher) -> None:
    hit = matcher.match("비밀번호 변경 주기는 얼마인가요?")  # 만료 주기 ≠ 변경 주기
    assert not hit.matched


def test_off_topic_and_empty(matcher: FaqMatcher) -> None:
    assert not matcher.match("오늘 점심 뭐 먹지").matched
    assert matcher.match("").reason == "empty"
    empty = FaqMatcher(KoreanAnalyzer(), None, lexical_weight=1.0)
    empty.build([])
    assert empty.match("연차").reason == "no_entries"


def test_decide_is_pure() -> None:
    assert decide(0.8, 0.5, (), 0.7, 0.05) == "score"
    assert decide(0.6, 0.1, (), 0.7, 0.05) == "below_threshold"
    assert decide(0.8, 0.78, (), 0.7, 0.05) == "small_margin"
    assert decide(0.8, 0.1, ("number: 3개월,6개월",), 0.7, 0.05).startswith("conflict")
