"""Ingestion of files and folders: load, chunk, store; unchanged files are left alone."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from onprem_bot.access import parse_groups
from onprem_bot.config import CHUNKER_NAMES
from onprem_bot.errors import ConfigError, LoaderError, NoDocumentsError, OnpremBotError
from onprem_bot.ingest.chunking import chunk_document
from onprem_bot.ingest.loaders import SUPPORTED_EXTENSIONS, is_supported, load_document
from onprem_bot.ingest.loaders.base import normalized_document
from onprem_bot.ingest.scanned import SKIPPED_KEY, WARNING_KEY
from onprem_bot.storage.documents import DocumentInfo, DocumentStore, now

if TYPE_CHECKING:
    from onprem_bot.ingest.ocr import TesseractOcr

CHUNKING_VERSION = "3"
"""Bump when chunking changes so that re-ingest re-chunks unchanged files (2: text stored in NFC; a single
titled article is statute text. 3: 별표/별지 sections, tables as rows with headers, Word list numbers,
OCR of pages without usable text)."""

Status = Literal["new", "updated", "unchanged", "skipped"]


@dataclass(frozen=True)
class FileResult:
    """What happened to one file."""

    path: Path
    status: Status
    document_id: str = ""
    title: str = ""
    chunker: str = ""
    chunks: int = 0
    error: str | None = None
    warning: str | None = None
    """Stored, but with a caveat (e.g. PDF pages skipped for want of text)."""
    groups: tuple[str, ...] | None = None
    """The groups this run gave the document (for the audit log); None: its groups were not changed."""


@dataclass(frozen=True)
class IngestReport:
    """The outcome of one ingest run."""

    results: tuple[FileResult, ...]
    seconds: float
    ignored: tuple[Path, ...] = field(default=())

    @property
    def ok(self) -> tuple[FileResult, ...]:
        """Files now stored (new, updated or unchanged)."""
        return tuple(r for r in self.results if r.status != "skipped")

    @property
    def skipped(self) -> tuple[FileResult, ...]:
        """Files that could not be ingested, with their error."""
        return tuple(r for r in self.results if r.status == "skipped")

    def summary(self) -> dict[str, object]:
        """The ``--json`` summary (DESIGN.md contract plus details)."""
        return {
            "documents": len(self.ok),
            "chunks": sum(r.chunks for r in self.ok),
            "seconds": round(self.seconds, 3),
            "new": sum(r.status == "new" for r in self.results),
            "updated": sum(r.status == "updated" for r in self.results),
            "unchanged": sum(r.status == "unchanged" for r in self.results),
            "skipped": [{"path": str(r.path), "error": r.error} for r in self.skipped],
            "warnings": [{"path": str(r.path), "warning": r.warning} for r in self.results if r.warning],
            "ignored": [str(p) for p in self.ignored],
        }


def document_id_for(path: Path) -> str:
    """A document's stable id: a hash of its resolved path."""
    return hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:32]


def collect_files(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Expand files and folders (recursively) into (supported files, ignored files).

    A file named explicitly is always returned, so that an unsupported one gets a clear
    error; inside folders, hidden files and unsupported extensions are ignored.
    """
    files: list[Path] = []
    ignored: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for child in sorted(p.rglob("*")):
                if not child.is_file() or any(part.startswith(".") for part in child.relative_to(p).parts):
                    continue
                (files if is_supported(child) else ignored).append(child)
        else:
            files.append(p)
    unique = list(dict.fromkeys(files))
    if not unique:
        names = ", ".join(str(p) for p in paths)
        raise NoDocumentsError(
            f"수집할 문서가 없습니다 (no documents found) in {names}; supported: {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    return unique, ignored


class Ingestor:
    """Loads, chunks and stores documents; one transaction per document."""

    def __init__(
        self,
        store: DocumentStore,
        chunker: str = "auto",
        max_tokens: int = 450,
        ocr: TesseractOcr | None = None,
        folder_groups: Mapping[str, str] | None = None,
    ) -> None:
        if chunker not in CHUNKER_NAMES:
            raise ConfigError(f"chunker={chunker!r}: 알 수 없는 값 (unknown); valid: {', '.join(CHUNKER_NAMES)}")
        if max_tokens < 32:
            raise ConfigError(f"max_tokens={max_tokens}: 32 이상이어야 합니다 (must be >= 32)")
        self.store = store
        self.chunker = chunker
        self.max_tokens = max_tokens
        self.ocr = ocr
        """Reads PDF pages without usable text; ``None``: such pages are skipped with a warning."""
        self.folder_groups = {Path(k).expanduser().resolve(): parse_groups(v) for k, v in (folder_groups or {}).items()}
        """Folder → groups for files ingested from under it without explicit groups (``ingest.folder_groups``)."""

    def groups_for(self, path: Path, groups: Sequence[str] | None = None) -> tuple[str, ...] | None:
        """The groups a file is stored with: ``groups`` when given, else those of the deepest configured
        folder holding it, else None (a new document: everyone; a stored one keeps its groups)."""
        if groups is not None:
            return parse_groups(groups)
        resolved = path.resolve()
        holders = [f for f in self.folder_groups if resolved.is_relative_to(f)]
        return self.folder_groups[max(holders, key=lambda f: len(f.parts))] if holders else None

    @property
    def config_key(self) -> str:
        """What besides the bytes decides the chunks: re-chunk when it changes."""
        return f"v{CHUNKING_VERSION}:{self.chunker}:{self.max_tokens}"

    def run(
        self,
        paths: Sequence[Path],
        on_file: Callable[[FileResult], None] | None = None,
        on_start: Callable[[int], None] | None = None,
        groups: Sequence[str] | None = None,
    ) -> IngestReport:
        """Ingest every file under ``paths``; bad files are skipped and reported, not fatal.

        ``groups``: who may read the documents (``()``: everyone; None: see :meth:`groups_for`)."""
        started = time.perf_counter()
        files, ignored = collect_files(paths)
        if on_start:
            on_start(len(files))
        results = []
        for path in files:
            result = self.ingest_file(path, self.groups_for(path, groups))
            results.append(result)
            if on_file:
                on_file(result)
        return IngestReport(tuple(results), time.perf_counter() - started, tuple(ignored))

    def ingest_file(self, path: Path, groups: Sequence[str] | None = None) -> FileResult:
        """Ingest one file: skipped with its error when it cannot be read or chunked; ``groups`` as in :meth:`run`."""
        try:
            return self._ingest(path, None if groups is None else tuple(groups))
        except LoaderError as exc:
            return FileResult(path, "skipped", error=exc.reason)
        except OnpremBotError as exc:
            return FileResult(path, "skipped", error=str(exc))
        except Exception as exc:  # a bug on one file must not stop the other files
            return FileResult(path, "skipped", error=f"처리 중 오류 (internal error: {type(exc).__name__}: {exc})")

    def _ingest(self, path: Path, groups: tuple[str, ...] | None) -> FileResult:
        if not path.exists():
            raise LoaderError(path, "파일이 없습니다 (file not found)")
        doc_id = document_id_for(path)
        data = path.read_bytes() if path.is_file() else b""
        content_hash = hashlib.sha256(data).hexdigest()
        old = self.store.get(doc_id)
        same = old is not None and old.content_hash == content_hash and old.metadata.get("chunking") == self.config_key
        # pages skipped for want of OCR are read once OCR is there
        if old and same and not (old.metadata.get(SKIPPED_KEY) and self.ocr is not None and self.ocr.available()):
            warning = old.metadata.get(WARNING_KEY) or None
            changed = groups if groups is not None and tuple(old.groups or ()) != groups else None
            if changed is not None:
                self.store.set_groups(doc_id, changed)
            return FileResult(
                path, "unchanged", doc_id, old.title, old.chunker, old.chunk_count, warning=warning, groups=changed
            )
        doc = normalized_document(load_document(path, self.ocr))  # one Unicode form in storage, whatever the source
        name, chunks = chunk_document(doc, doc_id, self.chunker, self.max_tokens)
        if not chunks:
            raise LoaderError(path, f"청크가 만들어지지 않았습니다 (no chunks produced by the {name} chunker)")
        info = DocumentInfo(
            id=doc_id,
            path=str(path.resolve()),
            title=doc.title,
            doc_type=doc.doc_type,
            chunker=name,
            content_hash=content_hash,
            size_bytes=len(data),
            chunk_count=len(chunks),
            ingested_at=now(),
            metadata={**dict(doc.metadata), "chunking": self.config_key},
            groups=groups,
        )
        self.store.replace(info, chunks)
        warning = doc.metadata.get(WARNING_KEY) or None
        changed = groups if groups is not None and (old is None or tuple(old.groups or ()) != groups) else None
        status: Status = "updated" if old else "new"
        return FileResult(path, status, doc_id, doc.title, name, len(chunks), warning=warning, groups=changed)
