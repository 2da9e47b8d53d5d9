"""What the DOCX, HWPX and HWP loaders share about tables: placing cells, the caption, the rows.

Each loader reads its format's cell addresses and spans into :func:`place_cells`, picks a caption
with :func:`caption_from` (the table's own caption element, else the short paragraph right before
the table) and renders with :func:`table_blocks`: one ``table_row`` block per body row, each
naming the caption and the column headers (:func:`onprem_bot.ingest.tables.row_texts`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from onprem_bot.ingest.loaders.base import Block
from onprem_bot.ingest.tables import MAX_CAPTION_CHARS, ROW_SEPARATOR, TableGrid, clean_cell, row_texts

MAX_GRID_CELLS = 100_000
"""A table claiming more grid positions than this (a damaged span) is placed without spans."""
_APPENDIX = re.compile(r"^\s*[\[<(〈【]?\s*(?:별표|별지|부표|표|서식)\s*(?:제?\s*\d|[\]>)〉】])")
_ARTICLE = re.compile(r"^\s*(?:제\s*\d+\s*조|[①-⑳]|\d+\.|[가-하]\.)")
_SENTENCE_END = re.compile(r"(?:다|요|함|임|음)\s*\.?\s*$|\.\s*$")


def caption_from(own: str, before: Block | None) -> str:
    """The table's caption: its own caption text, else the block right before it when that is a
    short title-like line (``[별표 1] 여비 지급 기준``, ``수당 지급표``), else ``""``.

    A sentence (``… 지급한다.``), an article heading (``제3조(여비) …``) or a numbered item is not a
    caption: it would be repeated at the start of every row."""
    own = " ".join(own.split())
    if own:
        return own[:MAX_CAPTION_CHARS]
    if before is None or before.kind == "table_row" or "\n" in before.text.strip():
        return ""
    text = " ".join(before.text.split())
    if not text or len(text) > MAX_CAPTION_CHARS:
        return ""
    if _APPENDIX.match(text):
        return text
    if _ARTICLE.match(text) or _SENTENCE_END.search(text):
        return ""
    return text


def place_cells(cells: Iterable[tuple[int, int, int, int, str]], n_rows: int = 0, n_cols: int = 0) -> TableGrid:
    """A grid from ``(row, col, row_span, col_span, text)`` cells: the text at its top-left
    position, ``None`` over the rest of its span, ``""`` where no cell lies."""
    items = list(cells)
    n_rows = max([n_rows, *(r + max(rs, 1) for r, _, rs, _, _ in items)])
    n_cols = max([n_cols, *(c + max(cs, 1) for _, c, _, cs, _ in items)])
    if n_rows * n_cols > MAX_GRID_CELLS:
        items = [(r, c, 1, 1, t) for r, c, _, _, t in items]
        n_rows = max([0, *(r + 1 for r, *_ in items)])
        n_cols = max([0, *(c + 1 for _, c, *_ in items)])
        if n_rows * n_cols > MAX_GRID_CELLS:
            return TableGrid(tuple((t,) for *_, t in items))
    grid: list[list[str | None]] = [[""] * n_cols for _ in range(n_rows)]
    for r, c, rs, cs, text in items:
        for rr in range(r, r + max(rs, 1)):
            for cc in range(c, c + max(cs, 1)):
                grid[rr][cc] = None
        grid[r][c] = text
    return TableGrid(tuple(tuple(row) for row in grid))


def plain_rows(grid: TableGrid) -> list[str]:
    """Each row as its filled cells joined with `` | `` (a one-row table, a title box)."""
    out = []
    for row in grid.cells:
        parts = [c for c in (clean_cell(v) for v in row) if c]
        if parts:
            out.append(ROW_SEPARATOR.join(parts))
    return out


def table_texts(grid: TableGrid) -> list[str]:
    """The rendered rows of ``grid``: body rows with caption and headers, or the plain rows
    when the table has no body row under its header or a single column (a one-row table, a
    title or text box)."""
    if len(grid.cells) < 2 or grid.width < 2:
        return plain_rows(grid)
    return row_texts(grid) or plain_rows(grid)


def table_blocks(grid: TableGrid) -> list[Block]:
    """One ``table_row`` block per rendered row of ``grid``."""
    return [Block(text, page=grid.page, kind="table_row") for text in table_texts(grid)]
