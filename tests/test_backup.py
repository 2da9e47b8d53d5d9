"""`backup DIR` / `restore DIR`, structured logs with rotation."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest

from onprem_bot.app import App, build_app
from onprem_bot.cli import main
from onprem_bot.config import Settings, load_settings
from onprem_bot.ops.backup import BackupError, backup, restore
from onprem_bot.ops.logs import reset_logging, setup_logging
from tests.statute_sample import STATUTE_MD


@pytest.fixture
def settings(any_backend_settings: Settings) -> Settings:
    """Backups are tested on SQLite and on PostgreSQL."""
    return any_backend_settings


def test_backup_then_restore_round_trips_database_index_and_config(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    monkeypatch.setenv("ONPREM_BOT_DATABASE_URL", settings.database_url)
    home = settings.home
    law = tmp_path / "시험근로법.md"
    law.write_text(STATUTE_MD, encoding="utf-8")
    config = tmp_path / "onprem-bot.toml"
    config.write_text("[retrieval]\nk = 4\n", encoding="utf-8")
    (home).mkdir(parents=True, exist_ok=True)
    (home / "synonyms.tsv").write_text("월차\t연차\n", encoding="utf-8")
    main(["--config", str(config), "--home", str(home), "ingest", str(law), "--json"])
    main(["--config", str(config), "--home", str(home), "faq", "match", "연차휴가는 며칠인가요?", "--json"])
    main(["--config", str(config), "--home", str(home), "search", "연차 유급휴가", "--json"])
    capsys.readouterr()
    main(["--config", str(config), "--home", str(home), "search", "연차 유급휴가", "--json"])
    search_before = capsys.readouterr().out

    target = tmp_path / "backups" / "b1"
    main(["--config", str(config), "--home", str(home), "backup", str(target), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["tables"]["documents"] == 1 and report["tables"]["chunks"] > 3
    assert report["tables"]["faq_entries"] >= 10 and report["index_generation"]
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert "config/onprem-bot.toml" in manifest["files"] and "config/synonyms.tsv" in manifest["files"]
    if settings.db_url.startswith("sqlite"):
        assert (target / "database.sqlite").is_file()

    # lose everything, then restore into a fresh database and an empty home
    fresh_home = tmp_path / "restored"
    if settings.db_url.startswith("sqlite"):
        fresh_url = f"sqlite:///{fresh_home / 'onprem-bot.db'}"
    else:
        fresh_url = request.getfixturevalue("postgres_server").create_database(f"restored_{id(target)}")
    app = build_app(load_settings(env={}, home=fresh_home, embedder={"backend": "hash"}, database_url=fresh_url))
    app.faq_store.add("지워질 질문?", "복원하면 사라집니다.", by="x")  # restore replaces the rows
    app.db.dispose()
    monkeypatch.setenv("ONPREM_BOT_DATABASE_URL", fresh_url)
    restored_config = tmp_path / "restored.toml"
    main(["--home", str(fresh_home), "restore", str(target), "--yes", "--json", "--with-config", str(restored_config)])
    restored = json.loads(capsys.readouterr().out)
    assert restored["tables"] == report["tables"]
    assert restored_config.read_text(encoding="utf-8") == config.read_text(encoding="utf-8")
    assert (fresh_home / "synonyms.tsv").read_text(encoding="utf-8") == "월차\t연차\n"
    main(["--config", str(config), "--home", str(fresh_home), "search", "연차 유급휴가", "--json"])
    assert capsys.readouterr().out == search_before
    main(["--home", str(fresh_home), "faq", "match", "연차휴가는 며칠인가요?", "--json"])
    assert json.loads(capsys.readouterr().out)["matched"] is True
    # ids keep counting after a restore (PostgreSQL sequences are reset past the restored rows)
    app = build_app(load_settings(env={}, home=fresh_home, embedder={"backend": "hash"}, database_url=fresh_url))
    try:
        new = app.faq_store.add("새 질문입니다?", "새 답입니다.", by="kim")
        assert new.id > max(e.id for e in app.faq_store.entries() if e.id != new.id)
        assert "지워질 질문?" not in {e.question for e in app.faq_store.entries()}
    finally:
        app.db.dispose()


def test_backup_is_consistent_while_the_app_writes(app: App, tmp_path: Path) -> None:
    """FAQ edits keep going during the backup; the backup holds a state that existed (a prefix)."""
    stop = threading.Event()
    added: list[int] = []

    def writer() -> None:
        i = 0
        while not stop.is_set():
            added.append(app.faq_store.add(f"동시 질문 {i}?", f"답 {i}", by="w").id)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        reports = [backup(app.settings, tmp_path / f"b{n}") for n in range(3)]
    finally:
        stop.set()
        thread.join()
    assert added, "the writer never ran"
    for report in reports:
        rows = [
            json.loads(line)
            for line in (report.path / "db" / "faq_entries.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        questions = {r["question"] for r in rows if r["question"].startswith("동시 질문")}
        numbers = sorted(int(q.split()[2].rstrip("?")) for q in questions)
        assert numbers == list(range(len(numbers)))  # no gaps: a snapshot, not a torn read
        history = (report.path / "db" / "faq_history.jsonl").read_text(encoding="utf-8")
        assert history.count('"동시 질문') >= len(numbers)


def test_backup_refuses_a_non_empty_folder_and_restore_a_tampered_backup(app: App, tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        backup(app.settings, busy)
    good = backup(app.settings, tmp_path / "good").path
    (good / "db" / "faq_entries.jsonl").write_text("{}\n", encoding="utf-8")
    with pytest.raises(BackupError, match=r"faq_entries\.jsonl"):
        restore(app.settings, good)
    assert app.faq_store.entries()  # nothing changed
    assert not list(tmp_path.glob(".*partial*"))


def test_structured_logs_rotate(tmp_path: Path) -> None:
    reset_logging()
    settings = load_settings(env={}, home=tmp_path / "home", log={"max_mb": 0.001, "backups": 2})
    try:
        path = setup_logging(settings)
        assert path == tmp_path / "home" / "logs" / "onprem-bot.log"
        logger = logging.getLogger("onprem_bot.test")
        for i in range(200):
            logger.info("질문 처리", extra={"event": "ask", "n": i, "route": "rag"})
        files = sorted(p.name for p in path.parent.iterdir())
        assert files == ["onprem-bot.log", "onprem-bot.log.1", "onprem-bot.log.2"]
        lines = path.read_text(encoding="utf-8").splitlines()
        record = json.loads(lines[-1])
        assert record["msg"] == "질문 처리" and record["n"] == 199 and record["route"] == "rag"
        assert {"ts", "level", "logger", "pid"} <= set(record)
        assert all(p.stat().st_size < 2048 for p in path.parent.iterdir())
    finally:
        reset_logging()


def test_cli_commands_are_logged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reset_logging()
    try:
        main(["--home", str(tmp_path / "home"), "documents", "--json"])
        events = [
            json.loads(line)
            for line in (tmp_path / "home" / "logs" / "onprem-bot.log").read_text(encoding="utf-8").splitlines()
        ]
        assert [e["event"] for e in events] == ["command_start", "command_end"]
        assert events[0]["command"] == "documents" and events[1]["seconds"] >= 0
    finally:
        reset_logging()
