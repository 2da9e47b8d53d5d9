"""DOCX, HWPX and HWP tables come out as rows that name their caption and column headers, merged
cells resolved from each format (../shared/cases/word-table-rows; fixture copied into
tests/fixtures/word_tables)."""

from __future__ import annotations

from pathlib import Path

import docx

from onprem_bot.ingest.loaders.base import Block
from onprem_bot.ingest.loaders.docx import load_docx
from onprem_bot.ingest.loaders.table_grid import caption_from, place_cells, table_texts
from onprem_bot.ingest.tables import TableGrid

TRAVEL_DOCX = Path(__file__).parent / "fixtures" / "word_tables" / "여비기준.docx"


def rows(blocks: tuple[Block, ...] | list[Block]) -> list[str]:
    return [b.text for b in blocks if b.kind == "table_row"]


# -- shared helpers -------------------------------------------------------------------------


def test_place_cells_marks_spans() -> None:
    grid = place_cells([(0, 0, 2, 1, "구분"), (0, 1, 1, 2, "교통비"), (1, 1, 1, 1, "철도"), (1, 2, 1, 1, "항공")])
    assert grid.cells == (("구분", "교통비", None), (None, "철도", "항공"))
    assert place_cells([(0, 0, 1, 1, "a")], n_rows=2, n_cols=2).cells == (("a", ""), ("", ""))


def test_caption_is_the_own_caption_or_a_short_title_line_before() -> None:
    assert caption_from(" [별표 1]  여비 지급 기준 ", None) == "[별표 1] 여비 지급 기준"
    assert caption_from("", Block("[별표 1] 여비 지급 기준")) == "[별표 1] 여비 지급 기준"
    assert caption_from("", Block("수당 지급표", kind="heading", level=2)) == "수당 지급표"
    assert caption_from("", Block("제3조(여비 지급) 여비는 아래 표의 기준에 따라 지급한다.")) == ""
    assert caption_from("", Block("여비는 다음과 같이 지급한다.")) == ""
    assert caption_from("", Block("구분 | 금액", kind="table_row")) == ""
    assert caption_from("", Block("가" * 61)) == ""
    assert caption_from("", None) == ""


def test_one_row_table_keeps_plain_cells() -> None:
    assert table_texts(TableGrid((("제목 상자",),))) == ["제목 상자"]
    assert table_texts(TableGrid((("구분", "내용"),))) == ["구분 | 내용"]


# -- DOCX -----------------------------------------------------------------------------------


def test_docx_case_rows_name_their_row_and_columns() -> None:
    doc = load_docx(TRAVEL_DOCX)
    assert rows(doc.blocks) == [
        "구분: 임원 | 일비: 30,000원 | 숙박비(1박 상한): 100,000원 | 식비: 35,000원",
        "구분: 직원 | 일비: 20,000원 | 숙박비(1박 상한): 70,000원 | 식비: 25,000원",
    ]
    staff = next(r for r in rows(doc.blocks) if "직원" in r)
    assert "숙박비(1박 상한): 70,000원" in staff and "100,000원" not in staff
    assert not any(r.startswith("구분 | ") for r in rows(doc.blocks))  # no header-only row


def test_docx_merged_header_vmerge_and_caption(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("[별표 1] 여비 지급 기준")
    table = document.add_table(rows=4, cols=3)
    values = [
        ["구분", "여비", ""],
        ["", "일비", "숙박비"],
        ["임원", "30,000원", "100,000원"],
        ["", "20,000원", "70,000원"],
    ]
    for r, row in enumerate(values):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(0, 1).merge(table.cell(0, 2)).text = "여비"  # gridSpan
    table.cell(0, 0).merge(table.cell(1, 0)).text = "구분"  # vMerge
    table.cell(2, 0).merge(table.cell(3, 0)).text = "임원"  # a row label over two rows
    document.add_paragraph("표 다음 문단")
    path = tmp_path / "merged.docx"
    document.save(str(path))
    assert rows(load_docx(path).blocks) == [
        "[별표 1] 여비 지급 기준 | 구분: 임원 | 여비 일비: 30,000원 | 여비 숙박비: 100,000원",
        "[별표 1] 여비 지급 기준 | 구분: 임원 | 여비 일비: 20,000원 | 여비 숙박비: 70,000원",
    ]
