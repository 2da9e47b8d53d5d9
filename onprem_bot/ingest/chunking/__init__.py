"""Chunkers: statute (조/항/호), report (heading/paragraph) and Q&A, chosen per document."""

from __future__ import annotations

from onprem_bot.config import CHUNKER_NAMES
from onprem_bot.errors import ConfigError
from onprem_bot.ingest.chunking.base import document_lines, finalize
from onprem_bot.ingest.chunking.qa import QAChunker
from onprem_bot.ingest.chunking.report import ReportChunker
from onprem_bot.ingest.chunking.statute import StatuteChunker, looks_like_statute
from onprem_bot.ingest.loaders.base import LoadedDocument
from onprem_bot.types import Chunk


def detect_chunker(doc: LoadedDocument) -> str:
    """``qa`` for Q&A files, ``statute`` when article markers are found, else ``report``."""
    if doc.qa_pairs:
        return "qa"
    return "statute" if looks_like_statute(document_lines(doc)) else "report"


def chunk_document(
    doc: LoadedDocument, document_id: str, chunker: str = "auto", max_tokens: int = 450
) -> tuple[str, list[Chunk]]:
    """Chunk ``doc`` with the named chunker (``auto`` detects it); returns (name, chunks)."""
    if chunker not in CHUNKER_NAMES:
        raise ConfigError(f"chunker={chunker!r}: 알 수 없는 값 (unknown); valid: {', '.join(CHUNKER_NAMES)}")
    name = detect_chunker(doc) if chunker == "auto" else chunker
    if name == "qa":
        drafts = QAChunker().run(doc.qa_pairs)
    elif name == "statute":
        drafts = StatuteChunker(max_tokens).run(document_lines(doc), doc.title)
    else:
        drafts = ReportChunker(max_tokens).run(document_lines(doc), doc.title)
    return name, finalize(document_id, doc.title, drafts)


__all__ = ["chunk_document", "detect_chunker"]
