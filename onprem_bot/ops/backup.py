"""``onprem-bot backup DIR`` / ``restore DIR``: database + search index + configuration.

A backup folder holds::

    manifest.json         version, database backend and Alembic revision, index generation, files + sha256
    database.sqlite       SQLite only: a copy made with SQLite's online backup API
    db/<table>.jsonl      every table (``alembic_version`` aside) as JSON lines, backend-neutral
    index/CURRENT, index/<generation>/...   the live index generation
    config/               the settings file in effect and ``<home>/synonyms.tsv`` when present

Consistent while the app runs: the SQLite copy is one online-backup snapshot and the tables are
read from that copy; on PostgreSQL they are read in one REPEATABLE READ (snapshot) transaction.
Index generations are immutable and switched atomically (``CURRENT``), so copying the live
generation is safe; the pointer is read again afterwards and the copy redone if an ingest
switched it meanwhile. The folder is written as ``DIR.partial-*`` and renamed at the end, so a
failed backup (a full disk included) leaves no half-written ``DIR``.

Restore (stop the app first) verifies every sha256, brings the target database to the code's
Alembic head, replaces every table's rows in one transaction (so a SQLite backup restores into
PostgreSQL and back), and installs the index generation with an atomic pointer switch.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import decimal
import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, delete, func, insert, select, text
from sqlalchemy.engine import Connection, Engine, make_url

from onprem_bot.config import CONFIG_FILE_NAME, Settings
from onprem_bot.errors import OnpremBotError
from onprem_bot.llm.install import sha256_file

FORMAT = 1
SKIP_TABLES = {"alembic_version"}
BATCH = 500


class BackupError(OnpremBotError):
    """A backup or restore that cannot be done; nothing was changed."""


@dataclass(frozen=True)
class BackupReport:
    """What a backup or restore did."""

    path: Path
    backend: str
    revision: str | None
    tables: dict[str, int]
    index_generation: str | None
    files: int
    bytes: int
    seconds: float

    def as_json(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "path": str(self.path),
            "backend": self.backend,
            "revision": self.revision,
            "tables": self.tables,
            "index_generation": self.index_generation,
            "files": self.files,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 2),
        }


# -- backup -------------------------------------------------------------------------------------


def backup(settings: Settings, target: Path, config_file: Path | None = None) -> BackupReport:
    """Write a consistent backup of ``settings``' database, index and configuration to ``target``."""
    started = time.perf_counter()
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"백업 폴더가 비어 있지 않습니다 (backup folder exists and is not empty): {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        backend, revision, tables = _dump_database(settings.db_url, partial)
        generation = _copy_index(settings.index_dir, partial / "index")
        _copy_config(settings, partial / "config", config_file)
        files = _write_manifest(partial, backend, revision, tables, generation)
        if target.exists():
            target.rmdir()
        os.replace(partial, target)
    except OSError as exc:
        raise BackupError(f"백업 실패 (backup failed, nothing kept): {exc}") from None
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    return BackupReport(target, backend, revision, tables, generation, files, size, time.perf_counter() - started)


def _dump_database(url: str, out: Path) -> tuple[str, str | None, dict[str, int]]:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    (out / "db").mkdir(parents=True)
    if backend == "sqlite":
        source = parsed.database
        if not source or source == ":memory:" or not Path(source).is_file():
            raise BackupError(f"SQLite 파일이 없습니다 (database file not found): {source}")
        copy = out / "database.sqlite"
        with (
            contextlib.closing(sqlite3.connect(source, timeout=30)) as src,
            contextlib.closing(sqlite3.connect(copy)) as dst,
        ):
            src.backup(dst)  # the online backup API: one consistent snapshot, writers keep going
        engine = create_engine(f"sqlite:///{copy}")
        try:
            with engine.connect() as conn:
                return backend, *_dump_tables(conn, out / "db")
        finally:
            engine.dispose()
    engine = create_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            return backend, *_dump_tables(conn, out / "db")
    finally:
        engine.dispose()


def _revision(conn: Connection) -> str | None:
    try:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:
        return None


def _dump_tables(conn: Connection, out: Path) -> tuple[str | None, dict[str, int]]:
    revision = _revision(conn)
    meta = MetaData()
    meta.reflect(conn)
    counts: dict[str, int] = {}
    for table in meta.sorted_tables:
        if table.name in SKIP_TABLES:
            continue
        n = 0
        with (out / f"{table.name}.jsonl").open("w", encoding="utf-8") as fh:
            order = list(table.primary_key.columns) or list(table.columns)[:1]
            for row in conn.execute(select(table).order_by(*order)).mappings():
                fh.write(json.dumps({k: _encode(v) for k, v in row.items()}, ensure_ascii=False) + "\n")
                n += 1
            fh.flush()
            os.fsync(fh.fileno())
        counts[table.name] = n
    return revision, counts


def _copy_index(index_dir: Path, out: Path) -> str | None:
    """Copy the live generation; redo when an ingest switched ``CURRENT`` during the copy."""
    for _attempt in range(5):
        pointer = index_dir / "CURRENT"
        try:
            name = pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        try:
            shutil.copytree(index_dir / name, out / name)
        except (FileNotFoundError, shutil.Error):
            continue  # pruned under us: read the pointer again
        if pointer.read_text(encoding="utf-8").strip() == name:
            (out / "CURRENT").write_text(name, encoding="utf-8")
            return name
    raise BackupError("색인이 계속 바뀌어 복사하지 못했습니다 (index kept changing during the backup); 다시 시도하세요")


def _config_path(config_file: Path | None) -> Path | None:
    if config_file:
        return Path(config_file)
    if os.environ.get("ONPREM_BOT_CONFIG"):
        return Path(os.environ["ONPREM_BOT_CONFIG"])
    return Path(CONFIG_FILE_NAME) if Path(CONFIG_FILE_NAME).is_file() else None


def _copy_config(settings: Settings, out: Path, config_file: Path | None) -> None:
    out.mkdir(parents=True)
    path = _config_path(config_file)
    if path and path.is_file():
        shutil.copy2(path, out / CONFIG_FILE_NAME)
    synonyms = settings.home / "synonyms.tsv"
    if synonyms.is_file():
        shutil.copy2(synonyms, out / "synonyms.tsv")


def _write_manifest(
    root: Path, backend: str, revision: str | None, tables: dict[str, int], generation: str | None
) -> int:
    from importlib import metadata

    files = {p.relative_to(root).as_posix(): _sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}
    manifest = {
        "format": FORMAT,
        "created": dt.datetime.now(dt.UTC).isoformat(),
        "version": metadata.version("onprem-bot"),
        "database": {"backend": backend, "revision": revision, "tables": tables},
        "index_generation": generation,
        "files": files,
    }
    partial = root / "manifest.json.tmp"
    partial.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    with partial.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(partial, root / "manifest.json")
    return len(files) + 1


# -- restore ------------------------------------------------------------------------------------


def restore(settings: Settings, source: Path, *, with_config: Path | None = None) -> BackupReport:
    """Restore a backup made by :func:`backup` into ``settings``' database and index folder."""
    from alembic.script import ScriptDirectory

    from onprem_bot.storage.db import MIGRATIONS_DIR, Database

    started = time.perf_counter()
    source = Path(source)
    manifest = _read_manifest(source)
    revision = manifest["database"].get("revision")
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    scripts = ScriptDirectory.from_config(cfg)
    if revision and scripts.get_revision(revision) is None:
        raise BackupError(
            f"이 백업은 더 새로운 버전의 스키마입니다 (backup schema {revision} is unknown to this version); 업그레이드 후 복원하세요"
        )
    settings.ensure_home()
    db = Database(settings.db_url)
    try:
        db.migrate()
        tables = _load_tables(db.engine, source / "db")
    finally:
        db.dispose()
    generation = _restore_index(source / "index", settings.index_dir)
    if with_config and (source / "config" / CONFIG_FILE_NAME).is_file():
        _atomic_copy(source / "config" / CONFIG_FILE_NAME, with_config)
    if (source / "config" / "synonyms.tsv").is_file():
        _atomic_copy(source / "config" / "synonyms.tsv", settings.home / "synonyms.tsv")
    backend = make_url(settings.db_url).get_backend_name()
    files = len(manifest["files"])
    size = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    return BackupReport(source, backend, revision, tables, generation, files, size, time.perf_counter() - started)


def _read_manifest(source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"백업 폴더가 아닙니다 (no manifest.json): {source}") from None
    except json.JSONDecodeError as exc:
        raise BackupError(f"manifest.json 손상 (corrupt): {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"알 수 없는 백업 형식 (unknown backup format): {manifest.get('format')}")
    for rel, digest in manifest["files"].items():
        path = source / rel
        if not path.is_file():
            raise BackupError(f"백업 파일이 없습니다 (missing): {rel}; 아무것도 바꾸지 않았습니다 (nothing changed)")
        if _sha256(path) != digest:
            raise BackupError(f"체크섬 불일치 (checksum mismatch): {rel}; 아무것도 바꾸지 않았습니다 (nothing changed)")
    return dict(manifest)


def _load_tables(engine: Engine, folder: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        meta = MetaData()
        meta.reflect(conn)
        ordered = [t for t in meta.sorted_tables if t.name not in SKIP_TABLES]
        for table in reversed(ordered):
            conn.execute(delete(table))
        for table in ordered:
            file = folder / f"{table.name}.jsonl"
            if not file.is_file():
                counts[table.name] = 0
                continue
            columns = {c.name: c for c in table.columns}
            n = 0
            for batch in _batches(file):
                rows = [{k: _decode(v, columns[k]) for k, v in row.items() if k in columns} for row in batch]
                conn.execute(insert(table), rows)
                n += len(rows)
            counts[table.name] = n
            if conn.dialect.name == "postgresql":
                _reset_sequences(conn, table)
    return counts


def _batches(file: Path) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    with file.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                batch.append(json.loads(line))
            if len(batch) >= BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _reset_sequences(conn: Connection, table: Any) -> None:
    for column in table.primary_key.columns:
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}).scalar()
        if seq:
            top = conn.execute(select(func.max(column))).scalar()
            conn.execute(text("SELECT setval(:s, :v, :called)"), {"s": seq, "v": top or 1, "called": top is not None})


def _restore_index(source: Path, index_dir: Path) -> str | None:
    pointer = source / "CURRENT"
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    index_dir.mkdir(parents=True, exist_ok=True)
    if not (index_dir / name).is_dir():
        partial = index_dir / f".{name}.restoring-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(source / name, partial)
        os.replace(partial, index_dir / name)
    tmp = index_dir / f".CURRENT.{os.getpid()}"
    tmp.write_text(name, encoding="utf-8")
    os.replace(tmp, index_dir / "CURRENT")
    return name


def _atomic_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.restoring-{os.getpid()}")
    shutil.copy2(src, tmp)
    os.replace(tmp, dst)


# -- values -------------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"$dec": str(value)}
    return value


def _decode(value: Any, column: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "$b64":
            return base64.b64decode(raw)
        if tag == "$dt":
            return dt.datetime.fromisoformat(raw)
        if tag == "$date":
            return dt.date.fromisoformat(raw)
        if tag == "$dec":
            return decimal.Decimal(raw)
    return value


_sha256 = sha256_file
