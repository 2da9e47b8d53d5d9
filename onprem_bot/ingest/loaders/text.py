"""Plain text and Markdown loaders, and the Korean-aware text decoder the others share.

Text files are decoded as UTF-8 first, then CP949/EUC-KR (most Korean legacy files), and
only then by charset-normalizer's guess. Markdown statutes (``##### 제N조 (제목)``,
``**①**`` paragraphs, ``1\\.`` items) keep their structure as heading/paragraph blocks.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from charset_normalizer import from_bytes

from onprem_bot.errors import LoaderError
from onprem_bot.ingest.loaders.base import Block, LoadedDocument

UNKNOWN_ENCODING = "텍스트 인코딩을 알 수 없습니다 (unknown text encoding)"
TITLE_MAX = 100

_KOREAN_CODECS = ("cp949", "euc-kr")
_UTF16_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_BLANK_SPLIT = re.compile(r"\n[ \t\u3000]*\n")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CIRCLED_START = re.compile(r"^\s*\*\*[\u2460-\u2473\u3251-\u325f\u32b1-\u32bf]\*\*")
_ITEM_START = re.compile(r"^\s*(?:\d+(?:의\d+)?|[가-힣])\\\.")
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?$")
_UNESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~\"'])|\*\*")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_FRONT_KEY = re.compile(r"^([^\s:#\-][^:]*?)\s*:(?:\s+(.*))?$")


def decode_bytes(data: bytes) -> str | None:
    """Decode ``data`` (UTF-8, then CP949/EUC-KR, then a charset-normalizer guess).

    Returns ``None`` when nothing decodes cleanly. Newlines are not normalised here.
    """
    for bom in _UTF16_BOMS:
        if data.startswith(bom):
            codec = "utf-32" if len(bom) == 4 else "utf-16"
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    for codec in _KOREAN_CODECS:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    best = from_bytes(data).best()
    if best is None:
        return None
    guess = str(best)
    return None if "\x00" in guess or "\ufffd" in guess else guess


def read_text_file(path: Path) -> str:
    """Read ``path`` as text with a Korean-aware encoding cascade; newlines become ``\\n``."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise LoaderError(path, f"파일을 읽을 수 없습니다 (cannot read file: {exc.strerror or exc})") from exc
    text = decode_bytes(data)
    if text is None:
        raise LoaderError(path, UNKNOWN_ENCODING)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _paragraphs(text: str) -> list[str]:
    """Split on blank lines; strip every line and drop empty paragraphs."""
    out: list[str] = []
    for chunk in _BLANK_SPLIT.split(text):
        lines = [ln.strip() for ln in chunk.split("\n")]
        para = "\n".join(ln for ln in lines if ln)
        if para:
            out.append(para)
    return out


def _first_line_title(text: str, fallback: str) -> str:
    for line in text.split("\n"):
        if line.strip():
            return line.strip()[:TITLE_MAX]
    return fallback


def load_text(path: Path) -> LoadedDocument:
    """Load a plain text file: one paragraph block per blank-line separated paragraph."""
    path = Path(path)
    text = read_text_file(path)
    blocks = tuple(Block(p) for p in _paragraphs(text))
    return LoadedDocument(path, _first_line_title(text, path.stem), "text", blocks)


# -- Markdown -------------------------------------------------------------------------


def unescape_markdown(text: str) -> str:
    """Drop ``**`` bold markers and backslash escapes (``1\\.`` → ``1.``, ``\\*`` → ``*``)."""
    return _UNESCAPE.sub(lambda m: m.group(1) or "", text)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    return value


def parse_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split simple YAML front matter (``key: value`` lines) from the Markdown body.

    Only top-level scalar entries are kept; lists, nested mappings and block scalars are
    skipped. Returns ``({}, text)`` when there is no closed front matter block.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return {}, text
    meta: dict[str, str] = {}
    for line in lines[1:end]:
        if not line.strip() or line[0] in " \t-#":
            continue
        m = _FRONT_KEY.match(line.rstrip())
        if m is None or not m.group(2):
            continue
        value = m.group(2).strip()
        if value[0] in "[{|>&*!":
            continue
        meta[m.group(1).strip()] = _unquote(value).strip()
    return meta, "\n".join(lines[end + 1 :])


def _table_row(line: str) -> str:
    cells = [re.sub(r"\s+", " ", unescape_markdown(c)).strip() for c in _CELL_SPLIT.split(line.strip().strip("|"))]
    return " | ".join(c for c in cells if c)


def _markdown_blocks(body: str) -> list[Block]:
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        text = "\n".join(para).strip()
        para.clear()
        if text:
            blocks.append(Block(text))

    lines = body.split("\n")
    i = 0
    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        i += 1
        fence = _FENCE.match(raw)
        if fence:
            flush()
            marker = fence.group(1)
            code: list[str] = []
            while i < len(lines) and not lines[i].strip().startswith(marker):
                code.append(lines[i].rstrip())
                i += 1
            i += 1  # the closing fence (or past the end)
            text = "\n".join(code).strip("\n")
            if text.strip():
                blocks.append(Block(text))
            continue
        if not stripped:
            # A blank line ends the paragraph unless statute items (``1\\.``, ``가\\.``) follow it.
            j = i
            while j < len(lines) and not lines[j].strip():
                j += 1
            nxt = lines[j] if j < len(lines) else ""
            if not (para and _ITEM_START.match(nxt)):
                flush()
            continue
        heading = _HEADING.match(raw)
        if heading:
            flush()
            text = unescape_markdown(heading.group(2) or "").strip()
            if text:
                blocks.append(Block(text, kind="heading", level=len(heading.group(1))))
            continue
        if stripped.startswith("|"):
            flush()
            if not _TABLE_SEPARATOR.match(stripped):
                row = _table_row(stripped)
                if row:
                    blocks.append(Block(row, kind="table_row"))
            continue
        if _CIRCLED_START.match(raw):
            flush()
        line = unescape_markdown(stripped).strip()
        if line:
            para.append(line)
    flush()
    return blocks


def load_markdown(path: Path) -> LoadedDocument:
    """Load a Markdown file: front matter → metadata, ATX headings, paragraphs, table rows."""
    path = Path(path)
    meta, body = parse_front_matter(read_text_file(path))
    blocks = _markdown_blocks(body)
    title = meta.get("제목") or meta.get("title") or ""
    if not title:
        title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), "")
    if not title:  # like a plain text file: the first line names the document
        title = _first_line_title("\n".join(b.text for b in blocks), path.stem)
    return LoadedDocument(path, title[:TITLE_MAX] or path.stem, "markdown", tuple(blocks), metadata=meta)
