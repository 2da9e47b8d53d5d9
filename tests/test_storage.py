"""The document store on a real SQLite database: migrations, atomic replace, crash safety."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import event, inspect

from onprem_bot.app import App
from onprem_bot.storage.db import Database
from onprem_bot.storage.documents import DocumentInfo, now
from onprem_bot.types import Chunk

REPO = Path(__file__).resolve().parents[1]


def info(doc_id: str = "d1", content_hash: str = "h1") -> DocumentInfo:
    return DocumentInfo(doc_id, f"/docs/{doc_id}.md", "시험법", "markdown", "statute", content_hash, 10, 0, now())


def chunks(doc_id: str, texts: list[str]) -> list[Chunk]:
    return [Chunk(f"{doc_id}-{i}-{t}", doc_id, i, "article", t, article=f"제{i + 1}조") for i, t in enumerate(texts)]


HEAD = "0007_groups_audit"
"""The newest migration: bump it with each new one (a forgotten upgrade then fails here)."""


def test_migrations_create_the_tables_once(app: App) -> None:
    tables = set(inspect(app.db.engine).get_table_names())
    assert {"documents", "chunks", "embedding_cache", "faq_entries", "faq_history", "alembic_version"} <= tables
    assert app.db.current_revision() == HEAD
    app.db.migrate()  # idempotent
    assert app.db.current_revision() == HEAD


def test_replace_round_trips_chunks(app: App) -> None:
    app.documents.replace(info(), chunks("d1", ["가", "나"]))
    stored = app.documents.chunks("d1")
    assert [c.text for c in stored] == ["가", "나"]
    assert stored[0].doc_title == "시험법" and stored[1].article == "제2조"
    assert app.documents.counts() == (1, 2)
    app.documents.replace(replace(info(), content_hash="h2"), chunks("d1", ["다"]))
    assert [c.text for c in app.documents.chunks()] == ["다"]
    assert app.documents.get("d1").content_hash == "h2"  # type: ignore[union-attr]
    assert app.documents.delete("d1") and app.documents.counts() == (0, 0)
    assert not app.documents.delete("d1")


def test_failure_midway_leaves_the_previous_document(app: App) -> None:
    app.documents.replace(info(), chunks("d1", ["old 1", "old 2"]))
    calls = {"n": 0}

    def explode(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO chunks"):
            calls["n"] += 1
            raise RuntimeError("disk full")

    event.listen(app.db.engine, "before_cursor_execute", explode)
    try:
        with pytest.raises(RuntimeError, match="disk full"):
            app.documents.replace(replace(info(), content_hash="h2"), chunks("d1", ["new 1", "new 2", "new 3"]))
    finally:
        event.remove(app.db.engine, "before_cursor_execute", explode)
    assert calls["n"] == 1
    assert [c.text for c in app.documents.chunks("d1")] == ["old 1", "old 2"]
    assert app.documents.get("d1").content_hash == "h1"  # type: ignore[union-attr]


def test_a_killed_process_mid_ingest_leaves_the_previous_state(tmp_path: Path) -> None:
    """A real crash: the process dies (os._exit) right after inserting the new chunks, before commit."""
    db_url = f"sqlite:///{tmp_path / 'crash.db'}"
    db = Database(db_url)
    db.migrate()
    from onprem_bot.storage.documents import DocumentStore

    DocumentStore(db).replace(info(), chunks("d1", ["old"]))
    db.dispose()
    script = textwrap.dedent(
        f"""
        import os
        from sqlalchemy import event
        from onprem_bot.storage.db import Database
        from onprem_bot.storage.documents import DocumentStore
        from tests.test_storage import chunks, info
        db = Database({db_url!r})
        def die(conn, cursor, statement, params, context, executemany):
            if statement.startswith("INSERT INTO chunks"):
                os._exit(137)
        event.listen(db.engine, "after_cursor_execute", die)
        DocumentStore(db).replace(info(content_hash="h2"), chunks("d1", ["new 1", "new 2"]))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 137, proc.stderr
    store = DocumentStore(Database(db_url))
    assert [c.text for c in store.chunks("d1")] == ["old"]
    assert store.get("d1").content_hash == "h1"  # type: ignore[union-attr]


def test_database_url_is_not_sqlite_specific(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")  # creates the folder
    db.migrate()
    assert (tmp_path / "sub" / "x.db").exists()
    with pytest.raises(Exception, match="empty database URL"):
        Database("")
