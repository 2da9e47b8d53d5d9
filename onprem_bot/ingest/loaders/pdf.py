"""PDF loader: pypdf's layout-mode text, one block per line, with 1-based page numbers.

Layout mode keeps line breaks and word spacing of Korean regulation PDFs far better than
the default mode; its wide column spacing is collapsed back to single spaces here.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pdfplumber
from pypdf import PasswordType, PdfReader

from onprem_bot.errors import LoaderError
from onprem_bot.ingest.loaders.base import Block, LoadedDocument
from onprem_bot.ingest.loaders.pdf_tables import CaptionContext, may_have_rules, page_blocks
from onprem_bot.ingest.ocr import TesseractOcr
from onprem_bot.ingest.scanned import check_pages

log = logging.getLogger(__name__)

ENCRYPTED = "암호가 걸린 PDF입니다 (encrypted PDF)"
NO_TEXT = "텍스트 레이어가 없는 PDF입니다(스캔 이미지일 수 있음) (PDF has no text layer; scanned image?)"

_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_PAGE_NUMBER = re.compile(r"^[-–—]\s*(?:\d{1,4}|[ivxlcIVXLC]{1,6})\s*[-–—]$")
_LONE_NUMBER = re.compile(r"^(?:\d{1,4}|\d{1,4}\s*/\s*\d{1,4})$")
_NUMBER_PREFIX = re.compile(r"^\d{1,3}(?:[_-]\d{1,3})*[_-]+")
_DATE_SUFFIX = re.compile(r"[\s_]*[(\[]\d{6,8}[)\]]$")
_GENERIC_TITLE = re.compile(
    r"^(?:untitled|제목\s*없음|noname|document\d*|microsoft (?:word|powerpoint|excel)\b.*)$"
    r"|\.(?:pdf|hwpx?|docx?|pptx?|xlsx?|txt|rtf|odt|indd|ai|psd)$",
    re.IGNORECASE,
)


def title_from_filename(path: Path) -> str:
    """``2_06_급여규정(240221).pdf`` → ``급여규정``: drop a numbering prefix and a date suffix."""
    stem = _DATE_SUFFIX.sub("", _NUMBER_PREFIX.sub("", path.stem)).strip(" _-")
    return stem or path.stem


def is_page_number(line: str) -> bool:
    """True for page-number lines like ``- 2 -`` or ``- ii -`` (anywhere on a page)."""
    return bool(_PAGE_NUMBER.match(line))


def page_lines(text: str) -> list[str]:
    """Clean one page of layout text: collapse spaces, strip, drop blank and page-number lines.

    A lone number (``2``, ``2 / 14``) counts as a page number only as the first or last line
    of the page, so numbered rows of a form table survive.
    """
    lines = [_SPACES.sub(" ", raw).strip() for raw in text.splitlines()]
    lines = [ln for ln in lines if ln and not is_page_number(ln)]
    if lines and _LONE_NUMBER.match(lines[-1]):
        lines.pop()
    if lines and _LONE_NUMBER.match(lines[0]):
        lines.pop(0)
    return lines


def _open(path: Path) -> PdfReader:
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                result = reader.decrypt("")
            except Exception as exc:  # missing crypto backend, unsupported handler
                raise LoaderError(path, f"암호가 걸린 PDF입니다 (encrypted PDF: {exc})") from exc
            if result == PasswordType.NOT_DECRYPTED:
                raise LoaderError(path, ENCRYPTED)
        return reader
    except LoaderError:
        raise
    except Exception as exc:  # pypdf raises PdfReadError, but also ValueError/KeyError on damage
        raise LoaderError(path, f"PDF를 읽을 수 없습니다 (unreadable PDF: {exc})") from exc


def _metadata_title(reader: PdfReader) -> str:
    try:
        meta = reader.metadata
        title = str(meta.title or "") if meta is not None else ""
    except Exception:  # broken Info dictionary: fall back to the file name
        return ""
    title = _SPACES.sub(" ", title).strip()
    return "" if not title or _GENERIC_TITLE.search(title) else title


def _open_plumber(path: Path) -> Any:
    """pdfplumber's view of the same file, or ``None`` when it cannot open it (tables then come as text)."""
    try:
        return pdfplumber.open(path)
    except Exception as exc:  # pdfminer raises its own errors on damage that pypdf tolerates
        log.warning("pdfplumber could not open %s (%s): tables are read as plain text", path.name, exc)
        return None


def _page_blocks(text: str, plumber_page: Any, number: int, context: CaptionContext) -> list[Block]:
    """One page's blocks: pdfplumber's text and table rows where it finds ruled tables, else pypdf's lines
    (``plumber_page`` is None for a page that draws no rules, see :func:`may_have_rules`)."""
    tables = plumber_page.find_tables() if plumber_page is not None else []
    if tables:
        return page_blocks(plumber_page, number, context, tables)
    lines = page_lines(text)
    for line in lines:
        context.see(line)
    if lines:
        context.last_table = None
    return [Block(line, page=number) for line in lines]


def load_pdf(path: Path, ocr: TesseractOcr | None = None, tables: bool = True) -> LoadedDocument:
    """Load a PDF with a text layer: one paragraph block per text line, one ``table_row`` block per
    table row (see :mod:`onprem_bot.ingest.loaders.pdf_tables`), ``page`` 1-based.

    ``tables=False`` reads every page as pypdf layout text (what it did before tables were read;
    kept for measuring what table extraction costs)."""
    path = Path(path)
    reader = _open(path)
    blocks: list[Block] = []
    plumber = _open_plumber(path) if tables else None
    context = CaptionContext()
    try:
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text(extraction_mode="layout")
            plumber_page = None
            if plumber is not None and number <= len(plumber.pages) and may_have_rules(page):
                plumber_page = plumber.pages[number - 1]
            blocks.extend(_page_blocks(text, plumber_page, number, context))
    except Exception as exc:
        raise LoaderError(path, f"PDF를 읽을 수 없습니다 (unreadable PDF: {exc})") from exc
    finally:
        if plumber is not None:
            plumber.close()
    # Pages without usable text (scanned, glyph garbage): OCR'd with ``ocr``, else dropped with one warning.
    blocks, notes = check_pages(path, len(reader.pages), blocks, ocr)
    if not blocks:
        raise LoaderError(path, NO_TEXT)
    title = _metadata_title(reader) or title_from_filename(path)
    return LoadedDocument(path, title[:100], "pdf", tuple(blocks), metadata={"pages": str(len(reader.pages)), **notes})
