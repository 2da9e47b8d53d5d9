"""`onprem-bot check` and `onprem-bot bench check` through the real console entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onprem_bot.cli import main
from tests.conftest import REPO

ART60 = (
    "제60조(연차 유급휴가)\n① 사용자는 1년간 80퍼센트 이상 출근한 근로자에게 15일의 유급휴가를 주어야 한다.\n"
    "② 사용자는 계속하여 근로한 기간이 1년 미만인 근로자 또는 1년간 80퍼센트 미만 출근한 근로자에게 1개월 개근 시 "
    "1일의 유급휴가를 주어야 한다.\n"
)
ART56 = (
    "제56조(연장ㆍ야간 및 휴일 근로)\n① 사용자는 연장근로에 대하여는 통상임금의 100분의 50 이상을 가산하여 "
    "근로자에게 지급하여야 한다.\n③ 사용자는 야간근로(오후 10시부터 다음 날 오전 6시 사이의 근로를 말한다)에 대하여는 "
    "통상임금의 100분의 50 이상을 가산하여 근로자에게 지급하여야 한다.\n"
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``onprem-bot ARGS``."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
        raise SystemExit(0)
    captured = capsys.readouterr()
    code = exit_info.value.code
    return (0 if code is None else int(code)), captured.out, captured.err


def check_json(capsys: pytest.CaptureFixture[str], answer: str, *sources: Path) -> dict:
    code, out, err = run(capsys, "check", "--answer", answer, "--sources", *map(str, sources), "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def sources(tmp_path: Path) -> tuple[Path, Path]:
    a = tmp_path / "art60.txt"
    a.write_text(ART60, encoding="utf-8")
    b = tmp_path / "art56.json"
    b.write_text(json.dumps({"text": ART56, "doc_title": "근로기준법", "article": "제56조"}), encoding="utf-8")
    return a, b


def test_json_contract_and_verdicts(capsys: pytest.CaptureFixture[str], sources: tuple[Path, Path]) -> None:
    ok = check_json(capsys, "1년간 80% 이상 출근하면 15일의 유급휴가가 생깁니다 [1].", *sources)
    assert ok["verdict"] == "pass" and len(ok["findings"]) == 3
    for f in ok["findings"]:
        assert {"kind", "value", "supported", "evidence", "suggestion"} <= set(f)
        assert f["supported"] is True and f["suggestion"] is None and "15일" in ART60
    wrong = check_json(capsys, "1년간 80% 이상 출근하면 30일의 유급휴가가 생깁니다 [1].", *sources)
    bad = [f for f in wrong["findings"] if f["supported"] is False]
    assert wrong["verdict"] == "corrected" and [(f["value"], f["suggestion"]) for f in bad] == [("30일", "15일")]
    assert "15일의 유급휴가" in bad[0]["evidence"] and "15일의 유급휴가" in wrong["text"]
    # the second file is [2]: a value cited to it is checked there, the ratio restated as a percentage
    night = check_json(capsys, "야간근로에는 통상임금의 50% 이상을 가산해야 합니다 [2].", *sources)
    assert night["verdict"] == "pass" and night["findings"][0]["kind"] == "percent"
    swapped = check_json(capsys, "야간근로는 오후 6시부터 다음 날 오전 10시 사이의 근로입니다 [2].", *sources)
    assert swapped["verdict"] != "pass"


def test_readable_korean_summary(capsys: pytest.CaptureFixture[str], sources: tuple[Path, Path]) -> None:
    answer = "1년간 80% 이상 출근하면 30일의 유급휴가가 생깁니다 [1]."
    code, out, _ = run(capsys, "check", "--answer", answer, "--sources", str(sources[0]))
    assert code == 0 and out.startswith("판정: 수정함") and "30일 → 15일" in out and "수정된 답변" in out
    code, out, _ = run(capsys, "check", "--answer", "연차는 30일입니다 [1].", "--sources", str(sources[0]))
    assert code == 0 and "확인 필요" in out and "⟦30일⟧" in out  # 15일 or 1일: no single plausible value
    code, out, _ = run(capsys, "check", "--answer", "취업규칙을 확인하세요.", "--sources", str(sources[0]))
    assert code == 0 and "통과" in out and "없습니다" in out


def test_answers_without_numbers_pass_with_no_findings(
    capsys: pytest.CaptureFixture[str], sources: tuple[Path, Path]
) -> None:
    result = check_json(capsys, "연차휴가에 관해서는 인사팀에 문의하시기 바랍니다 [1].", *sources)
    assert result == {**result, "verdict": "pass", "findings": []}


def test_urls_and_phone_numbers_are_not_facts(capsys: pytest.CaptureFixture[str], sources: tuple[Path, Path]) -> None:
    answer = "문의: 02-1234-5678, 1588-0000, https://www.moel.go.kr/60 또는 help@moel.go.kr [1]."
    assert check_json(capsys, answer, sources[0])["findings"] == []


def test_mixed_arabic_and_korean_numerals(capsys: pytest.CaptureFixture[str], sources: tuple[Path, Path]) -> None:
    ok = check_json(capsys, "입사 첫해에는 한 달 개근하면 하루의 유급휴가가 생깁니다 [1].", sources[0])
    assert ok["verdict"] == "pass" and {f["value"] for f in ok["findings"]} == {"1개월", "1일"}
    wrong = check_json(capsys, "1년간 80% 이상 출근하면 열흘의 유급휴가가 생깁니다 [1].", sources[0])
    assert wrong["verdict"] != "pass" and [f["value"] for f in wrong["findings"] if not f["supported"]] == ["10일"]


def test_very_long_answer(capsys: pytest.CaptureFixture[str], sources: tuple[Path, Path]) -> None:
    answer = "1년간 80% 이상 출근하면 15일의 유급휴가가 생깁니다 [1]. " * 150  # ~5,000 characters
    result = check_json(capsys, answer, *sources)
    assert result["verdict"] == "pass" and len(result["findings"]) == 450


def test_bad_input_is_one_korean_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sources: tuple[Path, Path]
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n", encoding="utf-8")
    no_hits = tmp_path / "hits.json"
    no_hits.write_text('{"hits": []}', encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    for path, words in (
        (empty, "비어 있습니다"),
        (no_hits, "비어 있습니다"),
        (tmp_path / "missing.txt", "없습니다"),
        (broken, "JSON"),
        (tmp_path, "폴더"),
    ):
        code, out, err = run(capsys, "check", "--answer", "연차는 15일입니다 [1].", "--sources", str(path), "--json")
        assert code != 0 and out == "" and words in err, err
        assert err.startswith("오류:") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, _, err = run(capsys, "check", "--answer", "가" * 100_001, "--sources", str(sources[0]))
    assert code != 0 and "너무 깁니다" in err and len(err.strip().splitlines()) == 1


def test_bench_check_prints_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    corpus = REPO / "corpus" / "근로기준법"
    code, out, err = run(
        capsys, "bench", "check", "--answers", "5", "--repeats", "1", "--corpus", str(corpus), "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["answers"] == 5 and report["sources"] == 5 and report["repeats"] == 1
    for key in ("check_p50_ms", "check_p95_ms", "warm_p50_ms", "warm_p95_ms", "answer_chars_mean", "verdicts"):
        assert key in report
    assert 240 <= report["answer_chars_mean"] <= 450 and sum(report["verdicts"].values()) == 5
