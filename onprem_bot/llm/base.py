"""The language-model interface: one abstract method (:meth:`LLM.stream`), conveniences on the base.

A prompt is either a plain string (completion: base models such as the embedded Gemma-3-270M)
or a list of ``{"role", "content"}`` messages (chat: the GGUF's chat template is applied).
Every backend's stream goes through :meth:`LLM.guard`, which honours stop strings across
pieces and cuts the stream off when the output starts looping (:func:`find_repetition`).
"""

from __future__ import annotations

import math
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from onprem_bot.errors import OnpremBotError

Message = dict[str, str]
Prompt = str | list[Message]

REPEAT_MIN_CHARS = 20
"""The repetition guard's span: the output's last this-many characters ..."""
REPEAT_TIMES = 3
"""... seen this many times, evenly spaced and without overlap, ends the stream."""
REPEAT_JITTER = 3
"""How much the spacing of the copies may vary (a list numbered 9., 10., 11. shifts by a character)."""


class LLMError(OnpremBotError):
    """A language model is missing, cannot be loaded, or its server(s) cannot answer."""


@dataclass
class StreamStats:
    """Figures of one stream, filled in while it runs (see :attr:`LLM.last_stats`)."""

    started: float = 0.0
    """``time.perf_counter()`` when :meth:`LLM.stream` was called."""
    queue_wait_s: float = 0.0
    """Seconds spent waiting for the shared model (the lock) or a free server."""
    first_piece_s: float | None = None
    """Seconds from the call to the first non-empty piece (time to first token)."""
    total_s: float = 0.0
    pieces: int = 0
    chars: int = 0
    finish: str = ""
    """``stop`` (a stop string or the model's end), ``length`` (max_tokens), ``repetition``, ``error``,
    ``closed`` (the consumer stopped reading)."""
    server: str = ""
    """The remote server that answered (RemoteLLM only)."""


def find_repetition(
    text: str, min_chars: int = REPEAT_MIN_CHARS, times: int = REPEAT_TIMES, jitter: int = REPEAT_JITTER
) -> int | None:
    """Where to cut ``text`` when it ends in a loop, or ``None``.

    A loop: the last ``min_chars`` characters occur ``times`` times (this one included), without
    overlapping, at regular spacing (within ``jitter`` characters). Short periods count too
    (``"네" * 60`` is a loop of 20-character spans). The cut is the end of the first copy of the
    repeating unit (its exact period when the copies are identical), so ``text[:cut]`` keeps
    one copy.
    """
    n = len(text)
    if min_chars < 1 or times < 2 or n < min_chars * times:
        return None
    tail = text[n - min_chars :]
    positions = [n - min_chars]
    while len(positions) < times:
        found = text.rfind(tail, 0, positions[-1])
        if found < 0:
            return None
        positions.append(found)
    gaps = [positions[i] - positions[i + 1] for i in range(times - 1)]
    if max(gaps) - min(gaps) > jitter:
        return None
    while True:  # earlier copies at the same spacing belong to the loop too
        found = text.rfind(tail, 0, positions[-1])
        if found < 0 or abs(positions[-1] - found - gaps[-1]) > jitter:
            break
        positions.append(found)
    start = positions[-1]
    period = next((p for p in range(1, min(gaps) + 1) if text[start + p : n] == text[start : n - p]), 0)
    if not period:  # copies that differ a little (numbering): cut after the first span
        return start + min_chars
    while start > 0 and text[start - 1] == text[start - 1 + period]:
        start -= 1  # the loop may have begun before the first full span
    return start + period


def trim_repetition(text: str, min_chars: int = REPEAT_MIN_CHARS, times: int = REPEAT_TIMES) -> str:
    """``text`` with a trailing loop reduced to its first copy (unchanged when there is none)."""
    cut = find_repetition(text, min_chars, times)
    return text if cut is None else text[:cut]


PHRASE_WORDS = 3
"""A phrase of this many words (whitespace-separated, citation markers dropped) repeated
:data:`PHRASE_TIMES` times makes an answer a loop; so does a pair of words repeated one more time."""
PHRASE_TIMES = 3


def repeats_phrases(text: str, words: int = PHRASE_WORDS, times: int = PHRASE_TIMES) -> bool:
    """True when ``text`` repeats itself: some ``words``-word phrase occurs ``times`` times, or some
    two-word phrase ``times + 1`` times ("[질문] / [질문] / …", "<삭제 <삭제 …", a clause said over and
    over). A loop cut short by the token limit or followed by a citation marker escapes
    :func:`find_repetition` (which looks at the end only); this looks everywhere. Pure."""
    tokens = re.sub(r"\[\s*\d+(?:\s*,\s*\d+)*\s*\]", " ", text).split()
    for n, limit in ((words, times), (2, times + 1)):
        counts: dict[tuple[str, ...], int] = {}
        for i in range(len(tokens) - n + 1):
            gram = tuple(tokens[i : i + n])
            counts[gram] = counts.get(gram, 0) + 1
            if counts[gram] >= limit:
                return True
    return False


def _held_back(text: str, stops: Sequence[str]) -> int:
    """How many trailing characters of ``text`` could be the start of a stop string."""
    hold = 0
    for stop in stops:
        for k in range(min(len(stop) - 1, len(text)), hold, -1):
            if text.endswith(stop[:k]):
                hold = k
                break
    return hold


def choice_piece(choice: dict[str, Any], stats: StreamStats) -> str | None:
    """The text of one OpenAI-style streamed choice (completion ``text`` or chat ``delta``); notes a length stop."""
    piece = choice.get("text")
    if piece is None:
        piece = (choice.get("delta") or {}).get("content")
    if choice.get("finish_reason") == "length":
        stats.finish = "length"
    return piece


def messages_to_text(messages: Sequence[Message]) -> str:
    """Messages flattened into one completion prompt (for a model without a chat template)."""
    parts = [m.get("content", "").strip() for m in messages if m.get("content", "").strip()]
    return "\n\n".join(parts) + "\n\n"


def estimate_tokens(text: str) -> int:
    """A conservative token estimate without a tokenizer: one per 3 UTF-8 bytes.

    A Hangul syllable (3 bytes) counts as one token, three ASCII characters as one; real
    tokenizers of Korean-capable models give fewer, so a budget computed with this is safe.
    """
    return math.ceil(len(text.encode("utf-8")) / 3)


class LLM(ABC):
    """A text generator.

    Subclasses set :attr:`name`, :attr:`n_ctx` and :attr:`supports_chat`, and implement
    :meth:`stream` (normally ``return self.guard(raw_pieces, stop, stats)``). Models are loaded
    on first use (:meth:`warm_up`), never at construction. Instances may be shared between
    threads; a backend that cannot run two generations at once serialises them itself.
    """

    name: str = "llm"
    n_ctx: int = 4096
    """The context window in tokens (prompt + answer)."""
    supports_chat: bool = False
    """True when a list of messages is rendered with the model's own chat template."""

    @abstractmethod
    def stream(self, prompt: Prompt, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        """Generate at most ``max_tokens`` tokens for ``prompt``, yielding text pieces as they come.

        The stream ends at the first stop string (not included), at ``max_tokens``, at the
        model's end of text, or when the output loops (the pieces already yielded then hold
        about ``REPEAT_TIMES`` copies: :func:`trim_repetition` keeps one, :meth:`generate` does).
        """

    def warm_up(self) -> None:
        """Load the model now (idempotent); the default has nothing to load."""
        return None

    def generate(self, prompt: Prompt, max_tokens: int, stop: Sequence[str] = ()) -> str:
        """The whole answer: the joined stream, a trailing loop reduced to one copy."""
        return trim_repetition("".join(self.stream(prompt, max_tokens, stop)))

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text``; the default is :func:`estimate_tokens`, real tokenizers override it."""
        return estimate_tokens(text)

    @property
    def last_stats(self) -> StreamStats | None:
        """The figures of the last stream started in the calling thread (None before any)."""
        return getattr(self._local(), "stats", None)

    def new_stats(self) -> StreamStats:
        """A fresh :class:`StreamStats` for a stream starting now (becomes :attr:`last_stats`)."""
        stats = StreamStats(started=time.perf_counter())
        self._local().stats = stats
        return stats

    def guard(self, pieces: Iterable[str], stop: Sequence[str], stats: StreamStats) -> Iterator[str]:
        """Pass ``pieces`` through: cut at a stop string, end on a loop, fill in ``stats``.

        A piece that may be the beginning of a stop string is held back until the next piece
        decides. Closing this generator closes ``pieces`` (releasing a lock or a connection).
        """
        stops = [s for s in stop if s]
        text = ""
        emitted = 0
        iterator = iter(pieces)
        try:
            for piece in iterator:
                if not piece:
                    continue
                if stats.first_piece_s is None:
                    stats.first_piece_s = time.perf_counter() - stats.started
                text += piece
                cut = min((i for i in (text.find(s, emitted) for s in stops) if i >= 0), default=-1)
                if cut >= 0:
                    if cut > emitted:
                        yield from self._emit(text[emitted:cut], stats)
                    stats.finish = "stop"
                    return
                safe = len(text) - _held_back(text, stops)
                if safe > emitted:
                    yield from self._emit(text[emitted:safe], stats)
                    emitted = safe
                if find_repetition(text[:emitted]) is not None:
                    stats.finish = "repetition"
                    return
            if len(text) > emitted:
                yield from self._emit(text[emitted:], stats)
            stats.finish = stats.finish or "stop"
        except GeneratorExit:
            stats.finish = stats.finish or "closed"
            raise
        except BaseException:
            stats.finish = "error"
            raise
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
            stats.total_s = time.perf_counter() - stats.started

    @staticmethod
    def _emit(piece: str, stats: StreamStats) -> Iterator[str]:
        stats.pieces += 1
        stats.chars += len(piece)
        yield piece

    def _local(self) -> threading.local:
        local = self.__dict__.get("_thread_local")
        if local is None:
            local = self.__dict__.setdefault("_thread_local", threading.local())
        return local

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
