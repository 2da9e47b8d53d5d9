"""Tables as rows that carry their headers (pure functions, shared by every loader).

A loader turns a table into a :class:`TableGrid` — the cell texts on the table's grid, ``None``
where a merged cell covers the position — and :func:`row_texts` renders each body row as one line
that names the table and every column::

    [별표 1] 국내 여비 지급표 | 구분 직명: 1급이하 | 숙박비: 광역시 실비 80,000이내

so a row read alone (a chunk, a quote, the checker) still says which row and which column each
value belongs to. Merged header cells are resolved by repeating a horizontally merged cell over
the columns it spans and stacking multi-row headers (``교통비 철도``); a row label merged over
several rows is repeated on each of them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

ROW_SEPARATOR = " | "
"""Between the caption and the cells of a rendered row (also the plain ``a | b`` row form)."""
LABEL_SEPARATOR = ": "
"""Between a column header and the cell value."""
MAX_HEADER_ROWS = 3
"""A header of more rows than this is taken for body rows (real headers have one to three)."""
MAX_CAPTION_CHARS = 60
"""Captions are cut to this many characters: each row repeats its caption."""

_SPACES = re.compile(r"\s+")
_LETTER_SPACED = re.compile(r"(?<![가-힣])[가-힣](?: [가-힣](?![가-힣])){1,}")
_ENTRY_VALUE = re.compile(r"^\d[\d,.]*\s*[가-힣%]{0,3}\s*(?:\(.{0,20}\))?$")
_NUMERIC = re.compile(r"^[\d,.\s%~·+\-×/()]*\d[\d,.\s%~·+\-×/()]*(?:원|일|개월|년|시간|배|만원|천원|%)?$")


@dataclass(frozen=True)
class TableGrid:
    """One table: ``cells[r][c]`` is the text at row ``r``, column ``c`` of the grid.

    ``None`` marks a position covered by a merged cell (to its left or above), ``""`` an empty
    cell. Rows may be ragged; they are padded with ``""``. ``caption`` is the table's title
    (``[별표 1] 국내 여비 지급표``) or ``""``; ``page`` is the 1-based page of the first row.
    """

    cells: tuple[tuple[str | None, ...], ...]
    caption: str = ""
    page: int | None = None

    @property
    def width(self) -> int:
        """Number of grid columns."""
        return max((len(r) for r in self.cells), default=0)


def unspace_letters(text: str) -> str:
    """Join letter-spaced Hangul (``국 내 여 비 지 급 표`` → ``국내여비지급표``, ``일 비`` → ``일비``).

    A run of three or more single syllables separated by single spaces is joined, and a run of
    two when it is the whole text; so ``그 외 지역`` stays as written."""
    if _LETTER_SPACED.fullmatch(text):
        return text.replace(" ", "")
    return _LETTER_SPACED.sub(lambda m: m.group(0).replace(" ", "") if len(m.group(0)) >= 5 else m.group(0), text)


def clean_cell(text: str | None) -> str | None:
    """Collapse line breaks and runs of spaces inside a cell, join letter-spaced words
    (``None`` stays ``None``)."""
    return None if text is None else unspace_letters(_SPACES.sub(" ", text).strip())


def split_parallel_lines(row: Sequence[str | None]) -> list[list[str | None]]:
    """One grid row whose cells list several entries line by line, read as that many rows.

    ``['결혼', '본인\n자녀', '5일\n1일']`` → ``[['결혼', '본인', '5일'], ['결혼', '자녀', '1일']]``: when
    two or more cells have the same number ``n`` ≥ 2 of lines and every line of one of them is a short
    value starting with a digit (``5일``, ``30,000원``), line ``i`` of each such cell belongs to the
    ``i``-th entry; the other cells are repeated. A cell merely wrapped over lines (``실비\n(특실)``,
    ``월 통상임금÷209×\n1.5×해당근로시간``) or written top to bottom (``연\n장``) splits nothing."""
    split = [[ln.strip() for ln in c.split("\n") if ln.strip()] if c else [] for c in row]
    counts = [len(lines) for lines in split]
    for n in sorted({k for k in counts if k >= 2}, reverse=True):
        columns = [c for c, k in enumerate(counts) if k == n]
        numeric = any(all(_ENTRY_VALUE.match(ln) for ln in split[c]) for c in columns)
        vertical = any(len(ln) == 1 for c in columns for ln in split[c])  # 연/장 written top to bottom
        if len(columns) >= 2 and numeric and not vertical:
            return [[split[c][i] if c in columns else row[c] for c in range(len(row))] for i in range(n)]
    return [list(row)]


def _padded(grid: TableGrid) -> list[list[str | None]]:
    width = grid.width
    raw = [list(row) + [""] * (width - len(row)) for row in grid.cells]
    n_header = header_row_count([[clean_cell(c) for c in row] for row in raw])
    rows = raw[:n_header] + [part for row in raw[n_header:] for part in split_parallel_lines(row)]
    return [[clean_cell(c) for c in row] for row in rows]


def _is_numeric(text: str | None) -> bool:
    return bool(text) and bool(_NUMERIC.match(text or ""))


def header_row_count(cells: Sequence[Sequence[str | None]]) -> int:
    """How many leading rows form the header: 0 when the first row already holds data.

    The first row is a header unless half or more of its filled cells are numbers (a table with
    no header row). Following rows join the header while their first cell is covered by a
    vertically merged header cell (``None`` or empty under ``구분``) and the row above spans
    several columns somewhere (a two-level header such as ``교통비`` over ``철도 | 항공``).
    """
    if not cells:
        return 0
    first = [c for c in cells[0] if c]
    if not first or sum(_is_numeric(c) for c in first) * 2 >= len(first):
        return 0
    count = 1
    while count < min(MAX_HEADER_ROWS, len(cells) - 1):
        above, row = cells[count - 1], cells[count]
        spans = any(c is None for c in above[1:])
        if not (spans and row and not row[0]):
            break
        count += 1
    return count


def column_headers(cells: Sequence[Sequence[str | None]], n_header: int, width: int) -> list[str]:
    """The header text of every column: merged cells repeated over their span, levels joined.

    ``[['구분', '교통비', None], [None, '철도', '항공']]`` → ``['구분', '교통비 철도', '교통비 항공']``.
    """
    filled: list[list[str]] = []
    for r in range(n_header):
        row = list(cells[r]) + [""] * (width - len(cells[r]))
        out: list[str] = []
        for c, value in enumerate(row):
            if value is None:  # covered: by the cell to the left in this row, else by the one above
                left = out[c - 1] if c > 0 else ""
                above = filled[r - 1][c] if r > 0 else ""
                value = left if left and (r == 0 or above == filled[r - 1][c - 1]) else ""
            out.append(value or "")
        filled.append(out)
    headers: list[str] = []
    for c in range(width):
        parts: list[str] = []
        for r in range(n_header):
            part = filled[r][c]
            if part and part not in parts:
                parts.append(part)
        headers.append(" ".join(parts))
    return headers


def row_texts(grid: TableGrid, headers: Sequence[str] | None = None) -> list[str]:
    """Render the body rows of ``grid`` (see module docstring); empty rows are dropped.

    ``headers`` overrides the detected column headers (a table continued on the next page
    without its header row). A value whose column has no header is written bare; a row label
    merged over several rows (``None`` or ``""`` in the first column below a label) is repeated.
    """
    cells = _padded(grid)
    width = grid.width
    if headers is None:
        n_header = header_row_count(cells)
        headers = column_headers(cells, n_header, width)
    else:
        n_header = 0
    caption = unspace_letters(_SPACES.sub(" ", grid.caption).strip())[:MAX_CAPTION_CHARS]
    out: list[str] = []
    label = ""
    for row in cells[n_header:]:
        if not any(row):
            continue
        if row[0]:
            label = row[0]
        elif label and any(row[1:]):
            row = [label, *row[1:]]
        parts: list[str] = []
        for c, value in enumerate(row):
            if not value or (c > 0 and value == row[c - 1] and headers[c] == headers[c - 1]):
                continue
            head = headers[c] if c < len(headers) else ""
            parts.append(f"{head}{LABEL_SEPARATOR}{value}" if head and head != value else value)
        if parts:
            out.append(ROW_SEPARATOR.join([caption, *parts] if caption else parts))
    return out


def table_headers(grid: TableGrid) -> list[str]:
    """The detected column headers of ``grid`` (``[]`` for a table without a header row)."""
    cells = _padded(grid)
    n_header = header_row_count(cells)
    return column_headers(cells, n_header, grid.width) if n_header else []


def continues(previous: TableGrid, following: TableGrid) -> bool:
    """True when ``following`` (top of the next page) continues ``previous``: same width and
    either its first row repeats ``previous``'s header row or it has no header row of its own."""
    if previous.width != following.width or not following.cells:
        return False
    prev_cells, next_cells = _padded(previous), _padded(following)
    if header_row_count(prev_cells) == 0:
        return False
    return next_cells[0] == prev_cells[0] or header_row_count(next_cells) == 0
