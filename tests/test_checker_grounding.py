"""Grounding beyond numbers (issue 18.2): every answer sentence said by a cited source sentence, the
answer addressing the question; the new findings take the flagged-number policy path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onprem_bot.app import App
from onprem_bot.checker import Checker, Source
from onprem_bot.checker.asked import AMOUNT, DEADLINE, DURATION, YESNO, asked
from onprem_bot.checker.bars import GroundingBars, load_bars
from onprem_bot.checker.polarity import conditions, negative
from onprem_bot.embed.backends import HashEmbedder
from onprem_bot.eval.adversarial import main as adversarial
from onprem_bot.korean.analyzer import KoreanAnalyzer
from tests.test_pipeline import LEAVE, answering, pipeline

FIXTURES = Path(__file__).parent / "fixtures" / "off_topic"
WELFARE = Source(1, (FIXTURES / "복지포인트.txt").read_text(encoding="utf-8"), "복지포인트 운영 기준")
QUESTION = "건강검진 비용도 복지포인트로 낼 수 있나요?"
REST = Source(
    1,
    "제54조(휴게)\n① 사용자는 근로시간이 4시간인 경우에는 30분 이상, 8시간인 경우에는 1시간 이상의 휴게시간을 "
    "근로시간 도중에 주어야 한다.\n② 휴게시간은 근로자가 자유롭게 이용할 수 있다.",
    "근로기준법",
    "제54조",
)


@pytest.fixture(autouse=True)
def _all_judgements_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The shipped bars switch every judgement off (none met <= 3% false flags on the dev set); these
    tests are about the judgements themselves, so they run on the built-in defaults (all on)."""
    monkeypatch.setattr("onprem_bot.checker.bars.BARS_FILE", tmp_path / "no-bars.json")


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(KoreanAnalyzer(), bars=GroundingBars())


def kinds(result: object) -> list[tuple[str, str]]:
    return [(str(f["kind"]), str(f["reason"])) for f in result.findings if f["supported"] is False]  # type: ignore[attr-defined]


def test_the_off_topic_case_is_flagged(checker: Checker) -> None:
    result = checker.run("복지포인트는 복지포인트로 100만 포인트를 지급합니다 [1].", [WELFARE], QUESTION)
    assert result.verdict == "flagged"
    (finding,) = [f for f in result.findings if f["kind"] == "off_topic"]
    assert "not_answered:yesno" in finding["reasons"] and "subject_missing:건강검진" in finding["reasons"]  # type: ignore[operator]
    assert result.highlighted.startswith("⟦")


@pytest.mark.parametrize(
    ("answer", "source", "question"),
    [
        ("네, 건강검진 비용도 복지포인트로 낼 수 있습니다 [1].", WELFARE, QUESTION),
        ("복지포인트는 건강검진에도 쓸 수 있어요 [1].", WELFARE, QUESTION),
        ("휴게시간은 근로자가 마음대로 이용할 수 있습니다 [1].", REST, "휴게시간에 자유롭게 쉬어도 돼요?"),
        ("1년간 80% 넘게 출근하면 연차 15일이 생깁니다 [1].", None, "연차는 며칠인가요?"),
    ],
)
def test_correct_paraphrases_pass(checker: Checker, answer: str, source: Source | None, question: str) -> None:
    leave = Source(
        1, "제60조(연차 유급휴가)\n① 사용자는 1년간 80퍼센트 이상 출근한 근로자에게 15일의 유급휴가를 주어야 한다."
    )
    result = checker.run(answer, [source or leave], question)
    assert result.verdict == "pass", result.findings


def test_a_flipped_negation_is_flagged(checker: Checker) -> None:
    result = checker.run(
        "아니요, 휴게시간은 근로자가 자유롭게 이용할 수 없습니다 [1].", [REST], "휴게시간은 자유롭게 써도 돼요?"
    )
    assert result.verdict == "flagged" and ("unsupported", "negation") in kinds(result)
    no = checker.run("아니요, 복지포인트는 건강검진에 사용할 수 없습니다 [1].", [WELFARE], QUESTION)
    assert ("unsupported", "negation") in kinds(no)


def test_an_unsupported_sentence_and_a_dropped_condition(checker: Checker) -> None:
    made_up = checker.run("퇴직한 직원의 가족은 남은 포인트를 현금으로 상속받아 주식 투자에 씁니다 [1].", [WELFARE])
    assert ("unsupported", "low_support") in kinds(made_up)
    source = Source(1, "사용자는 근로자대표와 서면 합의를 한 경우에는 휴일근로를 시킬 수 있다.", "근로기준법", "제57조")
    dropped = checker.run("사용자는 휴일근로를 시킬 수 있습니다 [1].", [source])
    assert ("unsupported", "condition_dropped") in kinds(dropped)
    kept = checker.run("근로자대표와 서면으로 합의하면 휴일근로를 시킬 수 있습니다 [1].", [source])
    assert kept.verdict == "pass", kept.findings


def test_advice_and_contact_lines_are_not_claims(checker: Checker) -> None:
    assert checker.run("자세한 사항은 인사팀에 문의하시기 바랍니다 [1].", [WELFARE]).verdict == "pass"


def test_the_embedder_supports_a_sentence_below_the_overlap_bar() -> None:
    answer = "휴게시간은 근로자가 자유롭게 이용할 수 있습니다 [1]."
    strict = GroundingBars("hash-64", overlap=1.01, cosine=None)
    assert Checker(KoreanAnalyzer(), bars=strict).run(answer, [REST]).verdict == "flagged"
    with_cosine = GroundingBars("hash-64", overlap=1.01, cosine=0.5)
    result = Checker(KoreanAnalyzer(), embedder=HashEmbedder(), bars=with_cosine).run(answer, [REST])
    assert result.verdict == "pass", result.findings
    assert load_bars(None).embedder == "none" and load_bars("no-such-model").cosine is None


def test_pure_functions() -> None:
    assert asked("건강검진 비용도 복지포인트로 낼 수 있나요?") == YESNO
    assert asked("연차휴가는 며칠 받을 수 있나요?") == DURATION
    assert asked("야근 수당은 얼마인가요?") == AMOUNT
    assert asked("퇴직금은 언제까지 줘야 하나요?") == DEADLINE
    assert negative("할 수 없습니다 [1].") and negative("폐기하여서는 아니 된다.") and negative("사용하지 못한다.")
    assert not negative("사용하지 않은 포인트는 그해 12월 31일에 소멸한다.")
    assert not negative("서면 통지가 없으면 해고는 효력이 없어요 [1].")  # two negations: 하여야 효력이 있다
    assert conditions("사용자는 근로시간이 4시간인 경우에는 30분 이상을 주어야 한다.") == [
        "근로시간이 4시간인 경우에는"
    ]


def test_a_flagged_unsupported_sentence_falls_back_to_quoting(indexed: App) -> None:
    text = "시험근로법에 따르면 연차휴가는 회사 식당의 무료 점심 쿠폰으로 대신 지급됩니다 [{n}]."
    p, _ = pipeline(indexed, answering(text))
    answer = p.ask(LEAVE)
    assert answer.check.verdict == "flagged" and answer.route == "extractive", answer
    assert {f["kind"] for f in answer.check.findings} & {"unsupported", "off_topic"}
    assert "쿠폰" not in answer.answer


def test_the_adversarial_evaluation(capsys: pytest.CaptureFixture[str]) -> None:
    assert adversarial([str(FIXTURES / "adversarial_sample.jsonl"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["recall"]["off_topic"]["recall"] == 1.0 and report["recall"]["negation"]["recall"] == 1.0
    assert report["correct"] >= 5 and report["false_flags"] is not None
