"""Language models: the local GGUF (llama-cpp-python), remote llama.cpp servers, a scripted fake.

:func:`make_llm` is the one place that chooses the backend from :class:`LlmSettings`; every backend
comes wrapped in a :class:`~onprem_bot.llm.queued.QueuedLLM` (its ``queue``: first come, first served,
``llm.queue_max`` waiting, ``llm.queue_timeout_s``). Nothing heavy is imported here; llama_cpp is
loaded on first use.
"""

from __future__ import annotations

from pathlib import Path

from onprem_bot.config import LlmSettings
from onprem_bot.llm.admission import AdmissionQueue, QueueCancelled, QueueFull, QueueTimeout, Waiting
from onprem_bot.llm.base import (
    LLM,
    LLMError,
    Message,
    Prompt,
    StreamStats,
    estimate_tokens,
    find_repetition,
    trim_repetition,
)
from onprem_bot.llm.install import DEFAULT_MODEL_FILE
from onprem_bot.llm.queued import QueuedLLM, admission_request, within_request

__all__ = [
    "LLM",
    "AdmissionQueue",
    "LLMError",
    "Message",
    "Prompt",
    "QueueCancelled",
    "QueueFull",
    "QueueTimeout",
    "QueuedLLM",
    "StreamStats",
    "Waiting",
    "admission_request",
    "default_model_path",
    "estimate_tokens",
    "find_repetition",
    "install_root",
    "make_llm",
    "resolve_model_path",
    "trim_repetition",
    "within_request",
]


def install_root() -> Path:
    """The installation's folder (holds models/, corpus/, faq/)."""
    return Path(__file__).resolve().parents[2]


def default_model_path(root: Path) -> Path:
    """Where ``make install`` puts the embedded default GGUF: ``<root>/models/default.gguf``."""
    return Path(root) / "models" / DEFAULT_MODEL_FILE


def resolve_model_path(settings: LlmSettings, root: Path) -> Path:
    """The GGUF to load: ``llm.model_path`` (a relative path: from the working folder when it exists
    there, else from ``root``), or the embedded default when empty."""
    if settings.model_path is None or not str(settings.model_path).strip():
        return default_model_path(root)
    path = Path(settings.model_path).expanduser()
    if path.is_absolute() or path.exists():
        return path
    return Path(root) / path


def make_llm(settings: LlmSettings, root: Path) -> QueuedLLM | None:
    """The language model the settings ask for (not loaded yet) behind its admission queue; ``None`` for
    ``backend = "none"``.

    Slots: 1 for ``llama-cpp`` (one sequence at a time in-process), live servers × ``llm.server_slots``
    for ``remote`` (followed as servers die and come back), ``llm.server_slots`` for ``scripted`` (tests).
    The wrapped model is ``.inner``, the queue ``.queue`` (``.queue.status()``)."""
    inner = _backend(settings, root)
    if inner is None:
        return None
    capacity = getattr(inner, "capacity", None)
    slots = capacity() if capacity is not None else 1 if settings.backend == "llama-cpp" else settings.server_slots
    queue = AdmissionQueue(slots, settings.queue_max, settings.queue_timeout_s)
    return QueuedLLM(inner, queue, capacity)


def _backend(settings: LlmSettings, root: Path) -> LLM | None:
    if settings.backend == "none":
        return None
    if settings.backend == "scripted":
        from onprem_bot.llm.fake import ScriptedLLM

        return ScriptedLLM(
            n_ctx=settings.n_ctx,
            supports_chat=settings.prompt_format == "chat",
            thinking=settings.thinking,
            think_tokens=settings.think_tokens,
        )
    if settings.backend == "remote":
        from onprem_bot.llm.remote import RemoteLLM

        return RemoteLLM(
            settings.server_list,
            n_ctx=settings.n_ctx,
            temperature=settings.temperature,
            timeout_s=settings.timeout_s,
            supports_chat=settings.prompt_format != "completion",
            thinking=settings.thinking,
            think_tokens=settings.think_tokens,
            server_slots=settings.server_slots,
        )
    if settings.backend == "llama-cpp":
        from onprem_bot.llm.llama import LlamaCppLLM

        return LlamaCppLLM(
            resolve_model_path(settings, root),
            n_ctx=settings.n_ctx,
            n_gpu_layers=settings.n_gpu_layers,
            n_threads=settings.n_threads,
            temperature=settings.temperature,
            prompt_format=settings.prompt_format,
            thinking=settings.thinking,
            think_tokens=settings.think_tokens,
        )
    raise LLMError(f"알 수 없는 LLM 백엔드 (unknown llm.backend) {settings.backend!r}")
