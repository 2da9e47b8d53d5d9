"""Hybrid retrieval end to end on a real SQLite database (hash-seeded fake embedder)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from onprem_bot.app import App, build_app
from onprem_bot.config import load_settings
from onprem_bot.errors import QueryError, SearchIndexError
from onprem_bot.index.store import IndexStore
from tests.statute_sample import STATUTE_MD

REPO = Path(__file__).resolve().parents[1]


def test_article_named_in_the_question_comes_first(indexed: App) -> None:
    hits = indexed.retriever.run("시험근로법 제60조 내용 알려줘", k=3)
    assert hits[0].chunk.article == "제60조" and hits[0].chunk.doc_title == "시험근로법"
    assert [h.rank for h in hits] == [1, 2, 3]
    hits = indexed.retriever.run("급여규정 6조", k=3)
    assert (hits[0].chunk.doc_title, hits[0].chunk.article) == ("급여규정", "제6조")


def test_colloquial_words_reach_the_legal_terms_through_synonyms(indexed: App) -> None:
    hits = indexed.retriever.run("봉급", k=3, mode="bm25")  # 봉급 is in no document: 봉급 → 임금, 급여
    assert hits and "급여규정" in {h.chunk.doc_title for h in hits}
    assert all("급여" in h.chunk.text or "임금" in h.chunk.text for h in hits)


def test_administrators_extend_the_synonyms_in_home(indexed: App) -> None:
    assert (
        indexed.retriever.run("샐러리", k=3, mode="bm25") == []
    )  # 샐러리 is no word of the documents or of the shipped synonyms
    (indexed.settings.home / "synonyms.tsv").write_text("# 우리 회사 말\n샐러리\t지급일\n", encoding="utf-8")
    extended = build_app(indexed.settings)
    hits = extended.retriever.run("샐러리", k=1, mode="bm25")
    assert hits[0].chunk.article == "제6조" and hits[0].chunk.article_title == "지급일"


def test_modes_and_scores(indexed: App) -> None:
    for mode in ("bm25", "dense", "hybrid"):
        hits = indexed.retriever.run("유급휴가를 주어야 한다", k=5, mode=mode)
        assert hits and all(h.score >= hits[-1].score for h in hits), mode
    hybrid = indexed.retriever.run("유급휴가를 주어야 한다", k=5)
    assert all(h.score >= 0 for h in hybrid) and any(h.bm25_score > 0 for h in hybrid)
    with pytest.raises(ValueError, match="valid: hybrid, bm25, dense"):
        indexed.retriever.run("휴가", mode="magic")


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "empty question"),
        ("   ", "empty question"),
        ("휴가 " * 7000, "question too long"),
        ("?!... ~~ !!", "no searchable words"),
        ("what is the weather like", "ask in Korean"),
    ],
)
def test_bad_questions_are_clear_errors(indexed: App, question: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        indexed.retriever.run(question)


def test_no_index_yet(app: App) -> None:
    with pytest.raises(SearchIndexError, match="no index yet"):
        app.retriever.run("연차 휴가")


def test_index_from_another_embedder_is_refused(indexed: App, tmp_path: Path) -> None:
    other = build_app(load_settings(env={}, home=indexed.settings.home, embedder={"backend": "use"}))
    with pytest.raises(SearchIndexError, match="--reindex"):
        other.retriever.run("연차 휴가")


def test_corrupt_index_is_a_clear_error(indexed: App) -> None:
    folder = IndexStore(indexed.settings.index_dir).current()
    assert folder is not None
    (folder / "vectors.faiss").write_bytes(b"garbage")
    fresh = build_app(indexed.settings)
    with pytest.raises(SearchIndexError, match="corrupt vector index"):
        fresh.retriever.run("연차 휴가")


def test_rebuild_swaps_atomically_and_a_failed_build_keeps_the_old_index(indexed: App) -> None:
    store = IndexStore(indexed.settings.index_dir)
    first = store.current()
    indexed.reindex()
    second = store.current()
    assert first != second and second is not None and second.is_dir()
    assert indexed.retriever.run("연차 유급휴가", k=1)[0].chunk.article == "제60조"  # reloads the new one

    def broken(folder: Path):  # type: ignore[no-untyped-def]
        folder.mkdir()
        (folder / "ids.json").write_text("[]", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        store.write(broken)
    assert store.current() == second
    assert not list(indexed.settings.index_dir.glob(".gen-*"))


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from onprem_bot.cli import main; main()", "--home", str(home), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
    )


def test_cli_ingest_then_search_json_contract(tmp_path: Path) -> None:
    law = tmp_path / "시험근로법.md"
    law.write_text(STATUTE_MD, encoding="utf-8")
    home = tmp_path / "home"
    ingest = run_cli("ingest", str(law), "--json", home=home)
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout)["index"]["chunks"] == 6
    out = run_cli("search", "제60조 연차 유급휴가", "-k", "2", "--json", home=home)
    assert out.returncode == 0, out.stderr
    hits = json.loads(out.stdout)["hits"]
    assert len(hits) == 2
    assert set(hits[0]) == {
        "chunk_id",
        "doc_title",
        "article",
        "location",
        "page",
        "text",
        "score",
        "bm25_score",
        "dense_score",
    }
    assert (hits[0]["doc_title"], hits[0]["article"], hits[0]["location"]) == ("시험근로법", "제60조", "제60조")
    again = run_cli("ingest", str(law), "--json", home=home)
    assert "index" not in json.loads(again.stdout)  # nothing changed: no rebuild
    bad = run_cli("search", "", home=home)
    assert bad.returncode != 0 and bad.stderr.strip().startswith("오류:") and "Traceback" not in bad.stderr


def test_cli_search_before_any_ingest(tmp_path: Path) -> None:
    out = run_cli("search", "연차", home=tmp_path / "empty")
    assert out.returncode != 0
    assert out.stderr.strip().splitlines() == [
        "오류: 검색 색인이 아직 없습니다 (no index yet): 먼저 onprem-bot ingest 로 문서를 수집하세요"
    ]
