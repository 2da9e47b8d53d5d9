"""The checker evaluation on a small slice of a real statute (the 근로기준법 shipped in corpus/)."""

from __future__ import annotations

import random

import pytest

from onprem_bot.checker import Checker, Source, extract_facts
from onprem_bot.eval.checker import Case, build_cases, evaluate, format_report, load_documents
from onprem_bot.eval.checker_alter import ALTERATIONS, alter, naive_flags
from onprem_bot.korean.analyzer import KoreanAnalyzer
from tests.conftest import REPO


@pytest.fixture(scope="module")
def checker() -> Checker:
    c = Checker(KoreanAnalyzer())
    c.warm_up()
    return c


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    docs = load_documents(REPO / "corpus" / "근로기준법", pdfs=False)
    assert docs and all(c.doc_title.startswith("근로기준법") for d in docs for c in d)
    every = build_cases(docs, 400, seed=3)
    rng = random.Random(0)
    swappable = [c for c in every if alter(c.answer, c.sources, "swap_values", rng) is not None]
    return swappable[:30] + [c for c in every if c not in swappable][:30]


def test_alterations_change_the_answer_the_way_a_model_errs(checker: Checker) -> None:
    source = Source(
        1, "① 사용자는 근로시간이 4시간인 경우에는 30분 이상, 8시간인 경우에는 1시간 이상의 휴게시간을 주어야 한다."
    )
    answer = "근로시간이 4시간인 경우에는 30분 이상, 8시간인 경우에는 1시간 이상의 휴게시간을 줘야 합니다 [1]."
    rng = random.Random(1)
    swapped = alter(answer, [source], "swap_values", rng)
    assert swapped is not None and swapped != answer
    values = sorted(f.value for f in extract_facts(answer))
    assert sorted(f.value for f in extract_facts(swapped)) == values  # the same values, two of them exchanged
    assert not naive_flags(swapped, [source])  # every value still occurs somewhere: the naive check passes it
    assert checker.run(swapped, [source]).verdict != "pass"
    for kind in ALTERATIONS:
        altered = alter(answer, [source], kind, random.Random(2))
        assert altered is None or altered != answer


def test_checker_beats_the_naive_anchor_on_real_sources(checker: Checker, cases: list[Case]) -> None:
    assert len(cases) >= 40
    report = evaluate(checker, cases, seed=1)
    swap = report["recall"]["swap_values"]
    assert swap["n"] >= 20
    assert swap["checker"] >= 0.9 and swap["naive"] <= 0.2 and swap["checker"] > swap["naive"]
    assert report["recall"]["neighbour_article"]["checker"] > report["recall"]["neighbour_article"]["naive"]
    assert report["recall_overall"]["checker"] >= 0.95
    assert report["false_flag_rate"]["checker"] <= 0.05
    assert set(report["false_flag_rate_per_fact_kind"]) >= {"number", "reference"}
    for row in report["false_flag_rate_per_fact_kind"].values():
        assert {"facts", "checker", "naive"} <= set(row)
    table = format_report(report)
    assert "swap_values" in table and "false flags" in table
