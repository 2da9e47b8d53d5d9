"""A language model behind an :class:`~onprem_bot.llm.admission.AdmissionQueue` (first come, first served).

:class:`QueuedLLM` wraps any :class:`~onprem_bot.llm.base.LLM`. Its :meth:`~QueuedLLM.stream` enters
the queue, waits for a slot, then yields the wrapped model's pieces (text only, as every backend
does); when the stream ends, fails or its consumer closes it, the slot is freed, and a request that
never got one leaves the queue, so a user who left never blocks the next. Waiting reports reach the
front end through :func:`~onprem_bot.llm.admission.admission_request` (a context variable set by the
caller), never through the stream. Everything else (``name``, ``n_ctx``, ``count_tokens``, thinking,
``path``, ``servers_status`` …) is the wrapped model's.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from onprem_bot.llm.admission import AdmissionQueue, QueueFull, Waiting
from onprem_bot.llm.base import LLM, Prompt, StreamStats

__all__ = ["AdmissionRequest", "QueueFull", "QueuedLLM", "Waiting", "admission_request", "within_request"]

POLL_S = 0.5
"""Seconds between two waiting reports (a waiting user sees a position within a second)."""
T = TypeVar("T")


@dataclass(frozen=True)
class AdmissionRequest:
    """Who is asking (``owner``: a conversation id) and whom to tell while they wait (``on_wait``,
    called in the waiting thread; an exception from it cancels the request and propagates)."""

    owner: str = ""
    on_wait: Callable[[Waiting], None] | None = None


_REQUEST: contextvars.ContextVar[AdmissionRequest | None] = contextvars.ContextVar("admission_request", default=None)


def current_request() -> AdmissionRequest:
    """The request set by the innermost :func:`admission_request` (an anonymous one outside any)."""
    return _REQUEST.get() or AdmissionRequest()


@contextmanager
def admission_request(owner: str = "", on_wait: Callable[[Waiting], None] | None = None) -> Iterator[AdmissionRequest]:
    """Within this block, model streams started by this thread queue as ``owner`` and report to ``on_wait``.

    Use it around synchronous code (a ``for`` loop over a pipeline stream); inside a generator that
    yields, use :func:`within_request` instead, so the setting never leaks across a ``yield``."""
    request = AdmissionRequest(owner, on_wait)
    token = _REQUEST.set(request)
    try:
        yield request
    finally:
        _REQUEST.reset(token)


def within_request(
    items: Iterator[T], owner: str = "", on_wait: Callable[[Waiting], None] | None = None
) -> Iterator[T]:
    """``items`` re-yielded, each step run inside :func:`admission_request` (``items`` is closed at the end)."""
    try:
        while True:
            with admission_request(owner, on_wait):
                try:
                    item = next(items)
                except StopIteration:
                    return
            yield item
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


class QueuedLLM(LLM):
    """``inner`` behind ``queue``. ``capacity`` (optional, e.g. :meth:`RemoteLLM.capacity`) gives the
    slots available now; it is read when a request enters, while it waits and when it ends, so a dead
    server lowers the queue's slots and a recovered one raises them.

    :attr:`last_stats` is the wrapped stream's, with ``queue_wait_s`` including the seconds in the
    queue and ``first_piece_s`` counted from this :meth:`stream` call. A stream started while the
    same thread already holds a slot (a nested call) goes straight to ``inner``, never waiting for itself.
    """

    def __init__(
        self,
        inner: LLM,
        queue: AdmissionQueue,
        capacity: Callable[[], int] | None = None,
        poll_s: float = POLL_S,
    ) -> None:
        self.inner = inner
        self.queue = queue
        """The shared queue (``llm.queue.status()`` for ``doctor`` and ``bench load``)."""
        self.capacity = capacity
        self.poll_s = poll_s
        self._held: dict[int, int] = {}
        """Slots held per thread id (a generator finished in another thread still counts down its own)."""
        self._held_lock = threading.Lock()

    # -- the wrapped model's attributes --------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.inner.name

    @name.setter
    def name(self, value: str) -> None:
        self.inner.name = value

    @property
    def n_ctx(self) -> int:
        return self.inner.n_ctx

    @n_ctx.setter
    def n_ctx(self, value: int) -> None:
        self.inner.n_ctx = value

    @property
    def supports_chat(self) -> bool:
        return self.inner.supports_chat

    @supports_chat.setter
    def supports_chat(self, value: bool) -> None:
        self.inner.supports_chat = value

    @property
    def chat_template(self) -> str | None:
        return self.inner.chat_template

    @chat_template.setter
    def chat_template(self, value: str | None) -> None:
        self.inner.chat_template = value

    @property
    def thinking(self) -> str:
        return self.inner.thinking

    @thinking.setter
    def thinking(self, value: str) -> None:
        self.inner.thinking = value

    @property
    def think_tokens(self) -> int:
        return self.inner.think_tokens

    @think_tokens.setter
    def think_tokens(self, value: int) -> None:
        self.inner.think_tokens = value

    def set_thinking(self, thinking: str, think_tokens: int) -> None:
        """The wrapped model's :meth:`~onprem_bot.llm.thinking.Thinker.set_thinking`."""
        self.inner.set_thinking(thinking, think_tokens)

    def reasoning(self) -> bool:
        """The wrapped model's (a local GGUF loads to know)."""
        return self.inner.reasoning()

    def warm_up(self) -> None:
        """Load the wrapped model (not queued: loading is serialised by the backend)."""
        self.inner.warm_up()

    def count_tokens(self, text: str) -> int:
        """The wrapped model's tokenizer."""
        return self.inner.count_tokens(text)

    def __getattr__(self, name: str) -> Any:
        if name in ("inner", "queue", "capacity", "poll_s", "_held", "_held_lock") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.inner, name)

    # -- the queue -----------------------------------------------------------------------------------

    def refresh_slots(self) -> None:
        """Set the queue's slots from ``capacity`` (nothing without one)."""
        if self.capacity is not None:
            self.queue.set_slots(self.capacity())

    def stream(self, prompt: Prompt, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        """The wrapped model's pieces once a slot is free.

        Raises (when iterated) :class:`~onprem_bot.llm.admission.QueueFull` at once when the queue is
        full, :class:`~onprem_bot.llm.admission.QueueTimeout` after ``queue.timeout_s`` seconds of
        waiting, and whatever the current request's ``on_wait`` raises (the request is then dropped).
        """
        stats = self.new_stats()
        return self._queued(prompt, max_tokens, stop, stats, current_request())

    def _queued(
        self, prompt: Prompt, max_tokens: int, stop: Sequence[str], stats: StreamStats, request: AdmissionRequest
    ) -> Iterator[str]:
        thread = threading.get_ident()
        if self._held.get(thread):  # this thread holds a slot: a nested stream must not wait for it
            yield from self._inner_stream(prompt, max_tokens, stop, stats, 0.0)
            return
        self.refresh_slots()
        try:
            ticket = self.queue.enter(request.owner)
        except QueueFull:
            stats.finish = "error"
            raise
        failed = False
        try:
            waits = ticket.wait(self.poll_s)
            try:
                for waiting in waits:
                    stats.queue_wait_s = waiting.waited_s
                    self._report(request, waiting)
                    self.refresh_slots()
            finally:
                waits.close()
            stats.queue_wait_s = ticket.waited_s
            self._hold(thread, 1)
            try:
                yield from self._inner_stream(prompt, max_tokens, stop, stats, ticket.waited_s)
            finally:
                self._hold(thread, -1)
        except GeneratorExit:  # the consumer stopped reading: a normal end of a generation
            raise
        except BaseException:
            failed = True
            stats.finish = stats.finish or "error"
            raise
        finally:
            self.refresh_slots()  # a server that failed lowers the slots before the next one is admitted
            if ticket.admitted and not failed:
                ticket.release()
            else:
                ticket.cancel()

    def _hold(self, thread: int, change: int) -> None:
        with self._held_lock:
            count = self._held.get(thread, 0) + change
            if count > 0:
                self._held[thread] = count
            else:
                self._held.pop(thread, None)

    def _report(self, request: AdmissionRequest, waiting: Waiting) -> None:
        if request.on_wait is not None:
            request.on_wait(waiting)

    def _inner_stream(
        self, prompt: Prompt, max_tokens: int, stop: Sequence[str], stats: StreamStats, waited_s: float
    ) -> Iterator[str]:
        """The wrapped stream; its stats become :attr:`last_stats`, timed from this stream's start."""
        pieces = self.inner.stream(prompt, max_tokens, stop)
        inner_stats = self.inner.last_stats
        if inner_stats is not None and inner_stats is not stats:
            inner_stats.started = stats.started
            self._local().stats = inner_stats
        try:
            yield from pieces
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()
            if inner_stats is not None and inner_stats is not stats:
                inner_stats.queue_wait_s += waited_s  # the backend's own lock wait plus the queue's
