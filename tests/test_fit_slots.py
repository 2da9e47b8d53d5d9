"""`doctor`'s fit check with parallel slots: each of ``server_slots`` slots has ``n_ctx / server_slots``
tokens and must hold max_tokens + thinking + the prompt allowance; the KV cache stays that of n_ctx."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onprem_bot.cli import main
from onprem_bot.cli.doctor import _model
from onprem_bot.config import load_settings
from onprem_bot.llm.fit import PROMPT_ALLOWANCE, estimate_fit, slot_budget
from tests.test_llm import LLAMA3_8B, write_gguf_header

FREE = (1 << 40, "given")
R1 = {**LLAMA3_8B, "general.name": "DeepSeek-R1-Distill-Llama-8B"}


def test_slot_budget_counts_answer_thinking_and_prompt() -> None:
    ok = slot_budget(8192, 4, max_tokens=256)
    assert (ok.slot_ctx, ok.needed, ok.warning) == (2048, 256 + PROMPT_ALLOWANCE, None)
    small = slot_budget(4096, 4, max_tokens=256)
    assert small.slot_ctx == 1024 < small.needed
    assert small.warning and "슬롯당 문맥 1024" in small.warning and "server_slots 4" in small.warning
    assert str(1280 * 4) in small.warning  # the n_ctx that would do
    assert slot_budget(4096, 4, max_tokens=64).warning  # 1024 < 64 + 1024
    assert slot_budget(4096, 2, max_tokens=64).warning is None
    assert slot_budget(2048, 1, max_tokens=256, think_tokens=1024).warning  # one slot, a thinker's budget


def test_estimate_fit_splits_the_context_but_not_the_kv_cache(tmp_path: Path) -> None:
    path = write_gguf_header(tmp_path / "llama3-8b.gguf", LLAMA3_8B, 4_920_000_000)
    one = estimate_fit(path, 8192, free=FREE, max_tokens=256)
    four = estimate_fit(path, 8192, free=FREE, server_slots=4, max_tokens=256)
    assert four.kv_bytes == one.kv_bytes == 1 << 30 and four.total_bytes == one.total_bytes
    assert (four.server_slots, four.slot_ctx, four.slot_needed) == (4, 2048, 1280)
    assert "슬롯 4개 × 2048 토큰" in four.message and not four.warnings
    eight = estimate_fit(path, 8192, free=FREE, server_slots=8, max_tokens=256)
    assert eight.slot_ctx == 1024 and any("슬롯당 문맥 1024" in w for w in eight.warnings)
    assert estimate_fit(path, 8192, free=FREE, server_slots=8).warnings == []  # no max_tokens: not checked


def test_a_reasoning_model_needs_room_to_think(tmp_path: Path) -> None:
    path = write_gguf_header(tmp_path / "r1.gguf", R1, 4_920_000_000)
    # 2048 per slot < 256 + 1024 thinking + 1024 prompt
    warned = estimate_fit(path, 8192, free=FREE, server_slots=4, max_tokens=256, think_tokens=1024)
    assert warned.slot_needed == 2304 and warned.warnings
    assert not estimate_fit(
        path, 8192, free=FREE, server_slots=4, max_tokens=256, think_tokens=1024, thinking="off"
    ).warnings
    plain = write_gguf_header(tmp_path / "llama.gguf", LLAMA3_8B, 4_920_000_000)  # does not think
    assert not estimate_fit(plain, 8192, free=FREE, server_slots=4, max_tokens=256, think_tokens=1024).warnings


def test_doctor_llm_line_warns_for_small_slots(tmp_path: Path) -> None:
    remote = {"backend": "remote", "servers": "http://127.0.0.1:9", "n_ctx": 4096}
    status, name, detail = _model(load_settings(env={}, home=tmp_path, llm={**remote, "server_slots": 4}))
    assert (status, name) == ("warn", "llm") and "슬롯 4개 × 1024 토큰" in detail and "슬롯당 문맥" in detail
    status, _, detail = _model(load_settings(env={}, home=tmp_path, llm={**remote, "server_slots": 2}))
    assert status == "ok" and "슬롯 2개 × 2048 토큰" in detail
    # the same GGUF here: its KV cache for n_ctx is reported (shared by the slots)
    gguf = write_gguf_header(tmp_path / "llama3-8b.gguf", LLAMA3_8B, 10_000_000)
    status, _, detail = _model(
        load_settings(env={}, home=tmp_path, llm={**remote, "server_slots": 2, "model_path": str(gguf)})
    )
    assert status == "ok" and "KV 0.54 GB" in detail
    # in-process: one slot of n_ctx
    small = {"model_path": str(gguf), "n_ctx": 1024, "max_tokens": 256}
    status, _, detail = _model(load_settings(env={}, home=tmp_path, llm=small))
    assert status == "warn" and "슬롯당 문맥 1024" in detail and "server_slots" not in detail.split("—")[1]
    status, _, _ = _model(load_settings(env={}, home=tmp_path, llm={**small, "n_ctx": 2048}))
    assert status == "ok"


def test_doctor_json_shows_the_slot_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "onprem-bot.toml"
    config.write_text(
        '[llm]\nbackend = "remote"\nservers = "http://127.0.0.1:9"\nn_ctx = 2048\nserver_slots = 4\n', encoding="utf-8"
    )
    with pytest.raises(SystemExit):
        main(["--config", str(config), "--home", str(tmp_path / "home"), "doctor", "--json"])
        raise SystemExit(0)
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["llm"]["status"] == "warn" and "슬롯당 문맥 512" in checks["llm"]["detail"]
