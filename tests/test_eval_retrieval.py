"""Retrieval metrics on hand-computed cases; the eval and bench commands end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from onprem_bot.eval.metrics import first_relevant_rank, hit_at, is_relevant, mrr_at
from onprem_bot.eval.retrieval import read_dataset
from onprem_bot.types import Chunk
from tests.statute_sample import STATUTE_MD

REPO = Path(__file__).resolve().parents[1]


def chunk(title: str, article: str | None, text: str = "") -> Chunk:
    return Chunk("id", "doc", 0, "article", text, doc_title=title, article=article)


def test_relevance_rules() -> None:
    c = chunk("개인정보 보호법", "제17조", "개인정보를 제3자에게 제공할 수 있다")
    assert is_relevant(c, {"doc_title": "개인정보보호법", "article": "제17조"})  # spaces ignored
    assert not is_relevant(c, {"doc_title": "개인정보 보호법", "article": "제18조"})
    assert is_relevant(c, {"chunk_text_contains": "제3자에게 제공"})
    assert is_relevant(c, {"doc_title": "개인정보 보호법"})
    assert not is_relevant(c, {})


def test_hit_at_and_mrr_hand_computed() -> None:
    ranks = [1, 3, None, 6, 2]
    assert hit_at(ranks, 1) == pytest.approx(1 / 5)
    assert hit_at(ranks, 3) == pytest.approx(3 / 5)
    assert hit_at(ranks, 5) == pytest.approx(3 / 5)
    assert hit_at(ranks, 10) == pytest.approx(4 / 5)
    assert mrr_at(ranks, 10) == pytest.approx((1 + 1 / 3 + 1 / 6 + 1 / 2) / 5)
    assert mrr_at(ranks, 3) == pytest.approx((1 + 1 / 3 + 1 / 2) / 5)
    assert hit_at([], 5) == 0.0 and mrr_at([]) == 0.0
    chunks = [chunk("민법", "제1조"), chunk("민법", "제4조"), chunk("민법", "제4조")]
    assert first_relevant_rank(chunks, {"doc_title": "민법", "article": "제4조"}) == 2
    assert first_relevant_rank(chunks, {"doc_title": "민법", "article": "제5조"}) is None


def test_bad_datasets_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "연차?", "doc_title": "근로기준법"}\n{"question": "x"\n', encoding="utf-8")
    with pytest.raises(Exception, match=r"bad.jsonl:2: JSON"):
        read_dataset(bad)
    bad.write_text('{"question": "연차?"}\n', encoding="utf-8")
    with pytest.raises(Exception, match="need one of doc_title, article, chunk_text_contains"):
        read_dataset(bad)
    with pytest.raises(Exception, match="dataset not found"):
        read_dataset(tmp_path / "none.jsonl")


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from onprem_bot.cli import main; main()", "--home", str(home), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
    )


def test_eval_command_reports_three_modes(tmp_path: Path) -> None:
    law = tmp_path / "시험근로법.md"
    law.write_text(STATUTE_MD, encoding="utf-8")
    home = tmp_path / "home"
    assert run_cli("ingest", str(law), home=home).returncode == 0
    data = tmp_path / "q.jsonl"
    rows = [
        {"question": "시험근로법 제60조 알려줘", "doc_title": "시험근로법", "article": "제60조"},
        {"question": "유급휴가 며칠 주나요", "chunk_text_contains": "15일의 유급휴가"},
    ]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = run_cli("eval", str(data), "--retrieval-only", "--json", home=home)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["questions"] == 2 and list(report["modes"]) == ["bm25", "dense", "hybrid"]
    assert report["modes"]["hybrid"]["hit@10"] == 1.0 and report["modes"]["hybrid"]["ranks"][0] == 1
    table = run_cli("eval", str(data), "--retrieval-only", home=home)
    assert "hit@5" in table.stdout and "hybrid" in table.stdout
    bad = run_cli("eval", str(data), "--modes", "magic", home=home)
    assert bad.returncode != 0 and "valid: hybrid, bm25, dense" in bad.stderr


@pytest.mark.slow
def test_bench_retrieval_prints_the_contract_fields(tmp_path: Path) -> None:
    out = run_cli(
        "bench", "retrieval", "--chunks", "300", "--queries", "5", "--no-encoder", "--json", home=tmp_path / "home"
    )
    assert out.returncode == 0, out.stderr
    (size,) = json.loads(out.stdout)["sizes"]
    assert size["chunks"] == 300
    for key in (
        "bm25_p95_ms",
        "dense_search_p95_ms",
        "hybrid_p95_ms",
        "query_encode_p50_ms",
        "bm25_qps",
        "rank_bm25_qps",
        "index_load_s",
        "rss_mb",
    ):
        assert key in size


def test_a_pdf_row_accepts_the_right_page_when_the_article_label_differs() -> None:
    from onprem_bot.eval.metrics import is_relevant
    from onprem_bot.types import Chunk

    table = Chunk(
        "1", "d", 0, "supplementary", "일비 25,000원", doc_title="출장규칙", article="부칙", page=14, page_end=16
    )
    gold = {"doc_title": "출장규칙", "article": "별표 1", "page": 15}
    assert is_relevant(table, gold)
    assert not is_relevant(table, {**gold, "page": 17})
    assert not is_relevant(table, {"doc_title": "출장규칙", "article": "별표 1"})
    assert not is_relevant(table, {**gold, "doc_title": "급여규정"})
