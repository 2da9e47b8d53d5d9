"""The page-window baseline evaluation: windows, the hit rule, and one small run end to end (hash embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onprem_bot.config import Settings
from onprem_bot.eval.page_windows import evaluate, is_hit, main, metrics, page_windows, pdf_paths
from onprem_bot.types import Chunk
from tests.fixtures.make_docs import make_pdf

LONG = "가" * 200  # with the article line, page 1 holds ~650 characters: windows of 500 and ~150
PAGE_1 = ["제1조(목적) 이 규칙은 직원의 출장에 관하여 필요한 사항을 정한다.", LONG, LONG, LONG]
PAGE_2 = [
    "제2조(숙박비) 출장자의 숙박비는 1박 70,000원 이내로 한다.",
    "부 칙",
    "이 규칙은 2024년 1월 1일부터 시행한다.",
]


@pytest.fixture
def pdf_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "pdfs"
    folder.mkdir()
    make_pdf(folder / "3_06_출장규칙(240214).pdf", [PAGE_1, PAGE_2], cjk=True)
    (folder / "notes.txt").write_text("not a PDF", encoding="utf-8")
    return folder


def test_windows_are_500_characters_per_page_labelled_with_title_and_page(pdf_folder: Path) -> None:
    [path] = pdf_paths(pdf_folder)
    windows = page_windows(path, "출장규칙", "doc000")
    pages = [w.page for w in windows]
    assert pages == sorted(pages) and set(pages) == {1, 2}
    first_page = [w for w in windows if w.page == 1]
    assert [len(w.text) for w in first_page[:-1]] == [500] * (len(first_page) - 1)
    assert 0 < len(first_page[-1].text) < 500  # the last, shorter window is kept
    assert "".join(w.text for w in first_page).count("가") == 3 * 200  # no overlap, nothing lost
    assert all(w.doc_title == "출장규칙" and w.page_end == w.page and w.article is None for w in windows)
    assert len({w.id for w in windows}) == len(windows)
    assert next(len(w.text) for w in page_windows(path, "t", "d", size=20) if w.page == 2) == 20


def _chunk(article: str | None, page: int | None, page_end: int | None = None, title: str = "출장규칙") -> Chunk:
    return Chunk("c", "d", 0, "article", "text", doc_title=title, article=article, page=page, page_end=page_end)


def test_hit_rule() -> None:
    titles = {"3_06_출장규칙(240214).pdf": "출장규칙"}
    gold = {"doc_file": "3_06_출장규칙(240214).pdf", "article": "별표 1", "page": 15}
    assert is_hit(_chunk("별표 1", 3), gold, titles)  # right article
    assert is_hit(_chunk("별표1", None), gold, titles)  # spaces ignored
    assert is_hit(_chunk("제5조", 14, 16), gold, titles)  # covers the page
    assert not is_hit(_chunk("제5조", 16, 17), gold, titles)
    assert not is_hit(_chunk("별표 1", 15, title="급여규정"), gold, titles)  # another document
    assert is_hit(_chunk(None, 15), {"doc_title": "출장 규칙", "article": "제3조", "page": 15}, {})
    assert not is_hit(_chunk(None, 15), {"doc_title": "출장규칙", "article": "제3조"}, {})  # no page: article only
    supplementary = {"doc_title": "출장규칙", "article": "부칙"}
    assert is_hit(_chunk("부칙 <2024. 1. 1.> 제1조", 30), supplementary, {})
    assert is_hit(_chunk("부 칙<2009. 12. 24>", 30), supplementary, {})
    assert not is_hit(_chunk("제1조", 30), supplementary, {})
    assert not is_hit(_chunk("부칙", 1), {"doc_title": "출장규칙", "article": "제1조"}, {})


def test_metrics_per_kind_and_overall() -> None:
    m = metrics([1, None, 3, 12], ["table", "article", "table", "exception"], [1, 5, 10])
    assert m["overall"] == {"n": 4, "hit@1": 0.25, "hit@5": 0.5, "hit@10": 0.5, "mrr@10": round((1 + 1 / 3) / 4, 4)}
    assert list(m["by_kind"]) == ["article", "table", "exception"]
    assert m["by_kind"]["table"]["hit@1"] == 0.5


def test_one_run_over_both_sets(pdf_folder: Path, settings: Settings, tmp_path: Path) -> None:
    rows = [
        {"question": "출장 숙박비 한도는?", "doc_file": "3_06_출장규칙(240214).pdf", "article": "제2조", "page": 2},
        {
            "question": "이 규칙은 언제부터 시행하나요?",
            "doc_title": "출장규칙",
            "article": "부칙",
            "kind": "supplementary",
        },
    ]
    report = evaluate(pdf_folder, rows, settings, [1, 5], tmp_path / "cache.db")
    assert report["pdfs"] == 1 and report["chunks"]["windows"] == 3 and report["chunks"]["structure"] >= 2
    structure, windows = report["sets"]["structure"], report["sets"]["windows"]
    assert structure["overall"]["hit@5"] == 1.0  # two documents' worth of chunks: the right one is in the top 5
    assert windows["by_kind"]["supplementary"]["n"] == 1 and set(windows["by_kind"]) == {"supplementary", "other"}
    assert report["per_question"][0]["windows"]["rank"] is not None  # the page rule applies to windows
    assert report["per_question"][1]["windows"]["rank"] is None  # no page in the row, and windows have no article
    assert not (settings.home / "index").exists()  # nothing written into the product's home


def test_cli_json_and_time_ingest(
    pdf_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    questions = tmp_path / "q.jsonl"
    row = {"question": "숙박비는 얼마?", "doc_title": "출장규칙", "article": "제2조", "page": 2, "kind": "article"}
    questions.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out" / "report.json"
    argv = [str(pdf_folder), str(questions), "--json", str(out), "--k", "1,5", "--cache", str(tmp_path / "c.db")]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "structure" in printed and "windows" in printed and "hit@5" in printed
    assert set(json.loads(out.read_text(encoding="utf-8"))["sets"]) == {"structure", "windows"}
    assert main([str(pdf_folder), "--time-ingest"]) == 0
    assert "load + chunk (no embedding)" in capsys.readouterr().out
    assert main([str(tmp_path / "missing"), "--time-ingest"]) == 1
