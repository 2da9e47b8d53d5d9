"""DOCX loader (python-docx): body paragraphs and tables in reading order."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from onprem_bot.errors import LoaderError
from onprem_bot.ingest.loaders.base import Block, LoadedDocument

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


def _cell_text(cell: _Cell) -> str:
    """All text of a cell on one line, nested tables flattened."""
    parts: list[str] = []
    for item in cell.iter_inner_content():
        if isinstance(item, Paragraph):
            parts.append(item.text)
        else:
            parts.extend(row for row in _table_rows(item))
    return _SPACES.sub(" ", " ".join(parts)).strip()


def _table_rows(table: Table) -> Iterator[str]:
    """One ``a | b`` line per row; a merged cell repeated across grid columns counts once."""
    for row in table.rows:
        seen: set[int] = set()
        cells: list[str] = []
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            text = _cell_text(cell)
            if text:
                cells.append(text)
        if cells:
            yield " | ".join(cells)


def _blocks(document: DocxDocument) -> list[Block]:
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = "\n".join(ln.strip() for ln in item.text.split("\n") if ln.strip())
            if not text:
                continue
            level = heading_level(_style_name(item))
            if level:
                blocks.append(Block(_SPACES.sub(" ", text), kind="heading", level=level))
            else:
                blocks.append(Block(text))
        else:
            blocks.extend(Block(row, kind="table_row") for row in _table_rows(item))
    return blocks


def load_docx(path: Path) -> LoadedDocument:
    """Load a Word document: headings by style, paragraphs, one table_row block per row."""
    path = Path(path)
    try:
        document = docx.Document(str(path))
        blocks = _blocks(document)
        core_title = (document.core_properties.title or "").strip()
    except Exception as exc:  # PackageNotFoundError, BadZipFile, KeyError, lxml errors
        raise LoaderError(path, f"DOCX 파일을 읽을 수 없습니다 (unreadable DOCX: {exc})") from exc
    first_heading = next((b.text for b in blocks if b.kind == "heading"), "")
    first_para = next((b.text.split("\n")[0] for b in blocks if b.kind == "paragraph"), "")
    title = core_title or first_heading or first_para or path.stem
    return LoadedDocument(path, title[:100], "docx", tuple(blocks))
