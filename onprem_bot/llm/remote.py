"""Remote generation on OpenAI-compatible llama.cpp servers (one per GPU), for scale-out.

Works with ``python -m llama_cpp.server`` and llama.cpp's own ``llama-server``: text is
streamed as server-sent events from ``/v1/completions`` (a string prompt) or
``/v1/chat/completions`` (messages). Only the standard library is used, and only the
configured addresses are ever contacted (no redirects are followed).

Each request goes to the live server with the most free slots (``server_slots`` — llama-server's
``-np`` parallel slots — minus its requests in flight; ties in round-robin order, so requests spread
evenly). A server that refuses the connection, times out or answers 5xx before the first piece is
marked dead for ``cool_down_s`` and the request is retried on the next one; when every server is
dead the request fails with :class:`LLMError`. A server that fails after the first piece ends the
answer with :class:`LLMError` (``…중간에 끊겼습니다``; the pipeline then quotes the sources).
:meth:`RemoteLLM.capacity` tells the admission queue (:mod:`onprem_bot.llm.queued`) how many
requests the live servers take at once.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from onprem_bot.llm.base import LLM, LLMError, Prompt, StreamStats, choice_piece, messages_to_text
from onprem_bot.llm.thinking import DEFAULT_THINK_TOKENS

COOL_DOWN_S = 30.0
CONNECT_TIMEOUT_S = 5.0


class ServerDown(Exception):
    """One server could not serve a request (refused, timed out, 5xx); another may."""


@dataclass
class ServerState:
    """One server's bookkeeping (read it with :meth:`RemoteLLM.servers_status`)."""

    url: str
    scheme: str
    host: str
    port: int
    base_path: str
    in_flight: int = 0
    requests: int = 0
    failures: int = 0
    dead_until: float = 0.0
    last_error: str = ""


def parse_server_url(url: str) -> ServerState:
    """A server's base URL (``http://10.0.0.5:8080``) split for http.client; LLMError when malformed."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LLMError(f"LLM 서버 주소가 잘못되었습니다 (invalid server URL, expected http://host:port): {url!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise LLMError(f"LLM 서버 주소의 포트가 잘못되었습니다 (invalid port): {url!r}") from None
    base_path = parts.path.rstrip("/")
    if base_path.endswith("/v1"):
        base_path = base_path[: -len("/v1")]
    return ServerState(
        url=url.strip().rstrip("/"), scheme=parts.scheme, host=parts.hostname, port=port, base_path=base_path
    )


class RemoteLLM(LLM):
    """OpenAI-compatible llama.cpp servers behind one :class:`LLM` (most free slots first, failover).

    ``server_slots``: requests each server decodes in parallel (``llm.server_slots``, >= 1)."""

    def __init__(
        self,
        servers: Sequence[str],
        *,
        n_ctx: int = 4096,
        temperature: float = 0.0,
        timeout_s: float = 120.0,
        supports_chat: bool = True,
        cool_down_s: float = COOL_DOWN_S,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
        thinking: str = "auto",
        think_tokens: int = DEFAULT_THINK_TOKENS,
        server_slots: int = 1,
    ) -> None:
        if not servers:
            raise LLMError("LLM 서버 주소가 없습니다 (no server URLs): llm.servers = http://host:port,...")
        self._servers = [parse_server_url(u) for u in servers]
        self.name = "remote:" + ",".join(s.url for s in self._servers)
        self.n_ctx = n_ctx
        self.temperature = temperature
        self.timeout_s = timeout_s
        self.supports_chat = supports_chat
        self.cool_down_s = cool_down_s
        self.connect_timeout_s = connect_timeout_s
        self._clock = clock
        self.set_thinking(thinking, think_tokens)
        if server_slots < 1:
            raise LLMError(f"llm.server_slots={server_slots}: must be >= 1")
        self.server_slots = server_slots
        self._lock = threading.Lock()
        self._next = 0

    def capacity(self) -> int:
        """Requests the live servers take at once: live servers × ``server_slots``. When every server is
        dead, all of them × ``server_slots``: requests then fail at once (and are quoted) instead of waiting."""
        with self._lock:
            now = self._clock()
            live = sum(1 for s in self._servers if s.dead_until <= now)
            return (live or len(self._servers)) * self.server_slots

    def servers_status(self) -> list[dict[str, Any]]:
        """Each server: url, in_flight, free_slots (``server_slots - in_flight``), requests, failures, alive,
        last_error."""
        with self._lock:
            now = self._clock()
            return [
                {
                    "url": s.url,
                    "in_flight": s.in_flight,
                    "free_slots": self.server_slots - s.in_flight,
                    "requests": s.requests,
                    "failures": s.failures,
                    "alive": s.dead_until <= now,
                    "last_error": s.last_error,
                }
                for s in self._servers
            ]

    def stream(self, prompt: Prompt, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        """Stream from the live server with the most free slots, failing over to the others before the
        first piece (:class:`LLMError` when none can answer, or when one fails mid-answer)."""
        stats = self.new_stats()
        return self.guard(self._pieces(prompt, max_tokens, stop, stats), stop, stats, max_tokens)

    # -- server choice -------------------------------------------------------------------------

    def acquire(self, exclude: set[str]) -> ServerState | None:
        """Take the live server not in ``exclude`` with the most free slots, ties in round-robin order
        (its in-flight count goes up); None when there is none."""
        with self._lock:
            now = self._clock()
            n = len(self._servers)
            candidates = [
                (s.in_flight - self.server_slots, (i - self._next) % n, i)
                for i, s in enumerate(self._servers)
                if s.dead_until <= now and s.url not in exclude
            ]
            if not candidates:
                return None
            _, _, index = min(candidates)
            self._next = (index + 1) % n
            server = self._servers[index]
            server.in_flight += 1
            server.requests += 1
            return server

    def release(self, server: ServerState, error: str | None = None) -> None:
        """A request on ``server`` ended; with ``error`` the server is dead for the cool-down."""
        with self._lock:
            server.in_flight -= 1
            if error is not None:
                server.failures += 1
                server.last_error = error
                server.dead_until = self._clock() + self.cool_down_s

    # -- one request ---------------------------------------------------------------------------

    def _pieces(self, prompt: Prompt, max_tokens: int, stop: Sequence[str], stats: StreamStats) -> Iterator[str]:
        body: dict[str, Any]
        prompt, max_tokens, stop = self.plan(prompt, max_tokens, stop)
        if isinstance(prompt, list) and self.supports_chat:
            path, body = "/v1/chat/completions", {"messages": prompt}
            if self.thinking == "off":  # llama-server's switch for templates that have one (Qwen3)
                body["chat_template_kwargs"] = {"enable_thinking": False}
        else:
            text = prompt if isinstance(prompt, str) else messages_to_text(prompt)
            path, body = "/v1/completions", {"prompt": text}
        body.update(max_tokens=max_tokens, temperature=self.temperature, stop=list(stop), stream=True)
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        tried: set[str] = set()
        errors: list[str] = []
        while True:
            server = self.acquire(tried)
            if server is None:
                raise LLMError(self._all_down_message(errors))
            tried.add(server.url)
            stats.server = server.url
            yielded = False
            error: str | None = None
            try:
                for piece in self._request(server, path, payload, stats):
                    yielded = True
                    yield piece
                return
            except ServerDown as exc:
                error = str(exc)
                if yielded:
                    raise LLMError(
                        f"LLM 서버의 응답이 중간에 끊겼습니다 (server failed mid-answer) {server.url}: {error}"
                    ) from None
                errors.append(f"{server.url} ({error})")
            finally:
                self.release(server, error)

    def _request(self, server: ServerState, path: str, payload: bytes, stats: StreamStats) -> Iterator[str]:
        cls = http.client.HTTPSConnection if server.scheme == "https" else http.client.HTTPConnection
        conn = cls(server.host, server.port, timeout=self.connect_timeout_s)
        try:
            try:
                conn.connect()
                if conn.sock is not None:
                    conn.sock.settimeout(self.timeout_s)
                conn.request(
                    "POST",
                    server.base_path + path,
                    body=payload,
                    headers={"Content-Type": "application/json", "Accept": "text/event-stream"},
                )
                response = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                raise ServerDown(_describe(exc)) from None
            if response.status >= 500:
                raise ServerDown(f"HTTP {response.status} {_error_text(response)}")
            if response.status != 200:
                raise LLMError(
                    f"LLM 서버가 요청을 거부했습니다 (request rejected) {server.url}: "
                    f"HTTP {response.status} {_error_text(response)}"
                )
            yield from self._events(response, stats)
        finally:
            conn.close()

    @staticmethod
    def _events(response: http.client.HTTPResponse, stats: StreamStats) -> Iterator[str]:
        while True:
            try:
                raw = response.readline()
            except (OSError, http.client.HTTPException) as exc:
                raise ServerDown(_describe(exc)) from None
            if not raw:
                return
            line = raw.decode("utf-8", errors="replace").strip()
            if not line.startswith("data:"):
                continue
            data = line[len("data:") :].strip()
            if data == "[DONE]":
                return
            try:
                event = json.loads(data)
            except json.JSONDecodeError:
                continue
            if "error" in event:
                raise LLMError(f"LLM 서버 오류 (server error): {event['error']}")
            for choice in event.get("choices") or ():
                piece = choice_piece(choice, stats)
                if piece:
                    yield piece

    def _all_down_message(self, errors: list[str]) -> str:
        detail = "; ".join(errors) if errors else "모두 재시도 대기 중 (all cooling down)"
        return (
            f"LLM 서버에 연결할 수 없습니다 (no LLM server available): {detail} — "
            "서버가 실행 중인지 확인하고 `onprem-bot doctor`를 실행하세요"
        )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "시간 초과 (timeout)"
    if isinstance(exc, ConnectionRefusedError):
        return "연결 거부 (connection refused)"
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


def _error_text(response: http.client.HTTPResponse) -> str:
    try:
        return response.read(300).decode("utf-8", errors="replace").strip()
    except (OSError, http.client.HTTPException):
        return ""
