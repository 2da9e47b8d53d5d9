"""`ask` with the real embedded GGUF (llama.cpp) over a real statute, through the console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onprem_bot.llm import default_model_path, install_root
from tests.test_ingest import run_cli

REPO = Path(__file__).resolve().parents[1]
MODEL = default_model_path(install_root())

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not MODEL.is_file(), reason=f"embedded default model not installed ({MODEL}); run make install"),
]


def test_ask_json_with_the_real_model(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, _out, err = run_cli("ingest", str(REPO / "corpus" / "근로기준법"), home=home)
    assert code == 0, err
    code, out, err = run_cli(
        "ask", "1주 간의 근로시간은 휴게시간을 제외하고 몇 시간을 초과할 수 없나요?", "--json", home=home
    )
    assert code == 0, err
    answer = json.loads(out)
    assert set(answer) >= {"answer", "route", "citations", "check", "timings"}
    assert answer["route"] in ("rag", "extractive") and answer["answer"].strip()
    assert answer["citations"] and all(c["doc_title"].startswith("근로기준법") for c in answer["citations"])
    assert answer["check"]["verdict"] in ("pass", "corrected", "flagged")
    assert "generation_ms" in answer["timings"]  # the model really ran
    if answer["check"]["verdict"] != "flagged":
        assert "40시간" in answer["answer"] or answer["route"] == "extractive"


def test_missing_model_falls_back_to_quoting_and_doctor_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("ONPREM_BOT_LLM__MODEL_PATH", str(tmp_path / "없는모델.gguf"))
    code, _out, err = run_cli("ingest", str(REPO / "corpus" / "최저임금법"), home=home)
    assert code == 0, err
    code, out, err = run_cli("ask", "최저임금보다 적게 줘도 되나요?", "--json", home=home)
    assert code == 0, err
    answer = json.loads(out)
    assert answer["route"] == "extractive" and "없는모델.gguf" in " ".join(answer["notices"])
    code, out, _err = run_cli("doctor", home=home)
    assert code == 1 and "없는모델.gguf" in out and "doctor" not in _err
