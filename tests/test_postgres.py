"""The shared-server path: the same Alembic migrations and stores on a real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from onprem_bot.app import build_app
from onprem_bot.cli import main
from onprem_bot.config import Settings, load_settings
from onprem_bot.storage.db import Database
from tests.statute_sample import STATUTE_MD

pytestmark = pytest.mark.integration


def test_migrations_reach_head_on_postgresql_and_match_sqlite(pg_url: str, tmp_path: Path) -> None:
    pg = Database(pg_url)
    lite = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        pg.migrate()
        lite.migrate()
        assert pg.current_revision() == lite.current_revision() is not None
        pg.migrate()  # idempotent
        pg_tables = set(inspect(pg.engine).get_table_names())
        assert pg_tables == set(inspect(lite.engine).get_table_names())
        for table in pg_tables:
            pg_cols = {c["name"] for c in inspect(pg.engine).get_columns(table)}
            assert pg_cols == {c["name"] for c in inspect(lite.engine).get_columns(table)}, table
    finally:
        pg.dispose()
        lite.dispose()


def test_ingest_search_and_faq_through_the_cli_on_postgresql(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONPREM_BOT_DATABASE_URL", pg_url)
    law = tmp_path / "시험근로법.md"
    law.write_text(STATUTE_MD, encoding="utf-8")
    main(["ingest", str(law), "--json"])
    main(["search", "연차 유급휴가", "-k", "3", "--json"])
    main(["faq", "match", "연차휴가는 며칠인가요?", "--json"])
    out = capsys.readouterr().out
    assert '"documents": 1' in out and '"doc_title": "시험근로법"' in out and '"matched": true' in out


def test_two_replicas_share_one_postgresql(pg_url: str, tmp_path: Path) -> None:
    """Two app instances (two home folders) on one database see each other's FAQ edits."""
    a = build_app(load_settings(env={}, home=tmp_path / "a", embedder={"backend": "hash"}, database_url=pg_url))
    b = build_app(load_settings(env={}, home=tmp_path / "b", embedder={"backend": "hash"}, database_url=pg_url))
    try:
        seeded = len(a.faq_store.entries())
        assert len(b.faq_store.entries()) == seeded  # seeded once, not twice
        entry = a.faq_store.add("주차 등록은 어디서 하나요?", "총무팀에서 합니다.", by="kim")
        assert entry.id in {e.id for e in b.faq_store.entries()}
    finally:
        a.db.dispose()
        b.db.dispose()


def test_settings_on_both_backends(any_backend_settings: Settings) -> None:
    app = build_app(any_backend_settings)
    try:
        assert app.db.current_revision() is not None
        assert app.faq_store.entries()
    finally:
        app.db.dispose()
