"""PDF pages with tables: pdfplumber's ruled tables as rows with headers, the text around them in order.

pypdf's layout text lays a table out as columns of numbers whose row and column headers are lines
away (``1급이하 … 광역시: 실비 80,000이내``). On a page where pdfplumber finds ruled tables, the page
is read with pdfplumber instead: the text outside the tables line by line, each table as a
:class:`~onprem_bot.ingest.tables.TableGrid` rendered by :func:`~onprem_bot.ingest.tables.row_texts`,
both in reading order (top to bottom). A table's caption is its appendix heading (``[별표 1]
국내여비지급표``, from :mod:`onprem_bot.ingest.appendix`), else the short line right above it. A table
that ends one page and goes on at the top of the next keeps its caption and headers.

Measured on the 12 KISA regulation PDFs (`python -m onprem_bot.eval.page_windows --time-ingest`):
see the README's ingest figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from onprem_bot.ingest.appendix import AppendixHeading, is_tag_tail, parse_appendix_heading, title_line
from onprem_bot.ingest.loaders.base import Block
from onprem_bot.ingest.tables import TableGrid, continues, header_row_count, row_texts, table_headers

MIN_RULE_OPERATORS = 4
"""A page whose content stream draws fewer rectangles/lines (``re``, ``l`` operators) than this has no
ruled table; pdfplumber (the slow part of reading a PDF) is not asked. On the 12 KISA PDFs this skips
138 of 252 pages and misses none of the pages where pdfplumber finds a table."""
_RULE_OPERATOR = re.compile(rb"(?<![A-Za-z])(?:re|l)\s")
MAX_CAPTION_LINE = 40
"""A line right above a table is taken for its caption when at most this many characters."""
MAX_REPEATED_CELL = 40
"""A cell merged over several body rows is repeated on each when at most this long (a label, an
amount); a long note (비고) stays on its first row only."""
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_PAGE_NUMBER = re.compile(r"^(?:[-–—]\s*)?(?:\d{1,4}|[ivxlcIVXLC]{1,6})(?:\s*[-–—])?$|^\d{1,4}\s*/\s*\d{1,4}$")


@dataclass
class CaptionContext:
    """What the reader remembers across lines and pages of one PDF: the current appendix caption
    and the last table when it ended its page (for a table continued on the next page)."""

    caption: str = ""
    pending: AppendixHeading | None = None
    last_table: TableGrid | None = None
    last_headers: list[str] = field(default_factory=list)

    def see(self, text: str) -> None:
        """Follow one text line in reading order (appendix headings and their title lines)."""
        heading = parse_appendix_heading(text)
        if heading is not None:
            self.caption = heading.caption
            self.pending = None if heading.title else heading
            return
        if self.pending is None:
            return
        if is_tag_tail(text):
            return
        title = title_line(text)
        if title:
            self.caption = AppendixHeading(self.pending.label, title).caption
        self.pending = None


def may_have_rules(page: Any) -> bool:
    """Whether a pypdf ``page`` may hold a ruled table: its content stream draws at least
    :data:`MIN_RULE_OPERATORS` rectangles or lines, or it uses form XObjects (drawings kept elsewhere).
    Errors count as "may" (pdfplumber then decides)."""
    try:
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
        if len(_RULE_OPERATOR.findall(data)) >= MIN_RULE_OPERATORS:
            return True
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        return any(xobjects[name].get_object().get("/Subtype") == "/Form" for name in xobjects)
    except Exception:  # a damaged stream: let pdfplumber look
        return True


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _grid(table: Any, caption: str, page: int) -> TableGrid:
    """The table's cells; below the header, a position covered by a cell merged from above gets
    that cell's text (a 항공임 shared by four 지역 rows), so each body row reads alone
    (see :data:`MAX_REPEATED_CELL`)."""
    rows = [[None if c is None else str(c) for c in row] for row in table.extract()]
    n_header = header_row_count(rows)
    try:
        boxes = [row.bbox for row in table.rows]
        columns = [col.bbox for col in table.columns]
    except Exception:  # pdfplumber's geometry API is best effort here
        boxes, columns = [], []
    if len(boxes) == len(rows) and columns:
        for r in range(max(n_header, 1), len(rows)):
            for c, value in enumerate(rows[r]):
                if value is None and c < len(columns):
                    start = _merged_from_above(table.cells, boxes, columns, r, c)
                    above = rows[start][c] if start is not None else None
                    if above is not None and len(above) <= MAX_REPEATED_CELL:
                        rows[r][c] = above
    return TableGrid(tuple(tuple(row) for row in rows), caption, page)


def _merged_from_above(cells: list[Any], rows: list[Any], columns: list[Any], r: int, c: int) -> int | None:
    """The row index where the merged cell covering (r, c) starts, when it starts above row r."""
    x = (columns[c][0] + columns[c][2]) / 2
    y = (rows[r][1] + rows[r][3]) / 2
    for x0, top, x1, bottom in cells:
        if x0 <= x <= x1 and top <= y <= bottom and top < rows[r][1] - 1 and abs(x0 - columns[c][0]) < 1:
            for start in range(r - 1, -1, -1):
                if abs(rows[start][1] - top) < 1:
                    return start
    return None


def _plain_lines(grid: TableGrid) -> list[str]:
    """A box of one column or one row (a framed note, a form field) read as text lines."""
    out: list[str] = []
    for row in grid.cells:
        for cell in row:
            if cell:
                out.extend(_clean(part) for part in cell.split("\n") if part.strip())
    return out


def page_blocks(page: Any, number: int, context: CaptionContext, tables: list[Any] | None = None) -> list[Block]:
    """The blocks of one pdfplumber ``page`` (1-based ``number``): text lines and table rows.

    ``tables`` are ``page.find_tables()`` when the caller already has them. Raises whatever
    pdfplumber raises on a damaged page (the loader turns it into a LoaderError).
    """
    tables = page.find_tables() if tables is None else tables
    rest = page
    for table in tables:
        rest = rest.outside_bbox(table.bbox, strict=False)
    items: list[tuple[float, int, Any]] = [
        (float(line["top"]), 0, _clean(line["text"])) for line in rest.extract_text_lines(strip=True)
    ]
    items += [(float(table.bbox[1]), 1, table) for table in tables]
    items.sort(key=lambda item: (item[0], item[1]))
    texts = [i for i, item in enumerate(items) if item[1] == 0 and item[2]]
    drop = {i for i in texts[:1] + texts[-1:] if _PAGE_NUMBER.match(items[i][2])}
    blocks: list[Block] = []
    previous_line = ""
    seen_text = False
    for index, (_top, kind, value) in enumerate(items):
        if index in drop or (kind == 0 and not value):
            continue
        if kind == 0:
            context.see(value)
            blocks.append(Block(value, page=number))
            previous_line, seen_text = value, True
            continue
        caption = context.caption or (previous_line if len(previous_line) <= MAX_CAPTION_LINE else "")
        grid = _grid(value, caption, number)
        if grid.width <= 1 or len(grid.cells) <= 1:
            for line in _plain_lines(grid):
                context.see(line)
                blocks.append(Block(line, page=number))
            continue
        headers: list[str] | None = None
        last = context.last_table
        if not seen_text and last is not None and continues(last, grid):
            grid = TableGrid(grid.cells, last.caption, number)
            if header_row_count([list(r) for r in grid.cells]) == 0:
                headers = context.last_headers
        blocks.extend(Block(row, page=number, kind="table_row") for row in row_texts(grid, headers))
        is_last = index == len(items) - 1 or all(items[j][1] == 0 and j in drop for j in range(index + 1, len(items)))
        context.last_table = grid if is_last else None
        context.last_headers = (headers or table_headers(grid)) if is_last else []
        seen_text = True
    if tables and not blocks:
        context.last_table = None
    return blocks
