"""The admission queue under the chat service: 16 employees at once lose no answer, a full queue or a
timeout is answered by quoting with a "잠시 후 다시" notice, a user who left is dropped, and ten
questions at once in one conversation run one at a time; make_llm wraps every backend; the embedded GGUF
behind the queue. Scripted model unless said; no timings are asserted."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from onprem_bot.app import App
from onprem_bot.chat import BUSY
from onprem_bot.config import LlmSettings, Settings, load_settings
from onprem_bot.llm import QueuedLLM, default_model_path, make_llm
from onprem_bot.llm.admission import AdmissionQueue, Waiting
from onprem_bot.llm.base import Prompt
from onprem_bot.llm.fake import ScriptedLLM
from onprem_bot.llm.remote import RemoteLLM
from onprem_bot.pipeline import QUEUE_BUSY
from onprem_bot.storage.conversations import ConversationError, StoredMessage

LEAVE = "연차휴가는 며칠 받을 수 있나요?"
WAIT = 30.0
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The scripted model behind make_llm's queue (conftest's ``app`` and ``indexed`` use these)."""
    return load_settings(env={}, home=tmp_path / "home", embedder={"backend": "hash"}, llm={"backend": "scripted"})


class SlowLLM(ScriptedLLM):
    """The scripted model, a little slow per piece, counting how many generate at once; with ``gate``
    set to an Event, each generation first waits for it."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        super().__init__()
        self.gate = gate
        self.started = threading.Semaphore(0)
        self.running = self.most = 0
        self._count = threading.Lock()

    def stream(self, prompt: Prompt, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        inner = super().stream(prompt, max_tokens, stop)

        def slow() -> Iterator[str]:
            with self._count:
                self.running += 1
                self.most = max(self.most, self.running)
            self.started.release()
            try:
                if self.gate is not None:
                    assert self.gate.wait(WAIT)
                for piece in inner:
                    time.sleep(0.001)
                    yield piece
            finally:
                with self._count:
                    self.running -= 1

        return slow()


def queued(app: App, model: ScriptedLLM, slots: int = 1, max_waiting: int = 64, timeout_s: float = WAIT) -> QueuedLLM:
    """``model`` behind a fresh queue as the app's pipeline model (the FAQ off: every question reaches it)."""
    llm = QueuedLLM(model, AdmissionQueue(slots, max_waiting, timeout_s), poll_s=0.01)
    app.pipeline.llm = llm
    app.pipeline.faq_enabled = False
    return llm


def test_make_llm_puts_the_scripted_model_behind_a_queue(app: App) -> None:
    assert isinstance(app.llm, QueuedLLM) and isinstance(app.llm.inner, ScriptedLLM)
    assert app.llm.queue.status()["slots"] == 1


def test_sixteen_employees_at_once_each_get_their_logged_answer(indexed: App) -> None:
    model = SlowLLM()
    llm = queued(indexed, model)
    stored: dict[int, StoredMessage] = {}
    heard: dict[int, list[Waiting]] = {i: [] for i in range(16)}
    errors: list[BaseException] = []
    start = threading.Barrier(16)

    def employee(i: int) -> None:
        try:
            conv = indexed.chat.start(f"browser-{i}")
            start.wait(WAIT)
            stored[i] = indexed.chat.ask(conv, LEAVE, on_wait=heard[i].append)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=employee, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors and sorted(stored) == list(range(16))
    for message in stored.values():
        assert message.answer.route == "rag", message.answer
        assert [m.id for m in indexed.chat.history(message.conversation_id)] == [message.id]
    status = llm.queue.status()
    assert status["served"] == 16 and status["running"] == status["waiting"] == 0
    assert status["dropped"] == status["timed_out"] == status["rejected"] == 0
    assert model.most == 1
    assert all(w.ahead >= 0 and w.estimate_s > 0 for ws in heard.values() for w in ws)


def test_a_full_queue_and_a_timeout_are_answered_by_quoting_with_ask_again_later(indexed: App) -> None:
    llm = queued(indexed, ScriptedLLM(), max_waiting=0)
    holder = llm.queue.enter()  # someone is being answered; nobody may wait
    conv = indexed.chat.start("b")
    full = indexed.chat.ask(conv, LEAVE)
    assert full.answer.route == "extractive" and full.answer.citations
    assert full.answer.notices == (QUEUE_BUSY,)  # one line for employees, no technical text
    assert llm.queue.status()["rejected"] == 1
    llm = queued(indexed, ScriptedLLM(), timeout_s=0.2)
    holder = llm.queue.enter()
    late = indexed.chat.ask(conv, LEAVE)
    assert late.answer.route == "extractive" and late.answer.notices == (QUEUE_BUSY,)
    assert llm.queue.status()["timed_out"] == 1
    holder.release()
    assert indexed.chat.ask(conv, LEAVE).answer.route == "rag"
    assert [m.answer.route for m in indexed.chat.history(conv)] == ["extractive", "extractive", "rag"]


def test_a_user_who_left_while_waiting_is_dropped_and_the_next_moves_up(indexed: App) -> None:
    llm = queued(indexed, ScriptedLLM())
    holder = llm.queue.enter()
    left, stays = indexed.chat.start("left"), indexed.chat.start("stays")

    class BrowserLeft(Exception):
        """Like Streamlit's StopException when the browser closed or 새 대화 was clicked."""

    notices: list[Waiting] = []

    def gone(waiting: Waiting) -> None:  # hears the place at once (the preview), leaves while in the queue
        notices.append(waiting)
        if len(notices) > 1:
            raise BrowserLeft

    with pytest.raises(BrowserLeft):
        indexed.chat.ask(left, LEAVE, on_wait=gone)
    assert llm.queue.status()["dropped"] == 1 and indexed.chat.history(left) == []
    places: list[int] = []
    answered: list[StoredMessage] = []
    other = threading.Thread(
        target=lambda: answered.append(indexed.chat.ask(stays, LEAVE, on_wait=lambda w: places.append(w.ahead)))
    )
    other.start()
    deadline = time.monotonic() + WAIT
    while not places and time.monotonic() < deadline:
        time.sleep(0.005)
    assert places[:1] == [0]  # first in line: the request that left holds nothing
    holder.release()
    other.join(WAIT)
    assert [m.answer.route for m in answered] == ["rag"]
    assert indexed.chat.ask(left, LEAVE).answer.route == "rag"  # the conversation is free again


def test_ten_questions_at_once_in_one_conversation_run_one_at_a_time(indexed: App) -> None:
    gate = threading.Event()
    model = SlowLLM(gate)
    queued(indexed, model, slots=4)
    conv = indexed.chat.start("b")
    answered: list[StoredMessage] = []
    refused: list[str] = []
    start = threading.Barrier(10)

    def send(i: int) -> None:
        start.wait(WAIT)
        try:
            answered.append(indexed.chat.ask(conv, f"{LEAVE} ({i})"))
        except ConversationError as exc:
            refused.append(str(exc))
            if len(refused) == 9:
                gate.set()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    gate.set()
    assert len(answered) == 1 and refused == [BUSY] * 9
    assert BUSY.startswith("이전 질문에 답하는 중입니다. 답이 끝난 뒤 다시 보내 주세요.")
    assert [m.id for m in indexed.chat.history(conv)] == [answered[0].id] and model.most == 1
    assert indexed.chat.ask(conv, LEAVE).answer.route == "rag"  # answered: the next question is welcome


def test_make_llm_wraps_every_backend_in_the_queue(tmp_path: Path) -> None:
    assert make_llm(LlmSettings(backend="none"), tmp_path) is None
    local = make_llm(LlmSettings(queue_max=5, queue_timeout_s=9), tmp_path)
    assert local is not None and type(local.inner).__name__ == "LlamaCppLLM"
    assert local.queue.status()["slots"] == 1
    assert (local.queue.max_waiting, local.queue.timeout_s) == (5, 9)
    remote = make_llm(
        LlmSettings(backend="remote", servers="http://127.0.0.1:1,http://127.0.0.1:2", server_slots=3), tmp_path
    )
    assert remote is not None and isinstance(remote.inner, RemoteLLM) and remote.queue.status()["slots"] == 6
    scripted = make_llm(LlmSettings(backend="scripted", server_slots=2), tmp_path)
    assert scripted is not None and isinstance(scripted.inner, ScriptedLLM) and scripted.queue.status()["slots"] == 2


class CountingLock:
    """A lock that counts the acquisitions that had to wait."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.contended = 0
        self.acquired = 0

    def __enter__(self) -> CountingLock:
        if not self.lock.acquire(blocking=False):
            self.contended += 1
            self.lock.acquire()
        self.acquired += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


@pytest.mark.integration
def test_the_embedded_model_behind_the_queue_answers_four_threads_without_contending_its_lock() -> None:
    from onprem_bot.bench.generation import PROMPT
    from onprem_bot.llm.llama import LlamaCppLLM

    path = default_model_path(REPO)
    if not path.is_file():
        pytest.skip(f"{path} is absent: run `onprem-bot models install-default` (make install does)")
    inner = LlamaCppLLM(path, n_ctx=512, n_threads=1)
    inner.warm_up()
    lock = CountingLock()
    inner._lock = lock  # type: ignore[assignment]
    llm = QueuedLLM(inner, AdmissionQueue(slots=1, max_waiting=8, timeout_s=600), poll_s=0.05)
    results: dict[int, tuple[str, float]] = {}
    start = threading.Barrier(4)

    def run(i: int) -> None:
        start.wait(WAIT)
        answer = llm.generate(PROMPT, 8, stop=["\n"])
        stats = llm.last_stats
        assert stats is not None
        results[i] = (answer, stats.queue_wait_s)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    assert sorted(results) == [0, 1, 2, 3]
    assert all(answer.strip() for answer, _ in results.values())
    assert lock.acquired == 4 and lock.contended == 0
    assert sum(1 for _, waited in results.values() if waited > 0) >= 3  # they waited in the queue instead
    assert llm.queue.status()["served"] == 4


def test_ask_prints_the_place_in_the_queue_to_stderr_when_it_changes(capsys: pytest.CaptureFixture[str]) -> None:
    from onprem_bot.cli.answer import waiting_printer

    show = waiting_printer()
    for ahead, estimate in ((2, 9.2), (2, 9.0), (1, 4.5), (0, 0.4)):
        show(Waiting(ahead, estimate, 1.0))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "대기 중: 앞에 2명 · 약 10초",
        "대기 중: 앞에 1명 · 약 5초",
        "대기 중: 앞에 0명 · 약 1초",
    ]


def test_a_sender_hears_their_place_before_search_runs(indexed: App) -> None:
    """The chat reports the place a question would take the moment it is sent when the model is busy
    (search and the prompt come first), then the queue's own reports; nothing when a slot is free."""
    llm = queued(indexed, ScriptedLLM())
    heard: list[tuple[str, int]] = []
    searched = indexed.retriever.run

    def search(*args: Any, **kwargs: Any) -> Any:
        heard.append(("search", -1))
        return searched(*args, **kwargs)

    indexed.retriever.run = search  # type: ignore[method-assign]
    indexed.pipeline.retriever = indexed.retriever
    conv = indexed.chat.start("p")
    indexed.chat.ask(conv, LEAVE, on_wait=lambda w: heard.append(("wait", w.ahead)))
    assert heard == [("search", -1)]  # a free slot: no waiting notice at all
    holder, other = llm.queue.enter(), llm.queue.enter()  # one answering, one already waiting
    heard.clear()
    thread = threading.Thread(target=lambda: indexed.chat.ask(conv, LEAVE, on_wait=lambda w: heard.append(("wait", w.ahead))))  # fmt: skip
    thread.start()
    deadline = time.monotonic() + 10
    while len([h for h in heard if h[0] == "wait"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert heard[:2] == [("wait", 1), ("search", -1)]  # heard before the search ran
    other.cancel()
    holder.release()
    thread.join(10)
    assert not thread.is_alive()
