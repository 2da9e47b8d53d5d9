"""BM25 (bm25s) against the reference implementation rank-bm25 on the real sample statutes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from onprem_bot.index.bm25 import BM25Index, top_k
from onprem_bot.ingest.chunking import chunk_document
from onprem_bot.ingest.loaders import load_document
from onprem_bot.korean.mecab import morphs

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
QUERIES = [
    "연차 유급휴가 일수",
    "해고 예고 30일",
    "임대차 보증금 반환",
    "음주 운전 면허",
    "개인정보 제3자 제공 동의",
    "최저임금 결정",
    "공무원 징계 파면",
    "저작권 보호기간",
]


def tokens(text: str) -> list[str]:
    return [m for m in morphs(text) if len(m) > 1]


@pytest.fixture(scope="module")
def corpus_tokens() -> list[list[str]]:
    docs = []
    for path in sorted(CORPUS.rglob("*.md")):
        docs += [tokens(c.text) for c in chunk_document(load_document(path), path.stem)[1]]
    return docs


def test_same_top10_and_scores_as_rank_bm25(corpus_tokens: list[list[str]]) -> None:
    reference = BM25Okapi(corpus_tokens, k1=1.5, b=0.75)
    index = BM25Index(k1=1.5, b=0.75).build(corpus_tokens)
    for query in QUERIES:
        q = tokens(query)
        ours, theirs = index.scores(q), reference.get_scores(q)
        assert [i for i, _ in top_k(ours, 10)] == list(np.argsort(-theirs, kind="stable")[:10]), query
        # bm25s leaves out BM25's constant (k1 + 1) factor; otherwise the scores are the same
        np.testing.assert_allclose(ours * 2.5, theirs, rtol=1e-5, atol=1e-4)


def test_save_and_memory_mapped_load(tmp_path: Path, corpus_tokens: list[list[str]]) -> None:
    index = BM25Index().build(corpus_tokens)
    index.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25", size=len(corpus_tokens))
    q = tokens("연차 유급휴가")
    np.testing.assert_allclose(loaded.scores(q), index.scores(q))
    assert loaded.known(["연차", "없는단어xyz"]) == ["연차"]
    assert not loaded.scores(["없는단어xyz"]).any()


def test_corrupt_index_is_a_clear_error(tmp_path: Path) -> None:
    BM25Index().build([["가", "나"], ["다"]]).save(tmp_path / "bm25")
    (tmp_path / "bm25" / "params.index.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(Exception, match="corrupt BM25 index"):
        BM25Index.load(tmp_path / "bm25", size=2)


def test_top_k_skips_zero_scores() -> None:
    assert top_k(np.array([0.0, 2.0, 1.0, 0.0], dtype=np.float32), 3) == [(1, 2.0), (2, 1.0)]
    assert top_k(np.array([], dtype=np.float32), 3) == []


def test_production_variant_keeps_rank_bm25_top10_on_the_dev_questions() -> None:
    import json

    from onprem_bot.index.builder import BM25_METHOD
    from onprem_bot.korean.analyzer import KoreanAnalyzer

    analyzer = KoreanAnalyzer()
    chunks = [c for path in sorted(CORPUS.rglob("*.md")) for c in chunk_document(load_document(path), path.stem)[1]]
    corpus = analyzer.tokens_many(c.text for c in chunks)
    reference = BM25Okapi(corpus)
    index = BM25Index(method=BM25_METHOD).build(corpus)
    dev = Path(__file__).resolve().parents[1] / "onprem_bot/data/eval/statutes_dev.jsonl"
    overlaps, same_top1 = [], 0
    for line in dev.read_text(encoding="utf-8").splitlines():
        q = analyzer.tokens(json.loads(line)["question"])
        ours = [i for i, _ in top_k(index.scores(q), 10)]
        theirs_scores = reference.get_scores(q)
        theirs = [int(i) for i in np.argsort(-theirs_scores, kind="stable")[:10] if theirs_scores[i] > 0]
        overlaps.append(len(set(ours) & set(theirs)) / max(1, len(theirs)))
        same_top1 += bool(ours and theirs and ours[0] == theirs[0])
    assert sum(overlaps) / len(overlaps) >= 0.9
    assert same_top1 / len(overlaps) >= 0.85
