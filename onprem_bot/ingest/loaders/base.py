"""What every loader returns: a document as an ordered list of text blocks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

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
