"""HWPX loader: the OWPML zip of Hangul 2014+ (``Contents/section*.xml``), read with ElementTree.

Elements are matched on their local names (``p``, ``t``, ``tbl``, ``tr``, ``tc``) so the
namespace version of the file does not matter. Top-level paragraphs become paragraph
blocks; tables one table_row block per body row that names the caption and the column
headers, cells placed by ``cellAddr`` and merged by ``cellSpan``; paragraphs nested in text
boxes, notes or memos become paragraph blocks of their own, in document order.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree as ET

from onprem_bot.errors import LoaderError
from onprem_bot.ingest.loaders.base import Block, LoadedDocument
from onprem_bot.ingest.loaders.table_grid import caption_from, place_cells, table_blocks
from onprem_bot.ingest.tables import TableGrid

MAX_XML_BYTES = 256 * 1024 * 1024
TITLE_MAX = 100
_SECTION = re.compile(r"Contents/section(\d+)\.xml")
_INLINE = {"lineBreak": "\n", "tab": " ", "hyphen": "-", "nbSpace": " ", "fwSpace": " "}
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _inline_text(t: ET.Element) -> str:
    """Text of a ``t`` element: its text, inline atoms (line break, tab…) and tails."""
    parts = [t.text or ""]
    for child in t:
        name = _local(child.tag)
        parts.append(_INLINE[name] if name in _INLINE else _inline_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _flat_text(element: ET.Element) -> str:
    """Every ``t`` text under ``element`` (tables included) on one line."""
    parts = [_inline_text(el) for el in element.iter() if _local(el.tag) == "t"]
    return _SPACES.sub(" ", " ".join(parts).replace("\n", " ")).strip()


def _clean(text: str) -> str:
    lines = (_SPACES.sub(" ", ln).strip() for ln in text.split("\n"))
    return "\n".join(ln for ln in lines if ln)


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((el for el in element if _local(el.tag) == name), None)


def _int_attr(element: ET.Element | None, name: str, default: int) -> int:
    value = element.get(name, "") if element is not None else ""
    return int(value) if value.isdigit() else default


def _cell_text(tc: ET.Element) -> str:
    """A cell's text, a line per paragraph of its ``subList`` (nested tables flattened)."""
    sub = _child(tc, "subList")
    paragraphs = [el for el in (sub if sub is not None else tc) if _local(el.tag) == "p"]
    if not paragraphs:
        return _flat_text(tc)
    return "\n".join(t for t in (_flat_text(p) for p in paragraphs) if t)


def table_grid(tbl: ET.Element, before: Block | None = None) -> TableGrid:
    """The table on its grid: ``cellAddr`` places each cell, ``cellSpan`` covers positions with
    ``None``; the caption is the table's ``caption`` element, else the short line before it."""
    cells: list[tuple[int, int, int, int, str]] = []
    for r, tr in enumerate(el for el in tbl if _local(el.tag) == "tr"):
        col = 0
        for tc in (el for el in tr if _local(el.tag) == "tc"):
            addr, span = _child(tc, "cellAddr"), _child(tc, "cellSpan")
            row, col = _int_attr(addr, "rowAddr", r), _int_attr(addr, "colAddr", col)
            col_span = _int_attr(span, "colSpan", 1)
            cells.append((row, col, _int_attr(span, "rowSpan", 1), col_span, _cell_text(tc)))
            col += max(col_span, 1)
    caption = _child(tbl, "caption")
    own = _flat_text(caption) if caption is not None else ""
    grid = place_cells(cells, _int_attr(tbl, "rowCnt", 0), _int_attr(tbl, "colCnt", 0))
    return replace(grid, caption=caption_from(own, before))


def _table_blocks(tbl: ET.Element, out: list[Block]) -> None:
    out.extend(table_blocks(table_grid(tbl, out[-1] if out else None)))


def _paragraph_blocks(p: ET.Element, out: list[Block]) -> None:
    """Append the blocks of one paragraph to ``out``: its own text, then tables and nested
    paragraphs in order."""
    buf: list[str] = []

    def flush() -> None:
        text = _clean("".join(buf))
        buf.clear()
        if text:
            out.append(Block(text))

    def visit(el: ET.Element) -> None:
        for child in el:
            name = _local(child.tag)
            if name == "t":
                buf.append(_inline_text(child))
            elif name == "tbl":
                flush()
                _table_blocks(child, out)
            elif name == "p":
                flush()
                _paragraph_blocks(child, out)
            else:
                visit(child)

    visit(p)
    flush()


def section_blocks(root: ET.Element) -> list[Block]:
    """All blocks of one parsed ``section*.xml``."""
    blocks: list[Block] = []
    for child in root:
        if _local(child.tag) == "p":
            _paragraph_blocks(child, blocks)
        elif _local(child.tag) == "tbl":
            _table_blocks(child, blocks)
    return blocks


def _section_names(names: list[str], package: ET.Element | None) -> list[str]:
    """Section files in spine order (content.hpf), else by number; unlisted ones appended."""
    sections = sorted((n for n in names if _SECTION.fullmatch(n)), key=lambda n: int(n[len("Contents/section") : -4]))
    if package is None:
        return sections
    hrefs = {el.get("id"): el.get("href") or "" for el in package.iter() if _local(el.tag) == "item"}
    ordered: list[str] = []
    for ref in (el for el in package.iter() if _local(el.tag) == "itemref"):
        href = posixpath.normpath(hrefs.get(ref.get("idref"), "") or ".")
        if not href.startswith("Contents/"):
            href = posixpath.normpath(posixpath.join("Contents", href))
        if href in sections and href not in ordered:
            ordered.append(href)
    return ordered + [n for n in sections if n not in ordered]


def _read_xml(zf: zipfile.ZipFile, name: str, path: Path) -> ET.Element:
    if zf.getinfo(name).file_size > MAX_XML_BYTES:
        raise LoaderError(path, f"HWPX 구역이 너무 큽니다 (HWPX part too large: {name})")
    try:
        return ET.fromstring(zf.read(name))
    except ET.ParseError as exc:
        raise LoaderError(path, f"HWPX XML을 해석할 수 없습니다 (malformed HWPX XML in {name}: {exc})") from exc


def _is_encrypted(manifest: ET.Element) -> bool:
    """ODF-style ``encryption-data`` in META-INF/manifest.xml marks a password-protected file."""
    return any(_local(el.tag) == "encryption-data" for el in manifest.iter())


def _metadata_title(package: ET.Element | None) -> str:
    if package is None:
        return ""
    title = next((el.text or "" for el in package.iter() if _local(el.tag) == "title"), "")
    return _SPACES.sub(" ", title).strip()


def guess_title(blocks: list[Block]) -> str:
    """First line of the first paragraph, or one-cell table row (a title box), of ≤100 chars."""
    for block in blocks:
        line = block.text.split("\n")[0]
        if block.kind == "table_row" and " | " in block.text:
            continue
        if len(line) <= TITLE_MAX:
            return line
    return ""


def load_hwpx(path: Path) -> LoadedDocument:
    """Load an HWPX document: paragraph blocks and one table_row block per table body row."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if "META-INF/manifest.xml" in names and _is_encrypted(_read_xml(zf, "META-INF/manifest.xml", path)):
                raise LoaderError(path, "암호가 걸린 HWPX입니다 (encrypted HWPX)")
            package = _read_xml(zf, "Contents/content.hpf", path) if "Contents/content.hpf" in names else None
            sections = _section_names(names, package)
            if not sections:
                raise LoaderError(path, "HWPX 본문 구역(section*.xml)이 없습니다 (no Contents/section*.xml in HWPX)")
            blocks = [b for name in sections for b in section_blocks(_read_xml(zf, name, path))]
    except LoaderError:
        raise
    except zipfile.BadZipFile as exc:
        raise LoaderError(path, f"HWPX(zip) 파일이 아니거나 손상되었습니다 (not a valid HWPX zip: {exc})") from exc
    except (OSError, RuntimeError, ValueError, KeyError) as exc:  # encrypted member, bad CRC…
        raise LoaderError(path, f"HWPX 파일을 읽을 수 없습니다 (unreadable HWPX: {exc})") from exc
    meta_title = _metadata_title(package)
    title = guess_title(blocks) or meta_title[:100] or path.stem
    metadata = {"hpf_title": meta_title} if meta_title else {}
    return LoadedDocument(path, title, "hwpx", tuple(blocks), metadata=metadata)
