"""`onprem-bot faq …` and the FAQ route of `ask`, through the real console entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onprem_bot.app import App
from onprem_bot.cli import main
from tests.test_faq_data import tiny  # noqa: F401  (the fixture: a tiny copy of the shared data's layout)
from tests.test_ingest import run_cli


def cli_json(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> dict:
    with pytest.raises(SystemExit) as exit_info:
        main(["--home", str(home), *args])
        raise SystemExit(0)
    captured = capsys.readouterr()
    assert exit_info.value.code in (0, None), captured.err
    return json.loads(captured.out)


def test_match_contract_and_ask_route(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    hit = cli_json(capsys, home, "faq", "match", "연차휴가는 며칠인가요?", "--json")
    assert hit["matched"] is True and hit["score"] == 1.0
    assert {"matched", "id", "question", "answer", "score", "runner_up"} <= set(hit)
    answer = cli_json(capsys, home, "ask", "연차휴가는 며칠인가요?", "--json")
    assert answer["route"] == "faq" and answer["answer"] == hit["answer"]  # verbatim
    assert answer["citations"][0]["chunk_id"] == f"faq:{hit['id']}"
    miss = cli_json(capsys, home, "faq", "match", "오늘 점심 메뉴 추천해 줘", "--json")
    assert miss["matched"] is False and miss["id"] is None and miss["runner_up"]["id"] is not None


def test_import_export_list_and_immediate_refresh(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    src = tmp_path / "new.csv"
    src.write_text(
        "question,answer,category\n사내 와이파이 비밀번호는?,보안팀에 문의하세요.,IT\n,빈 질문,\n", encoding="utf-8"
    )
    report = cli_json(capsys, home, "faq", "import", str(src), "--json")
    assert report["added"] == 1 and report["rejected"][0]["line"] == 3 and "질문" in report["rejected"][0]["reason"]
    listed = cli_json(capsys, home, "faq", "list", "--json")["entries"]
    assert any(e["question"] == "사내 와이파이 비밀번호는?" for e in listed)
    out = tmp_path / "out.xlsx"
    code, stdout, stderr = run_cli("faq", "export", str(out), home=home)
    assert code == 0 and out.is_file() and str(len(listed)) in stdout, stderr


def test_edit_applies_without_restart(app: App) -> None:
    question = "구내식당 운영 시간은 언제인가요?"
    assert not app.faq.match(question).matched
    entry = app.faq_store.add(question, "11시 30분부터 13시 30분까지입니다.")
    assert app.pipeline.ask(question).route == "faq"
    app.faq_store.set_enabled(entry.id, False)
    assert not app.faq.match(question).matched  # disabled: falls through to retrieval


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("faq", "import", "missing.csv"), "파일이 없습니다"),
        (("faq", "match", ""), "비어"),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    code, _stdout, stderr = run_cli(*args, home=tmp_path / "home")
    assert code != 0 and message in stderr and "Traceback" not in stderr


def test_bad_columns_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("제목,내용\na,b\n", encoding="utf-8")
    code, _stdout, stderr = run_cli("faq", "import", str(bad), home=tmp_path / "home")
    assert code != 0 and "missing columns" in stderr and len(stderr.strip().splitlines()) == 1


def test_calibrate_fits_on_episodes_and_checks_its_weights(
    tiny: Path,  # noqa: F811  (the imported fixture)
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "home"
    report = cli_json(
        capsys, home, "faq", "calibrate", "--data", str(tiny), "--weights", "0.5:0.2,1.0", "--key-sides", "passage",
        "--write", str(tmp_path / "s.json"), "--json",
    )  # fmt: skip
    assert {"chosen", "settings", "episodes", "embedder"} <= set(report)
    assert {(s["lexical_weight"], s["char_weight"]) for s in report["settings"]} <= {(0.5, 0.2), (1.0, 0.0)}
    assert (tmp_path / "s.json").is_file() == (report["chosen"] is not None)
    for bad in ("0.7:0.5", "x", "1.5"):
        with pytest.raises(SystemExit) as exit_info:
            main(["--home", str(home), "faq", "calibrate", "--data", str(tiny), "--weights", bad])
        assert exit_info.value.code != 0
        assert "--weights" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["--home", str(home), "faq", "calibrate", "--data", str(tiny), "--key-sides", "both"])
    assert exit_info.value.code != 0
    assert "--key-sides" in capsys.readouterr().err


def test_episodes_report_the_installed_decision(
    tiny: Path,  # noqa: F811  (the imported fixture)
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = cli_json(capsys, tmp_path / "home", "faq", "episodes", "--data", str(tiny), "--json")
    assert {"decision", "episodes", "by_size", "by_source", "mcfaq_all"} <= set(out)
    assert "all" in out["by_size"]
    assert {"direct_right", "reached", "false_direct_near_miss", "false_direct_off_topic"} <= set(out["mcfaq_all"])
