"""DOCX, HWPX and HWP tables come out as rows that name their caption and column headers, merged
cells resolved from each format (../shared/cases/word-table-rows; fixture copied into
tests/fixtures/word_tables)."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import docx

from onprem_bot.ingest.loaders.base import Block
from onprem_bot.ingest.loaders.docx import load_docx
from onprem_bot.ingest.loaders.hwp import load_hwp
from onprem_bot.ingest.loaders.hwpx import load_hwpx
from onprem_bot.ingest.loaders.table_grid import caption_from, place_cells, table_texts
from onprem_bot.ingest.tables import TableGrid
from tests.fixtures import make_hwp as mk

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


def test_one_row_or_one_column_table_keeps_plain_cells() -> None:
    assert table_texts(TableGrid((("제목 상자",),))) == ["제목 상자"]
    assert table_texts(TableGrid((("구분", "내용"),))) == ["구분 | 내용"]
    assert table_texts(TableGrid((("보도자료 제목",), ("부제 한 줄",)))) == ["보도자료 제목", "부제 한 줄"]


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


# -- HWPX -----------------------------------------------------------------------------------

HP = 'xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph" xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section"'


def _hwpx_cell(row: int, col: int, text: str, row_span: int = 1, col_span: int = 1) -> str:
    lines = "".join(f"<hp:p><hp:run><hp:t>{t}</hp:t></hp:run></hp:p>" for t in text.split("\n") if t)
    return (
        f'<hp:tc><hp:subList>{lines}</hp:subList><hp:cellAddr colAddr="{col}" rowAddr="{row}"/>'
        f'<hp:cellSpan colSpan="{col_span}" rowSpan="{row_span}"/></hp:tc>'
    )


def _hwpx(path: Path, caption: str = "") -> Path:
    """구분 over two header rows, 여비 over 일비/숙박비, 임원 over two body rows."""
    rows = [
        [_hwpx_cell(0, 0, "구분", row_span=2), _hwpx_cell(0, 1, "여비", col_span=2)],
        [_hwpx_cell(1, 1, "일비"), _hwpx_cell(1, 2, "숙박비\n(1박)")],
        [_hwpx_cell(2, 0, "임원", row_span=2), _hwpx_cell(2, 1, "30,000원"), _hwpx_cell(2, 2, "100,000원")],
        [_hwpx_cell(3, 1, "20,000원"), _hwpx_cell(3, 2, "70,000원")],
    ]
    own = f"<hp:caption><hp:subList><hp:p><hp:run><hp:t>{caption}</hp:t></hp:run></hp:p></hp:subList></hp:caption>"
    table = (
        '<hp:tbl rowCnt="4" colCnt="3">'
        + (own if caption else "")
        + "".join(f"<hp:tr>{''.join(r)}</hp:tr>" for r in rows)
        + "</hp:tbl>"
    )
    section = (
        f"<hs:sec {HP}><hp:p><hp:run><hp:t>[별표 2] 여비 지급표</hp:t></hp:run></hp:p>"
        f"<hp:p><hp:run>{table}</hp:run></hp:p><hp:p><hp:run><hp:t>표 다음 문단</hp:t></hp:run></hp:p></hs:sec>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/hwp+zip")
        zf.writestr("Contents/section0.xml", section)
    return path


def test_hwpx_rows_resolve_cell_spans(tmp_path: Path) -> None:
    doc = load_hwpx(_hwpx(tmp_path / "a.hwpx"))
    assert rows(doc.blocks) == [
        "[별표 2] 여비 지급표 | 구분: 임원 | 여비 일비: 30,000원 | 여비 숙박비 (1박): 100,000원",
        "[별표 2] 여비 지급표 | 구분: 임원 | 여비 일비: 20,000원 | 여비 숙박비 (1박): 70,000원",
    ]
    assert [b.text for b in doc.blocks if b.kind == "paragraph"] == ["[별표 2] 여비 지급표", "표 다음 문단"]


def test_hwpx_own_caption_wins(tmp_path: Path) -> None:
    doc = load_hwpx(_hwpx(tmp_path / "b.hwpx", caption="표 3 숙박비 상한"))
    assert all(r.startswith("표 3 숙박비 상한 | 구분: 임원") for r in rows(doc.blocks))


# -- HWP 5 ----------------------------------------------------------------------------------


def _hwp_table(cells: list[tuple[int, int, int, int, str]], n_rows: int, n_cols: int, caption: str = "") -> bytes:
    """A ``tbl `` control with (row, col, row_span, col_span, text) cells, as Hangul writes them."""
    out = mk.paragraph(mk.control(11, b"tbl "))
    out += mk.record(mk.CTRL_HEADER, 1, b"tbl "[::-1] + bytes(42))
    if caption:  # the caption's list header comes before HWPTAG_TABLE
        out += mk.record(mk.LIST_HEADER, 2, struct.pack("<HHI", 1, 0, 0) + bytes(16)) + mk.paragraph(caption, 2)
    body = struct.pack("<IHHh4h", 0, n_rows, n_cols, 0, 0, 0, 0, 0)
    body += struct.pack(f"<{n_rows}H", *([n_cols] * n_rows)) + struct.pack("<HH", 1, 0)
    out += mk.record(mk.TABLE, 2, body)
    for row, col, row_span, col_span, text in cells:
        cell = struct.pack("<HHIHHHHII4HHI", 1, 0, 0, col, row, col_span, row_span, 9000, 900, 0, 0, 0, 0, 1, 0)
        out += mk.record(mk.LIST_HEADER, 2, cell) + mk.paragraph(text, 2)
    return out


HWP_CELLS = [
    (0, 0, 2, 1, "구분"),
    (0, 1, 1, 2, "여비"),
    (1, 1, 1, 1, "일비"),
    (1, 2, 1, 1, "숙박비"),
    (2, 0, 2, 1, "임원"),
    (2, 1, 1, 1, "30,000원"),
    (2, 2, 1, 1, "100,000원"),
    (3, 1, 1, 1, "20,000원"),
    (3, 2, 1, 1, "70,000원"),
]


def test_hwp_rows_resolve_cell_spans(tmp_path: Path) -> None:
    section = mk.paragraph("[별표 1] 여비 지급 기준") + _hwp_table(HWP_CELLS, 4, 3) + mk.paragraph("표 다음 문단")
    doc = load_hwp(mk.write_hwp(tmp_path / "a.hwp", [section]))
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("paragraph", "[별표 1] 여비 지급 기준"),
        ("table_row", "[별표 1] 여비 지급 기준 | 구분: 임원 | 여비 일비: 30,000원 | 여비 숙박비: 100,000원"),
        ("table_row", "[별표 1] 여비 지급 기준 | 구분: 임원 | 여비 일비: 20,000원 | 여비 숙박비: 70,000원"),
        ("paragraph", "표 다음 문단"),
    ]


def test_hwp_own_caption_wins(tmp_path: Path) -> None:
    section = mk.paragraph("여비는 다음과 같이 지급한다.") + _hwp_table(HWP_CELLS, 4, 3, caption="표 1 여비 상한")
    doc = load_hwp(mk.write_hwp(tmp_path / "c.hwp", [section]))
    assert rows(doc.blocks)[1] == "표 1 여비 상한 | 구분: 임원 | 여비 일비: 20,000원 | 여비 숙박비: 70,000원"
    assert "표 1 여비 상한" in [b.text for b in doc.blocks if b.kind == "paragraph"]  # its text is kept
