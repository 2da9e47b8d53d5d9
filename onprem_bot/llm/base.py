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
from itertools import chain
from typing import Any

from onprem_bot.errors import OnpremBotError
from onprem_bot.llm.thinking import Thinker, ThinkingFilter, template_opens_thinking

Message = dict[str, str]
Prompt = str | list[Message]

REPEAT_MIN_CHARS = 20
"""The repetition guard's span: the output's last this-many characters ..."""
REPEAT_TIMES = 3
"""... seen this many times, evenly spaced and without overlap, ends the stream."""
REPEAT_JITTER = 3
"""How much the spacing of the copies may vary (a list numbered 9., 10., 11. shifts by a character)."""
THINK_LOOP_CHARS, THINK_WINDOW = 40, 4000
"""A reasoning model's thinking loops when its last 40 characters repeat (within the last 4000)."""


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
    thinking_tokens: int = 0
    """A reasoning model's thinking (:mod:`onprem_bot.llm.thinking`): pieces (~tokens), characters,
    seconds until it closed; ``thinking`` is ``""`` (none), ``done`` or ``unterminated``."""
    thinking_chars: int = 0
    thinking_s: float | None = None
    thinking: str = ""


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


class LLM(Thinker, ABC):
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

    def guard(
        self, pieces: Iterable[str], stop: Sequence[str], stats: StreamStats, max_tokens: int | None = None
    ) -> Iterator[str]:
        """Pass ``pieces`` through: drop thinking, cut at a stop string, end on a loop, fill in ``stats``.

        A piece that may be the beginning of a stop string (or of a thinking tag) is held back until
        the next piece decides. For a reasoning model the answer is cut after ``max_tokens`` pieces
        (its thinking does not count) and a loop in the thinking ends the stream. Closing this
        generator closes ``pieces`` (releasing a lock or a connection).
        """
        stops = [s for s in stop if s]
        reasoning = self.reasoning()
        thinking = ThinkingFilter(reasoning, reasoning and template_opens_thinking(self.chat_template))
        text = ""
        emitted = 0
        answer_pieces = 0
        iterator = iter(pieces)
        try:
            for raw in chain(iterator, [None]):
                if raw == "":
                    continue
                piece = thinking.end() if raw is None else thinking.feed(raw)
                if thinking.closed and stats.thinking_s is None:
                    stats.thinking_s = time.perf_counter() - stats.started
                if raw is not None and thinking.in_thinking:
                    if find_repetition(thinking.thought[-THINK_WINDOW:], THINK_LOOP_CHARS) is not None:
                        stats.finish = "repetition"
                        return
                    continue
                answer_pieces += raw is not None
                if reasoning and max_tokens is not None and answer_pieces > max_tokens:
                    stats.finish = "length"
                    break
                if not piece and raw is not None:
                    continue
                if stats.first_piece_s is None and piece:
                    stats.first_piece_s = time.perf_counter() - stats.started
                text += piece
                cut = min((i for i in (text.find(s, emitted) for s in stops) if i >= 0), default=-1)
                if cut >= 0:
                    if cut > emitted:
                        yield from self._emit(text[emitted:cut], stats)
                    stats.finish = "stop"
                    return
                safe = len(text) - (_held_back(text, stops) if raw is not None else 0)
                if safe > emitted:
                    yield from self._emit(text[emitted:safe], stats)
                    emitted = safe
                if find_repetition(text[:emitted]) is not None:
                    stats.finish = "repetition"
                    return
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
            stats.thinking_tokens, stats.thinking_chars = thinking.thinking_tokens, thinking.thinking_chars
            if thinking.thinking_tokens or thinking.closed:
                stats.thinking = "done" if thinking.closed else "unterminated"

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
