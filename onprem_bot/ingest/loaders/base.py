"""What every loader returns: a document as an ordered list of text blocks."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final, Literal

BlockKind = Literal["heading", "paragraph", "table_row"]


@dataclass(frozen=True)
class Block:
    """One unit of text in reading order.

    ``kind`` is ``"heading"`` (with ``level`` 1..6), ``"paragraph"`` or ``"table_row"``
    (cells joined with `` | ``). ``page`` is 1-based where the format has pages (PDF).
    """

    text: str
    page: int | None = None
    kind: BlockKind = "paragraph"
    level: int = 0


@dataclass(frozen=True)
class LoadedDocument:
    """A file read into memory: its title, type, text blocks and, for Q&A files, pairs."""

    path: Path
    title: str
    doc_type: str
    blocks: tuple[Block, ...] = ()
    qa_pairs: tuple[tuple[str, str], ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The whole text, one block per line."""
        return "\n".join(b.text for b in self.blocks)

    @property
    def is_empty(self) -> bool:
        """True when the document holds no text at all."""
        return not self.qa_pairs and not any(b.text.strip() for b in self.blocks)


STORED_FORM: Final = "NFC"
"""The one Unicode normalisation form of stored text (composed Hangul, as Korean text is usually written).

Decomposed Hangul (macOS file names, text copied from some PDFs) and composed Hangul look alike but
compare unequal; NFC makes them one. Compatibility characters (full-width digits, ㎡) are kept as
written for display: search and checking compare both sides through NFKC
(:func:`onprem_bot.korean.normalize.normalize`)."""
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def stored_text(text: str) -> str:
    """``text`` in :data:`STORED_FORM` without zero-width characters (line structure kept)."""
    if text.isascii():
        return text
    return unicodedata.normalize(STORED_FORM, text).translate(_INVISIBLE)


def normalized_document(doc: LoadedDocument) -> LoadedDocument:
    """``doc`` with its title, blocks and Q&A pairs in the stored form (every loader's output passes here)."""
    return replace(
        doc,
        title=stored_text(doc.title),
        blocks=tuple(replace(b, text=stored_text(b.text)) for b in doc.blocks),
        qa_pairs=tuple((stored_text(q), stored_text(a)) for q, a in doc.qa_pairs),
        metadata={k: stored_text(v) if isinstance(v, str) else v for k, v in doc.metadata.items()},
    )
