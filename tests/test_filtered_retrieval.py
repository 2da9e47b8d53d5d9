"""Group-filtered retrieval (issue 19): a restricted viewer only ever gets chunks of documents they may read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from onprem_bot.access import OPERATOR, PUBLIC, Viewer
from onprem_bot.app import App
from onprem_bot.index.access_mask import DOCUMENTS_FILE, AccessMasks, documents_from_chunks
from onprem_bot.index.retriever import HybridRetriever
from onprem_bot.index.vectors import EXACT_LIMIT, VectorIndex
from onprem_bot.types import Hit

# A restricted document written to outscore the others on the test questions (same words, repeated).
EXECUTIVE_TEXT = """임원보수규정
제1장 총칙
제6조(지급일) 임원의 급여는 매월 20일에 지급한다. 급여 지급일 급여 지급일 급여 지급일.
제60조(연차 유급휴가) 임원에게 연차 유급휴가 15일의 유급휴가를 주어야 한다. 유급휴가 연차 유급휴가.
제61조(보수) 임원의 보수와 급여는 이사회가 정한다. 급여 임금 보수 급여.
"""
FINANCE, EXECUTIVES = "재무팀", "임원"
QUESTIONS = ["급여 지급일", "연차 유급휴가를 주어야 한다", "제60조 내용", "임원보수규정 제60조", "시험근로법 제60조"]


@pytest.fixture
def grouped(indexed: App, tmp_path: Path) -> App:
    """``indexed`` plus 임원보수규정; groups: 급여규정 재무팀, 임원보수규정 임원, 시험근로법 none (everyone)."""
    docs = tmp_path / "more"
    docs.mkdir()
    (docs / "임원보수규정.txt").write_text(EXECUTIVE_TEXT, encoding="utf-8")
    indexed.ingestor.run([docs])
    indexed.reindex()
    ids = doc_ids(indexed)
    indexed.documents.set_groups(ids["급여규정"], [FINANCE])
    indexed.documents.set_groups(ids["임원보수규정"], [EXECUTIVES])
    return indexed


def doc_ids(app: App) -> dict[str, str]:
    return {d.title: d.id for d in app.documents.list_all()}


def retriever(app: App, readable: bool = True, chunk_documents: bool = True) -> HybridRetriever:
    base = app.retriever
    return HybridRetriever(
        base.store,
        base.analyzer,
        base.embedder,
        base.synonyms,
        app.settings.retrieval,
        app.documents.chunks_by_ids,
        readable=app.documents.readable if readable else None,
        chunk_documents=app.documents.chunk_documents if chunk_documents else None,
    )


def titles(hits: list[Hit]) -> set[str]:
    return {h.chunk.doc_title for h in hits}


def test_the_restricted_document_is_what_everyone_would_find_first(grouped: App) -> None:
    """The premise of the tests below: unfiltered, 임원보수규정 ranks first."""
    r = retriever(grouped)
    for question in ("급여 지급일", "연차 유급휴가를 주어야 한다"):
        assert r.run(question, k=1, viewer=OPERATOR)[0].chunk.doc_title == "임원보수규정", question


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
@pytest.mark.parametrize("prefer", [(), ("임원보수규정",), ("급여규정",)])
def test_a_restricted_viewer_never_gets_a_disallowed_chunk(grouped: App, mode: str, prefer: tuple[str, ...]) -> None:
    r = retriever(grouped)
    finance = Viewer("kim", frozenset({FINANCE}))
    readable = grouped.documents.readable(finance)
    for question in QUESTIONS:
        hits = r.run(question, k=10, mode=mode, prefer=prefer, viewer=finance)
        assert hits, (question, mode)
        assert {h.chunk.document_id for h in hits} <= readable, (question, mode)
        assert "임원보수규정" not in titles(hits)
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        ranked = r.rank(question, k=10, mode=mode, prefer=prefer, viewer=finance)
        assert [p.score for p in ranked] == [h.score for h in hits]


def test_article_references_stay_within_the_allowed_documents(grouped: App) -> None:
    r = retriever(grouped)
    hits = r.run("임원보수규정 제60조", k=5, viewer=PUBLIC)
    assert titles(hits) == {"시험근로법"}  # 제60조 of the statute everyone may read, not the executives' one
    assert hits[0].chunk.article == "제60조"
    top = r.run("임원보수규정 제60조", k=1, viewer=Viewer("lee", frozenset({EXECUTIVES})))[0].chunk
    assert (top.doc_title, top.article) == ("임원보수규정", "제60조")


def test_k_results_come_back_when_k_allowed_chunks_exist(grouped: App) -> None:
    r = retriever(grouped)
    public = [c for c in grouped.documents.chunks() if c.doc_title == "시험근로법"]
    k = len(public)
    for viewer in (PUBLIC, Viewer("kim", frozenset({FINANCE}))):
        hits = r.run("급여 지급일", k=k, mode="dense", viewer=viewer)
        assert len(hits) == k  # the restricted chunks that score highest do not use up the k places
        assert {h.chunk.document_id for h in hits} <= grouped.documents.readable(viewer)
    hits = r.run("연차 유급휴가를 주어야 한다", k=k, mode="dense", viewer=PUBLIC)
    assert {h.chunk.id for h in hits} == {c.id for c in public}


def test_a_group_change_applies_on_the_next_query_without_reindexing(grouped: App) -> None:
    r = retriever(grouped)
    kim = Viewer("kim", frozenset({FINANCE}))
    ids = doc_ids(grouped)
    assert "임원보수규정" not in titles(r.run("급여 지급일", k=10, viewer=kim))
    grouped.documents.set_groups(ids["임원보수규정"], [EXECUTIVES, FINANCE])
    assert r.run("급여 지급일", k=1, viewer=kim)[0].chunk.doc_title == "임원보수규정"
    grouped.documents.set_groups(ids["급여규정"], [EXECUTIVES])
    assert "급여규정" not in titles(r.run("급여 지급일", k=10, viewer=kim))
    grouped.documents.set_groups(ids["임원보수규정"], [])  # everyone
    assert r.run("급여 지급일", k=1, viewer=PUBLIC)[0].chunk.doc_title == "임원보수규정"


def test_a_viewer_in_no_group_sees_only_documents_without_groups(grouped: App) -> None:
    r = retriever(grouped)
    for viewer in (PUBLIC, Viewer("park", frozenset({"영업팀"}))):
        for mode in ("bm25", "dense", "hybrid"):
            assert titles(r.run("급여 지급일 연차 유급휴가", k=20, mode=mode, viewer=viewer)) == {"시험근로법"}


def test_an_old_generation_without_the_document_array_still_filters(grouped: App) -> None:
    folder = grouped.retriever.store.current()
    assert folder is not None
    (folder / DOCUMENTS_FILE).unlink()
    hits = retriever(grouped).run("급여 지급일", k=10, viewer=PUBLIC)
    assert hits and titles(hits) == {"시험근로법"}
    with pytest.raises(ValueError, match="chunk_documents"):
        retriever(grouped, chunk_documents=False).run("급여 지급일", viewer=PUBLIC)
    assert retriever(grouped, chunk_documents=False).run("급여 지급일", k=3)  # the operator needs no filter


def test_the_operator_gets_exactly_todays_results(grouped: App) -> None:
    plain = grouped.retriever  # built without readable=
    filtered = retriever(grouped)
    for mode in ("bm25", "dense", "hybrid"):
        for question in QUESTIONS:
            for prefer in ((), ("급여규정",)):
                want = plain.run(question, k=8, mode=mode, prefer=prefer)
                got = filtered.run(question, k=8, mode=mode, prefer=prefer, viewer=OPERATOR)
                assert [(h.chunk.id, h.score, h.bm25_score, h.dense_score) for h in got] == [
                    (h.chunk.id, h.score, h.bm25_score, h.dense_score) for h in want
                ]
    admin = Viewer("admin", frozenset({FINANCE}), everything=True)
    assert filtered.rank("급여 지급일", k=5, viewer=admin) == plain.rank("급여 지급일", k=5)


def test_a_restricted_viewer_without_readable_is_refused(grouped: App) -> None:
    r = retriever(grouped, readable=False)
    for viewer in (PUBLIC, Viewer("kim", frozenset({FINANCE}))):
        with pytest.raises(ValueError, match="readable"):
            r.run("급여 지급일", viewer=viewer)
        with pytest.raises(ValueError, match="readable"):
            r.rank("급여 지급일", viewer=viewer)
    assert r.run("급여 지급일", k=2)  # the operator still searches


def test_masks_are_cached_per_allowed_set_and_unknown_chunks_are_never_allowed() -> None:
    names, codes = documents_from_chunks(["c1", "c2", "c3", "gone"], {"c1": "a", "c2": "b", "c3": "a"})
    masks = AccessMasks(names, codes, ["A", "B", "A", "X"], capacity=2)
    first = masks.filter(frozenset({"a"}))
    assert first.allowed.tolist() == [True, False, True, False] and first.titles == ("A",)
    assert masks.filter(frozenset({"a"})) is first
    assert masks.filter(frozenset({"a", "b", "z"})).positions.tolist() == [0, 1, 2]
    masks.filter(frozenset())
    masks.filter(frozenset({"b"}))
    assert masks.filter(frozenset({"a"})) is not first  # evicted (capacity 2), computed again
    assert masks.filter(frozenset()).count == 0


@pytest.mark.parametrize("hnsw", [False, True])
@pytest.mark.parametrize("share", [0.01, 0.6])
def test_filtered_vector_search_returns_k_allowed_positions(hnsw: bool, share: float) -> None:
    """Both the exact path (few allowed) and the faiss selector path (> EXACT_LIMIT allowed)."""
    rng = np.random.default_rng(3)
    n, d, k = 5000, 16, 50
    vectors = rng.standard_normal((n, d)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex(d, hnsw_threshold=100 if hnsw else n).build(vectors)
    assert index.kind == ("hnsw" if hnsw else "flat")
    docs = [f"d{i % 100}" for i in range(n)]
    names, codes = documents_from_chunks([str(i) for i in range(n)], {str(i): docs[i] for i in range(n)})
    allowed_docs = frozenset(f"d{i}" for i in range(int(100 * share)))
    within = AccessMasks(names, codes, [""] * n).filter(allowed_docs)
    assert (within.count <= EXACT_LIMIT) == (share < 0.5)
    for query in vectors[:20]:
        found = index.search(query, k, within)
        assert len(found) == k and all(within.allowed[p] for p, _ in found)
        if not hnsw:  # flat: exactly the best allowed ones
            sims = vectors[within.positions] @ query
            best = within.positions[np.argsort(-sims, kind="stable")[:k]]
            assert {p for p, _ in found} == set(best.tolist())
    few = AccessMasks(names, codes, [""] * n).filter(frozenset({"d0"}))
    assert len(index.search(vectors[0], k, few)) == few.count == n // 100
