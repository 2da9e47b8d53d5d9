"""Conversation log: messages with route/citations/verdict, feedback, review order, dashboard, CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from onprem_bot.app import App
from onprem_bot.config import Settings, load_settings
from onprem_bot.storage.conversations import ConversationError
from onprem_bot.storage.review import review_csv
from onprem_bot.types import Answer, Check, Citation

HEAD_REVISION = "0007_groups_audit"

CITE = Citation(1, "근로기준법", "제60조", "제60조 제1항", None, "c1", "15일의 유급휴가를 주어야 한다.")


@pytest.fixture
def settings(any_backend_settings: Settings) -> Settings:
    """Every test here runs on SQLite and on a real PostgreSQL server (tests/pg.py)."""
    return any_backend_settings


def answer(route: str = "rag", verdict: str = "pass", text: str = "15일입니다 [1]") -> Answer:
    findings = ({"kind": "number", "value": 15, "supported": verdict == "pass"},)
    return Answer(text, route, (CITE,), Check(verdict, findings), {"total_ms": 5.0}, ("알림",))


def test_messages_round_trip_with_citations_and_verdict(app: App) -> None:
    conv = app.conversations.start("browser-1")
    stored = app.conversations.record(conv, "연차는?", answer(verdict="flagged"))
    [again] = app.conversations.messages(conv)
    assert again.id == stored.id
    assert again.answer.citations == (CITE,)
    assert again.answer.check.verdict == "flagged"
    assert again.answer.check.findings[0]["value"] == 15
    assert again.answer.notices == ("알림",)
    assert app.conversations.conversations("browser-1")[0][2] == 1
    with pytest.raises(ConversationError):
        app.conversations.record("missing", "q", answer())


def test_feedback_replaces_and_review_puts_negative_first(app: App) -> None:
    conv = app.conversations.start("b")
    first = app.conversations.record(conv, "첫 질문", answer())
    second = app.conversations.record(conv, "둘째 질문", answer("faq"))
    third = app.conversations.record(conv, "셋째 질문", answer())
    app.conversations.feedback(first.id, 1, "좋아요")
    app.conversations.feedback(first.id, -1, "틀렸어요")  # replaced, not added
    app.conversations.feedback(third.id, 1)
    order = [m.question for m in app.conversations.review()]
    assert order == ["첫 질문", "둘째 질문", "셋째 질문"]  # 👎 first, then newest
    assert app.conversations.message(first.id).comment == "틀렸어요"
    with pytest.raises(ConversationError):
        app.conversations.feedback(second.id, 0)
    with pytest.raises(ConversationError):
        app.conversations.feedback(9999, 1)


def test_review_date_filter_and_dashboard(app: App) -> None:
    conv = app.conversations.start("b")
    app.conversations.record(conv, "a", answer("faq"))
    app.conversations.record(conv, "b", answer("rag", "flagged"))
    app.conversations.record(conv, "c", answer("refused"))
    today = date.today()
    assert len(app.conversations.review(today, today)) == 3
    assert app.conversations.review(today - timedelta(days=9), today - timedelta(days=1)) == []
    d = app.conversations.dashboard(today, today)
    assert d.questions == 3 and d.faq_hits == 1 and d.flagged == 1 and d.refused == 1
    assert d.per_day == ((today, 3),)
    assert d.faq_hit_rate == pytest.approx(1 / 3)


def test_review_csv_is_excel_ready_and_formula_safe(app: App) -> None:
    conv = app.conversations.start("b")
    app.conversations.record(conv, '=HYPERLINK("http://x")', answer())
    data = review_csv(app.conversations.review())
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["시각", "질문", "답변", "경로", "검증"]
    assert rows[1][1].startswith("'=")
    assert rows[1][3] == "문서 기반"


def test_logs_are_masked_by_default_and_not_when_switched_off(app: App, tmp_path) -> None:
    conv = app.conversations.start("b")
    m = app.conversations.record(conv, "900101-1234567 제 주민번호", answer(text="메일 a@b.com [1]"))
    app.conversations.feedback(m.id, -1, "010-2222-3333 으로 연락 주세요")
    stored = app.conversations.message(m.id)
    assert "900101" not in stored.question and "a@b.com" not in stored.answer.answer
    assert "010-2222-3333" not in stored.comment
    from onprem_bot.app import build_app

    plain = build_app(
        load_settings(env={}, home=tmp_path / "plain", embedder={"backend": "hash"}, privacy={"mask_logs": False})
    )
    conv = plain.conversations.start("b")
    assert plain.conversations.record(conv, "010-2222-3333", answer()).question == "010-2222-3333"
    plain.db.dispose()


def test_the_searched_question_of_a_follow_up_is_stored_masked_and_read_back(app: App) -> None:
    conv = app.conversations.start("b")
    first = app.conversations.record(conv, "시내 출장비는 하루에 얼마예요?", answer())
    rewritten = Answer("2만 원입니다 [1]", "rag", (CITE,), standalone_question="차량 지원 시 시내 출장비 010-1234-5678")
    second = app.conversations.record(conv, "차 지원받으면요?", rewritten)
    assert first.answer.standalone_question is None
    assert second.answer.standalone_question is not None and "010-1234-5678" not in second.answer.standalone_question
    again = app.conversations.messages(conv)
    assert [m.answer.standalone_question for m in again] == [None, second.answer.standalone_question]
    assert again[1].answer.standalone_question.startswith("차량 지원 시 시내 출장비")
    # the chat passes it on as the history of the next question
    turns = app.chat.turns(conv)
    assert [t.standalone_question for t in turns] == [None, second.answer.standalone_question]
    assert turns[1].question == "차 지원받으면요?" and turns[1].citations == (CITE,)


def test_a_sessions_conversations_are_listed_with_their_first_question(app: App) -> None:
    older = app.conversations.start("browser-1")
    app.conversations.record(older, "연차는 며칠인가요?", answer())
    app.conversations.record(older, "그럼 반차는요?", answer())
    newer = app.conversations.start("browser-1")
    app.conversations.record(newer, "출장비 010-9999-8888 정산은?", answer())
    empty = app.conversations.start("browser-1")
    app.conversations.start("someone-else")
    listed = app.conversations.conversations("browser-1")
    assert [(c.id, c.messages) for c in listed] == [(empty, 0), (newer, 1), (older, 2)]
    assert [c.title for c in listed] == ["", "출장비 ***-****-**** 정산은?", "연차는 며칠인가요?"]
    app.conversations.record(older, "병가는요?", answer())  # asking again moves it up
    assert [c.id for c in app.conversations.conversations("browser-1")][:2] == [older, empty]
    assert app.conversations.conversations("nobody") == []


def test_migration_0006_keeps_logged_messages_and_goes_back_down(tmp_path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect, text

    from onprem_bot.storage.conversations import ConversationStore
    from onprem_bot.storage.db import MIGRATIONS_DIR, Database

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005_faq_phrasings")
        conn.execute(text("INSERT INTO conversations VALUES ('c1', 's', '2026-11-01 10:00:00', '2026-11-01 10:00:00')"))
        conn.execute(
            text(
                "INSERT INTO messages (conversation_id, question, answer, route, citations, verdict, findings,"
                " notices, timings, created_at) VALUES ('c1', '질문', '답', 'rag', '[]', 'pass', '[]', '[]', '{}',"
                " '2026-11-01 10:00:00')"
            )
        )
    db.migrate()
    assert db.current_revision() == HEAD_REVISION
    store = ConversationStore(db)
    [message] = store.messages("c1")
    assert message.question == "질문" and message.answer.standalone_question is None
    assert [(c.id, c.title, c.messages) for c in store.conversations("s")] == [("c1", "질문", 1)]
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005_faq_phrasings")
    assert "standalone_question" not in {c["name"] for c in inspect(db.engine).get_columns("messages")}
    db.migrate()
    assert db.current_revision() == HEAD_REVISION
    db.dispose()
