"""DOCX loader (python-docx): body paragraphs and tables in reading order.

Automatic list numbers (``제1조``, ``①``, ``1.``) are rendered from ``numbering.xml`` as a prefix
of their paragraph (:mod:`onprem_bot.ingest.loaders.docx_numbering`); tables become one
``table_row`` block per body row that names the caption and the column headers, merged cells
(``gridSpan``, ``vMerge``) resolved (:mod:`onprem_bot.ingest.loaders.table_grid`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import docx
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from onprem_bot.errors import LoaderError
from onprem_bot.ingest.loaders.base import Block, LoadedDocument
from onprem_bot.ingest.loaders.docx_numbering import NumberingCounter
from onprem_bot.ingest.loaders.table_grid import caption_from, table_blocks, table_texts
from onprem_bot.ingest.tables import TableGrid

_HEADING_STYLE = re.compile(r"^(?:heading|제목)\s*([1-9])$", re.IGNORECASE)
_TITLE_STYLES = {"title", "제목"}
_SPACES = re.compile(r"\s+")


def heading_level(style_name: str | None) -> int:
    """``Heading 2``/``제목 2`` → 2, ``Title`` → 1, anything else → 0."""
    name = (style_name or "").strip()
    m = _HEADING_STYLE.match(name)
    if m:
        return min(int(m.group(1)), 6)
    return 1 if name.lower() in _TITLE_STYLES else 0


def _style_name(paragraph: Paragraph) -> str:
    try:
        style = paragraph.style
    except (KeyError, ValueError):  # dangling style id
        return ""
    return (style.name or "") if style is not None else ""


_ARTICLE_PREFIX = re.compile(r"제\d+조(?:의\d+)?")


class _Reader:
    """Walks one document in reading order with its list-numbering counter."""

    def __init__(self, document: DocxDocument) -> None:
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError, ValueError):
            numbering = None
        self.counter = NumberingCounter.from_element(numbering)

    def _style_numbering(self, paragraph: Paragraph) -> tuple[str, int] | None:
        """``(numId, ilvl)`` from the paragraph's style or the styles it is based on."""
        try:
            style = paragraph.style
        except (KeyError, ValueError):
            return None
        for _ in range(10):  # basedOn chains are short; a cycle must not hang the load
            if style is None:
                return None
            num_pr = style.element.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
            if num_pr is not None:
                return _num_pr(num_pr)
            style = style.base_style
        return None

    def paragraph_text(self, paragraph: Paragraph) -> str:
        """The paragraph's text with its list number (if any) in front."""
        text = "\n".join(ln.strip() for ln in paragraph.text.split("\n") if ln.strip())
        num_pr = paragraph._p.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
        own = _num_pr(num_pr) if num_pr is not None else None
        style = self._style_numbering(paragraph) if own is None or not own[0] else None
        if own is None and style is None:
            return text
        num_id = own[0] if own and own[0] else (style[0] if style else "")
        ilvl = own[1] if own and own[1] >= 0 else (style[1] if style else 0)
        number, suffix = self.counter.next(num_id, max(ilvl, 0))
        if not number or not text:
            return text
        glue = "" if suffix == "nothing" or (_ARTICLE_PREFIX.fullmatch(number) and text.startswith("(")) else " "
        return f"{number}{glue}{text}"

    def cell_text(self, cell: _Cell) -> str:
        """All text of a cell, a line per paragraph (nested tables: a line per row)."""
        parts: list[str] = []
        for item in cell.iter_inner_content():
            if isinstance(item, Paragraph):
                parts.append(self.paragraph_text(item))
            else:
                parts.extend(table_texts(self.grid(item, "")))
        return "\n".join(p.strip() for p in parts if p.strip())

    def grid(self, table: Table, caption: str) -> TableGrid:
        """The table on its layout grid: ``None`` where a merged cell (gridSpan, vMerge) repeats."""
        seen: set[object] = set()
        rows: list[tuple[str | None, ...]] = []
        for row in table.rows:
            cells: list[str | None] = [""] * row.grid_cols_before
            for cell in row.cells:
                if cell._tc in seen:
                    cells.append(None)
                    continue
                seen.add(cell._tc)
                cells.append(self.cell_text(cell))
            rows.append(tuple(cells))
        return TableGrid(tuple(rows), caption=caption)

    def blocks(self, document: DocxDocument) -> list[Block]:
        blocks: list[Block] = []
        for item in document.iter_inner_content():
            if isinstance(item, Paragraph):
                text = self.paragraph_text(item)
                if not text:
                    continue
                level = heading_level(_style_name(item))
                if level:
                    blocks.append(Block(_SPACES.sub(" ", text), kind="heading", level=level))
                else:
                    blocks.append(Block(text))
            else:
                own = item._tbl.tblPr.find(qn("w:tblCaption")) if item._tbl.tblPr is not None else None
                caption = caption_from(
                    own.get(qn("w:val"), "") if own is not None else "", blocks[-1] if blocks else None
                )
                blocks.extend(table_blocks(self.grid(item, caption)))
        return blocks


def _num_pr(num_pr: Any) -> tuple[str, int]:
    """``(numId, ilvl)`` of a ``w:numPr`` (``""`` / ``-1`` where absent)."""
    num_id = num_pr.find(qn("w:numId"))
    ilvl = num_pr.find(qn("w:ilvl"))
    value = ilvl.get(qn("w:val"), "") if ilvl is not None else ""
    return (
        (num_id.get(qn("w:val"), "") if num_id is not None else ""),
        int(value) if value.isdigit() else -1,
    )


def load_docx(path: Path) -> LoadedDocument:
    """Load a Word document: headings by style, numbered paragraphs, one table_row block per body row."""
    path = Path(path)
    try:
        document = docx.Document(str(path))
        blocks = _Reader(document).blocks(document)
        core_title = (document.core_properties.title or "").strip()
    except Exception as exc:  # PackageNotFoundError, BadZipFile, KeyError, lxml errors
        raise LoaderError(path, f"DOCX 파일을 읽을 수 없습니다 (unreadable DOCX: {exc})") from exc
    first_heading = next((b.text for b in blocks if b.kind == "heading"), "")
    first_para = next((b.text.split("\n")[0] for b in blocks if b.kind == "paragraph"), "")
    title = core_title or first_heading or first_para or path.stem
    return LoadedDocument(path, title[:100], "docx", tuple(blocks))
