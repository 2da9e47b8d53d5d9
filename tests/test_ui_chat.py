"""The chat page under AppTest: streamed answer, badges, citations, feedback, history, safe text."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from onprem_bot.cli import main
from tests.statute_sample import STATUTE_MD
from tests.ui_helpers import fresh_app_test, plain, services

QUESTION = "근로자의 정의는 무엇인가요?"


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small ingested statute and the scripted LLM (quotes its first source, cites [1])."""
    monkeypatch.setenv("ONPREM_BOT_LLM__BACKEND", "scripted")
    law = tmp_path / "시험근로법.md"
    law.write_text(STATUTE_MD, encoding="utf-8")
    main(["ingest", str(law), "--json"])
    return law


def ask(at: AppTest, question: str) -> AppTest:
    return at.chat_input(key="question").set_value(question).run()


def markdown_values(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def test_answer_shows_route_verdict_and_highlighted_citation(corpus: Path) -> None:
    at = fresh_app_test().run()
    assert not at.exception
    ask(at, QUESTION)
    assert not at.exception
    values = markdown_values(at)
    assert any("문서 기반" in v and "badge" in v for v in values)
    assert any("검증 통과" in v or "검증할 수치 없음" in v for v in values)
    labels = [e.label for e in at.expander]
    assert any("시험근로법" in label and "제2조" in label for label in labels)
    # the citation expands to the whole article with the supporting sentence highlighted
    assert any(":orange-background[" in v and "임금을 목적으로" in v for v in values)
    [stored] = services().conversations.review()
    assert stored.question == QUESTION
    assert stored.answer.route == "rag"
    assert stored.answer.citations[0].doc_title == "시험근로법"


def test_history_survives_reruns_and_new_conversation_clears_it(corpus: Path) -> None:
    at = fresh_app_test().run()
    ask(at, QUESTION)
    at.run()  # a plain rerun: the exchange is drawn again from the database
    assert len(at.chat_message) == 2
    at.sidebar.button(key="new_conversation").click().run()
    assert len(at.chat_message) == 0
    app = services()
    assert len(app.conversations.review()) == 1  # the log is kept


def test_feedback_is_stored_with_the_answer(corpus: Path) -> None:
    at = fresh_app_test().run()
    ask(at, QUESTION)
    [stored] = services().conversations.review()
    at.text_input(key=f"fb_{stored.id}_comment").input("조문 번호가 더 필요해요")
    at.button(key=f"fb_{stored.id}_down").click().run()
    assert not at.exception
    assert any("저장" in plain(s.value) for s in at.success)
    [rated] = services().conversations.review()
    assert rated.rating == -1
    assert rated.comment == "조문 번호가 더 필요해요"
    assert rated.answer.route == "rag" and rated.answer.citations


def test_faq_question_gets_the_faq_badge(corpus: Path) -> None:
    at = fresh_app_test().run()
    ask(at, "연차휴가는 며칠인가요?")
    assert not at.exception
    assert any(":blue-badge[FAQ]" in v for v in markdown_values(at))


def test_html_and_script_in_a_question_are_shown_as_text(corpus: Path) -> None:
    at = fresh_app_test().run()
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)> [링크](http://evil.example) 근로자'
    ask(at, attack)
    assert not at.exception
    for m in at.markdown:
        assert not m.proto.allow_html
    shown = [v for v in markdown_values(at) if "script" in v]
    assert shown and all("\\<script\\>" in v and "<script>" not in v for v in shown)
    assert not any("](http" in v for v in markdown_values(at))


def test_personal_data_is_masked_in_the_log(corpus: Path) -> None:
    at = fresh_app_test().run()
    ask(at, "제 번호 010-1234-5678, 메일 hong@corp.kr 인데 근로자 정의가 뭔가요?")
    [stored] = services().conversations.review()
    assert "010-1234-5678" not in stored.question and "hong@corp.kr" not in stored.question
    assert "***-****-****" in stored.question


def test_a_refusal_labels_its_documents_as_the_closest_not_as_sources(corpus: Path) -> None:
    at = fresh_app_test().run()
    ask(at, "xyzzy qwerty 쀍쀍")
    assert not at.exception
    values = markdown_values(at)
    assert any("답변 불가" in v for v in values)
    assert any("가장 가까운 문서" in c.value for c in at.caption)


def conversation_buttons(at: AppTest) -> list:
    return [b for b in at.sidebar.button if str(b.key).startswith("conv_")]


def test_a_follow_up_is_answered_in_context_and_says_what_was_searched(corpus: Path) -> None:
    at = fresh_app_test().run()
    ask(at, "연차 유급휴가는 며칠이에요?")
    assert not at.exception
    assert not any(c.value.startswith("검색한 질문:") for c in at.caption)  # asked as is
    ask(at, "1년 미만이면요?")
    assert not at.exception
    searched = [plain(c.value) for c in at.caption if c.value.startswith("검색한 질문:")]
    assert len(searched) == 1 and "연차" in searched[0] and "1년 미만" in searched[0]
    first, second = services().conversations.messages(services().conversations.review()[0].conversation_id)
    assert first.answer.standalone_question is None
    assert second.answer.standalone_question is not None and plain(searched[0]).endswith(
        second.answer.standalone_question
    )
    assert any("제60조" in e.label for e in at.expander)  # the follow-up still cites the annual-leave article
    at.run()  # redrawn from the database: the caption is still there
    assert sum(c.value.startswith("검색한 질문:") for c in at.caption) == 1


def test_the_sidebar_lists_conversations_to_reopen_and_new_conversation_starts_clean(corpus: Path) -> None:
    at = fresh_app_test().run()
    assert conversation_buttons(at) == []  # nothing asked yet: nothing listed, nothing stored
    assert services().conversations.conversations(at.session_state["session_key"]) == []
    ask(at, "연차 유급휴가는 며칠이에요?")
    ask(at, "1년 미만이면요?")
    [listed] = conversation_buttons(at)
    assert plain(listed.label) == "연차 유급휴가는 며칠이에요? · 2" and listed.proto.type == "secondary"
    at.sidebar.button(key="new_conversation").click().run()
    assert len(at.chat_message) == 0
    ask(at, QUESTION)  # a new conversation: no history, so nothing is rewritten
    assert not any(c.value.startswith("검색한 질문:") for c in at.caption)
    assert len(at.chat_message) == 2
    newer, older = conversation_buttons(at)
    assert plain(newer.label).startswith("근로자의 정의는") and plain(older.label).endswith("· 2")
    assert (newer.proto.type, older.proto.type) == ("secondary", "tertiary")  # the open one stands out
    older.click().run()
    assert not at.exception
    assert len(at.chat_message) == 4
    texts = [plain(m.value) for m in at.markdown]
    assert "연차 유급휴가는 며칠이에요?" in texts and "1년 미만이면요?" in texts and QUESTION not in texts
    assert sum(c.value.startswith("검색한 질문:") for c in at.caption) == 1
    # asking in the reopened conversation continues it
    ask(at, "그럼 2년이면요?")
    assert len(at.chat_message) == 6
    assert [plain(b.label)[-3:] for b in conversation_buttons(at)] == ["· 3", "· 1"]


def test_icons_are_material_symbols_not_emoji(corpus: Path) -> None:
    import re

    emoji = re.compile("[\u2600-\u27bf\ufe0f\U0001f000-\U0001ffff]")
    at = fresh_app_test().run()
    ask(at, QUESTION)
    assert at.sidebar.button(key="new_conversation").proto.icon == ":material/add:"
    [stored] = services().conversations.review()
    assert at.button(key=f"fb_{stored.id}_up").proto.icon == ":material/thumb_up:"
    assert at.button(key=f"fb_{stored.id}_down").proto.icon == ":material/thumb_down:"
    labels = [b.label for b in at.button] + list(at.sidebar.radio(key="nav").options)
    texts = labels + [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert not [t for t in texts if emoji.search(t)]
    ui = Path(__file__).resolve().parents[1] / "ui"
    for source in ui.glob("*.py"):
        assert not emoji.search(source.read_text(encoding="utf-8")), source.name


def test_an_empty_follow_up_gets_a_clear_answer_not_a_traceback(corpus: Path) -> None:
    at = fresh_app_test().run()
    ask(at, "그럼?")  # nothing to follow up on: one clear line, nothing logged
    assert not at.exception
    assert [plain(e.value) for e in at.error] == ["검색할 단어가 없습니다 (no searchable words in the question)"]
    ask(at, "연차 유급휴가는 며칠이에요?")
    ask(at, "그럼?")  # now it carries the previous topic
    assert not at.exception and not at.error
    assert len(at.chat_message) == 4
    [searched] = [plain(c.value) for c in at.caption if c.value.startswith("검색한 질문:")]
    assert "연차" in searched  # the wording is the contextualiser's
    ask(at, "<img src=x onerror=alert(1)> 그럼 **그건요**?")  # shown and searched as text
    assert not at.exception
    assert all("<img" not in c.value and "**" not in c.value for c in at.caption)
