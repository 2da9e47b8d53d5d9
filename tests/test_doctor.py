"""`onprem-bot doctor`: one line per check, non-zero exit on a failure, every check named."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from onprem_bot.cli import main
from tests.statute_sample import STATUTE_MD

CHECKS = [
    "python",
    "packages",
    "llama-cpp-python",
    "gpu",
    "llm",
    "embedder",
    "profile",
    "database",
    "disk",
    "offline",
    "faq",
    "tesseract",
]


def doctor(*args: str) -> tuple[int, str]:
    try:
        main(["doctor", *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, ""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code, _ = doctor(*args)
    return code, capsys.readouterr().out


def test_every_check_is_one_line_and_json_names_them(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--json")
    checks = json.loads(out)["checks"]
    assert [c["name"] for c in checks] == CHECKS
    assert all(c["status"] in ("ok", "warn", "fail") and c["detail"] for c in checks)
    by_name = {c["name"]: c for c in checks}
    assert by_name["database"]["status"] == "ok" and "head" in by_name["database"]["detail"]
    assert "HF_HUB_OFFLINE=1" in by_name["offline"]["detail"]
    assert "CPU features" in by_name["llama-cpp-python"]["detail"]
    assert "llama-cpp-python" in by_name["packages"]["detail"]
    code_text, text = run(capsys)
    lines = text.strip().splitlines()
    assert len(lines) == len(CHECKS) and all(line.startswith("[") for line in lines)
    assert code == code_text == (1 if any(c["status"] == "fail" for c in checks) else 0)


def test_embedder_that_does_not_match_the_index_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    law = tmp_path / "시험근로법.md"
    law.write_text(STATUTE_MD, encoding="utf-8")
    main(["ingest", str(law), "--json"])  # with the hash embedder (64 dimensions)
    capsys.readouterr()
    _code, out = run(capsys, "--json")
    embedder = {c["name"]: c for c in json.loads(out)["checks"]}["embedder"]
    assert embedder["status"] == "ok" and "index matches" in embedder["detail"]
    monkeypatch.setenv("ONPREM_BOT_EMBEDDER__BACKEND", "use")  # 512 dimensions
    code, out = run(capsys)
    assert code == 1
    line = next(line for line in out.splitlines() if "embedder:" in line)
    assert line.startswith("[FAIL]") and "512" in line and "64" in line and "re-ingest" in line


def test_missing_sentence_transformers_folder_and_unreachable_database_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    monkeypatch.setenv("ONPREM_BOT_DATABASE_URL", f"postgresql+psycopg://u:secret@127.0.0.1:{port}/x")
    monkeypatch.setenv("ONPREM_BOT_EMBEDDER__BACKEND", "sentence-transformers")
    monkeypatch.setenv("ONPREM_BOT_EMBEDDER__MODEL_PATH", str(tmp_path / "KR-SBERT"))
    code, out = run(capsys)
    assert code == 1
    lines = {line.split("]", 1)[1].split(":", 1)[0].strip(): line for line in out.strip().splitlines()}
    assert lines["database"].startswith("[FAIL]") and "secret" not in out
    assert lines["embedder"].startswith("[FAIL]") and "KR-SBERT" in lines["embedder"]


def test_sentence_transformers_folder_dimension_is_read_without_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "KR-SBERT"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "modules.json").write_text("[]", encoding="utf-8")
    (folder / "1_Pooling" / "config.json").write_text('{"word_embedding_dimension": 768}', encoding="utf-8")
    monkeypatch.setenv("ONPREM_BOT_EMBEDDER__BACKEND", "sentence-transformers")
    monkeypatch.setenv("ONPREM_BOT_EMBEDDER__MODEL_PATH", str(folder))
    _code, out = run(capsys, "--json")
    embedder = {c["name"]: c for c in json.loads(out)["checks"]}["embedder"]
    assert embedder["status"] == "ok" and "768" in embedder["detail"]


def test_faq_check_says_whether_the_learned_scorer_decides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from onprem_bot.faq.features import FEATURES
    from onprem_bot.faq.scorer import LinearScorer, save_scorer

    def faq_check() -> dict[str, str]:
        _code, out = run(capsys, "--json")
        return {c["name"]: c for c in json.loads(out)["checks"]}["faq"]

    shipped = faq_check()  # the shipped scorer is for USE; the tests embed with the hash embedder
    assert shipped["status"] == "warn" and "faq calibrate --write" in shipped["detail"]
    n = len(FEATURES)
    mine = LinearScorer(FEATURES, (0.0,) * n, (1.0,) * n, (0.0,) * n, 0.0, 0.5, 0.0, "hash-64", 0.2, 0.4)
    save_scorer(mine, tmp_path / "mine.json")
    monkeypatch.setenv("ONPREM_BOT_FAQ__SCORER_FILE", str(tmp_path / "mine.json"))
    ok = faq_check()
    assert ok["status"] == "ok" and "learned scorer" in ok["detail"]
    monkeypatch.setenv("ONPREM_BOT_FAQ__LEARNED", "false")
    assert faq_check()["status"] == "ok" and "rule" in faq_check()["detail"]
