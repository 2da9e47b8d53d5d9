"""Index generations on disk, swapped atomically.

Layout under ``<home>/index``: one folder per generation (``gen-<time>-<rand>``) holding
``meta.json``, ``ids.json`` (chunk ids in index order), ``labels.json`` ([title, article] per
position), ``documents.json`` (the document of each position, for access filtering; absent in
generations built before it: the retriever then asks the database), ``bm25/`` and ``vectors.faiss``; the
file ``CURRENT`` names the live generation. A build writes a new folder completely, then
replaces ``CURRENT`` with ``os.replace`` (atomic), so readers see the old or the new index,
never a half-written one, and a crash mid-build leaves the old one in place.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from onprem_bot.errors import SearchIndexError

INDEX_FORMAT = 1
KEEP_GENERATIONS = 2


@dataclass(frozen=True)
class IndexMeta:
    """What an index generation was built from."""

    format: int
    embedder: str
    dimension: int
    count: int
    built_at: float
    bm25_method: str
    title_weight: int
    vector_kind: str


class IndexStore:
    """Reads and atomically replaces the live index generation under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def pointer(self) -> Path:
        """The file naming the live generation."""
        return self.root / "CURRENT"

    def current(self) -> Path | None:
        """The live generation's folder, or None before the first build."""
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        folder = self.root / name
        if not name or not folder.is_dir():
            raise SearchIndexError(
                f"색인 폴더가 없습니다 (index generation {name!r} missing in {self.root}); 다시 수집하세요 (re-ingest)"
            )
        return folder

    def meta(self, folder: Path) -> IndexMeta:
        """The metadata of a generation; a clear error when it is unreadable or of another format."""
        try:
            data = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            meta = IndexMeta(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise SearchIndexError(
                f"색인 메타데이터가 손상되었습니다 (corrupt index metadata in {folder}: {exc}); 다시 수집하세요"
            ) from exc
        if meta.format != INDEX_FORMAT:
            raise SearchIndexError(
                f"색인 형식 {meta.format}은 지원하지 않습니다 (index format); 다시 수집하세요 (re-ingest)"
            )
        return meta

    def ids(self, folder: Path) -> list[str]:
        """Chunk ids in index order."""
        try:
            ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SearchIndexError(
                f"색인 파일이 손상되었습니다 (corrupt ids.json in {folder}: {exc}); 다시 수집하세요"
            ) from exc
        if not isinstance(ids, list):
            raise SearchIndexError(f"색인 파일이 손상되었습니다 (corrupt ids.json in {folder})")
        return [str(i) for i in ids]

    def write(self, build: Callable[[Path], IndexMeta]) -> Path:
        """Build a new generation with ``build(folder)`` and make it live atomically."""
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        tmp = self.root / f".{name}.tmp"
        try:
            meta = build(tmp)
            (tmp / "meta.json").write_text(json.dumps(asdict(meta), ensure_ascii=False), encoding="utf-8")
            _fsync_tree(tmp)
            os.replace(tmp, self.root / name)
            pointer_tmp = self.root / f".CURRENT.{name}"
            pointer_tmp.write_text(name + "\n", encoding="utf-8")
            with pointer_tmp.open("rb") as fh:
                os.fsync(fh.fileno())
            os.replace(pointer_tmp, self.pointer)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self._prune(keep=name)
        return self.root / name

    def _prune(self, keep: str) -> None:
        generations = sorted(p for p in self.root.glob("gen-*") if p.is_dir())
        stale = [p for p in generations if p.name != keep][: max(0, len(generations) - KEEP_GENERATIONS)]
        for folder in stale:
            shutil.rmtree(folder, ignore_errors=True)
        for leftover in self.root.glob(".gen-*.tmp"):
            if time.time() - leftover.stat().st_mtime > 3600:  # an abandoned build
                shutil.rmtree(leftover, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
