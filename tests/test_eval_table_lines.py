"""The one-line table check of onprem_bot.eval.table_lines (pure parts, and one real fixture page)."""

from __future__ import annotations

from pathlib import Path

from onprem_bot.eval.table_lines import holds, needles, page_lines

FIXTURE = Path(__file__).parent / "fixtures" / "appendix" / "출장규칙_p14-17.pdf"


def test_needles_and_holds() -> None:
    row = {"row": "기관장 / 라", "column": "숙박비(그 외 지역)", "keywords": ["137"]}
    assert needles(row) == ["137", "기관장", "라", "숙박비"]
    assert holds(["구분: 기관장 | 지역: 라 | 체재비 숙박비: 137"], needles(row))
    assert not holds(["구분: 기관장", "지역: 라 | 숙박비: 137"], needles(row))


def test_table_rows_hold_value_row_and_column_where_layout_text_does_not() -> None:
    wanted = needles({"row": "1급이하", "column": "숙박비(광역시)", "keywords": ["80,000"]})
    assert holds(page_lines(FIXTURE, 2, tables=True), wanted)
    assert not holds(page_lines(FIXTURE, 2, tables=False), wanted)
