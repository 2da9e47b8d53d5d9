"""Loaders by file extension; :func:`load_document` picks one and checks the result."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from onprem_bot.errors import LoaderError
from onprem_bot.ingest.loaders.base import Block, LoadedDocument

if TYPE_CHECKING:
    from onprem_bot.ingest.ocr import TesseractOcr

SUPPORTED_EXTENSIONS = (".md", ".markdown", ".txt", ".pdf", ".docx", ".hwpx", ".hwp", ".csv", ".xlsx")


def _loader_for(ext: str, path: Path) -> Callable[[Path], LoadedDocument]:
    # Heavy parsers are imported only for the files that need them.
    if ext in (".md", ".markdown"):
        from onprem_bot.ingest.loaders.text import load_markdown

        return load_markdown
    if ext == ".txt":
        from onprem_bot.ingest.loaders.text import load_text

        return load_text
    if ext == ".pdf":
        from onprem_bot.ingest.loaders.pdf import load_pdf

        return load_pdf
    if ext == ".docx":
        from onprem_bot.ingest.loaders.docx import load_docx

        return load_docx
    if ext == ".hwpx":
        from onprem_bot.ingest.loaders.hwpx import load_hwpx

        return load_hwpx
    if ext == ".hwp":
        from onprem_bot.ingest.loaders.hwp import load_hwp

        return load_hwp
    from onprem_bot.ingest.loaders.qa import load_qa, looks_like_qa
    from onprem_bot.ingest.loaders.table import load_table

    return load_qa if looks_like_qa(path) else load_table


def is_supported(path: Path) -> bool:
    """True when the file's extension has a loader."""
    return path.suffix.lower() in SUPPORTED_EXTENSIONS


def load_document(path: Path, ocr: TesseractOcr | None = None) -> LoadedDocument:
    """Read ``path`` with the loader for its extension (``ocr``: for PDF pages without usable text).

    Raises :class:`LoaderError` naming the file for a missing, empty, unsupported or
    unreadable file, and for a document with no text at all.
    """
    path = Path(path)
    if not path.exists():
        raise LoaderError(path, "파일이 없습니다 (file not found)")
    if not path.is_file():
        raise LoaderError(path, "파일이 아닙니다 (not a file)")
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise LoaderError(
            path,
            f"지원하지 않는 파일 형식입니다 (unsupported file type {ext or '(none)'!r}); "
            f"supported: {', '.join(SUPPORTED_EXTENSIONS)}",
        )
    if path.stat().st_size == 0:
        raise LoaderError(path, "빈 파일입니다 (empty file, 0 bytes)")
    try:
        loader = _loader_for(ext, path)
        if ext == ".pdf" and ocr is not None:
            from onprem_bot.ingest.loaders.pdf import load_pdf

            loader = partial(load_pdf, ocr=ocr)
        doc = loader(path)
    except LoaderError:
        raise
    except Exception as exc:  # a parser bug or a damaged file must not become a traceback
        raise LoaderError(path, f"문서를 읽을 수 없습니다 (cannot read document: {type(exc).__name__}: {exc})") from exc
    if doc.is_empty:
        raise LoaderError(path, "문서에 텍스트가 없습니다 (no text found in document)")
    return doc


__all__ = ["SUPPORTED_EXTENSIONS", "Block", "LoadedDocument", "is_supported", "load_document"]
