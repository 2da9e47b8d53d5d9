"""Loader for Hancom HWP 5.0 documents (OLE compound files), 배포용 documents included.

The body text lives in ``BodyText/SectionN`` streams (``ViewText/SectionN`` for 배포용
documents, AES-128 encrypted), each a raw-deflated stream of tagged records. Paragraph
text comes from HWPTAG_PARA_TEXT records; table cells (HWPTAG_LIST_HEADER records that
follow a ``tbl `` control's HWPTAG_TABLE record, with their row/column address and spans) are
placed on the table's grid and rendered as one block per body row that names the caption and
the column headers.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import olefile

from onprem_bot.errors import LoaderError
from onprem_bot.ingest.loaders.base import Block, LoadedDocument
from onprem_bot.ingest.loaders.table_grid import caption_from, place_cells, table_blocks

SIGNATURE = b"HWP Document File"
FLAG_COMPRESSED = 0x01
FLAG_PASSWORD = 0x02
FLAG_DISTRIBUTION = 0x04

TAG_DISTRIBUTE_DOC_DATA = 16 + 12
TAG_PARA_TEXT = 16 + 51
TAG_CTRL_HEADER = 16 + 55
TAG_LIST_HEADER = 16 + 56
TAG_TABLE = 16 + 61
TABLE_CTRL_ID = b" lbt"  # MAKE_4CHID('t', 'b', 'l', ' ') stored as a little-endian uint32

# Inline and extended controls take 8 WCHARs: the code, 12 bytes of data, the code again.
_WIDE_CONTROLS = frozenset({*range(1, 10), 11, 12, *range(14, 24)})
_CHAR_CONTROLS = {10: "\n", 24: "-", 30: " ", 31: " "}  # 줄바꿈, 하이픈, 묶음/고정폭 빈칸
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_SECTION = re.compile(r"Section(\d+)")
_TITLE_MAX = 100


def load_hwp(path: Path) -> LoadedDocument:
    """Read an HWP 5.0 file into paragraph and table-row blocks.

    Raises ``LoaderError`` (never a raw parsing exception) for a file that is not an
    HWP 5.0 OLE file, is password-protected, or is damaged.
    """
    path = Path(path)
    try:
        is_ole = olefile.isOleFile(str(path))
    except OSError as exc:
        raise LoaderError(path, f"파일을 열 수 없습니다 (cannot open file: {exc})") from exc
    if not is_ole:
        raise LoaderError(path, _not_ole_reason(path))
    try:
        with olefile.OleFileIO(str(path)) as ole:
            return _read(path, ole)
    except (
        OSError,
        EOFError,
        struct.error,
        zlib.error,
        ValueError,
        LookupError,
        ArithmeticError,
        RecursionError,
    ) as exc:
        raise LoaderError(path, f"손상된 HWP 파일입니다 (damaged HWP file: {exc})") from exc


def _not_ole_reason(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            is_zip = handle.read(4) == b"PK\x03\x04"
    except OSError:
        is_zip = False
    if is_zip:
        return "HWPX(ZIP) 문서입니다; 확장자를 .hwpx로 바꾸세요 (an HWPX/ZIP file, not HWP 5.0: rename it to .hwpx)"
    return "HWP 5.0(OLE 복합 파일) 형식이 아닙니다 (not an HWP 5.0 OLE compound file)"


def _read(path: Path, ole: olefile.OleFileIO) -> LoadedDocument:
    if not ole.exists("FileHeader"):
        raise LoaderError(path, "FileHeader 스트림이 없어 HWP 문서가 아닙니다 (no FileHeader stream: not an HWP file)")
    header = ole.openstream("FileHeader").read()
    if len(header) < 40 or not header.startswith(SIGNATURE):
        raise LoaderError(path, "HWP 문서 서명이 없습니다 (FileHeader lacks the 'HWP Document File' signature)")
    raw_version, flags = struct.unpack_from("<II", header, 32)
    version = ".".join(str((raw_version >> shift) & 0xFF) for shift in (24, 16, 8, 0))
    if flags & FLAG_PASSWORD:
        raise LoaderError(path, "암호가 걸린 HWP 문서입니다 (password-protected HWP)")
    distribution = bool(flags & FLAG_DISTRIBUTION)
    storage = "ViewText" if distribution else "BodyText"
    sections = _section_streams(ole, storage)
    if not sections:
        raise LoaderError(path, f"본문({storage}/SectionN) 스트림이 없습니다 (no {storage}/SectionN stream)")

    blocks: list[Block] = []
    for name in sections:
        data = ole.openstream(name).read()
        if distribution:
            data = _decrypt_view_text(path, data)
        if flags & FLAG_COMPRESSED:
            data = _inflate(data)
        blocks.extend(_blocks(_records(data)))

    title = _summary_title(ole)
    if not title:
        title = next((b.text for b in blocks if b.kind == "paragraph"), path.stem)
    return LoadedDocument(
        path=path,
        title=title.splitlines()[0].strip()[:_TITLE_MAX] if title.strip() else path.stem,
        doc_type="hwp",
        blocks=tuple(blocks),
        metadata={"hwp_version": version, "distribution": "true" if distribution else "false"},
    )


def _section_streams(ole: olefile.OleFileIO, storage: str) -> list[str]:
    """``storage/SectionN`` stream names, N in numeric order (Section10 after Section9)."""
    numbered: list[tuple[int, str]] = []
    for entry in ole.listdir(streams=True, storages=False):
        if len(entry) == 2 and entry[0] == storage:
            match = _SECTION.fullmatch(entry[1])
            if match:
                numbered.append((int(match.group(1)), "/".join(entry)))
    return [name for _, name in sorted(numbered)]


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj(-15)
    out = inflater.decompress(data) + inflater.flush()
    if not inflater.eof:
        raise zlib.error("truncated deflate stream")
    return out


def _msvc_rand(seed: int) -> Iterator[int]:
    """The Microsoft C runtime ``srand(seed)``/``rand()`` sequence."""
    state = seed & 0xFFFFFFFF
    while True:
        state = (state * 214013 + 2531011) & 0xFFFFFFFF
        yield (state >> 16) & 0x7FFF


def _distribution_mask(seed: int) -> bytes:
    """The 256-byte mask that hides a HWPTAG_DISTRIBUTE_DOC_DATA payload."""
    rand = _msvc_rand(seed)
    mask = bytearray()
    while len(mask) < 256:
        value = next(rand) & 0xFF
        mask.extend(bytes([value]) * ((next(rand) & 0x0F) + 1))
    return bytes(mask[:256])


def _decrypt_view_text(path: Path, data: bytes) -> bytes:
    """Decrypt a 배포용 ``ViewText/SectionN`` stream (AES-128-ECB after a key record)."""
    (record_header,) = struct.unpack_from("<I", data, 0)
    if record_header & 0x3FF != TAG_DISTRIBUTE_DOC_DATA or record_header >> 20 != 256:
        raise ValueError("ViewText stream does not start with DISTRIBUTE_DOC_DATA")
    payload = data[4:260]
    if len(payload) != 256:
        raise ValueError("truncated DISTRIBUTE_DOC_DATA record")
    (seed,) = struct.unpack_from("<I", payload, 0)
    plain = bytes(a ^ b for a, b in zip(payload, _distribution_mask(seed), strict=True))
    offset = 4 + (seed & 0x0F)
    key = plain[offset : offset + 16]
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    except ImportError as exc:  # pragma: no cover - cryptography is a declared dependency
        raise LoaderError(
            path,
            "배포용 문서를 풀려면 cryptography 패키지가 필요합니다 (distribution HWP needs the 'cryptography' package)",
        ) from exc
    body = data[260:]
    body = body[: len(body) - len(body) % 16]
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    return decryptor.update(body) + decryptor.finalize()


def _records(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """Yield ``(tag id, level, payload)`` for each record of a decompressed stream."""
    pos, end = 0, len(data)
    while pos + 4 <= end:
        (header,) = struct.unpack_from("<I", data, pos)
        pos += 4
        size = header >> 20
        if size == 0xFFF:
            (size,) = struct.unpack_from("<I", data, pos)
            pos += 4
        if pos + size > end:
            raise ValueError(f"record at byte {pos} runs past the end of the stream")
        yield header & 0x3FF, (header >> 10) & 0x3FF, data[pos : pos + size]
        pos += size


def _para_text(payload: bytes) -> str:
    """Decode a HWPTAG_PARA_TEXT payload (UTF-16LE with 1- or 8-WCHAR control codes)."""
    count = len(payload) // 2
    units = struct.unpack_from(f"<{count}H", payload)
    out = bytearray()
    i = 0
    while i < count:
        unit = units[i]
        if unit >= 32:
            out += payload[2 * i : 2 * i + 2]
            i += 1
        elif unit in _WIDE_CONTROLS:
            if unit == 9:
                out += "\t".encode("utf-16-le")
            i += 8
        else:
            out += _CHAR_CONTROLS.get(unit, "").encode("utf-16-le")
            i += 1
    text = out.decode("utf-16-le", errors="ignore")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


@dataclass
class _Cell:
    row: int | None
    col: int
    row_span: int = 1
    col_span: int = 1
    texts: list[str] = field(default_factory=list)


@dataclass
class _Table:
    level: int  # record level of the table's CTRL_HEADER
    before: Block | None = None  # the block right before the table (a caption candidate)
    body_seen: bool = False
    rows: int | None = None
    cols: int | None = None
    caption: list[str] = field(default_factory=list)
    cells: list[_Cell] = field(default_factory=list)


def _cell(payload: bytes) -> _Cell:
    # List header: UINT16 paragraphs, UINT16 (unused), UINT32 flags; then the cell
    # attributes: UINT16 column address, UINT16 row address, UINT16 column span, UINT16 row span,
    # size, margins, border fill.
    if len(payload) < 12:
        return _Cell(row=None, col=0)
    col, row, col_span, row_span = struct.unpack_from("<4H", payload.ljust(16, b"\x00"), 8)
    return _Cell(row=row, col=col, row_span=max(row_span, 1), col_span=max(col_span, 1))


def _table_blocks(table: _Table) -> list[Block]:
    """One block per body row naming caption and column headers (cells placed by their address,
    merged by their spans); the cells' paragraphs when the addresses are unusable."""
    cells = [c for c in table.cells if c.texts]
    reliable = all(c.row is not None and (table.rows is None or c.row < table.rows) for c in table.cells)
    if not reliable:
        return [Block(text=t, kind="paragraph") for c in cells for t in c.texts]
    placed = ((c.row or 0, c.col, c.row_span, c.col_span, "\n".join(c.texts)) for c in table.cells)
    grid = place_cells(placed, table.rows or 0, table.cols or 0)
    return table_blocks(replace(grid, caption=caption_from(" ".join(table.caption), table.before)))


def _blocks(records: Iterator[tuple[int, int, bytes]]) -> list[Block]:
    """Turn one section's records into blocks; nested tables are flattened into their cell."""
    blocks: list[Block] = []
    stack: list[_Table] = []

    def close_table() -> None:
        done = _table_blocks(stack.pop())
        if stack and stack[-1].cells:
            stack[-1].cells[-1].texts.extend(b.text for b in done)
        else:
            blocks.extend(done)

    for tag, level, payload in records:
        while stack and level <= stack[-1].level:
            close_table()
        top = stack[-1] if stack else None
        if tag == TAG_CTRL_HEADER and payload[:4] == TABLE_CTRL_ID:
            before = None if stack else (blocks[-1] if blocks else None)
            stack.append(_Table(level=level, before=before))
        elif top is not None and level == top.level + 1 and tag == TAG_TABLE:
            top.body_seen = True
            if len(payload) >= 8:
                top.rows, top.cols = struct.unpack_from("<HH", payload, 4)
        elif top is not None and level == top.level + 1 and tag == TAG_LIST_HEADER:
            if top.body_seen:  # a list header before HWPTAG_TABLE is the caption
                top.cells.append(_cell(payload))
        elif tag == TAG_PARA_TEXT:
            text = _para_text(payload)
            if not text:
                continue
            if top is not None and top.cells and level > top.level + 1:
                top.cells[-1].texts.append(text)
            else:
                if top is not None and not top.body_seen and level > top.level + 1:
                    top.caption.append(text)
                blocks.append(Block(text=text, kind="paragraph"))
    while stack:
        close_table()
    return blocks


def _summary_title(ole: olefile.OleFileIO) -> str:
    """The title (PIDSI_TITLE) of ``\\x05HwpSummaryInformation``, or ``""``."""
    try:
        if not ole.exists("\x05HwpSummaryInformation"):
            return ""
        value = ole.getproperties("\x05HwpSummaryInformation").get(2)
    except Exception:  # the summary is optional: a bad one must not fail the load
        return ""
    return value.split("\x00", 1)[0].strip() if isinstance(value, str) else ""
