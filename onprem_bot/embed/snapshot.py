"""Embedding snapshots: cached chunk vectors that travel with a document folder.

Embedding the 2,663 chunks of the sample corpus with e5 costs about 20 CPU-minutes (10 minutes
on two idle cores), which a first ``make run`` would otherwise wait for. The corpus therefore
ships a snapshot of its vectors, ``corpus/.embeddings/<embedder>#passage.npz``; ``ingest FOLDER``
imports the snapshot of the running embedder found in ``FOLDER/.embeddings/`` into the embedding
cache before indexing (hidden folders are never ingested as documents). Vectors are keyed like
the cache (:func:`onprem_bot.embed.cache.text_hash` of the text the model reads), so a chunk whose
text changed since the snapshot is simply embedded again, and another embedder's snapshot is
never read. ``onprem-bot embedder snapshot FOLDER`` writes one for the stored chunks of a folder.

File format: NumPy ``.npz`` with ``model`` (the cache's model key, 0-d string), ``hashes``
(``(n,)`` 64-character hex strings) and ``vectors`` (``(n, dimension)`` float32, unit rows).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from onprem_bot.embed.base import EmbedderError
from onprem_bot.embed.cache import CachedEmbedder
from onprem_bot.index.builder import dense_text
from onprem_bot.types import Chunk

SNAPSHOT_DIR = ".embeddings"
_UNSAFE = re.compile(r"[^\w.#+-]")


def snapshot_path(folder: Path, model_key: str) -> Path:
    """Where ``folder`` keeps the snapshot of the cache model ``model_key`` (``name#passage``)."""
    return folder / SNAPSHOT_DIR / f"{_UNSAFE.sub('_', model_key)}.npz"


def write_snapshot(path: Path, model_key: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
    """Write a snapshot (atomically: a temporary file renamed into place)."""
    if len(hashes) != len(vectors):
        raise ValueError(f"{len(hashes)} hashes for {len(vectors)} vectors")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(
        tmp, model=np.array(model_key), hashes=np.array(list(hashes), dtype="U64"), vectors=vectors.astype("<f4")
    )
    tmp.replace(path)


def read_snapshot(path: Path) -> tuple[str, list[str], np.ndarray]:
    """``(model key, hashes, vectors)`` of a snapshot; :class:`EmbedderError` for a broken file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            model, hashes, vectors = str(data["model"]), [str(h) for h in data["hashes"]], np.asarray(data["vectors"])
    except (OSError, ValueError, KeyError) as exc:
        raise EmbedderError(f"임베딩 스냅샷을 읽을 수 없습니다 (unreadable embedding snapshot) {path}: {exc}") from exc
    if vectors.ndim != 2 or len(hashes) != len(vectors):
        raise EmbedderError(f"임베딩 스냅샷 형식 오류 (bad embedding snapshot shape {vectors.shape}) {path}")
    return model, hashes, vectors


def import_snapshot(cached: CachedEmbedder, folder: Path, side: str = "passage") -> int:
    """Put the vectors of ``folder``'s snapshot for this embedder into the cache; how many were new.

    No snapshot for this embedder: 0. One of another dimension: :class:`EmbedderError`.
    """
    model = cached.model_key(side)
    path = snapshot_path(folder, model)
    if not path.is_file():
        return 0
    stored_model, hashes, vectors = read_snapshot(path)
    if stored_model != model or vectors.shape[1] != cached.dimension:
        raise EmbedderError(
            f"{path}: 다른 임베딩의 스냅샷입니다 (snapshot of {stored_model}, {vectors.shape[1]}-d; "
            f"running {model}, {cached.dimension}-d)"
        )
    return cached.put(model, dict(zip(hashes, vectors, strict=True)))


def export_snapshot(cached: CachedEmbedder, chunks: Sequence[Chunk], folder: Path, side: str = "passage") -> Path:
    """Write ``folder``'s snapshot of ``chunks``' vectors (embedding any not cached yet); returns its path."""
    texts = [dense_text(c) for c in chunks]
    vectors = cached.embed(texts, side=side, progress=True)
    hashes = [cached.key(t, side) for t in texts]
    unique = dict(zip(hashes, vectors, strict=True))
    path = snapshot_path(folder, cached.model_key(side))
    write_snapshot(path, cached.model_key(side), list(unique), np.stack(list(unique.values())))
    return path
