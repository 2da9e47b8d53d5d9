"""Settings: one typed object from ``onprem-bot.toml`` and ``ONPREM_BOT_*`` variables.

Nothing is read at import time; call :func:`load_settings`. Precedence, lowest first:
defaults, the TOML file, environment variables. A nested field is addressed in the
environment with a double underscore: ``ONPREM_BOT_INGEST__MAX_TOKENS=400`` sets
``settings.ingest.max_tokens``; ``ONPREM_BOT_HOME`` sets ``settings.home``.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onprem_bot.errors import ConfigError

ENV_PREFIX = "ONPREM_BOT_"
CONFIG_FILE_NAME = "onprem-bot.toml"
CHUNKER_NAMES = ("auto", "statute", "report", "qa")
NOT_SETTINGS = {ENV_PREFIX + "CONFIG", ENV_PREFIX + "DEBUG"}
"""Variables with the prefix that are not settings: the config file path, the debug switch."""


@dataclass(frozen=True)
class IngestSettings:
    """How documents are cut into chunks."""

    max_tokens: int = 450
    """Longest chunk in Mecab tokens (the embedding model's useful input length)."""
    chunker: str = "auto"
    """``auto`` detects statutes by their article markers; or force one of CHUNKER_NAMES."""

    def __post_init__(self) -> None:
        if self.max_tokens < 32:
            raise ConfigError(f"ingest.max_tokens={self.max_tokens}: 32 이상이어야 합니다 (must be >= 32)")
        if self.chunker not in CHUNKER_NAMES:
            raise ConfigError(
                f"ingest.chunker={self.chunker!r}: 알 수 없는 값 (unknown); valid: {', '.join(CHUNKER_NAMES)}"
            )


EMBEDDER_BACKENDS = ("use", "sentence-transformers", "hash")
FUSION_METHODS = ("weighted", "rrf")


@dataclass(frozen=True)
class EmbedderSettings:
    """The sentence-embedding model (always loaded from a local path)."""

    backend: str = "use"
    """``use`` (embedded default, multilingual USE v3 from PyPI), ``sentence-transformers``, ``hash`` (tests)."""
    model_path: Path | None = None
    """A sentence-transformers folder (e.g. models/KR-SBERT-V40K-klueNLI-augSTS) for that backend."""
    device: str = ""
    """``cpu``, ``cuda``; empty: automatic."""
    batch_size: int = 32

    def __post_init__(self) -> None:
        if self.backend not in EMBEDDER_BACKENDS:
            raise ConfigError(
                f"embedder.backend={self.backend!r}: 알 수 없는 값 (unknown); valid: {', '.join(EMBEDDER_BACKENDS)}"
            )
        if self.backend == "sentence-transformers" and self.model_path is None:
            raise ConfigError("embedder.model_path: sentence-transformers에는 모델 폴더가 필요합니다 (required)")
        if self.batch_size < 1:
            raise ConfigError(f"embedder.batch_size={self.batch_size}: must be >= 1")


@dataclass(frozen=True)
class RetrievalSettings:
    """Hybrid retrieval: BM25 over morphemes + dense vectors, fused."""

    k: int = 5
    candidates: int = 100
    """How many hits each retriever contributes to fusion."""
    fusion: str = "weighted"
    """``weighted`` (min-max normalised scores) or ``rrf`` (reciprocal rank)."""
    bm25_weight: float = 0.5
    dense_weight: float = 0.5
    rrf_k: int = 60
    title_weight: int = 2
    """How many times a chunk's document title and article title are repeated in its BM25 text."""
    statute_boost: float = 0.2
    """Added to a hit from a statute named in the question (``근로기준법``)."""
    article_boost: float = 0.5
    """Added to a hit whose article is named in the question (``제60조``)."""
    hnsw_threshold: int = 50_000
    """Above this many chunks the vector index is HNSW instead of flat."""
    max_query_chars: int = 2000
    synonyms_file: Path | None = None
    """An extra colloquial→legal synonym file; default ``<home>/synonyms.tsv`` when present."""

    def __post_init__(self) -> None:
        if self.fusion not in FUSION_METHODS:
            raise ConfigError(
                f"retrieval.fusion={self.fusion!r}: 알 수 없는 값 (unknown); valid: {', '.join(FUSION_METHODS)}"
            )
        for name in ("k", "candidates", "max_query_chars"):
            if getattr(self, name) < 1:
                raise ConfigError(f"retrieval.{name}={getattr(self, name)}: must be >= 1")
        for name in ("bm25_weight", "dense_weight", "statute_boost", "article_boost"):
            if getattr(self, name) < 0:
                raise ConfigError(f"retrieval.{name}={getattr(self, name)}: must be >= 0")
        if self.bm25_weight + self.dense_weight == 0:
            raise ConfigError("retrieval.bm25_weight + dense_weight: 둘 다 0일 수 없습니다 (both zero)")


@dataclass(frozen=True)
class UISettings:
    """The Streamlit app."""

    host: str = "127.0.0.1"
    port: int = 8501


@dataclass(frozen=True)
class Settings:
    """Every setting of the product, validated on construction."""

    home: Path = Path("var")
    """Holds the database, the indexes and the logs."""
    database_url: str = ""
    """SQLAlchemy URL; empty means SQLite at ``<home>/onprem-bot.db``."""
    ingest: IngestSettings = field(default_factory=IngestSettings)
    embedder: EmbedderSettings = field(default_factory=EmbedderSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    ui: UISettings = field(default_factory=UISettings)

    @property
    def db_url(self) -> str:
        """The database URL in effect."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'onprem-bot.db').resolve()}"

    @property
    def index_dir(self) -> Path:
        """Where the search indexes live."""
        return self.home / "index"

    def ensure_home(self) -> Path:
        """Create the home folder if needed and return it."""
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


def load_settings(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build :class:`Settings` from defaults, a TOML file, the environment and overrides.

    The file is ``config_file``, else ``$ONPREM_BOT_CONFIG``, else ``./onprem-bot.toml``
    when it exists. ``overrides`` are top-level fields (``home=...``) applied last.
    """
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    path = config_file or (Path(env[ENV_PREFIX + "CONFIG"]) if env.get(ENV_PREFIX + "CONFIG") else None)
    if path is None and Path(CONFIG_FILE_NAME).is_file():
        path = Path(CONFIG_FILE_NAME)
    if path is not None:
        data = _read_toml(path)
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX) or key in NOT_SETTINGS:
            continue
        parts = key[len(ENV_PREFIX) :].lower().split("__")
        target = data
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ConfigError(f"{key}: {part} is not a section")
        target[parts[-1]] = value
    data.update(overrides)
    return _build(Settings, data, "")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"설정 파일이 없습니다 (config file not found): {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"설정 파일 형식 오류 (invalid TOML) {path}: {exc}") from None


def _build(cls: type[Any], data: Mapping[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"알 수 없는 설정 (unknown setting) {prefix}{unknown[0]}; valid: {', '.join(sorted(fields))}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        kwargs[name] = _coerce(hints[name], value, f"{prefix}{name}")
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, name: str) -> Any:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{name}: 섹션이어야 합니다 (must be a table/section)")
        return _build(hint, value, name + ".")
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value in (None, "") and len(args) < len(typing.get_args(hint)):
            return None
        hint = args[0]
    try:
        if hint is bool:
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError(value)
            return bool(value)
        if hint is Path:
            return Path(os.path.expanduser(str(value)))
        if hint in (int, float, str):
            if hint is int and isinstance(value, float):
                raise ValueError(value)
            return hint(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name}={value!r}: {getattr(hint, '__name__', hint)} 값이어야 합니다 (expected {getattr(hint, '__name__', hint)})"
        ) from None
    return value
