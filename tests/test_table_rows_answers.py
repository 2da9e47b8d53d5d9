"""../shared/cases/word-table-rows through the whole answer flow: "직원의 숙박비 상한은 얼마인가요?" is
answered 70,000원 (the 직원 row), quoted or generated; a generated 100,000원 (임원's) never passes."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from onprem_bot.app import App
from onprem_bot.checker import Checker
from onprem_bot.citations import extractive_answer, question_rows
from onprem_bot.config import AnswerSettings
from onprem_bot.korean.analyzer import KoreanAnalyzer
from onprem_bot.llm.fake import ScriptedLLM
from onprem_bot.pipeline import Pipeline
from onprem_bot.types import Chunk, Hit

FIXTURES = Path(__file__).parent / "fixtures" / "table_rows"
QUESTION = "직원의 숙박비 상한은 얼마인가요?"
STAFF = "구분: 직원 | 일비: 20,000원 | 숙박비(1박 상한): 70,000원 | 식비: 25,000원"
TABLE = (
    "[별표 1] 여비 지급 기준\n"
    "[별표 1] 여비 지급 기준 | 구분: 임원 | 일비: 25,000원 | 숙박비(1박 상한): 100,000원 | 식비: 35,000원\n"
    "[별표 1] 여비 지급 기준 | 구분: 직원 | 일비: 20,000원 | 숙박비(1박 상한): 70,000원 | 식비: 25,000원"
)


def hit(text: str, article: str | None, n: int = 0) -> Hit:
    return Hit(Chunk(f"c{n}", "d", n, "article", text, "여비규정", article=article), 1.0)


def test_question_rows_pick_the_named_row_and_column() -> None:
    assert question_rows(QUESTION, TABLE) == [TABLE.splitlines()[2]]
    assert question_rows("임원과 직원의 일비는?", TABLE) == TABLE.splitlines()[1:]
    assert question_rows("숙박비 상한은 얼마인가요?", TABLE) == []  # no row named: ordinary quoting
    assert question_rows(QUESTION, "제4조(정산)\n숙박비는 적은 금액으로 정산한다.") == []


def test_extractive_quotes_the_named_row_never_the_header_or_another_row() -> None:
    prose = hit("제4조(정산)\n숙박비는 영수증 금액과 상한액 중 적은 금액으로 정산한다.", "제4조", 1)
    text, citations = extractive_answer(QUESTION, [prose, hit(TABLE, "별표 1", 2)], KoreanAnalyzer())
    first = text.splitlines()[0]
    assert "구분: 직원" in first and "70,000원" in first and first.endswith("[1]")
    assert "임원" not in text and "100,000원" not in text
    assert citations[0].chunk_id == "c2" and "구분: 직원" in citations[0].snippet


ALLOWANCES = "\n".join(
    ["[별표 3] 직원의 수당"]
    + [
        f"[별표 3] 직원의 수당 | 구분: 가족수당 | 지급대상: {who} | 지급기준: 월 {amount}"
        for who, amount in (
            ("배우자", "40,000원"),
            ("첫째 자녀", "30,000원"),
            ("둘째 자녀", "70,000원"),
            ("셋째 이후 자녀", "110,000원"),
        )
    ]
)


def test_extractive_picks_the_row_told_apart_by_a_word_no_other_row_holds() -> None:
    """Every row's label is 가족수당: the question's '셋째' (one row holds it) decides, not row order."""
    text, _ = extractive_answer(
        "셋째 태어나면 자녀 가족수당 월 얼마로 올라가요?", [hit(ALLOWANCES, "별표 3")], KoreanAnalyzer()
    )
    assert "셋째 이후 자녀 | 지급기준: 월 110,000원" in text and "배우자" not in text


@pytest.fixture
def travel(app: App, tmp_path: Path) -> App:
    """The App with the row-form 여비규정 fixture ingested and indexed."""
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(FIXTURES / "여비규정.txt", docs)
    app.ingestor.run([docs])
    app.reindex()
    return app


def pipeline(app: App, replies: list[str], **answer: object) -> tuple[Pipeline, ScriptedLLM]:
    llm = ScriptedLLM(replies)
    settings = replace(AnswerSettings(), **answer)  # type: ignore[arg-type]
    return Pipeline(None, app.retriever, app.analyzer, llm, Checker(app.analyzer), settings, k=5), llm


def test_a_model_answering_the_other_rows_value_does_not_pass(travel: App) -> None:
    p, llm = pipeline(travel, ["직원의 숙박비 상한은 100,000원입니다 [1]."])
    answer = p.ask(QUESTION)
    assert llm.prompts and answer.check.verdict != "pass", answer
    assert "100,000원" not in answer.answer and "70,000원" in answer.answer


def test_the_question_names_the_row_the_answer_leaves_out(travel: App) -> None:
    p, _ = pipeline(travel, ["숙박비 상한은 1박에 100,000원입니다 [1]."], on_flagged="highlight")
    answer = p.ask(QUESTION)
    assert answer.check.verdict != "pass" and "100,000원" not in answer.answer


def test_the_right_row_passes(travel: App) -> None:
    p, _ = pipeline(travel, ["직원의 숙박비 상한은 70,000원입니다 [1]."])
    answer = p.ask(QUESTION)
    assert answer.route == "rag" and answer.check.verdict == "pass", answer


def test_extractive_mode_quotes_the_staff_row(travel: App) -> None:
    p, llm = pipeline(travel, ["쓰면 안 됨"], mode="extractive")
    answer = p.ask(QUESTION)
    assert answer.route == "extractive" and not llm.prompts
    assert STAFF in answer.answer.splitlines()[0] and "100,000원" not in answer.answer


def test_a_quote_names_its_source_and_paragraph_and_skips_unrelated_sources() -> None:
    from onprem_bot.citations import lead, paragraph_of

    article = "제60조(연차 유급휴가)\n① 사용자는 1년간 80퍼센트 이상 출근한 근로자에게 15일의 유급휴가를 주어야 한다.\n② 사용자는 1년 미만인 근로자에게 1개월 개근 시 1일의 유급휴가를 주어야 한다."
    assert paragraph_of(article, "사용자는 1년 미만인 근로자에게") == "제2항"
    chunk = Hit(Chunk("c1", "d", 0, "article", article, "근로기준법", article="제60조"), 1.0)
    assert lead(chunk, "사용자는 1년 미만인 근로자에게") == "근로기준법 제60조 제2항에 따르면"
    unrelated = Hit(
        Chunk(
            "c2", "d", 1, "article", "제9조(목적)\n이 법은 도로의 안전을 목적으로 한다.", "도로교통법", article="제9조"
        ),
        0.5,
    )
    text, citations = extractive_answer("1년 미만 근로자 유급휴가 며칠이에요?", [chunk, unrelated], KoreanAnalyzer())
    assert text.startswith('근로기준법 제60조 제2항에 따르면, "') or text.startswith(
        '근로기준법 제60조 제1항에 따르면, "'
    )
    assert [c.chunk_id for c in citations] == ["c1"]  # the road-traffic article shares no word: not quoted
