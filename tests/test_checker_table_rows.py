"""The checker knows table rows (issue 16, item 3; ../shared/cases/word-table-rows).

A value the sources give only in table rows is supported when the answer sentence (or, for the
row, the question) names a row holding it in the named column, or names no row of that table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from onprem_bot.checker import Checker, CheckResult, Source
from onprem_bot.checker.facts import extract_facts
from onprem_bot.checker.sources import read_sources
from onprem_bot.checker.table_rows import header_names, judge, mentions, parse_rows, prose_facts
from onprem_bot.ingest.tables import TableGrid, row_texts
from onprem_bot.korean.analyzer import KoreanAnalyzer

FIXTURES = Path(__file__).parent / "fixtures" / "table_rows"
ROWS = (
    "[별표 1] 여비 지급 기준 | 구분: 임원 | 일비: 25,000원 | 숙박비: 100,000원\n"
    "[별표 1] 여비 지급 기준 | 구분: 직원 | 일비: 20,000원 | 숙박비: 70,000원"
)
TABLE = Source(1, "제5조(여비) 여비는 별표 1에 따른다.\n" + ROWS, "여비규정", "별표 1", "별표 1")


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(KoreanAnalyzer())


def money(result: CheckResult) -> list[tuple[object, object, object]]:
    return [(f["surface"], f["supported"], f.get("new")) for f in result.findings]


# -- the pure row maths ------------------------------------------------------------------------


def test_rendered_rows_parse_with_caption_label_and_columns() -> None:
    rows = parse_rows(TABLE.text)
    assert [r.label for r in rows] == ["임원", "직원"]
    assert {r.caption for r in rows} == {"[별표 1] 여비 지급 기준"} and len({r.table for r in rows}) == 1
    assert [(c.header, c.value) for c in rows[1].cells] == [("일비", "20,000원"), ("숙박비", "70,000원")]
    assert TABLE.text[rows[1].start :].startswith("[별표 1] 여비 지급 기준 | 구분: 직원")
    assert [f.kind for f in prose_facts(TABLE.text)] == ["reference"]  # 제5조; the rows are blanked


def test_parse_reads_what_the_shared_renderer_writes() -> None:
    grid = TableGrid((("구분", "일비", "숙박비"), ("임원", "25,000원", "100,000원"), ("직원", "20,000원", "70,000원")))
    assert [r.label for r in parse_rows("\n".join(row_texts(grid)))] == ["임원", "직원"]
    no_corner = TableGrid((("", "일비"), ("임원", "25,000원"), ("직원", "20,000원")))  # empty top-left cell
    rows = parse_rows("\n".join(row_texts(no_corner)))
    assert [(r.caption, r.label) for r in rows] == [("", "임원"), ("", "직원")]
    captioned = TableGrid(no_corner.cells, caption="국내 여비 지급표")  # caption repeated on each row
    assert [r.label for r in parse_rows("\n".join(row_texts(captioned)))] == ["임원", "직원"]


def test_prose_with_bars_or_colons_is_not_a_row() -> None:
    assert parse_rows("비고: 실비로 지급한다.\nA | B 구간은 제외한다.") == ()


def test_names_are_matched_longest_first_and_not_inside_words() -> None:
    assert mentions("계약직원과 직원의 숙박비", ["직원", "계약직원"], guard=True) == [(0, "계약직원"), (6, "직원")]
    assert mentions("임직원 숙박비", ["직원"], guard=True) == []
    assert header_names("숙박비(1박 상한)") == ["숙박비"]
    assert header_names("교통비 철도") == ["교통비 철도", "철도"]


def test_judge_row_and_column() -> None:
    rows = parse_rows(ROWS)

    def verdict(sentence: str, question: str = "") -> tuple[bool, str | None]:
        f = next(f for f in extract_facts(sentence) if f.kind == "money")
        v = judge(f, rows, sentence, f.start, question)
        assert v is not None
        return v.supported, v.suggestion.surface if v.suggestion else None

    assert verdict("직원의 숙박비는 100,000원입니다.") == (False, "70,000원")
    assert verdict("직원의 숙박비는 70,000원입니다.") == (True, None)
    assert verdict("직원 일비는 70,000원입니다.") == (False, "20,000원")  # 직원's 숙박비, not its 일비
    assert verdict("숙박비는 100,000원까지입니다.") == (True, None)  # no row named: true of some row
    assert verdict("숙박비는 100,000원까지입니다.", "직원의 숙박비 상한은?") == (False, "70,000원")
    assert verdict("일비는 70,000원입니다.") == (False, None)  # no row's 일비; two 일비 values
    f = extract_facts("5,000원")[0]
    assert judge(f, rows, "5,000원", 0) is None  # in no row: not this rule's case


# -- the checker -------------------------------------------------------------------------------


def test_the_wrong_rows_value_is_corrected_to_the_named_rows(checker: Checker) -> None:
    result = checker.run("직원의 숙박비는 100,000원입니다 [1].", [TABLE])
    assert result.verdict == "corrected" and money(result) == [("100,000원", False, "70,000원")]
    assert result.text == "직원의 숙박비는 70,000원입니다 [1]."
    assert result.findings[0]["evidence"] == ROWS.splitlines()[1] and result.findings[0]["reason"] == "table_row"


@pytest.mark.parametrize(
    "answer",
    [
        "직원의 숙박비는 70,000원입니다 [1].",
        "임원의 숙박비는 100,000원입니다 [1].",
        "직원의 일비는 20,000원이고 숙박비는 70,000원입니다 [1].",
        "숙박비는 임원 100,000원, 직원 70,000원입니다 [1].",
        "숙박비는 100,000원까지입니다 [1].",
    ],
)
def test_right_rows_and_unnamed_rows_pass(checker: Checker, answer: str) -> None:
    assert checker.run(answer, [TABLE]).verdict == "pass"


def test_the_column_counts(checker: Checker) -> None:
    result = checker.run("직원 일비는 70,000원입니다 [1].", [TABLE])
    assert money(result) == [("70,000원", False, "20,000원")]
    assert checker.run("일비는 70,000원입니다 [1].", [TABLE]).verdict == "flagged"


def test_the_question_names_the_row_when_the_sentence_does_not(checker: Checker) -> None:
    result = checker.run("숙박비 상한은 100,000원입니다 [1].", [TABLE], question="직원의 숙박비 상한은 얼마인가요?")
    assert result.verdict != "pass" and result.text == "숙박비 상한은 70,000원입니다 [1]."
    assert checker.run("숙박비 상한은 70,000원입니다 [1].", [TABLE], question="직원 숙박비는?").verdict == "pass"


def test_rows_of_one_table_in_two_chunks_are_one_table(checker: Checker) -> None:
    first, second = ROWS.splitlines()
    sources = [Source(1, first, "여비규정", "별표 1"), Source(2, second, "여비규정", "별표 1")]
    assert checker.run("직원의 숙박비는 100,000원입니다 [1].", sources).verdict != "pass"


def test_a_value_also_stated_in_prose_keeps_the_sentence_check(checker: Checker) -> None:
    prose = Source(1, TABLE.text + "\n제6조(상한) 숙박비는 1박에 100,000원을 넘을 수 없다.", "여비규정")
    assert checker.run("직원의 숙박비는 1박에 100,000원을 넘을 수 없습니다 [1].", [prose]).verdict == "pass"


def test_fixture_document_through_the_check_sources_reader(checker: Checker) -> None:
    sources = read_sources([FIXTURES / "여비규정.txt"])
    assert checker.run("직원의 숙박비 상한은 100,000원입니다 [1].", sources).verdict != "pass"
    assert checker.run("직원의 숙박비 상한은 70,000원입니다 [1].", sources).verdict == "pass"


def test_word_case_end_to_end(checker: Checker) -> None:
    """../shared/cases/word-table-rows: load the DOCX → chunk → check."""
    sources = read_sources([FIXTURES.parent / "word_tables" / "여비기준.docx"])
    assert "구분: 직원" in "\n".join(s.text for s in sources)
    wrong = checker.run("직원의 숙박비 상한은 100,000원입니다 [1].", sources)
    assert wrong.verdict != "pass" and "100,000원" not in wrong.text
    assert checker.run("직원의 숙박비 상한은 70,000원입니다 [1].", sources).verdict == "pass"
