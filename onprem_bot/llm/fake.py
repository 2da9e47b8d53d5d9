"""A deterministic stand-in for a language model, for fast tests (``llm.backend = "scripted"``)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence

from onprem_bot.llm.base import LLM, Prompt, StreamStats, messages_to_text
from onprem_bot.llm.thinking import DEFAULT_THINK_TOKENS

Reply = str | Callable[[Prompt], str]

_PIECE = re.compile(r"\s*\S+")
_SOURCE_LINE = re.compile(r"^\s*(?:\[1\]\s*|<자료 1>[^\n]*\n)(.+)$", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

NO_ANSWER = "제공된 문서에서 답을 찾지 못했습니다."


def echo_first_source(prompt: Prompt) -> str:
    """The default script: the first sentence of the prompt's source ``[1]`` with a citation.

    Copying the source keeps every number right, so the checker passes; without a ``[1]``
    line the reply is :data:`NO_ANSWER`.
    """
    text = prompt if isinstance(prompt, str) else messages_to_text(prompt)
    match = _SOURCE_LINE.search(text)
    if not match:
        return NO_ANSWER
    sentence = _SENTENCE_END.split(match.group(1).strip(), maxsplit=1)[0].strip()
    return f"{sentence} [1]"


class ScriptedLLM(LLM):
    """Replies from a script, streamed word by word (a word with its leading space is one piece).

    ``replies`` is a sequence (answered in order; once exhausted the last reply repeats) or a
    callable of the prompt. ``max_tokens`` counts pieces; stop strings, the repetition guard and
    thinking (``thinking``, ``think_tokens``, ``chat_template``) work as for a real model. Every prompt is recorded in :attr:`prompts`.
    """

    def __init__(
        self,
        replies: Sequence[str] | Callable[[Prompt], str] = echo_first_source,
        *,
        supports_chat: bool = False,
        n_ctx: int = 4096,
        name: str = "scripted",
        thinking: str = "auto",
        think_tokens: int = DEFAULT_THINK_TOKENS,
        chat_template: str | None = None,
    ) -> None:
        if not callable(replies):
            replies = list(replies)
            if not replies:
                raise ValueError("ScriptedLLM needs at least one reply")
        self._replies: list[str] | Callable[[Prompt], str] = replies
        self.supports_chat = supports_chat
        self.n_ctx = n_ctx
        self.name = name
        self.chat_template = chat_template
        self.set_thinking(thinking, think_tokens)
        self.prompts: list[Prompt] = []
        self._lock = threading.Lock()

    def next_reply(self, prompt: Prompt) -> str:
        """The reply the script gives to ``prompt`` (advances a sequence script)."""
        with self._lock:
            self.prompts.append(prompt)
            if callable(self._replies):
                return self._replies(prompt)
            index = min(len(self.prompts), len(self._replies)) - 1
            return self._replies[index]

    def stream(self, prompt: Prompt, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        """The next scripted reply, one word at a time."""
        stats = self.new_stats()
        return self.guard(self._pieces(prompt, max_tokens, stop, stats), stop, stats, max_tokens)

    def _pieces(self, prompt: Prompt, max_tokens: int, stop: Sequence[str], stats: StreamStats) -> Iterator[str]:
        prompt, max_tokens, _ = self.plan(prompt, max_tokens, stop)
        pieces = _PIECE.findall(self.next_reply(prompt))
        if len(pieces) > max_tokens:
            stats.finish = "length"
        yield from pieces[:max_tokens]
