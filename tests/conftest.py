"""Shared fixtures: isolated settings/home per test, the real shared data when present."""

from __future__ import annotations

from pathlib import Path

import pytest

from onprem_bot.app import App, build_app
from onprem_bot.config import Settings, load_settings

pytest_plugins = ("tests.pg",)  # postgres_server, pg_url, any_backend_settings (SQLite and PostgreSQL)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's config or writes into ./var."""
    for key in list(__import__("os").environ):
        if key.startswith("ONPREM_BOT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ONPREM_BOT_HOME", str(tmp_path / "home"))
    # the fast hash-seeded fake embedder; tests of the real embedders ask for them explicitly
    monkeypatch.setenv("ONPREM_BOT_EMBEDDER__BACKEND", "hash")


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or skip the test where it is absent (a user's fresh clone)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with their own home folder (SQLite inside it)."""
    return load_settings(env={}, home=tmp_path / "home", embedder={"backend": "hash"})


@pytest.fixture
def app(settings: Settings) -> App:
    """A wired, migrated App over a fresh SQLite database."""
    built = build_app(settings)
    yield built
    built.db.dispose()


@pytest.fixture
def indexed(app: App, tmp_path: Path) -> App:
    """The App with a small statute and a regulation ingested and indexed."""
    from tests.statute_sample import REGULATION_TEXT, STATUTE_MD

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "시험근로법.md").write_text(STATUTE_MD, encoding="utf-8")
    (docs / "급여규정.txt").write_text(REGULATION_TEXT, encoding="utf-8")
    app.ingestor.run([docs])
    app.reindex()
    return app
