"""The FAQ store: entries with alternatives, an edit history, imports in one transaction.

Every change writes a row to ``faq_history`` (who, when, old and new values), and the newest
history id is the FAQ's :meth:`FaqStore.revision`: the matcher rebuilds when it moves, in this
process or in any other process sharing the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onprem_bot.access import GroupError, parse_groups
from onprem_bot.errors import OnpremBotError
from onprem_bot.faq.matcher import exact_key
from onprem_bot.storage.db import Database
from onprem_bot.storage.schema import FaqEntryRow, FaqHistoryRow

MAX_QUESTION_CHARS = 1000
MAX_ANSWER_CHARS = 20_000
FIELDS = ("question", "alternatives", "answer", "category", "enabled", "groups")


class FaqError(OnpremBotError):
    """An FAQ entry or file is invalid (empty, duplicate, unknown id, bad columns)."""


class FaqConflictError(FaqError):
    """Someone else changed the entry since the editor loaded it."""


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ entry as the matcher, the CLI and the admin page see it."""

    id: int
    question: str
    answer: str
    alternatives: tuple[str, ...] = ()
    category: str = ""
    enabled: bool = True
    version: int = 1
    updated_by: str = ""
    updated_at: datetime | None = None
    groups: tuple[str, ...] = ()
    """The groups that may be answered from this entry; empty: everyone."""


@dataclass(frozen=True)
class FaqChange:
    """One row of the edit history."""

    id: int
    entry_id: int
    action: str
    changed_by: str
    changed_at: datetime
    old: dict[str, Any] | None
    new: dict[str, Any] | None


@dataclass
class ImportReport:
    """What an import did: rows added, updated, unchanged, and rejected with (line, reason)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def clean_fields(question: str, answer: str, alternatives: Iterable[str]) -> tuple[str, str, tuple[str, ...]]:
    """Trimmed question, answer and distinct alternatives; :class:`FaqError` when unusable."""
    question, answer = (question or "").strip(), (answer or "").strip()
    if not question:
        raise FaqError("질문이 비어 있습니다 (empty question)")
    if not answer:
        raise FaqError("답변이 비어 있습니다 (empty answer)")
    if len(question) > MAX_QUESTION_CHARS:
        raise FaqError(f"질문이 너무 깁니다: {len(question)}자 (question longer than {MAX_QUESTION_CHARS})")
    if len(answer) > MAX_ANSWER_CHARS:
        raise FaqError(f"답변이 너무 깁니다: {len(answer)}자 (answer longer than {MAX_ANSWER_CHARS})")
    seen = {exact_key(question)}
    alts: list[str] = []
    for alt in alternatives:
        alt = alt.strip()
        if alt and exact_key(alt) not in seen:
            seen.add(exact_key(alt))
            alts.append(alt)
    return question, answer, tuple(alts)


class FaqStore:
    """Reads and edits FAQ entries in one :class:`Database`; every edit is recorded."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def entries(self, include_disabled: bool = True) -> list[FaqEntry]:
        """Every entry (or only the enabled ones), by id."""
        query = select(FaqEntryRow).order_by(FaqEntryRow.id)
        if not include_disabled:
            query = query.where(FaqEntryRow.enabled.is_(True))
        with self.db.session() as s:
            return [_entry(r) for r in s.scalars(query)]

    def enabled(self) -> list[FaqEntry]:
        """The entries the matcher answers from."""
        return self.entries(include_disabled=False)

    def get(self, entry_id: int) -> FaqEntry:
        """The entry with this id; :class:`FaqError` when there is none."""
        with self.db.session() as s:
            return _entry(_row(s, entry_id))

    def revision(self) -> int:
        """A number that changes whenever any entry changes (the newest history id)."""
        with self.db.session() as s:
            return int(s.scalar(select(func.max(FaqHistoryRow.id))) or 0)

    def add(
        self,
        question: str,
        answer: str,
        category: str = "",
        alternatives: Iterable[str] = (),
        by: str = "admin",
        groups: Iterable[str] = (),
    ) -> FaqEntry:
        """Create an entry; a question already asked by another entry is refused, naming it."""
        question, answer, alts = clean_fields(question, answer, alternatives)
        clean_groups = _groups(groups)
        with self.db.session() as s:
            _refuse_duplicates(s, [question, *alts], None)
            row = _new_row(question, answer, category, alts, by)
            row.groups = list(clean_groups)
            s.add(row)
            s.flush()
            _log(s, row.id, "create", by, None, _values(row))
            return _entry(row)

    def update(self, entry_id: int, by: str = "admin", expected_version: int | None = None, **changes: Any) -> FaqEntry:
        """Change fields of an entry (question, alternatives, answer, category, enabled).

        With ``expected_version`` (the version the editor loaded) a concurrent change is
        refused with :class:`FaqConflictError` rather than overwritten.
        """
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise FaqError(f"알 수 없는 항목 (unknown field) {unknown[0]}; valid: {', '.join(FIELDS)}")
        with self.db.session() as s:
            row = _row(s, entry_id)
            if expected_version is not None and row.version != expected_version:
                raise FaqConflictError(
                    f"FAQ #{entry_id}을(를) {row.updated_by}님이 먼저 수정했습니다 (changed by {row.updated_by} "
                    f"at {row.updated_at:%Y-%m-%d %H:%M}); 새로 불러온 뒤 다시 저장하세요"
                )
            old = _values(row)
            question, answer, alts = clean_fields(
                changes.get("question", row.question),
                changes.get("answer", row.answer),
                changes.get("alternatives", row.alternatives),
            )
            _refuse_duplicates(s, [question, *alts], entry_id)
            row.question, row.answer, row.alternatives = question, answer, list(alts)
            row.category = str(changes.get("category", row.category) or "").strip()
            row.enabled = bool(changes.get("enabled", row.enabled))
            if "groups" in changes:
                row.groups = list(_groups(changes["groups"]))
            new = _values(row)
            if new != old:
                row.version += 1
                row.updated_by, row.updated_at = by, _now()
                _log(s, entry_id, "update", by, old, new)
            return _entry(row)

    def set_enabled(self, entry_id: int, enabled: bool, by: str = "admin") -> FaqEntry:
        """Enable or disable an entry (a disabled entry is never matched)."""
        return self.update(entry_id, by=by, enabled=enabled)

    def delete(self, entry_id: int, by: str = "admin") -> None:
        """Remove an entry; its history stays."""
        with self.db.session() as s:
            row = _row(s, entry_id)
            _log(s, entry_id, "delete", by, _values(row), None)
            s.delete(row)

    def history(self, entry_id: int | None = None, limit: int = 200) -> list[FaqChange]:
        """The newest changes first, of one entry or of all."""
        query = select(FaqHistoryRow).order_by(FaqHistoryRow.id.desc()).limit(limit)
        if entry_id is not None:
            query = query.where(FaqHistoryRow.entry_id == entry_id)
        with self.db.session() as s:
            return [
                FaqChange(r.id, r.entry_id, r.action, r.changed_by, r.changed_at, r.old, r.new)
                for r in s.scalars(query)
            ]

    def import_rows(
        self,
        rows: Iterable[tuple[int, dict[str, Any]]],
        by: str = "admin",
        progress: Callable[[int], None] = lambda _n: None,
        strict: bool = False,
    ) -> ImportReport:
        """Add or update entries from ``(line, row)`` pairs in ONE transaction.

        A row whose question (normalised) is an existing entry's question updates that entry;
        a question repeated inside the file, or empty fields, reject the row with a reason. Any
        error while reading (a broken encoding at line 50,000) rolls everything back; with
        ``strict`` a single rejected row does too.
        """
        report = ImportReport()
        with self.db.session() as s:
            by_key: dict[str, FaqEntryRow] = {}
            for row in s.scalars(select(FaqEntryRow)):
                for key in (row.question, *row.alternatives):
                    by_key.setdefault(exact_key(key), row)
            first_line: dict[str, int] = {}
            done = 0
            for line, data in rows:
                done += 1
                if done % 500 == 0:
                    progress(done)
                try:
                    q, a, alts = clean_fields(
                        data.get("question", ""), data.get("answer", ""), data.get("alternatives", ())
                    )
                except FaqError as exc:
                    report.rejected.append((line, str(exc)))
                    continue
                key = exact_key(q)
                if key in first_line:
                    report.rejected.append(
                        (line, f"중복 질문: {first_line[key]}행과 같습니다 (duplicate of line {first_line[key]})")
                    )
                    continue
                first_line[key] = line
                try:
                    row_groups = _groups(data.get("groups") or ())
                except FaqError as exc:
                    report.rejected.append((line, str(exc)))
                    continue
                _apply(s, by_key, report, q, a, str(data.get("category") or "").strip(), alts, by, row_groups)
            progress(done)
            if strict and report.rejected:  # raising inside the transaction rolls it back
                line, reason = report.rejected[0]
                raise FaqError(
                    f"{len(report.rejected)}개 행 거부, 가져오지 않았습니다 (nothing imported); {line}행: {reason}"
                )
        return report


def add_alternative(s: Session, entry_id: int, text: str, by: str, action: str = "phrasing") -> FaqEntry:
    """Append ``text`` to an entry's alternatives inside the caller's transaction, recorded in its history.

    :class:`FaqError` (nothing changed) when the entry is gone or another entry already asks
    the same question (named); an alternative the entry already has changes nothing.
    """
    row = s.get(FaqEntryRow, entry_id)
    if row is None:
        raise FaqError(f"FAQ #{entry_id}이(가) 삭제되어 없습니다 (entry deleted)")
    text = (text or "").strip()
    if not text:
        raise FaqError("빈 문장은 유사질문이 될 수 없습니다 (empty alternative)")
    if len(text) > MAX_QUESTION_CHARS:
        raise FaqError(f"유사질문이 너무 깁니다: {len(text)}자 (longer than {MAX_QUESTION_CHARS})")
    _refuse_duplicates(s, [text], entry_id)
    if exact_key(text) in {exact_key(k) for k in (row.question, *row.alternatives)}:
        return _entry(row)
    old = _values(row)
    row.alternatives = [*row.alternatives, text]
    row.version += 1
    row.updated_by, row.updated_at = by, _now()
    _log(s, entry_id, action, by, old, _values(row))
    return _entry(row)


def ensure_seeded(store: FaqStore, path: Path) -> int:
    """Import the shipped seed list once, into a FAQ that has never been edited; rows added."""
    if store.revision():
        return 0
    from onprem_bot.faq.io import read_faq_file

    return store.import_rows(read_faq_file(path), by="seed").added


def _apply(
    s: Session,
    by_key: dict[str, FaqEntryRow],
    report: ImportReport,
    q: str,
    a: str,
    cat: str,
    alts: Sequence[str],
    by: str,
    groups: Sequence[str] = (),
) -> None:
    """An empty ``groups`` cell keeps an existing entry's groups (an import never opens a restricted entry)."""
    row = by_key.get(exact_key(q))
    if row is None:
        row = _new_row(q, a, cat, alts, by)
        row.groups = list(groups)
        s.add(row)
        s.flush()
        _log(s, row.id, "import", by, None, _values(row))
        report.added += 1
    else:
        old = _values(row)
        merged = list(dict.fromkeys([*row.alternatives, *alts]))
        row.answer, row.category, row.alternatives = a, cat or row.category, merged
        if groups:
            row.groups = list(groups)
        if _values(row) == old:
            report.unchanged += 1
            return
        row.version += 1
        row.updated_by, row.updated_at = by, _now()
        _log(s, row.id, "import", by, old, _values(row))
        report.updated += 1
    for key in (q, *alts):
        by_key.setdefault(exact_key(key), row)


def _refuse_duplicates(s: Session, keys: Sequence[str], own_id: int | None) -> None:
    wanted = {exact_key(k): k for k in keys}
    for row in s.scalars(select(FaqEntryRow)):
        if row.id == own_id:
            continue
        for existing in (row.question, *row.alternatives):
            if exact_key(existing) in wanted:
                raise FaqError(
                    f"이미 있는 질문입니다: FAQ #{row.id} '{row.question}' (duplicate question: {wanted[exact_key(existing)]!r})"
                )


def _row(s: Session, entry_id: int) -> FaqEntryRow:
    row = s.get(FaqEntryRow, entry_id)
    if row is None:
        raise FaqError(f"FAQ #{entry_id}이(가) 없습니다 (no such entry)")
    return row


def _new_row(question: str, answer: str, category: str, alts: Sequence[str], by: str) -> FaqEntryRow:
    now = _now()
    return FaqEntryRow(
        question=question,
        answer=answer,
        category=(category or "").strip(),
        alternatives=list(alts),
        enabled=True,
        version=1,
        created_by=by,
        created_at=now,
        updated_by=by,
        updated_at=now,
    )


def _values(row: FaqEntryRow) -> dict[str, Any]:
    out = {
        name: list(getattr(row, name) or []) if name in ("alternatives", "groups") else getattr(row, name)
        for name in FIELDS
    }
    if not out["groups"]:
        del out["groups"]  # history written before groups existed compares equal
    return out


def _groups(value: Any) -> tuple[str, ...]:
    """Group names from a cell or a list, as :class:`FaqError` (one line) when one is unusable."""
    try:
        return parse_groups(value)
    except GroupError as exc:
        raise FaqError(str(exc)) from None


def _log(
    s: Session, entry_id: int, action: str, by: str, old: dict[str, Any] | None, new: dict[str, Any] | None
) -> None:
    s.add(FaqHistoryRow(entry_id=entry_id, action=action, changed_by=by, changed_at=_now(), old=old, new=new))


def _entry(row: FaqEntryRow) -> FaqEntry:
    return FaqEntry(
        row.id,
        row.question,
        row.answer,
        tuple(row.alternatives or ()),
        row.category or "",
        bool(row.enabled),
        row.version,
        row.updated_by,
        row.updated_at,
        tuple(row.groups or ()),
    )


def _now() -> datetime:
    return datetime.now(UTC)
