"""What the chunkers share: lines with offsets, drafts of chunks, stable chunk ids."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from onprem_bot.ingest.amendments import split_amendments
from onprem_bot.ingest.loaders.base import LoadedDocument
from onprem_bot.korean.mecab import count_tokens
from onprem_bot.types import Chunk


@dataclass(frozen=True)
class Line:
    """One line of a document with its page and its character span in ``document.text``."""

    text: str
    page: int | None
    start: int
    end: int
    heading_level: int = 0
    table_row: bool = False


@dataclass(frozen=True)
class Draft:
    """A chunk before it has an id: what a chunker produces."""

    kind: str
    text: str
    heading_path: tuple[str, ...] = ()
    article: str | None = None
    article_title: str | None = None
    paragraph: str | None = None
    item: str | None = None
    lines: tuple[Line, ...] = ()
    amendments: tuple[str, ...] = field(default=())


def document_lines(doc: LoadedDocument) -> list[Line]:
    """Split the document's blocks into lines, keeping page and offsets into ``doc.text``."""
    lines: list[Line] = []
    offset = 0
    for block in doc.blocks:
        level = block.level if block.kind == "heading" else 0
        pos = offset
        for raw in block.text.split("\n"):
            stripped = raw.strip()
            if stripped:
                start = pos + (len(raw) - len(raw.lstrip()))
                lines.append(Line(stripped, block.page, start, start + len(stripped), level, block.kind == "table_row"))
            pos += len(raw) + 1
        offset += len(block.text) + 1
    return lines


def is_deleted(text: str) -> bool:
    """True when ``text`` (an article body or a 항) is only ``삭제`` and its amendment tags."""
    body, _ = split_amendments(text)
    body = re.sub(r"^[①-⑳㉑-㉟\d.\s]*", "", body).strip()
    return bool(re.fullmatch(r"삭\s*제\s*[.]?(?:\s*<[^>]*>)*", body))


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences: after ``다.``, ``?``, ``!``, an English ``word.``, or a line break.

    A bare ``.`` is not enough in Korean text: ``1.``, ``가.`` and ``2024. 3. 1.`` are not ends.
    """
    parts = re.split(r"(?<=다\.)\s+|(?<=[?!])\s+|(?<=[A-Za-z]{2}\.)\s+|\n+", text)
    return [p.strip() for p in parts if p.strip()]


def pack(units: Sequence[str], max_tokens: int, head: str = "") -> list[list[int]]:
    """Group consecutive ``units`` into runs whose token count (with ``head``) fits ``max_tokens``.

    Returns lists of unit indices. A unit that alone exceeds the limit gets a run of its own;
    the caller splits it further.
    """
    head_tokens = count_tokens(head) if head else 0
    groups: list[list[int]] = []
    current: list[int] = []
    used = head_tokens
    for i, unit in enumerate(units):
        n = count_tokens(unit)
        if current and used + n > max_tokens:
            groups.append(current)
            current, used = [], head_tokens
        current.append(i)
        used += n
    if current:
        groups.append(current)
    return [part for group in groups for part in _verified(group, units, max_tokens, head)]


def _verified(group: list[int], units: Sequence[str], max_tokens: int, head: str) -> list[list[int]]:
    """Mecab may cut a joined text differently from its parts: re-check and halve if needed."""
    if len(group) == 1:
        return [group]
    joined = "\n".join([head, *(units[i] for i in group)] if head else [units[i] for i in group])
    if count_tokens(joined) <= max_tokens:
        return [group]
    mid = len(group) // 2
    return _verified(group[:mid], units, max_tokens, head) + _verified(group[mid:], units, max_tokens, head)


def fit_pieces(text: str, max_tokens: int, head: str = "") -> list[str]:
    """Split ``text`` into pieces such that ``head`` + newline + piece fits ``max_tokens``.

    By sentences first, then by halves (a run-on line with no sentence end).
    """
    budget = max_tokens - (count_tokens(head) + 1 if head else 0)
    return _fit(text, max(budget, 8))


def _fit(text: str, budget: int) -> list[str]:
    if len(text) < 2 or count_tokens(text) <= budget:
        return [text]
    sentences = split_sentences(text)
    if len(sentences) > 1:
        groups = pack(sentences, budget)
        if len(groups) == 1:  # each sentence fits but joined they do not: halve the list
            groups = [list(range(len(sentences) // 2)), list(range(len(sentences) // 2, len(sentences)))]
        out: list[str] = []
        for group in groups:
            out.extend(_fit(" ".join(sentences[i] for i in group), budget))
        return out
    half = len(text) // 2
    return _fit(text[:half].strip(), budget) + _fit(text[half:].strip(), budget)


def stable_id(document_id: str, heading_path: Iterable[str], text: str) -> str:
    """The chunk id: a hash of document id + heading path + text (stable across re-ingests)."""
    h = hashlib.sha256()
    for part in (document_id, "\x1f".join(heading_path), text):
        h.update(part.encode("utf-8"))
        h.update(b"\x1e")
    return h.hexdigest()[:32]


def finalize(document_id: str, doc_title: str, drafts: Sequence[Draft]) -> list[Chunk]:
    """Turn drafts into :class:`Chunk` objects with ids, token counts, pages and offsets."""
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for ordinal, d in enumerate(drafts):
        base = stable_id(document_id, d.heading_path, d.text)
        cid, n = base, 1
        while cid in seen:  # identical text under the same heading (rare): disambiguate
            cid = stable_id(document_id, (*d.heading_path, str(n)), d.text + base)
            n += 1
        seen.add(cid)
        pages = [ln.page for ln in d.lines if ln.page is not None]
        chunks.append(
            Chunk(
                id=cid,
                document_id=document_id,
                ordinal=ordinal,
                kind=d.kind,
                text=d.text,
                doc_title=doc_title,
                heading_path=d.heading_path,
                article=d.article,
                article_title=d.article_title,
                paragraph=d.paragraph,
                item=d.item,
                page=min(pages) if pages else None,
                page_end=max(pages) if pages else None,
                char_start=d.lines[0].start if d.lines else 0,
                char_end=d.lines[-1].end if d.lines else 0,
                token_count=count_tokens(d.text),
                amendments=d.amendments,
            )
        )
    return chunks
