"""Phrasings learned from use: the store and its migration (SQLite and PostgreSQL), approve → the
matcher answers that wording, conflicts, deleted entries, rejects never re-proposed, the CLI."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from onprem_bot.app import App
from onprem_bot.cli import main
from onprem_bot.config import Settings
from onprem_bot.faq.phrasings import PhrasingError, PhrasingStore
from onprem_bot.storage.db import MIGRATIONS_DIR, Database

HEAD = "0007_groups_audit"


@pytest.fixture
def settings(any_backend_settings: Settings) -> Settings:
    """Every store test here runs on SQLite and on a real PostgreSQL server (tests/pg.py)."""
    return any_backend_settings


@pytest.fixture
def store(app: App) -> PhrasingStore:
    return app.faq_phrasings


def two_entries(app: App) -> tuple[int, int]:
    a = app.faq_store.add(
        "비밀번호를 잊어버렸어요", "포털 로그인 화면의 '비밀번호 찾기'를 누르세요.", alternatives=["비번 분실"]
    )
    b = app.faq_store.add(
        "회의실 예약은 어떻게 하나요?", "그룹웨어 > 자원예약에서 합니다.", alternatives=["회의실 잡는 법"]
    )
    return a.id, b.id


def test_migration_adds_the_table_and_the_suggestions_column(app: App) -> None:
    assert app.db.current_revision() == HEAD
    found = inspect(app.db.engine)
    assert "faq_phrasings" in found.get_table_names()
    columns = {c["name"] for c in found.get_columns("faq_phrasings")}
    assert {"entry_id", "text", "source", "status", "seen_count", "created_by", "created_at"} <= columns
    assert "faq_suggestions" in {c["name"] for c in found.get_columns("messages")}
    app.db.migrate()  # idempotent
    assert app.db.current_revision() == HEAD


def test_upgrade_keeps_logged_messages_and_gives_them_no_suggestions(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004_users_conversations")
        conn.execute(
            text(
                "INSERT INTO conversations VALUES ('c1', 's', '2026-11-01 10:00:00.000000', '2026-11-01 10:00:00.000000')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO messages (conversation_id, question, answer, route, citations, verdict, findings,"
                " notices, timings, created_at) VALUES ('c1', '질문', '답', 'rag', '[]', 'pass', '[]', '[]', '{}',"
                " '2026-11-01 10:00:00.000000')"
            )
        )
    db.migrate()
    from onprem_bot.storage.conversations import ConversationStore

    [message] = ConversationStore(db).messages("c1")
    assert message.answer.faq_suggestions == () and message.question == "질문"
    with db.engine.begin() as conn:  # and back down again
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004_users_conversations")
    assert "faq_phrasings" not in inspect(db.engine).get_table_names()
    db.migrate()
    assert db.current_revision() == HEAD
    db.dispose()


def test_same_wording_is_counted_not_duplicated(app: App, store: PhrasingStore) -> None:
    a, b = two_entries(app)
    first = store.record(a, "비번 까먹었는데 어떻게 해요?", "click", "chat", message_id=7)
    assert first is not None and first.status == "pending" and first.count == 1 and first.source == "click"
    again = store.record(a, " 비번  까먹었는데 어떻게 해요 ", "admin", "boss")  # spacing and '?' aside: the same
    assert again is not None and again.id == first.id and again.count == 2
    store.record(b, "비번 까먹었는데 어떻게 해요?", "admin", "boss")  # another entry: its own row
    assert [(p.entry_id, p.count) for p in store.pending()] == [(a, 2), (b, 1)]
    assert store.pending_counts() == {a: 1, b: 1}
    assert [p.text for p in store.pending(entry_id=a)] == ["비번 까먹었는데 어떻게 해요?"]
    assert store.pending(entry_id=a)[0].entry_question == "비밀번호를 잊어버렸어요"
    # nothing to learn: the entry already asks it this way
    assert store.record(a, "비번 분실!", "click", "chat") is None
    with pytest.raises(PhrasingError, match="빈 질문"):
        store.record(a, "  ?? ", "click", "chat")
    with pytest.raises(PhrasingError, match="FAQ #9999"):
        store.record(9999, "아무 질문", "admin", "boss")
    with pytest.raises(PhrasingError, match="출처"):
        store.record(a, "아무 질문", "email", "boss")


def test_concurrent_proposals_of_one_wording_make_one_row_that_counts_them_all(app: App, store: PhrasingStore) -> None:
    a, _ = two_entries(app)
    wording = "비밀번호 어디서 바꿔요"

    def propose(_: int) -> None:
        for _ in range(5):
            store.record(a, wording, "click", "chat")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(propose, range(4)))
    [row] = store.pending()
    assert row.text == wording and row.count == 20


def test_approve_makes_it_an_alternative_the_matcher_answers_at_once(app: App, store: PhrasingStore) -> None:
    a, _ = two_entries(app)
    wording = "포털 비번이 기억이 안 나요"
    assert app.faq.match(wording).id != a or not app.faq.match(wording).matched
    phrasing = store.record(a, wording, "click", "chat")
    assert phrasing is not None
    entry = store.approve(phrasing.id, "ed")
    assert entry.alternatives == ("비번 분실", wording) and entry.updated_by == "ed"
    match = app.faq.match(wording)  # the same service chat uses: rebuilt because the revision moved
    assert match.matched and match.id == a and match.reason == "exact"
    assert app.pipeline.ask(wording).route == "faq"
    change = app.faq_store.history(a)[0]
    assert change.action == "phrasing" and change.changed_by == "ed" and wording in change.new["alternatives"]
    assert store.get(phrasing.id).status == "approved" and store.get(phrasing.id).decided_by == "ed"
    assert store.pending() == []
    with pytest.raises(PhrasingError, match="이미 승인"):
        store.approve(phrasing.id, "ed")
    assert app.faq_store.get(a).alternatives == ("비번 분실", wording)  # not added twice
    with pytest.raises(PhrasingError, match="이미 승인"):
        store.reject(phrasing.id, "ed")


def test_a_wording_another_entry_already_has_is_a_conflict_and_stays_pending(app: App, store: PhrasingStore) -> None:
    a, b = two_entries(app)
    phrasing = store.record(a, "회의실 잡는 법", "admin", "boss")  # entry b's alternative, proposed for a
    assert phrasing is not None
    before = [app.faq_store.get(i) for i in (a, b)]
    with pytest.raises(PhrasingError) as refused:
        store.approve(phrasing.id, "ed")
    message = str(refused.value)
    assert f"FAQ #{b}" in message and "회의실 예약은 어떻게 하나요?" in message and "\n" not in message
    assert [app.faq_store.get(i) for i in (a, b)] == before  # nothing overwritten
    assert store.get(phrasing.id).status == "pending"


def test_a_deleted_entry_cannot_get_the_phrasing_and_nothing_is_lost(app: App, store: PhrasingStore) -> None:
    a, _ = two_entries(app)
    phrasing = store.record(a, "암호를 모르겠어요", "click", "chat")
    assert phrasing is not None
    app.faq_store.delete(a, by="boss")
    with pytest.raises(PhrasingError, match=f"FAQ #{a}이\\(가\\) 삭제되어"):
        store.approve(phrasing.id, "ed")
    [kept] = store.pending()
    assert kept.id == phrasing.id and kept.entry_question is None
    assert store.reject(phrasing.id, "ed").status == "rejected"  # it can still be cleared away
    with pytest.raises(PhrasingError, match="없습니다"):
        store.approve(12345, "ed")


def test_rejected_wording_is_kept_and_not_proposed_again(app: App, store: PhrasingStore) -> None:
    a, _ = two_entries(app)
    phrasing = store.record(a, "와이파이 비번 알려줘", "click", "chat")
    assert phrasing is not None
    assert store.reject(phrasing.id, "ed").status == "rejected"
    again = store.record(a, "와이파이 비번 알려줘", "click", "chat")
    assert again is not None and again.id == phrasing.id and again.status == "rejected" and again.count == 2
    assert store.pending() == [] and store.pending_counts() == {}
    assert [p.id for p in store.find(status="rejected")] == [phrasing.id]
    with pytest.raises(PhrasingError, match="이미 거절"):
        store.reject(phrasing.id, "ed")
    assert "와이파이 비번 알려줘" not in app.faq_store.get(a).alternatives


def run(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["--home", str(home), *args])
        raise SystemExit(0)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def test_cli_lists_approves_and_rejects(
    app: App, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = app.settings.home
    monkeypatch.setenv("ONPREM_BOT_DATABASE_URL", app.settings.db_url)  # the same database (SQLite or PostgreSQL)
    a, b = two_entries(app)
    keep = app.faq_phrasings.record(a, "비밀번호 재설정 방법", "click", "chat")
    drop = app.faq_phrasings.record(b, "오늘 점심 뭐야", "admin", "boss")
    clash = app.faq_phrasings.record(a, "회의실 잡는 법", "admin", "boss")
    assert keep and drop and clash
    code, out, _ = run(capsys, home, "faq", "phrasings", "--json")
    assert code == 0
    rows = json.loads(out)["phrasings"]
    assert {r["id"] for r in rows} == {keep.id, drop.id, clash.id}
    assert {"id", "entry_id", "text", "source", "status", "count", "created_by", "created_at"} <= set(rows[0])
    code, out, _ = run(capsys, home, "faq", "phrasings", "--entry", str(b), "--json")
    assert [r["id"] for r in json.loads(out)["phrasings"]] == [drop.id]
    code, out, _ = run(capsys, home, "faq", "phrasings")
    assert code == 0 and f"FAQ #{a}" in out and "대기 2건" in out and "비밀번호 재설정 방법" in out

    code, out, _ = run(capsys, home, "faq", "approve", str(keep.id), "--by", "kim")
    assert code == 0 and "승인했습니다" in out
    code, out, _ = run(capsys, home, "faq", "match", "비밀번호 재설정 방법", "--json")
    assert json.loads(out)["matched"] is True and json.loads(out)["id"] == a
    code, out, _ = run(capsys, home, "faq", "reject", str(drop.id), "--json")
    assert code == 0 and json.loads(out)["status"] == "rejected"

    for args, expected in (
        (("approve", str(keep.id)), "이미 승인"),
        (("approve", str(clash.id)), f"FAQ #{b}"),
        (("reject", str(drop.id)), "이미 거절"),
        (("approve", "999"), "없습니다"),
    ):
        code, out, err = run(capsys, home, "faq", *args)
        assert code != 0 and err.startswith("오류: ") and expected in err and err.count("\n") == 1, err
    assert app.faq_phrasings.get(clash.id).status == "pending"
