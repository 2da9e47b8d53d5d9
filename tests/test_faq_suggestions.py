"""관련 FAQ suggestions: carried by the pipeline's answer, by `ask --json` and by the chat log; a
picked suggestion gives the entry's approved answer and records the question as a phrasing."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from onprem_bot.access import OPERATOR, Viewer
from onprem_bot.app import App
from onprem_bot.checker import Checker
from onprem_bot.cli import main
from onprem_bot.config import AnswerSettings, Settings, load_settings
from onprem_bot.faq.matcher import FaqMatch, FaqSuggestion
from onprem_bot.faq.service import FaqService
from onprem_bot.llm.fake import ScriptedLLM
from onprem_bot.pipeline import Pipeline
from onprem_bot.storage.conversations import ConversationError
from tests.statute_sample import STATUTE_MD

LEAVE = "연차휴가는 며칠 받을 수 있나요?"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """conftest's settings with the scripted model (no GGUF is loaded here)."""
    return load_settings(env={}, home=tmp_path / "home", embedder={"backend": "hash"}, llm={"backend": "scripted"})


def suggest_for_misses(monkeypatch: pytest.MonkeyPatch, n: int = 2) -> None:
    """Every FAQ miss comes with the first ``n`` enabled entries as suggestions (whatever the
    matcher's own suggestion rule is): the plumbing is tested, not the decision."""
    original = FaqService.match

    def match(self: FaqService, question: str, viewer: Viewer = OPERATOR) -> FaqMatch:
        found = original(self, question, viewer)
        if found.matched:
            return found
        offered = tuple(FaqSuggestion(e.id, e.question, 0.5 - i / 10) for i, e in enumerate(self.store.enabled()[:n]))
        return replace(found, suggestions=offered)

    monkeypatch.setattr(FaqService, "match", match)


class FakeFaq:
    """A matcher that never answers but offers two entries."""

    def __init__(self, matched: bool = False) -> None:
        self.matched = matched

    def match(self, question: str, viewer: Viewer = OPERATOR) -> FaqMatch:
        if self.matched:
            return FaqMatch(True, 3, "연차는?", "15일입니다.", 1.0, reason="exact")
        offered = (FaqSuggestion(4, "연차휴가는 며칠인가요?", 0.61), FaqSuggestion(9, "연차 수당은?", 0.42))
        return FaqMatch(False, None, None, None, 0.61, reason="below threshold", suggestions=offered)


def test_pipeline_answer_carries_the_suggestions(indexed: App) -> None:
    llm = ScriptedLLM()  # quotes its first source, cited [1]
    pipeline = Pipeline(
        FakeFaq(), indexed.retriever, indexed.analyzer, llm, Checker(indexed.analyzer), AnswerSettings()
    )
    answer = pipeline.ask(LEAVE)
    assert answer.route != "faq"
    assert [(s.id, s.question) for s in answer.faq_suggestions] == [(4, "연차휴가는 며칠인가요?"), (9, "연차 수당은?")]
    assert answer.as_json()["faq_suggestions"] == [
        {"id": 4, "question": "연차휴가는 며칠인가요?", "score": 0.61},
        {"id": 9, "question": "연차 수당은?", "score": 0.42},
    ]
    other = pipeline.ask("화성 탐사선 발사 일정은 언제인가요?")  # whatever the documents say: still offered
    assert len(other.faq_suggestions) == 2
    direct = Pipeline(FakeFaq(matched=True), indexed.retriever, indexed.analyzer).ask(LEAVE)
    assert direct.route == "faq" and direct.faq_suggestions == () and direct.as_json()["faq_suggestions"] == []


@pytest.fixture
def law(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ONPREM_BOT_LLM__BACKEND", "scripted")
    path = tmp_path / "시험근로법.md"
    path.write_text(STATUTE_MD, encoding="utf-8")
    return path


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
        raise SystemExit(0)
    captured = capsys.readouterr()
    assert exit_info.value.code in (0, None), captured.err
    return json.loads(captured.out.strip().splitlines()[-1])


def test_ask_json_has_faq_suggestions(
    law: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_json(capsys, "ingest", str(law), "--json")
    plain = cli_json(capsys, "ask", "근로자의 정의는 무엇인가요?", "--json")
    assert plain["faq_suggestions"] == [] or all(
        {"id", "question", "score"} == set(s) for s in plain["faq_suggestions"]
    )
    suggest_for_misses(monkeypatch)
    miss = cli_json(capsys, "ask", "근로자의 정의는 무엇인가요?", "--json")
    assert miss["route"] != "faq"
    assert len(miss["faq_suggestions"]) == 2
    assert all(set(s) == {"id", "question", "score"} and isinstance(s["id"], int) for s in miss["faq_suggestions"])
    hit = cli_json(capsys, "ask", "연차휴가는 며칠인가요?", "--json")
    assert hit["route"] == "faq" and hit["faq_suggestions"] == []


def test_an_empty_faq_offers_nothing_and_does_not_crash(
    app: App, law: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for entry in app.faq_store.entries():
        app.faq_store.delete(entry.id, by="boss")
    suggest_for_misses(monkeypatch)
    cli_json(capsys, "ingest", str(law), "--json")
    answer = cli_json(capsys, "ask", "근로자의 정의는 무엇인가요?", "--json")
    assert answer["faq_suggestions"] == [] and answer["route"] != "faq"
    assert cli_json(capsys, "faq", "phrasings", "--json") == {"phrasings": []}


def test_choosing_a_suggestion_logs_the_faq_answer_and_records_the_phrasing(
    indexed: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = indexed
    suggest_for_misses(monkeypatch)
    app.faq_store.add("사원증을 잃어버렸어요", "보안팀에 재발급을 신청하세요.")
    entries = app.faq_store.enabled()
    chat = app.chat
    conv = chat.start("session-1")
    question = "출입 카드 분실하면 어디로 가요?"
    asked = chat.ask(conv, question)
    offered = asked.answer.faq_suggestions
    assert [s.id for s in offered] == [e.id for e in entries[:2]]
    assert chat.history(conv)[0].answer.faq_suggestions == offered  # logged with the answer
    target = entries[1]
    shown = chat.choose_suggestion(conv, asked.id, target.id)
    assert shown.answer.route == "faq" and shown.answer.answer == target.answer  # verbatim
    assert shown.answer.citations[0].location == f"#{target.id}" and shown.question == target.question
    assert [m.id for m in chat.history(conv)] == [asked.id, shown.id]
    [pending] = app.faq_phrasings.pending()
    assert (pending.entry_id, pending.text, pending.source, pending.count) == (target.id, question, "click", 1)
    with pytest.raises(ConversationError, match="제안된 항목이 아닙니다"):
        chat.choose_suggestion(conv, asked.id, 424242)
    with pytest.raises(ConversationError, match="이 대화"):
        chat.choose_suggestion(chat.start("session-2"), asked.id, target.id)
    app.faq_store.delete(entries[0].id, by="boss")
    with pytest.raises(ConversationError, match="삭제"):
        chat.choose_suggestion(conv, asked.id, entries[0].id)
    assert len(chat.history(conv)) == 2  # nothing logged for the refused clicks


def test_the_learned_phrasing_is_the_masked_question(indexed: App, monkeypatch: pytest.MonkeyPatch) -> None:
    suggest_for_misses(monkeypatch, n=1)
    conv = indexed.chat.start("session-1")
    asked = indexed.chat.ask(conv, "제 번호 010-1234-5678인데 근로자 정의가 뭔가요?")
    indexed.chat.choose_suggestion(conv, asked.id, asked.answer.faq_suggestions[0].id)
    [pending] = indexed.faq_phrasings.pending()
    assert "010-1234-5678" not in pending.text and pending.text == asked.question
