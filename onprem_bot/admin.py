"""Administration services behind the admin pages: FAQ table edits, import/export, history and the
"test a question" box; document upload, ingest, delete and re-ingest with the atomic index swap.

The Streamlit pages only collect input and show these services' results.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from onprem_bot.access import OPERATOR, Viewer, parse_groups
from onprem_bot.errors import OnpremBotError
from onprem_bot.faq.store import FaqConflictError, FaqEntry, FaqError, ImportReport

# ── FAQ ──────────────────────────────────────────────────────────────────────────────────────

FAQ_COLUMNS = (
    "id",
    "질문",
    "유사질문",
    "답변",
    "분류",
    "열람 그룹",
    "사용",
    "대기 후보",
    "버전",
    "수정자",
    "수정 시각",
)
FAQ_EDITABLE = {
    "질문": "question",
    "유사질문": "alternatives",
    "답변": "answer",
    "분류": "category",
    "열람 그룹": "groups",
    "사용": "enabled",
}
ACTION_NAMES = {
    "create": "추가",
    "update": "수정",
    "delete": "삭제",
    "import": "가져오기",
    "phrasing": "유사질문 승인",
}
FAQ_FILE_TYPES = (".csv", ".tsv", ".xlsx")
_ALT_SPLIT = re.compile(r"\s*(?:\||\n)\s*")


def split_alternatives(value: Any) -> list[str]:
    """The alternatives typed into one cell (separated by ``|`` or line breaks)."""
    if value is None or (isinstance(value, float) and value != value):  # NaN from an empty new row
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [p for p in _ALT_SPLIT.split(str(value)) if p]


@dataclass
class EditReport:
    """What one save of the FAQ table did."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    errors: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        """How many entries changed."""
        return self.added + self.updated + self.deleted


class FaqAdmin:
    """The FAQ editor's operations (the same store and matcher as chat: changes apply at once)."""

    def __init__(self, store: Any, service: Any, phrasings: Any = None) -> None:
        self.store = store
        self.service = service
        self.phrasings = phrasings

    def snapshot(self) -> list[FaqEntry]:
        """Every entry as the editor loads it (their versions guard against concurrent saves)."""
        return self.store.entries()

    @staticmethod
    def table(entries: Sequence[FaqEntry], pending: Mapping[int, int] | None = None) -> list[dict[str, Any]]:
        """The editor's rows, in :data:`FAQ_COLUMNS` order (``pending``: phrasings waiting per entry)."""
        return [
            {
                "id": e.id,
                "질문": e.question,
                "유사질문": " | ".join(e.alternatives),
                "답변": e.answer,
                "분류": e.category,
                "열람 그룹": ",".join(e.groups),
                "사용": e.enabled,
                "대기 후보": (pending or {}).get(e.id, 0),
                "버전": e.version,
                "수정자": e.updated_by,
                "수정 시각": _local(e.updated_at),
            }
            for e in entries
        ]

    def apply_edits(self, snapshot: Sequence[FaqEntry], state: Mapping[str, Any], by: str) -> EditReport:
        """Apply a ``st.data_editor`` edit state (``edited_rows``, ``added_rows``, ``deleted_rows``,
        row positions into ``snapshot``). Each row is saved on its own; a row someone else changed
        since ``snapshot`` was loaded is not overwritten but reported as a conflict."""
        report = EditReport()
        deleted = {int(i) for i in state.get("deleted_rows", ()) or ()}
        for pos in sorted(deleted):
            if not 0 <= pos < len(snapshot):
                continue
            entry = snapshot[pos]
            try:
                current = self.store.get(entry.id)
            except FaqError:
                continue  # already gone
            if current.version != entry.version:
                report.conflicts.append(_conflict_text(entry.id, current))
                continue
            self.store.delete(entry.id, by=by)
            report.deleted += 1
        for key, cells in (state.get("edited_rows") or {}).items():
            pos = int(key)
            if pos in deleted or not 0 <= pos < len(snapshot):
                continue
            entry = snapshot[pos]
            changes = _changes(cells)
            if not changes:
                continue
            try:
                self.store.update(entry.id, by=by, expected_version=entry.version, **changes)
                report.updated += 1
            except FaqConflictError as exc:
                report.conflicts.append(str(exc))
            except FaqError as exc:
                report.errors.append(f"FAQ #{entry.id}: {exc}")
        for n, cells in enumerate(state.get("added_rows") or (), start=1):
            values = _changes(cells)
            if not any(values.get(k) for k in ("question", "answer", "alternatives")):
                continue  # an empty new row
            try:
                entry = self.store.add(
                    str(values.get("question") or ""),
                    str(values.get("answer") or ""),
                    str(values.get("category") or ""),
                    values.get("alternatives") or (),
                    by=by,
                    groups=values.get("groups") or (),
                )
                if values.get("enabled") is False:
                    self.store.set_enabled(entry.id, False, by=by)
                report.added += 1
            except FaqError as exc:
                report.errors.append(f"새 행 {n}: {exc}")
        return report

    # phrasings learned from use (onprem_bot.faq.phrasings)

    def pending_phrasings(self) -> list[Any]:
        """The phrasings waiting for a decision, grouped by entry (most often seen first)."""
        return self.phrasings.pending() if self.phrasings is not None else []

    def pending_counts(self) -> dict[int, int]:
        """Entry id → phrasings waiting."""
        return self.phrasings.pending_counts() if self.phrasings is not None else {}

    def approve_phrasing(self, phrasing_id: int, by: str) -> FaqEntry:
        """Make the phrasing an alternative of its entry: like any edit it moves the FAQ revision, so
        the chat matcher is rebuilt before the next question (no restart)."""
        entry: FaqEntry = self._phrasings().approve(phrasing_id, by)
        return entry

    def reject_phrasing(self, phrasing_id: int, by: str) -> Any:
        """Keep the phrasing as rejected (never proposed again)."""
        return self._phrasings().reject(phrasing_id, by)

    def link_phrasing(self, entry_id: int, question: str, by: str, message_id: int | None = None) -> Any:
        """The review page's 같은 질문: a logged question proposed as a wording of entry ``entry_id``
        (None when it already is one of the entry's questions)."""
        return self._phrasings().record(entry_id, question, "admin", by, message_id=message_id)

    def _phrasings(self) -> Any:
        if self.phrasings is None:
            raise FaqError("유사질문 후보 저장소가 연결되지 않았습니다 (phrasings not configured)")
        return self.phrasings

    def test(self, question: str) -> Any:
        """The chat matcher's decision for ``question`` (score, runner-up, reason)."""
        return self.service.match(question)

    def import_file(self, name: str, data: bytes, by: str) -> ImportReport:
        """Import an uploaded CSV/TSV/XLSX file in one transaction."""
        from onprem_bot.faq.io import read_faq_file

        suffix = Path(name).suffix.lower()
        if suffix not in FAQ_FILE_TYPES:
            raise FaqError(f"지원하지 않는 형식입니다: {Path(name).name} (CSV, TSV, XLSX 파일만 가져올 수 있습니다)")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"upload{suffix}"
            path.write_bytes(data)
            return self.store.import_rows(read_faq_file(path), by=by)

    def export(self, fmt: str) -> bytes:
        """Every entry as a ``csv`` or ``xlsx`` file's bytes."""
        from onprem_bot.faq.io import write_faq_file

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"faq.{fmt}"
            write_faq_file(self.store.entries(), path)
            return path.read_bytes()

    def history_rows(self, limit: int = 200) -> list[dict[str, Any]]:
        """The edit history, newest first, one readable line of changes per row."""
        return [
            {
                "시각": _local(c.changed_at),
                "FAQ": c.entry_id,
                "동작": ACTION_NAMES.get(c.action, c.action),
                "사용자": c.changed_by,
                "변경 내용": _describe(c.old, c.new),
            }
            for c in self.store.history(limit=limit)
        ]


def _changes(cells: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column, value in (cells or {}).items():
        name = FAQ_EDITABLE.get(column)
        if name is None:
            continue
        if name == "alternatives":
            out[name] = split_alternatives(value)
        elif name == "groups":
            out[name] = "" if value is None or (isinstance(value, float) and value != value) else str(value)
        elif name == "enabled":
            out[name] = bool(value) if value is not None else True
        else:
            out[name] = "" if value is None or (isinstance(value, float) and value != value) else str(value)
    return out


def _conflict_text(entry_id: int, current: FaqEntry) -> str:
    when = _local(current.updated_at)
    return (
        f"FAQ #{entry_id}을(를) {current.updated_by}님이 먼저 수정했습니다 ({when}); "
        "새로 불러온 뒤 다시 저장하세요 (not deleted)"
    )


def _describe(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> str:
    if old is None and new is not None:
        return f"질문: {_short(new.get('question'))}"
    if new is None and old is not None:
        return f"질문: {_short(old.get('question'))}"
    parts = []
    for key in ("question", "alternatives", "answer", "category", "groups", "enabled"):
        a, b = (old or {}).get(key), (new or {}).get(key)
        if a != b:
            label = {v: k for k, v in FAQ_EDITABLE.items()}[key]
            parts.append(f"{label}: {_short(a)} → {_short(b)}")
    return "; ".join(parts)


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, list):
        value = " | ".join(map(str, value))
    text = str(value if value is not None else "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def local_time(value: datetime | None) -> str:
    """``YYYY-MM-DD HH:MM`` in the server's time zone (stored times are UTC); empty for None."""
    return _local(value)


def _local(value: datetime | None) -> str:
    if value is None:
        return ""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone().strftime("%Y-%m-%d %H:%M")


# ── Documents ────────────────────────────────────────────────────────────────────────────────


class UploadError(OnpremBotError):
    """An upload was refused before anything was stored (type, size, name)."""


@dataclass
class UploadReport:
    """What one upload-and-ingest did."""

    ingested: list[tuple[str, str, int]] = field(default_factory=list)
    """(file name, status new/updated/unchanged, chunks)."""
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(file name, reason): nothing of these files was kept."""
    index_chunks: int | None = None


Progress = Callable[[float, str], None]
ALL_READERS = "전체"
"""How the documents list shows a document without groups (everyone may read it)."""


class DocumentAdmin:
    """Upload, ingest, list, delete and re-ingest documents; the index is swapped atomically."""

    def __init__(
        self,
        documents: Any,
        ingestor: Any,
        reindex: Callable[[], Any],
        uploads_dir: Path,
        max_upload_mb: int,
        audit: Any = None,
    ) -> None:
        self.audit = audit
        """The audit log: groups given to uploaded documents are recorded with the uploader's name."""
        self.documents = documents
        self.ingestor = ingestor
        self.reindex = reindex
        self.uploads_dir = Path(uploads_dir)
        self.max_bytes = max_upload_mb * 1024 * 1024
        self.max_upload_mb = max_upload_mb

    @property
    def extensions(self) -> tuple[str, ...]:
        """The file types that can be ingested."""
        from onprem_bot.ingest.loaders import SUPPORTED_EXTENSIONS

        return tuple(SUPPORTED_EXTENSIONS)

    def check_upload(self, name: str, size: int) -> str:
        """The safe file name to store an upload under; :class:`UploadError` (Korean) when refused."""
        safe = _safe_name(name)
        suffix = Path(safe).suffix.lower()
        if suffix not in self.extensions:
            raise UploadError(
                f"'{Path(name).name}': 지원하지 않는 파일 형식입니다. 지원 형식: {', '.join(self.extensions)}"
            )
        if size > self.max_bytes:
            raise UploadError(
                f"'{Path(name).name}': 파일이 너무 큽니다 ({size / 1024 / 1024:,.1f} MB). "
                f"{self.max_upload_mb} MB 이하만 올릴 수 있습니다."
            )
        if size == 0:
            raise UploadError(f"'{Path(name).name}': 빈 파일입니다.")
        return safe

    def ingest_uploads(
        self,
        files: Sequence[tuple[str, bytes]],
        progress: Progress | None = None,
        groups: str | Sequence[str] | None = None,
        viewer: Viewer = OPERATOR,
    ) -> UploadReport:
        """Store and ingest uploaded files, then rebuild the index once.

        Every file is checked first: one refused file refuses the whole upload (nothing is
        stored). A file that cannot be read is removed again (a replaced file is restored) and
        reported; the others are kept. Chat keeps answering from the old index until the swap.

        ``groups`` (``"인사팀,임원"`` or a list) may read the files; ``()`` or ``""``: everyone; None: a new
        document is for everyone and a replaced one keeps its groups. A bad group name raises
        :class:`~onprem_bot.access.GroupError` before anything is stored. A file that would replace a
        stored document ``viewer`` may not read is refused (:class:`UploadError`, nothing stored).
        """
        progress = progress or (lambda _f, _t: None)
        clean = None if groups is None else parse_groups(groups)
        names = [self.check_upload(name, len(data)) for name, data in files]
        if len(set(names)) != len(names):
            raise UploadError("같은 이름의 파일이 두 번 들어 있습니다 (duplicate file names).")
        if viewer.restricted:
            hidden = {Path(d.path).resolve() for d in self.documents.list_all() if not viewer.may_read(d.groups or ())}
            for name, (original, _) in zip(names, files, strict=True):
                if (self.uploads_dir / name).resolve() in hidden:
                    raise UploadError(
                        f"'{Path(original).name}': 같은 이름의 문서가 이미 있고 열람 권한이 없어 바꿀 수 없습니다."
                    )
        report = UploadReport()
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        changed = False
        for i, (name, (original, data)) in enumerate(zip(names, files, strict=True)):
            progress(i / (len(files) + 1), f"수집 중: {name} ({i + 1}/{len(files)})")
            target = self.uploads_dir / name
            backup = _write_with_backup(target, data)
            result = self.ingestor.ingest_file(target, clean)
            if result.status == "skipped":
                _restore(target, backup)
                report.failed.append((original, str(result.error)))
                continue
            if backup is not None:
                backup.unlink(missing_ok=True)
            if result.groups is not None and self.audit is not None:
                detail = {"title": result.title, "after": list(result.groups), "via": "upload"}
                self.audit.record(viewer.name, "document_groups", result.document_id, detail)
            changed = changed or result.status != "unchanged"
            report.ingested.append((original, result.status, result.chunks))
        if changed:
            progress(len(files) / (len(files) + 1), "검색 색인을 새로 만드는 중…")
            report.index_chunks = getattr(self.reindex(), "count", None)
        progress(1.0, "완료")
        return report

    def rows(self, viewer: Viewer = OPERATOR) -> list[dict[str, Any]]:
        """The stored documents ``viewer`` may read, for the list (열람 그룹: the groups, or 전체 for everyone)."""
        return [
            {
                "id": d.id,
                "제목": d.title,
                "열람 그룹": ", ".join(d.groups or ()) or ALL_READERS,
                "형식": d.doc_type,
                "청크 수": d.chunk_count,
                "수집 시각": _local(d.ingested_at),
                "크기(KB)": round(d.size_bytes / 1024, 1),
                "파일": Path(d.path).name,
            }
            for d in self.documents.list_all(viewer)
        ]

    def delete(self, document_id: str) -> str:
        """Remove a document (and its uploaded file) and swap in an index without it; its title."""
        info = self.documents.get(document_id)
        if info is None:
            raise UploadError("이미 삭제된 문서입니다.")
        self.documents.delete(document_id)
        self.reindex()
        path = Path(info.path)
        if path.parent.resolve() == self.uploads_dir.resolve():
            path.unlink(missing_ok=True)
        return str(info.title)

    def reingest(self, document_id: str) -> tuple[str, int]:
        """Read the document's file again and swap in a fresh index; (status, chunks)."""
        info = self.documents.get(document_id)
        if info is None:
            raise UploadError("문서가 없습니다.")
        result = self.ingestor.ingest_file(Path(info.path))
        if result.status == "skipped":
            raise UploadError(f"다시 수집하지 못했습니다 (기존 내용은 그대로입니다): {result.error}")
        self.reindex()
        return result.status, result.chunks


def _safe_name(name: str) -> str:
    base = Path(str(name).replace("\\", "/")).name.strip()
    base = re.sub(r"[\x00-\x1f/:*?\"<>|]", "_", base)
    if not base or base.startswith("."):
        raise UploadError(f"'{name}': 사용할 수 없는 파일 이름입니다.")
    return base[:200]


def _write_with_backup(target: Path, data: bytes) -> Path | None:
    backup = None
    if target.exists():
        backup = target.with_name(f".{target.name}.bak")
        os.replace(target, backup)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, target)
    return backup


def _restore(target: Path, backup: Path | None) -> None:
    if backup is not None:
        os.replace(backup, target)
    else:
        target.unlink(missing_ok=True)
