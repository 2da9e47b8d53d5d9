"""PDF table pages read through pdfplumber's API (fakes of its page and table objects, fast)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onprem_bot.ingest.loaders.pdf_tables import CaptionContext, page_blocks


@dataclass
class FakeTable:
    rows_text: list[list[str | None]]
    bbox: tuple[float, float, float, float]
    rows: list[Any] = field(default_factory=list)
    columns: list[Any] = field(default_factory=list)
    cells: list[Any] = field(default_factory=list)

    def extract(self) -> list[list[str | None]]:
        return self.rows_text


@dataclass
class FakePage:
    lines: list[tuple[float, str]]
    tables: list[FakeTable]

    def find_tables(self) -> list[FakeTable]:
        return self.tables

    def outside_bbox(self, bbox: Any, strict: bool = False) -> FakePage:
        return FakePage([ln for ln in self.lines if not bbox[1] <= ln[0] <= bbox[3]], [])

    def extract_text_lines(self, strip: bool = True) -> list[dict[str, Any]]:
        return [{"top": top, "text": text} for top, text in self.lines]


def _texts(blocks: list[Any], kind: str) -> list[str]:
    return [b.text for b in blocks if b.kind == kind]


def test_text_and_rows_in_reading_order_with_appendix_caption() -> None:
    table = FakeTable([["구분", "숙박비"], ["임원", "100,000원"], ["직원", "70,000원"]], (50, 200, 500, 300))
    page = FakePage(
        [(100, "[별표 제1호] <개정 2024. 1. 1.>"), (120, "여 비 지 급 표"), (400, "※ 비고"), (780, "- 15 -")], [table]
    )
    blocks = page_blocks(page, 15, CaptionContext())
    assert [b.text for b in blocks] == [
        "[별표 제1호] <개정 2024. 1. 1.>",
        "여 비 지 급 표",
        "[별표 1] 여비지급표 | 구분: 임원 | 숙박비: 100,000원",
        "[별표 1] 여비지급표 | 구분: 직원 | 숙박비: 70,000원",
        "※ 비고",
    ]
    assert all(b.page == 15 for b in blocks)


def test_table_continued_on_next_page_keeps_caption_and_headers() -> None:
    context = CaptionContext()
    first = FakePage(
        [(100, "[별표 2] 수당표")], [FakeTable([["구분", "금액"], ["가", "1,000원"]], (50, 200, 500, 790))]
    )
    page_blocks(first, 1, context)
    bare = FakePage([(800, "2")], [FakeTable([["나", "2,000원"], ["다", "3,000원"]], (50, 40, 500, 300))])
    assert _texts(page_blocks(bare, 2, context), "table_row") == [
        "[별표 2] 수당표 | 구분: 나 | 금액: 2,000원",
        "[별표 2] 수당표 | 구분: 다 | 금액: 3,000원",
    ]
    repeated = FakePage([], [FakeTable([["구분", "금액"], ["라", "4,000원"]], (50, 40, 500, 300))])
    assert _texts(page_blocks(repeated, 3, context), "table_row") == ["[별표 2] 수당표 | 구분: 라 | 금액: 4,000원"]


def test_table_without_header_row_and_framed_note() -> None:
    numbers = FakeTable([["1", "10,000"], ["2", "20,000"]], (50, 100, 500, 200))
    note = FakeTable([["업무형편상 부득이한\n사유"]], (50, 300, 500, 400))
    blocks = page_blocks(FakePage([(50, "지급 기준")], [numbers, note]), 3, CaptionContext())
    assert _texts(blocks, "table_row") == ["지급 기준 | 1 | 10,000", "지급 기준 | 2 | 20,000"]
    assert _texts(blocks, "paragraph") == ["지급 기준", "업무형편상 부득이한", "사유"]
