"""The admission queue (onprem_bot/llm/admission.py) and QueuedLLM (onprem_bot/llm/queued.py): first come
first served under 16 threads, positions and estimates, queue full, timeout, dropped waiters, remote slots.
Behaviour only: no timings are asserted."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence

import pytest

from onprem_bot.llm import LLMError, QueuedLLM, admission_request
from onprem_bot.llm.admission import AdmissionQueue, QueueCancelled, QueueFull, QueueTimeout, Waiting, waiting_text
from onprem_bot.llm.base import Prompt
from onprem_bot.llm.fake import ScriptedLLM
from onprem_bot.llm.remote import RemoteLLM

WAIT = 30.0
"""Generous limit on any blocking step in these tests (a hang fails instead of blocking the suite)."""


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class GatedLLM(ScriptedLLM):
    """A scripted model whose generations wait for :attr:`gate`; records the most running at once."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)
        self.running = 0
        self.most = 0
        self._count = threading.Lock()

    def stream(self, prompt: Prompt, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        inner = super().stream(prompt, max_tokens, stop)

        def gated() -> Iterator[str]:
            with self._count:
                self.running += 1
                self.most = max(self.most, self.running)
            self.started.release()
            try:
                assert self.gate.wait(WAIT)
                yield from inner
            finally:
                with self._count:
                    self.running -= 1

        return gated()


def wait_until(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.005)


def test_sixteen_threads_are_admitted_first_come_first_served() -> None:
    queue = AdmissionQueue(slots=1, max_waiting=64, timeout_s=WAIT)
    holder = queue.enter("holder")
    assert holder.admitted
    order: list[int] = []
    threads = []
    for i in range(16):

        def run(i: int = i) -> None:
            ticket = queue.enter(f"user{i}")
            for _ in ticket.wait(poll_s=0.01):
                pass
            order.append(i)
            ticket.release()

        thread = threading.Thread(target=run)
        thread.start()
        threads.append(thread)
        wait_until(lambda i=i: queue.status()["waiting"] == i + 1, "thread did not enter the queue")
    holder.release()
    for thread in threads:
        thread.join(WAIT)
    assert order == list(range(16))
    status = queue.status()
    assert status["served"] == 17 and status["running"] == status["waiting"] == 0
    assert status["dropped"] == status["timed_out"] == status["rejected"] == 0


def test_position_and_estimate_are_reported_at_once_and_follow_measured_generations() -> None:
    clock = Clock()
    queue = AdmissionQueue(slots=1, max_waiting=8, timeout_s=600, clock=clock, estimate_s=5.0)
    first = queue.enter()
    clock.now += 4.0  # one generation of 4 s: the estimate becomes 4 s per request
    first.release()
    assert queue.status()["estimate_s"] == 4.0
    running = queue.enter("a")
    waiting = [queue.enter(name) for name in ("b", "c", "d")]
    reports = waiting[2].wait(poll_s=0.01)
    report = next(reports)  # at once, before anyone is done
    assert report == Waiting(ahead=2, estimate_s=12.0, waited_s=0.0)
    assert waiting_text(report) == "대기 중: 앞에 2명 · 약 12초"
    waiting[0].cancel()  # b leaves: d moves up
    clock.now += 1.0
    assert next(reports) == Waiting(ahead=1, estimate_s=8.0, waited_s=1.0)
    queue.set_slots(2)  # c runs beside a; d is next
    clock.now += 1.0
    assert next(reports) == Waiting(ahead=0, estimate_s=4.0, waited_s=2.0)
    running.release()
    with pytest.raises(StopIteration):
        next(reports)
    assert waiting[2].admitted and queue.status()["running"] == 2


def test_a_full_queue_refuses_with_a_friendly_message() -> None:
    queue = AdmissionQueue(slots=1, max_waiting=1, timeout_s=WAIT)
    queue.enter()
    queue.enter()
    with pytest.raises(QueueFull) as info:
        queue.enter()
    assert isinstance(info.value, LLMError)
    assert str(info.value).startswith("지금 질문이 많습니다. 잠시 후 다시 물어봐 주세요. (")
    assert queue.status()["rejected"] == 1
    assert AdmissionQueue(slots=1, max_waiting=0, timeout_s=1).enter().admitted  # a free slot needs no queue


def test_a_request_that_waits_too_long_times_out_and_leaves_the_queue() -> None:
    queue = AdmissionQueue(slots=1, max_waiting=4, timeout_s=0.2)
    holder = queue.enter()
    ticket = queue.enter()
    with pytest.raises(QueueTimeout, match="잠시 후 다시"):
        for _ in ticket.wait(poll_s=0.05):
            pass
    assert queue.status()["timed_out"] == 1 and queue.status()["waiting"] == 0
    holder.release()
    assert queue.enter().admitted


def test_closed_and_cancelled_waiters_are_dropped_and_the_next_moves_up() -> None:
    queue = AdmissionQueue(slots=1, max_waiting=8, timeout_s=WAIT)
    holder = queue.enter()
    left, other, nxt = queue.enter("left"), queue.enter("conv-1"), queue.enter("next")
    waits = left.wait(poll_s=0.01)
    assert next(waits).ahead == 0
    waits.close()  # the consumer went away
    assert queue.cancel_owner("conv-1") == 1
    with pytest.raises(QueueCancelled):
        next(other.wait(poll_s=0.01))
    nxt_waits = nxt.wait(poll_s=0.01)  # (a wait generator dropped before admission cancels its ticket)
    assert next(nxt_waits).ahead == 0
    holder.cancel()
    holder.cancel()  # idempotent
    assert list(nxt_waits) == [] and nxt.admitted
    assert queue.status()["dropped"] == 2


def test_queued_llm_drops_a_waiter_whose_on_wait_raises_and_frees_the_slot_of_a_closed_stream() -> None:
    inner = ScriptedLLM(["하나 둘 셋 넷"])
    llm = QueuedLLM(inner, AdmissionQueue(slots=1, max_waiting=8, timeout_s=WAIT), poll_s=0.01)
    first = llm.stream("q", 10)
    assert next(first) == "하나"  # holds the only slot

    class Left(Exception):
        pass

    def leave(waiting: Waiting) -> None:
        raise Left

    def ask_and_leave() -> None:
        with admission_request("conv-9", leave), pytest.raises(Left):
            llm.generate("q", 10)

    other = threading.Thread(target=ask_and_leave)  # another thread: this one holds the slot
    other.start()
    other.join(WAIT)
    status = llm.queue.status()
    assert status["dropped"] == 1 and status["waiting"] == 0 and status["running"] == 1
    first.close()  # type: ignore[attr-defined]  # the pipeline stops reading early: the slot is freed
    assert llm.queue.status()["running"] == 0
    assert llm.generate("q", 10) == "하나 둘 셋 넷"
    assert llm.queue.status()["served"] == 2


def test_queued_llm_serialises_threads_and_reports_the_wait() -> None:
    inner = GatedLLM(["답변 입니다 [1]."])
    llm = QueuedLLM(inner, AdmissionQueue(slots=1, max_waiting=8, timeout_s=WAIT), poll_s=0.01)
    heard: dict[int, list[Waiting]] = {i: [] for i in range(4)}
    answers: dict[int, str] = {}
    waits: dict[int, float] = {}

    def run(i: int) -> None:
        with admission_request(f"conv-{i}", heard[i].append):
            answers[i] = llm.generate("q", 10)
            stats = llm.last_stats
            assert stats is not None
            waits[i] = stats.queue_wait_s

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    threads[0].start()
    assert inner.started.acquire(timeout=WAIT)  # thread 0 generates; the others must wait
    for i, thread in enumerate(threads[1:], start=1):
        thread.start()
        wait_until(lambda i=i: bool(heard[i]), "no waiting report")
    assert [heard[i][0].ahead for i in (1, 2, 3)] == [0, 1, 2]
    inner.gate.set()
    for thread in threads:
        thread.join(WAIT)
    assert answers == dict.fromkeys(range(4), "답변 입니다 [1].")
    assert inner.most == 1 and not heard[0]
    assert all(waits[i] > 0 for i in (1, 2, 3))
    assert llm.queue.status()["served"] == 4


def test_queued_llm_delegates_to_the_model_and_a_nested_stream_does_not_wait_for_itself() -> None:
    inner = ScriptedLLM(["가 나"], supports_chat=True, n_ctx=777, name="fake", thinking="on", think_tokens=64)
    llm = QueuedLLM(inner, AdmissionQueue(slots=1, max_waiting=0, timeout_s=WAIT))
    assert (llm.name, llm.n_ctx, llm.supports_chat, llm.reasoning(), llm.thinking_budget()) == (
        "fake",
        777,
        True,
        True,
        64,
    )
    assert llm.count_tokens("가나다") == inner.count_tokens("가나다") and llm.prompts == []
    assert not hasattr(llm, "prompt_format") and repr(llm) == "<QueuedLLM fake>"
    llm = QueuedLLM(ScriptedLLM(["가 나"]), AdmissionQueue(slots=1, max_waiting=0, timeout_s=WAIT))
    outer = llm.stream("q", 10)
    assert next(outer) == "가"
    assert llm.generate("q", 10) == "가 나"  # same thread, slot held: straight to the model
    assert list(outer) == [" 나"] and llm.queue.status()["running"] == 0 and not llm._held


def test_remote_spreads_by_free_slots_and_a_dead_server_lowers_the_queue() -> None:
    clock = Clock()
    remote = RemoteLLM(["http://127.0.0.1:1", "http://127.0.0.1:2"], server_slots=2, clock=clock, cool_down_s=30)
    taken = [remote.acquire(set()) for _ in range(4)]
    assert [s.url[-1] for s in taken if s is not None] == ["1", "2", "1", "2"]
    assert [s["free_slots"] for s in remote.servers_status()] == [0, 0]
    for server in taken[1:]:
        assert server is not None
        remote.release(server)
    llm = QueuedLLM(remote, AdmissionQueue(remote.capacity(), 8, WAIT), remote.capacity)
    assert llm.queue.status()["slots"] == 4
    assert taken[0] is not None
    remote.release(taken[0], error="connection refused")  # server 1 is dead for 30 s
    llm.refresh_slots()
    assert llm.queue.status()["slots"] == 2
    assert remote.acquire(set()) is taken[1]  # only server 2 is chosen while server 1 cools down
    clock.now += 31  # server 1 is tried again
    llm.refresh_slots()
    assert llm.queue.status()["slots"] == 4
    with pytest.raises(LLMError, match="server_slots"):
        RemoteLLM(["http://127.0.0.1:1"], server_slots=0)


def test_the_preview_counts_those_still_searching_as_ahead() -> None:
    queue = AdmissionQueue(2, 10, 60.0)
    assert queue.preview() is None and queue.preview(pending=1) is None  # a slot will be free
    first = queue.preview(pending=2)
    assert first is not None and first.ahead == 0  # both slots taken by the time it arrives: first in line
    running = queue.enter()
    assert list(running.wait(0.01)) == [] and running.admitted  # a free slot: admitted without a report
    later = queue.preview(pending=3)
    assert later is not None and later.ahead == 2 and later.estimate_s > first.estimate_s
