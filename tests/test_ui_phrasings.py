"""The web UI's half of the two tiers: "이 질문을 찾으셨나요?" buttons under an answer (a click shows
the FAQ answer and records the phrasing), the FAQ editor's pending phrasings (approve → an
alternative the chat matcher answers), and the review page's 같은 질문 link."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from onprem_bot.access import OPERATOR, Viewer
from onprem_bot.cli import main
from onprem_bot.faq.matcher import FaqMatch, FaqSuggestion
from onprem_bot.faq.service import FaqService
from tests.statute_sample import STATUTE_MD
from tests.test_ui_admin import PASSWORD, users  # noqa: F401  (the fixture: an admin and an editor)
from tests.ui_helpers import fresh_app_test, log_in, plain, services

QUESTION = "근로자의 정의는 무엇인가요?"


def suggest_for_misses(monkeypatch: pytest.MonkeyPatch, n: int = 2) -> None:
    """Every FAQ miss comes with the first ``n`` enabled entries the reader may see as suggestions (the
    plumbing is tested, not the matcher's own suggestion rule); the chat always names its reader."""
    original = FaqService.match

    def match(self: FaqService, question: str, viewer: Viewer = OPERATOR) -> FaqMatch:
        found = original(self, question, viewer)
        if found.matched:
            return found
        visible = [e for e in self.store.enabled() if viewer.may_read(e.groups)]
        offered = tuple(FaqSuggestion(e.id, e.question, 0.5 - i / 10) for i, e in enumerate(visible[:n]))
        return replace(found, suggestions=offered)

    monkeypatch.setattr(FaqService, "match", match)


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small ingested statute, the scripted LLM, and two suggestions on every FAQ miss."""
    monkeypatch.setenv("ONPREM_BOT_LLM__BACKEND", "scripted")
    law = tmp_path / "시험근로법.md"
    law.write_text(STATUTE_MD, encoding="utf-8")
    main(["ingest", str(law), "--json"])
    suggest_for_misses(monkeypatch)
    return law


def suggestion_buttons(at: AppTest, message_id: int) -> list:
    return [b for b in at.button if str(b.key or "").startswith(f"faq_suggest_{message_id}_")]


def test_suggestion_click_shows_the_faq_answer_and_records_the_phrasing(corpus: Path) -> None:
    at = fresh_app_test().run()
    at.chat_input(key="question").set_value(QUESTION).run()
    assert not at.exception
    app = services()
    [asked] = app.conversations.review()
    assert asked.answer.route != "faq" and len(asked.answer.faq_suggestions) == 2
    assert any("이 질문을 찾으셨나요?" in plain(m.value) for m in at.markdown)
    buttons = suggestion_buttons(at, asked.id)
    assert len(buttons) == 2
    target = app.faq_store.get(int(asked.answer.faq_suggestions[1].id))
    assert plain(buttons[1].label) == f"FAQ #{target.id} · {target.question}"

    at.button(key=f"faq_suggest_{asked.id}_{target.id}").click().run()
    assert not at.exception
    values = [plain(m.value) for m in at.markdown]
    assert target.answer in values  # the approved answer, verbatim, in the conversation
    assert any(":blue-badge[FAQ]" in m.value for m in at.markdown)
    assert any(plain(e.label) == f"[1] FAQ #{target.id}" for e in at.expander)
    assert len(at.chat_message) == 4  # the question, its answer, the chosen FAQ entry, its answer
    assert all(b.disabled for b in suggestion_buttons(at, asked.id))  # one pick per answer
    [pending] = app.faq_phrasings.pending()
    assert (pending.entry_id, pending.text, pending.source) == (target.id, QUESTION, "click")
    logged = app.conversations.review()
    assert {m.answer.route for m in logged} >= {"faq"} and len(logged) == 2
    at.run()  # redrawn from the database: still there
    assert target.answer in [plain(m.value) for m in at.markdown]


def test_no_buttons_under_an_faq_answer(corpus: Path) -> None:
    at = fresh_app_test().run()
    at.chat_input(key="question").set_value("연차휴가는 며칠인가요?").run()
    [stored] = services().conversations.review()
    assert stored.answer.route == "faq"
    assert not suggestion_buttons(at, stored.id)
    assert not any("이 질문을 찾으셨나요?" in plain(m.value) for m in at.markdown)


def test_editor_approves_a_pending_phrasing_and_chat_matches_it(users: None) -> None:  # noqa: F811
    app = services()
    entry = app.faq_store.entries()[0]
    wording = "이 봇 정체가 뭐죠"
    for _ in range(2):
        app.faq_phrasings.record(entry.id, wording, "click", "chat")
    other = app.faq_phrasings.record(entry.id, "오늘 날씨 어때", "admin", "boss")
    assert other is not None
    at = log_in(fresh_app_test().run(), "ed", PASSWORD)
    assert not at.exception
    table = at.data_editor(key="faq_editor_0").value
    assert int(table.loc[table["id"] == entry.id, "대기 후보"].iloc[0]) == 2
    assert any(f"FAQ #{entry.id}" in plain(e.label) and "대기 2건" in plain(e.label) for e in at.expander)
    shown = [plain(m.value) for m in at.markdown]
    assert any(wording in v and "2회" in v for v in shown)
    [pending] = [p for p in app.faq_phrasings.pending() if p.text == wording]

    at.button(key=f"phrasing_approve_{pending.id}").click().run()
    assert not at.exception
    assert any("승인했습니다" in plain(s.value) for s in at.success)
    assert wording in app.faq_store.get(entry.id).alternatives
    match = app.faq.match(wording)
    assert match.matched and match.id == entry.id
    table = at.data_editor(key="faq_editor_1").value  # reloaded: the new alternative is in the table
    assert wording in str(table.loc[table["id"] == entry.id, "유사질문"].iloc[0])
    assert "유사질문 승인" in set(at.dataframe[-1].value["동작"])

    at.button(key=f"phrasing_reject_{other.id}").click().run()
    assert any("거절했습니다" in plain(s.value) for s in at.success)
    assert app.faq_phrasings.pending() == []
    assert any("승인을 기다리는 후보가 없습니다" in plain(c.value) for c in at.caption)


def test_a_conflicting_phrasing_is_refused_with_the_other_entry_named(users: None) -> None:  # noqa: F811
    app = services()
    first, second = app.faq_store.entries()[:2]
    clash = app.faq_phrasings.record(first.id, second.question, "admin", "boss")
    assert clash is not None
    at = log_in(fresh_app_test().run(), "ed", PASSWORD)
    at.button(key=f"phrasing_approve_{clash.id}").click().run()
    assert not at.exception
    errors = [plain(e.value) for e in at.error]
    assert any(f"FAQ #{second.id}" in e for e in errors), errors
    assert app.faq_phrasings.get(clash.id).status == "pending"
    assert app.faq_store.get(first.id).alternatives == first.alternatives


def test_review_page_links_a_logged_question_to_an_faq_entry(corpus: Path, users: None) -> None:  # noqa: F811
    chat = fresh_app_test().run()
    chat.chat_input(key="question").set_value(QUESTION).run()
    app = services()
    [logged] = app.conversations.review()
    entry = app.faq_store.entries()[3]
    at = log_in(fresh_app_test().run(), "boss", PASSWORD)
    at.sidebar.radio(key="admin_section").set_value("검토").run()
    assert not at.exception
    at.selectbox(key="link_message").set_value(logged.id)
    at.selectbox(key="link_entry").set_value(entry.id)
    at.button(key="link_same").click().run()
    assert not at.exception
    assert any(f"FAQ #{entry.id}의 유사질문 후보" in plain(s.value) for s in at.success)
    [pending] = app.faq_phrasings.pending()
    assert (pending.entry_id, pending.text, pending.source, pending.created_by) == (entry.id, QUESTION, "admin", "boss")
