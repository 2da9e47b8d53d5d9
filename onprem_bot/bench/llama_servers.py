"""Real llama.cpp servers on 127.0.0.1 for ``bench load``: started, waited for, always killed.

Each server is ``python -m llama_cpp.server --model GGUF --host 127.0.0.1 --port P`` (the
``[server]`` extras of llama-cpp-python; one request at a time) or, with ``server_bin``, llama.cpp's own
``llama-server -m GGUF -np SLOTS`` (parallel slots decoded together by continuous batching; its
context is ``n_ctx × slots`` so that each slot has ``n_ctx``) on a free loopback port, with ``n_threads`` chosen so
that the servers share the machine's cores fairly (``cores // servers``, at least 1). Servers are
killed when the ``with`` block ends, however it ends (an error, Ctrl-C, SIGTERM while the block
runs); an ``atexit`` hook kills any left over if the interpreter exits some other way.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from onprem_bot.llm.base import LLMError

HOST = "127.0.0.1"
"""The only address a server listens on and the benchmark talks to."""
START_TIMEOUT_S = 120.0
"""Seconds to wait for every server to answer ``GET /v1/models``."""
POLL_S = 0.5
KILL_WAIT_S = 30.0

_live: set[subprocess.Popen[bytes]] = set()
_live_lock = threading.Lock()


@dataclass(frozen=True)
class Server:
    """One started server."""

    url: str
    port: int
    n_threads: int
    log: Path


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def is_up(port: int) -> bool:
    """True when the server on ``port`` answers ``GET /v1/models`` with 200 (2 s timeout)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("GET", "/v1/models")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def threads_per_server(servers: int, cores: int | None = None) -> int:
    """CPU threads for each of ``servers`` servers so that together they use the cores once."""
    return max(1, (cores or os.cpu_count() or 1) // max(1, servers))


def server_extras_missing() -> str | None:
    """Why ``llama_cpp.server`` cannot run here (a missing package), or None."""
    import importlib.util

    for module in ("llama_cpp", "uvicorn", "sse_starlette", "fastapi", "starlette_context"):
        if importlib.util.find_spec(module) is None:
            return f"{module} 패키지가 없습니다 (llama-cpp-python[server] extras not installed)"
    return None


def _binary_missing(server_bin: Path) -> str | None:
    """Why ``server_bin`` cannot run (not a file, not executable), or None."""
    if not server_bin.is_file() or not os.access(server_bin, os.X_OK):
        return f"llama-server 실행 파일이 없습니다 (not an executable): {server_bin}"
    return None


def _command(
    model: Path, port: int, n_ctx: int, threads: int, n_gpu_layers: int, server_bin: Path | None, slots: int
) -> list[str]:
    """The server's command line: llama-cpp-python's server, or ``server_bin`` (llama-server) with ``slots``."""
    if server_bin is None:
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", HOST]
        cmd += ["--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(threads)]
        return [*cmd, "--n_threads_batch", str(threads), "--n_gpu_layers", str(n_gpu_layers), "--verbose", "False"]
    cmd = [str(server_bin), "-m", str(model), "--host", HOST, "--port", str(port), "-c", str(n_ctx * slots)]
    return [*cmd, "-np", str(slots), "-t", str(threads), "-tb", str(threads), "-ngl", str(n_gpu_layers)]


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):  # a kill that did not take: nothing more to do
        proc.wait(KILL_WAIT_S)
    with _live_lock:
        _live.discard(proc)


def _kill_all() -> None:
    with _live_lock:
        procs = list(_live)
    for proc in procs:
        _kill(proc)


atexit.register(_kill_all)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While the block runs (main thread only), SIGTERM raises KeyboardInterrupt so ``finally`` runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous: Any = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def llama_servers(
    model: Path,
    count: int,
    *,
    n_ctx: int,
    n_threads: int = 0,
    n_gpu_layers: int = 0,
    start_timeout_s: float = START_TIMEOUT_S,
    say: Callable[[str], None] = lambda _m: None,
    server_bin: Path | None = None,
    slots: int = 1,
    extra_args: Sequence[str] = (),
) -> Iterator[list[Server]]:
    """Start ``count`` llama.cpp servers for ``model`` on 127.0.0.1, yield them once all answer, kill them after.

    ``n_threads`` per server (0: :func:`threads_per_server`); ``n_ctx`` tokens of context each (per slot);
    ``extra_args`` go to the end of each server's command line (e.g. llama-server's ``--no-repack`` where
    the CPU reports AMX but the machine does not let processes use it).
    :class:`LLMError` when one exits early (with the end of its log) or they are not up within
    ``start_timeout_s`` seconds.
    """
    if slots > 1 and server_bin is None:
        raise LLMError(
            "python -m llama_cpp.server 는 병렬 슬롯이 없습니다 (no parallel slots): --server-bin llama-server"
        )
    missing = server_extras_missing() if server_bin is None else _binary_missing(server_bin)
    if missing:
        raise LLMError(missing)
    threads = n_threads or threads_per_server(count)
    logs = Path(tempfile.mkdtemp(prefix="onprem-bot-llama-servers-"))
    started: list[tuple[Server, subprocess.Popen[bytes]]] = []
    with _sigterm_interrupts():
        try:
            for i in range(count):
                port = free_port()
                cmd = [*_command(model, port, n_ctx, threads, n_gpu_layers, server_bin, slots), *extra_args]
                log = logs / f"server{i}.log"
                with log.open("wb") as out:
                    proc = subprocess.Popen(
                        cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"}
                    )
                with _live_lock:
                    _live.add(proc)
                started.append((Server(f"http://{HOST}:{port}", port, threads, log), proc))
            say(f"llama.cpp 서버 {count}대 시작 (starting), 각 {threads} 스레드 …")
            deadline = time.monotonic() + start_timeout_s
            while not all(is_up(s.port) for s, _ in started):
                for server, proc in started:
                    if proc.poll() is not None:
                        tail = server.log.read_text(errors="replace")[-800:]
                        raise LLMError(f"llama.cpp 서버가 일찍 종료되었습니다 (server exited early): {tail}")
                if time.monotonic() > deadline:
                    raise LLMError(f"llama.cpp 서버가 {start_timeout_s:.0f}초 안에 뜨지 않았습니다 (not up in time)")
                time.sleep(POLL_S)
            yield [s for s, _ in started]
        finally:
            for _, proc in started:
                _kill(proc)
