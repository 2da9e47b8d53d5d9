"""Admission control in front of a language model: a bounded, strictly first-come-first-served queue.

Pure threading, no model. A request :meth:`AdmissionQueue.enter`\\ s the queue and gets a
:class:`Ticket`; :meth:`Ticket.wait` blocks until one of the queue's ``slots`` is free (yielding a
:class:`Waiting` report at once and then every ``poll_s`` seconds, so a waiting employee sees a
position within a second), :meth:`Ticket.release` ends the generation (its seconds feed the
estimate), :meth:`Ticket.cancel` drops a request whose user left. One queue is shared by every
session of a process (:class:`~onprem_bot.llm.queued.QueuedLLM` holds it).

Which request waits, and whom to tell, travels with the calling thread in a context variable
(:func:`onprem_bot.llm.queued.admission_request`), so the model's ``stream`` keeps yielding text only.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from onprem_bot.llm.base import LLMError

DEFAULT_SERVICE_S = 8.0
"""The estimate of one generation's seconds before any has been measured."""
EWMA_ALPHA = 0.3
"""Weight of the newest generation in the moving average of generation seconds."""


class QueueFull(LLMError):
    """Too many requests are already waiting (``llm.queue_max``): ask again later."""


class QueueTimeout(LLMError):
    """A request waited longer than ``llm.queue_timeout_s``."""


class QueueCancelled(LLMError):
    """A waiting request was cancelled by someone else (:meth:`AdmissionQueue.cancel_owner`)."""


@dataclass(frozen=True)
class Waiting:
    """Where a waiting request stands."""

    ahead: int
    """Requests before this one in the queue (those being answered are not counted)."""
    estimate_s: float
    """Seconds until it should start: recent generation seconds × ``ceil((ahead + 1) / slots)``."""
    waited_s: float
    """Seconds waited so far."""


def waiting_text(waiting: Waiting) -> str:
    """The line a waiting employee reads: ``대기 중: 앞에 3명 · 약 24초``."""
    return f"대기 중: 앞에 {waiting.ahead}명 · 약 {math.ceil(waiting.estimate_s)}초"


class Ticket:
    """One request's place (from :meth:`AdmissionQueue.enter`); states ``waiting``, ``running``,
    ``done`` (released, or cancelled after it ran), ``dropped`` (cancelled while waiting), ``timed_out``.

    As a context manager: ``with queue.enter() as t: for w in t.wait(): ...`` — released on a normal
    exit, cancelled when an exception leaves the block."""

    def __init__(self, queue: AdmissionQueue, owner: str, now: float) -> None:
        self.queue = queue
        self.owner = owner
        self.state = "waiting"
        self.entered = now
        self.started: float | None = None
        self.deadline = now + queue.timeout_s

    @property
    def admitted(self) -> bool:
        """True once the request holds a slot (it may generate)."""
        return self.started is not None

    @property
    def waited_s(self) -> float:
        """Seconds from :meth:`AdmissionQueue.enter` to admission (or until now while waiting)."""
        end = self.started if self.started is not None else self.queue.clock()
        return max(0.0, end - self.entered)

    def wait(self, poll_s: float = 0.5) -> Generator[Waiting, None, None]:
        """Block until admitted, yielding a :class:`Waiting` at once (unless admitted already) and then
        every ``poll_s`` seconds. Raises :class:`QueueTimeout` past the deadline (the ticket leaves the
        queue) and :class:`QueueCancelled` when another thread cancelled it; closing the generator
        before admission cancels the ticket."""
        q = self.queue
        last_report: float | None = None
        try:
            while True:
                with q.cond:
                    while True:
                        q.promote()
                        if self.state == "running":
                            return
                        if self.state != "waiting":
                            raise QueueCancelled("질문이 취소되었습니다 (request cancelled while waiting)")
                        now = q.clock()
                        if now >= self.deadline:
                            q.expire(self)
                            raise QueueTimeout(
                                "답변을 기다리는 사람이 많아 시간이 초과되었습니다. 잠시 후 다시 물어봐 주세요. "
                                f"(waited {q.timeout_s:g} s in the model queue)"
                            )
                        if last_report is None or now - last_report >= poll_s:
                            report = q.waiting_of(self, now)
                            break
                        q.cond.wait(max(0.001, min(poll_s - (now - last_report), self.deadline - now)))
                last_report = now
                yield report
        except GeneratorExit:
            self.cancel()
            raise

    def release(self) -> None:
        """The generation ended: free the slot and record its seconds for the estimate (idempotent;
        on a ticket that was never admitted this is :meth:`cancel`)."""
        self.queue.finish(self, record=True)

    def cancel(self) -> None:
        """Leave the queue (the others move up) or free the slot without recording (idempotent)."""
        self.queue.finish(self, record=False)

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if kind is None:
            self.release()
        else:
            self.cancel()


class AdmissionQueue:
    """At most ``slots`` requests generate at once, at most ``max_waiting`` wait, strictly in order of
    :meth:`enter`; none waits longer than ``timeout_s`` seconds. Thread-safe (one Condition); ``clock``
    is injectable for tests (seconds, monotonic)."""

    def __init__(
        self,
        slots: int,
        max_waiting: int,
        timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
        estimate_s: float = DEFAULT_SERVICE_S,
    ) -> None:
        if slots < 1 or max_waiting < 0 or timeout_s <= 0:
            raise ValueError(f"slots={slots}, max_waiting={max_waiting}, timeout_s={timeout_s}")
        self.slots, self.max_waiting, self.timeout_s, self.clock = slots, max_waiting, timeout_s, clock
        self.cond = threading.Condition()
        self.service_s = estimate_s
        """Moving average of generation seconds (``estimate_s`` until the first is measured)."""
        self._measured = False
        self._waiting: deque[Ticket] = deque()
        self._running = 0
        self.counts = {"served": 0, "dropped": 0, "timed_out": 0, "rejected": 0}

    def enter(self, owner: str = "") -> Ticket:
        """A place at the back of the queue (admitted at once when a slot is free and nobody waits).

        Raises :class:`QueueFull` when ``max_waiting`` requests already wait."""
        with self.cond:
            ticket = Ticket(self, owner, self.clock())
            if len(self._waiting) >= self.max_waiting and not (not self._waiting and self._running < self.slots):
                self.counts["rejected"] += 1
                raise QueueFull(
                    "지금 질문이 많습니다. 잠시 후 다시 물어봐 주세요. "
                    f"(model queue full: {len(self._waiting)} waiting, {self._running} answering)"
                )
            self._waiting.append(ticket)
            self.promote()
            return ticket

    def set_slots(self, n: int) -> None:
        """Change how many requests may generate at once (remote servers died or came back; min 1)."""
        with self.cond:
            self.slots = max(1, n)
            self.promote()

    def cancel_owner(self, owner: str) -> int:
        """Cancel every waiting request of ``owner`` (their waits raise :class:`QueueCancelled`); how many."""
        with self.cond:
            mine = [t for t in self._waiting if t.owner == owner]
        for ticket in mine:
            ticket.cancel()
        return len(mine)

    def preview(self, pending: int = 0) -> Waiting | None:
        """Where a request sent now would stand once it reaches the queue (None: a slot should be free), so a
        front end can show a position the moment a question is sent, before search and the prompt are ready.

        ``pending``: requests sent before this one that have not reached the queue yet (still searching);
        they are counted as ahead of it — a forecast, corrected by the queue's own reports."""
        with self.cond:
            before = self._running + len(self._waiting) + max(0, pending)
            if before < self.slots:
                return None
            ahead = before - self.slots
            return Waiting(ahead, self.service_s * math.ceil((ahead + 1) / self.slots), 0.0)

    def status(self) -> dict[str, Any]:
        """``running``, ``waiting``, ``slots`` now; since start ``served`` (admitted and finished),
        ``dropped`` (cancelled while waiting), ``timed_out``, ``rejected`` (queue full); ``max_waiting``,
        ``timeout_s`` and ``estimate_s`` (the moving average of one generation's seconds)."""
        with self.cond:
            return {
                "running": self._running,
                "waiting": len(self._waiting),
                "slots": self.slots,
                **self.counts,
                "max_waiting": self.max_waiting,
                "timeout_s": self.timeout_s,
                "estimate_s": round(self.service_s, 3),
            }

    # -- under self.cond -----------------------------------------------------------------------

    def promote(self) -> None:
        """Admit waiting requests from the front while slots are free (caller holds :attr:`cond`)."""
        admitted = False
        while self._waiting and self._running < self.slots:
            ticket = self._waiting.popleft()
            ticket.state, ticket.started = "running", self.clock()
            self._running += 1
            admitted = True
        if admitted:
            self.cond.notify_all()

    def waiting_of(self, ticket: Ticket, now: float) -> Waiting:
        """``ticket``'s :class:`Waiting` report (caller holds :attr:`cond`)."""
        ahead = self._waiting.index(ticket)
        rounds = math.ceil((ahead + 1) / self.slots)
        return Waiting(ahead, self.service_s * rounds, max(0.0, now - ticket.entered))

    def expire(self, ticket: Ticket) -> None:
        """``ticket`` waited too long: it leaves the queue (caller holds :attr:`cond`)."""
        self._waiting.remove(ticket)
        ticket.state = "timed_out"
        self.counts["timed_out"] += 1
        self.promote()
        self.cond.notify_all()

    def finish(self, ticket: Ticket, record: bool) -> None:
        """End ``ticket`` (see :meth:`Ticket.release` / :meth:`Ticket.cancel`)."""
        with self.cond:
            if ticket.state == "waiting":
                self._waiting.remove(ticket)
                ticket.state = "dropped"
                self.counts["dropped"] += 1
            elif ticket.state == "running":
                ticket.state = "done"
                self._running -= 1
                self.counts["served"] += 1
                if record and ticket.started is not None:
                    seconds = max(0.0, self.clock() - ticket.started)
                    self.service_s = (
                        seconds if not self._measured else (EWMA_ALPHA * seconds + (1 - EWMA_ALPHA) * self.service_s)
                    )
                    self._measured = True
            else:
                return
            self.promote()
            self.cond.notify_all()
