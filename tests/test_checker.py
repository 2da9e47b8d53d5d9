"""The checker's verdicts on answers against real-looking statute sources."""

from __future__ import annotations

import pytest

from onprem_bot.checker import Checker, CheckResult, Source
from onprem_bot.korean.analyzer import KoreanAnalyzer
from onprem_bot.types import Check

ART54 = Source(
    1,
    "제54조(휴게)\n① 사용자는 근로시간이 4시간인 경우에는 30분 이상, 8시간인 경우에는 1시간 이상의 휴게시간을 "
    "근로시간 도중에 주어야 한다.\n② 휴게시간은 근로자가 자유롭게 이용할 수 있다.",
    "근로기준법",
    "제54조",
    "제54조",
)
ART60 = Source(
    1,
    "제60조(연차 유급휴가)\n① 사용자는 1년간 80퍼센트 이상 출근한 근로자에게 15일의 유급휴가를 주어야 한다.\n"
    "② 사용자는 계속하여 근로한 기간이 1년 미만인 근로자 또는 1년간 80퍼센트 미만 출근한 근로자에게 1개월 개근 시 "
    "1일의 유급휴가를 주어야 한다.\n④ 사용자는 3년 이상 계속하여 근로한 근로자에게는 제1항에 따른 휴가에 최초 1년을 "
    "초과하는 계속 근로 연수 매 2년에 대하여 1일을 가산한 유급휴가를 주어야 한다. 이 경우 가산휴가를 포함한 총 휴가 "
    "일수는 25일을 한도로 한다.",
    "근로기준법",
    "제60조",
    "제60조 제1항~제4항",
)
ART26 = Source(
    1,
    "제26조(해고의 예고)\n사용자는 근로자를 해고(경영상 이유에 의한 해고를 포함한다)하려면 적어도 30일 전에 예고를 "
    "하여야 하고, 30일 전에 예고를 하지 아니하였을 때에는 30일분 이상의 통상임금을 지급하여야 한다.",
    "근로기준법",
    "제26조",
    "제26조",
)
ART56 = Source(
    2,
    "제56조(연장ㆍ야간 및 휴일 근로)\n① 사용자는 연장근로에 대하여는 통상임금의 100분의 50 이상을 가산하여 "
    "근로자에게 지급하여야 한다.\n③ 사용자는 야간근로(오후 10시부터 다음 날 오전 6시 사이의 근로를 말한다)에 대하여는 "
    "통상임금의 100분의 50 이상을 가산하여 근로자에게 지급하여야 한다.",
    "근로기준법",
    "제56조",
    "제56조",
)


@pytest.fixture(scope="module")
def checker() -> Checker:
    c = Checker(KoreanAnalyzer())
    c.warm_up()
    return c


def unsupported(result: CheckResult) -> list[str]:
    return [str(f["surface"]) for f in result.findings if f["supported"] is False]


@pytest.mark.parametrize(
    "answer",
    [
        "근로시간이 4시간이면 30분 이상, 8시간이면 1시간 이상의 휴게시간을 줘야 합니다 [1].",
        "「근로기준법」 제60조에 따르면 1년간 80% 이상 출근한 근로자는 15일의 유급휴가를 받습니다 [1].",
        "1년 동안 80퍼센트 넘게 출근했다면 연차는 15일이 생겨요 [1].",
        "가산휴가를 포함해도 최대 25일까지입니다 [1].",
        "1년이 안 된 근로자는 한 달 개근하면 하루의 유급휴가를 받습니다 [1].",
        "해고하려면 적어도 30일 전에 예고해야 하고, 하지 않으면 30일분 이상의 통상임금을 줘야 합니다 [1].",
    ],
)
def test_correct_answers_pass(checker: Checker, answer: str) -> None:
    by_topic = {"4시간": ART54, "해고": ART26}
    chosen = next((src for key, src in by_topic.items() if key in answer), ART60)
    result = checker.run(answer, [chosen])
    assert result.verdict == "pass", result.findings
    assert result.text == answer and result.highlighted == answer


def test_wrong_value_with_one_plausible_source_value_is_corrected(checker: Checker) -> None:
    answer = "1년간 80% 이상 출근하면 14일의 유급휴가를 받습니다 [1]."
    result = checker.run(answer, [ART60])
    assert result.verdict == "corrected"
    finding = next(f for f in result.findings if f["surface"] == "14일")
    assert finding["supported"] is False
    assert (finding["old"], finding["new"], finding["suggestion"]) == ("14일", "15일", "15일")
    assert finding["n"] == 1 and "15일의 유급휴가" in str(finding["evidence"])
    assert result.text == answer.replace("14일", "15일")
    assert result.as_check() == Check("corrected", result.findings)


def test_wrong_value_without_a_single_candidate_is_flagged(checker: Checker) -> None:
    source = Source(1, "휴가는 10일 또는 20일로 한다.", "휴가규정")
    result = checker.run("휴가는 14일입니다 [1].", [source])
    assert result.verdict == "flagged"
    assert unsupported(result) == ["14일"]
    assert result.highlighted == "휴가는 ⟦14일⟧입니다 [1]."
    # 14일 where the source says 30일: unsupported (then corrected to the one value in context)
    fourteen = checker.run("해고 예고는 적어도 14일 전에 해야 합니다 [1].", [ART26])
    assert fourteen.verdict != "pass" and unsupported(fourteen) == ["14일"]


def test_swapped_values_are_caught_and_put_back(checker: Checker) -> None:
    correct = "근로시간이 4시간이면 30분 이상, 8시간이면 1시간 이상의 휴게시간을 줘야 합니다 [1]."
    swapped = "근로시간이 4시간이면 1시간 이상, 8시간이면 30분 이상의 휴게시간을 줘야 합니다 [1]."
    result = checker.run(swapped, [ART54])
    assert result.verdict != "pass"
    assert sorted(unsupported(result)) == ["1시간", "30분"]
    assert result.text == correct
    no_comma = checker.run("4시간이면 1시간 이상 8시간이면 30분 이상 쉬어야 합니다 [1].", [ART54])
    assert no_comma.verdict != "pass"


def test_a_right_value_on_the_wrong_subject_is_not_supported(checker: Checker) -> None:
    result = checker.run("4시간이면 1시간의 휴게시간을 줘야 합니다 [1].", [ART54])
    assert unsupported(result) == ["1시간"]
    assert result.findings[1]["reason"] == "reattached" and result.findings[1]["suggestion"] == "30분"


def test_swapped_times_and_bounds(checker: Checker) -> None:
    ok = checker.run("야간근로는 오후 10시부터 오전 6시까지의 근로입니다 [1].", [ART56])
    assert ok.verdict == "pass", ok.findings
    swapped = checker.run("야간근로는 오전 6시부터 오후 10시까지의 근로입니다 [1].", [ART56])
    assert swapped.verdict != "pass"
    bound = checker.run("4시간 일하면 휴게시간은 30분 이하입니다 [1].", [ART54])
    assert bound.verdict != "pass"  # 30분 이상 (at least) vs 이하 (at most): a different fact


def test_equivalent_forms_are_supported(checker: Checker) -> None:
    money = Source(1, "과징금은 120,000,000원 이하로 한다.", "규정")
    assert checker.run("과징금은 1억 2천만 원 이하입니다 [1].", [money]).verdict == "pass"
    # the statute's 100분의 50 restated as 50% is the same ratio (documented choice)
    assert checker.run("연장근로에는 통상임금의 50% 이상을 가산해 줘야 합니다 [2].", [ART56]).verdict == "pass"
    assert checker.run("야간근로는 22:00부터 06:00 사이의 근로입니다 [2].", [ART56]).verdict == "pass"
    mixed = Source(1, "신청은 2일 이내에 하여야 하며 수수료는 3만 원이다.", "규정")
    assert checker.run("신청은 이틀 안에 해야 하고 수수료는 30,000원입니다 [1].", [mixed]).verdict == "pass"


def test_computed_values(checker: Checker) -> None:
    result = checker.run("3년 이상 근무하면 총 16일의 유급휴가를 받습니다 [1].", [ART60])
    sixteen = next(f for f in result.findings if f["surface"] == "16일")
    assert sixteen["supported"] is True and sixteen["reason"] == "computed"
    unknown = checker.run("모두 합하면 총 7회입니다 [1].", [ART60])
    assert unknown.verdict == "pass" and unknown.findings[0]["supported"] is None  # unverifiable, not wrong


def test_references(checker: Checker) -> None:
    ok = checker.run("「근로기준법」 제26조에 따라 해고하려면 적어도 30일 전에 예고해야 합니다 [1].", [ART26])
    assert ok.verdict == "pass" and ok.findings[0]["kind"] == "reference" and ok.findings[0]["supported"] is True
    wrong = checker.run("근로기준법 제61조에 따르면 1년간 80% 이상 출근하면 15일의 유급휴가를 받습니다 [1].", [ART60])
    assert wrong.verdict == "corrected" and unsupported(wrong) == ["근로기준법 제61조"]
    assert wrong.text.startswith("근로기준법 제60조에 따르면")
    two = [
        ART60,
        Source(
            2,
            "제62조(유급휴가의 대체) 사용자는 근로자대표와의 서면 합의에 따라 대체할 수 있다.",
            "근로기준법",
            "제62조",
        ),
    ]
    flagged = checker.run("근로기준법 제61조에 따르면 15일의 유급휴가를 받습니다 [1][2].", two)
    assert flagged.verdict == "flagged" and unsupported(flagged) == ["근로기준법 제61조"]
    other_law = checker.run("「민법」 제26조에 따르면 30일 전에 예고해야 합니다 [1].", [ART26])
    assert unsupported(other_law) == ["「민법」 제26조"]
    paragraph = checker.run("근로기준법 제60조 제4항에 따르면 총 휴가 일수는 25일을 한도로 합니다 [1].", [ART60])
    assert paragraph.verdict == "pass"
    missing = checker.run("근로기준법 제60조 제9항에 따르면 총 휴가 일수는 25일을 한도로 합니다 [1].", [ART60])
    assert missing.verdict != "pass"
    mention = checker.run("휴가에는 제1항에 따른 휴가에 1일을 가산합니다 [1].", [ART60])
    assert mention.verdict == "pass"


def test_a_date_the_source_lacks_is_flagged(checker: Checker) -> None:
    result = checker.run("15일의 유급휴가를 줘야 합니다 [1]. 이 규정은 2023년 7월 1일부터 시행됩니다 [1].", [ART60])
    assert result.verdict == "flagged" and unsupported(result) == ["2023년 7월 1일"]


def test_sentences_check_the_sources_they_cite(checker: Checker) -> None:
    a60 = ART60
    a54 = Source(2, ART54.text, ART54.doc_title, ART54.article, ART54.location)
    assert checker.run("휴게시간은 4시간이면 30분 이상입니다 [2].", [a60, a54]).verdict == "pass"
    wrong = checker.run("「근로기준법」 제54조에 따르면 휴게시간은 4시간이면 30분 이상입니다 [1].", [a60, a54])
    assert "「근로기준법」 제54조" in unsupported(wrong)
    uncited = checker.run("휴게시간은 4시간이면 30분 이상입니다.", [a60, a54])
    assert uncited.verdict == "pass"  # no marker at all: every source counts
    covered = checker.run("연차는 15일입니다. 휴게시간은 4시간이면 30분 이상입니다 [1][2].", [a60, a54])
    assert covered.verdict == "pass"


def test_bad_inputs(checker: Checker) -> None:
    plain = checker.run("연차휴가에 대해서는 취업규칙을 확인하세요 [1].", [ART60])
    assert plain.verdict == "pass" and plain.findings == ()
    assert checker.run("", [ART60]).verdict == "pass"
    no_sources = checker.run("연차는 15일입니다 [1].", [])
    assert no_sources.verdict == "flagged" and no_sources.findings[0]["evidence"] is None
    empty = checker.run("연차는 15일입니다 [1].", [Source(1, "")])
    assert empty.verdict == "flagged"
    noise = checker.run("문의는 02-405-5118 또는 https://www.kisa.or.kr/60 로 하세요 [1].", [ART60])
    assert noise.verdict == "pass" and noise.findings == ()
    with pytest.raises(TypeError):
        Checker(None)
    with pytest.raises(TypeError):
        Checker(KoreanAnalyzer(), second_opinion="yes")  # type: ignore[arg-type]


def test_very_long_answers_are_checked_whole(checker: Checker) -> None:
    sentence = "1년간 80% 이상 출근한 근로자에게는 15일의 유급휴가를 줘야 합니다 [1]. "
    answer = sentence * 80  # ~4,000 characters
    result = checker.run(answer, [ART60, ART54, ART26, ART56])
    assert result.verdict == "pass" and len(result.findings) == 240
    wrong = checker.run(answer + "1년간 80% 이상 출근한 근로자에게는 30일의 유급휴가를 줘야 합니다 [1].", [ART60])
    assert wrong.verdict == "corrected" and unsupported(wrong) == ["30일"]
    assert wrong.findings[-1]["start"] == len(answer) + answer.index("15일") and wrong.text.endswith(
        "15일의 유급휴가를 줘야 합니다 [1]."
    )


def test_second_opinion_is_an_extra_signal_only() -> None:
    calls: list[tuple[str, str]] = []

    def says_yes(sentence: str, source: str) -> bool:
        calls.append((sentence, source))
        return True

    c = Checker(KoreanAnalyzer(), second_opinion=says_yes)
    result = c.run("15일의 유급휴가를 줘야 합니다 [1]. 이 규정은 2023년 7월 1일부터 시행됩니다 [1].", [ART60])
    assert result.verdict == "flagged"  # the model saying "supported" never passes a flagged answer
    assert len(calls) == 1 and calls[0][0].startswith("이 규정은") and "제60조" in calls[0][1]
    flagged = [f for f in result.findings if f["supported"] is False]
    assert flagged[0]["second_opinion"] is True
    assert all(f["second_opinion"] is None for f in result.findings if f["supported"] is True)
    assert c.run("15일의 유급휴가를 줘야 합니다 [1].", [ART60]).verdict == "pass" and len(calls) == 1

    def broken(sentence: str, source: str) -> bool:
        raise RuntimeError("model crashed")

    crashed = Checker(KoreanAnalyzer(), second_opinion=broken).run(
        "이 규정은 2023년 7월 1일부터 시행됩니다 [1].", [ART60]
    )
    assert crashed.verdict == "flagged" and crashed.findings[0]["second_opinion"] is None


def test_a_value_in_its_own_short_sentence_beats_a_longer_sentence_that_shares_more_words(checker: Checker) -> None:
    """The clause around the value decides; a long sentence about the same subject with other values of the
    same kind is no reason to flag it when its clause matches no better (dev finding, issue 18)."""
    rule = Source(
        1,
        "제12조(위탁계약) ① 위탁자가 계약기간이 끝나기 3개월 전부터 1개월 전까지 수탁자에게 해지의 뜻을 알리지 아니하면 "
        "같은 조건으로 계약을 연장한 것으로 본다.\n② 제1항의 경우 연장된 계약기간은 1년으로 본다.",
        "위탁운영규정",
        "제12조",
    )
    answer = (
        "계약기간이 끝나기 3개월 전부터 1개월 전까지 위탁자가 해지를 알리지 않으면 같은 조건으로 연장된 것으로 보고, "
        "계약기간은 1년이 됩니다 [1]."
    )
    assert checker.run(answer, [rule]).verdict == "pass"
    wrong = answer.replace("1년이", "2년이")
    assert checker.run(wrong, [rule]).verdict != "pass"
