"""A local GGUF model through llama-cpp-python: one loaded model shared by every caller.

llama.cpp contexts are not thread-safe, so generations are serialised by a lock that a stream
holds from its first token to its last (or until the consumer closes it); the time spent
waiting for it is :attr:`StreamStats.queue_wait_s`. A GGUF with a chat template
(``tokenizer.chat_template``) takes messages; a base model takes completion prompts only
(messages are then flattened). llama_cpp is imported in :meth:`LlamaCppLLM.warm_up`, never
when this module is imported.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from onprem_bot.llm.base import LLM, LLMError, Prompt, StreamStats, choice_piece, messages_to_text
from onprem_bot.llm.thinking import DEFAULT_THINK_TOKENS

GGUF_MAGIC = b"GGUF"
DOCTOR_HINT = "`onprem-bot doctor`로 확인하세요 (run `onprem-bot doctor`)"
GGML_LOG_ERROR = 3

_recent_errors: collections.deque[str] = collections.deque(maxlen=8)
_log_callback: Any = None  # the ctypes callback must stay referenced while llama.cpp may call it
_log_lock = threading.Lock()


def quiet_llama_logs() -> None:
    """Route llama.cpp's log lines away from stderr (once per process).

    Without this, llama.cpp prints notices such as "using full-size SWA cache" even with
    ``verbose=False``. Error lines are kept (:func:`recent_llama_errors`) to explain a failed
    load; with ``ONPREM_BOT_DEBUG`` set every line still goes to stderr.
    """
    global _log_callback
    with _log_lock:
        if _log_callback is not None:
            return
        import ctypes

        import llama_cpp

        @llama_cpp.llama_log_callback
        def callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
            message = text.decode("utf-8", errors="replace")
            if level == GGML_LOG_ERROR and message.strip():
                _recent_errors.append(message.strip())
            if os.environ.get("ONPREM_BOT_DEBUG"):
                sys.stderr.write(message)

        llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
        _log_callback = callback


def recent_llama_errors() -> list[str]:
    """The last error lines llama.cpp logged (after :func:`quiet_llama_logs`)."""
    return list(_recent_errors)


def check_gguf_file(path: Path) -> None:
    """Raise :class:`LLMError` unless ``path`` is a readable file that starts like a GGUF."""
    if not path.is_file():
        raise LLMError(f"LLM 모델 파일이 없습니다 (model file not found): {path} — {DOCTOR_HINT}")
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise LLMError(
            f"LLM 모델 파일을 읽을 수 없습니다 (cannot read model file): {path}: {exc} — {DOCTOR_HINT}"
        ) from None
    if magic != GGUF_MAGIC:
        raise LLMError(f"GGUF 모델 파일이 아니거나 손상되었습니다 (not a GGUF file or corrupt): {path} — {DOCTOR_HINT}")


class LlamaCppLLM(LLM):
    """A GGUF file loaded with llama-cpp-python (``n_gpu_layers=-1`` offloads all layers to a GPU).

    ``prompt_format``: ``auto`` uses the GGUF's chat template when it has one, ``chat`` requires
    one, ``completion`` never uses it. ``n_threads=0`` means all cores.
    """

    def __init__(
        self,
        model_path: Path | str,
        *,
        n_ctx: int = 4096,
        n_gpu_layers: int = -1,
        n_threads: int = 0,
        temperature: float = 0.0,
        prompt_format: str = "auto",
        seed: int = 0,
        thinking: str = "auto",
        think_tokens: int = DEFAULT_THINK_TOKENS,
    ) -> None:
        if prompt_format not in ("auto", "chat", "completion"):
            raise LLMError(f"prompt_format={prompt_format!r}: auto, chat 또는 completion이어야 합니다")
        self.path = Path(model_path).expanduser()
        self.name = f"llama-cpp:{self.path.name}"
        self.n_ctx = n_ctx
        self.n_gpu_layers = n_gpu_layers
        self.n_threads = n_threads or os.cpu_count() or 1
        self.temperature = temperature
        self.prompt_format = prompt_format
        self.seed = seed
        self.supports_chat = False
        self.chat_template = None
        self.set_thinking(thinking, think_tokens)
        self._llama: Any = None
        self._load_lock = threading.Lock()
        self._lock = threading.Lock()
        """Held by a stream for its whole life: llama.cpp contexts are not thread-safe."""
        self._owner: int | None = None
        """The thread holding the lock (a second stream from it would wait forever: an error instead)."""

    @property
    def llama(self) -> Any:
        """The loaded ``llama_cpp.Llama`` (loads it)."""
        self.warm_up()
        return self._llama

    def warm_up(self) -> None:
        """Load the GGUF now (idempotent); :class:`LLMError` naming the path when it cannot be."""
        if self._llama is not None:
            return
        with self._load_lock:
            if self._llama is not None:
                return
            check_gguf_file(self.path)
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise LLMError(
                    "llama-cpp-python 패키지가 없습니다 (package not installed): make install 을 실행하세요"
                ) from exc
            quiet_llama_logs()
            _recent_errors.clear()
            try:
                llama = Llama(
                    model_path=str(self.path),
                    n_ctx=self.n_ctx,
                    n_gpu_layers=self.n_gpu_layers,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    seed=self.seed,
                    verbose=False,
                )
            except Exception as exc:
                detail = " / ".join(recent_llama_errors()[-2:]) or f"{type(exc).__name__}: {exc}"
                raise LLMError(
                    f"LLM 모델을 불러올 수 없습니다 (cannot load the GGUF model) {self.path}: {detail} — {DOCTOR_HINT}"
                ) from None
            template = (llama.metadata or {}).get("tokenizer.chat_template") or None
            if self.prompt_format == "chat" and not template:
                raise LLMError(
                    f"이 GGUF에는 채팅 템플릿이 없습니다 (no chat template in the GGUF): {self.path} — "
                    "llm.prompt_format = completion 으로 설정하세요"
                )
            self.chat_template = template
            self.supports_chat = bool(template) and self.prompt_format != "completion"
            self._llama = llama

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` with the model's own tokenizer (no BOS)."""
        if not text:
            return 0
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def reset_state(self) -> None:
        """Forget the cached prompt (the next prompt is evaluated from scratch; for benchmarks)."""
        with self._lock:
            self.llama.reset()

    def stream(self, prompt: Prompt, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        """Generate with the shared model; waits for the lock while another stream runs.

        The lock is released when the stream ends, is closed, or is garbage-collected: finish or
        ``close()`` a stream before starting the next one from the same thread.
        """
        stats = self.new_stats()
        return self.guard(self._pieces(prompt, max_tokens, stop, stats), stop, stats, max_tokens)

    def reasoning(self) -> bool:
        """Whether the loaded GGUF thinks (its chat template or file name; loads the model)."""
        self.warm_up()
        return super().reasoning()

    def _pieces(self, prompt: Prompt, max_tokens: int, stop: Sequence[str], stats: StreamStats) -> Iterator[str]:
        llama = self.llama
        prompt, max_tokens, stop = self.plan(prompt, max_tokens, stop)
        if self._owner == threading.get_ident():
            raise LLMError(
                "이 스레드의 이전 생성이 아직 끝나지 않았습니다 (a stream from this thread is still open: "
                "finish or close it before starting another)"
            )
        waited = time.perf_counter()
        with self._lock:
            self._owner = threading.get_ident()
            stats.queue_wait_s = time.perf_counter() - waited
            options: dict[str, Any] = {
                "max_tokens": max_tokens,
                "temperature": self.temperature,
                "stop": list(stop) or None,
                "stream": True,
            }
            chunks: Any = None
            try:
                if isinstance(prompt, list) and self.supports_chat:
                    chunks = llama.create_chat_completion(messages=prompt, **options)
                else:
                    text = prompt if isinstance(prompt, str) else messages_to_text(prompt)
                    chunks = llama.create_completion(text, **options)
                for chunk in chunks:
                    piece = choice_piece(chunk["choices"][0], stats)
                    if piece:
                        yield piece
            except ValueError as exc:  # e.g. the prompt is longer than the context
                raise LLMError(f"LLM 생성 실패 (generation failed) {self.path.name}: {exc}") from None
            finally:
                self._owner = None
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
