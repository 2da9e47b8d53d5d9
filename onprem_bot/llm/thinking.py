"""Reasoning models' thinking (``<think>…</think>``): recognised, kept out of the answer, counted.

Qwen3, the DeepSeek-R1 distills and QwQ write ``<think>…</think>`` before the answer; EXAONE
Deep writes ``<thought>…</thought>``. Some chat templates open the block themselves, so the
output starts inside it and only the closing tag appears. :class:`ThinkingFilter` splits a
stream into thinking (dropped: never yielded, shown or checked; only counted) and answer text;
:meth:`LLM.guard <onprem_bot.llm.base.LLM.guard>` runs every backend's stream through it.
A thinking block that never closes (the model ran out of tokens) leaves an empty answer.

``llm.thinking = "off"`` turns thinking off where the chat template has a switch: Qwen3's soft
switch ``/no_think`` is appended to the last user message (llama-cpp-python 0.3's
``create_chat_completion`` takes no ``chat_template_kwargs``, so ``enable_thinking=False``
cannot be passed to a local template); a remote llama.cpp server also gets
``chat_template_kwargs = {"enable_thinking": false}``. The R1 distills and EXAONE Deep have no
switch: they still think, and the thinking is still removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from onprem_bot.config import THINKING_MODES
from onprem_bot.errors import OnpremBotError

__all__ = ["THINKING_MODES", "Thinker", "ThinkingFilter", "looks_like_reasoning", "template_opens_thinking"]
DEFAULT_THINK_TOKENS = 1024
"""The thinking budget: tokens a reasoning model may think on top of the answer's ``max_tokens``."""
NO_THINK_TOKENS = 16
"""What is reserved when thinking is switched off (Qwen3 still writes an empty ``<think></think>``)."""
NO_THINK = "/no_think"

TAGS = (("<think>", "</think>"), ("<thought>", "</thought>"))
OPEN_TAGS = tuple(o for o, _ in TAGS)
CLOSE_TAGS = tuple(c for _, c in TAGS)
_LONGEST = max(len(t) for t in OPEN_TAGS + CLOSE_TAGS)
Prompt = str | list[dict[str, str]]
_REASONING_NAME = re.compile(r"(?i)(?<![a-z0-9])(?:deepseek[-_ ]?r1|r1[-_ ]distill|qwen[-_ ]?3|qwq|exaone[-_ ]?deep)")


class ThinkingError(OnpremBotError):
    """An invalid thinking setting."""


def check_thinking(mode: str, think_tokens: int) -> None:
    """Raise :class:`ThinkingError` (Korean, listing the valid values) for a bad setting."""
    if mode not in THINKING_MODES:
        raise ThinkingError(f"llm.thinking={mode!r}: 알 수 없는 값 (unknown); valid: {', '.join(THINKING_MODES)}")
    if think_tokens < 0:
        raise ThinkingError(f"llm.think_tokens={think_tokens}: 0 이상이어야 합니다 (must be >= 0)")


def looks_like_reasoning(name: str, template: str | None) -> bool:
    """True for a model that thinks before answering: its chat template handles a thinking block
    (it strips ``</think>`` from earlier turns or opens one) or its name says R1, Qwen3, QwQ or
    EXAONE Deep."""
    if template and any(tag in template for tag in CLOSE_TAGS + OPEN_TAGS):
        return True
    return bool(_REASONING_NAME.search(name))


def template_opens_thinking(template: str | None) -> bool:
    """True when the template's generation prompt opens a thinking block itself (the output then
    starts inside it): an opening tag after the last ``add_generation_prompt`` with no closing tag
    after it (Qwen3's ``<think>\\n\\n</think>`` for enable_thinking=false is not an opening)."""
    if not template or "add_generation_prompt" not in template:
        return False
    tail = template[template.rindex("add_generation_prompt") :]
    return any(o in tail and c not in tail for o, c in TAGS)


def has_thinking_switch(template: str | None) -> bool:
    """True when the template understands Qwen3's switch (``enable_thinking`` / ``/no_think``)."""
    return bool(template) and ("enable_thinking" in str(template) or NO_THINK in str(template))


def add_no_think(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """``messages`` with :data:`NO_THINK` appended to the last user message (a copy)."""
    out = [dict(m) for m in messages]
    for message in reversed(out):
        if message.get("role") == "user":
            if NO_THINK not in message.get("content", ""):
                message["content"] = message.get("content", "").rstrip() + " " + NO_THINK
            break
    return out


def _partial(text: str, tags: tuple[str, ...]) -> int:
    """How many trailing characters of ``text`` could begin one of ``tags``."""
    for k in range(min(_LONGEST - 1, len(text)), 0, -1):
        if any(tag.startswith(text[-k:]) for tag in tags):
            return k
    return 0


class ThinkingFilter:
    """Splits a stream into thinking and answer: :meth:`feed` each piece, :meth:`end` at the end.

    ``reasoning``: the model thinks (text before a closing tag is thinking even without an opening
    tag, so it is held back until a tag or the end decides); ``opens``: the template opened the
    block (text without any tag is unterminated thinking). Any model's output that *starts* with
    an opening tag is treated as thinking. Tags may be split across pieces.
    """

    def __init__(self, reasoning: bool = False, opens: bool = False) -> None:
        self.reasoning = reasoning
        self.opens = opens
        self.state = "start"
        """``start`` (undecided), ``thinking`` (inside an explicit block), ``answer``."""
        self.buffer = ""
        self.thinking_chars = 0
        self.thinking_tokens = 0
        """Pieces that held thinking (a llama.cpp stream yields one token per piece)."""
        self.thought = ""
        """The thinking so far (for loop detection; never passed on)."""
        self.closed = False
        """A thinking block was closed (``</think>`` seen)."""
        self._pending = 0
        self._started = False

    @property
    def in_thinking(self) -> bool:
        """True while the output is (or may be) thinking."""
        return self.state == "thinking" or (self.state == "start" and self.reasoning)

    @property
    def unterminated(self) -> bool:
        """After :meth:`end`: the output was thinking that never closed (the answer is empty)."""
        return self.state == "thinking"

    def feed(self, piece: str) -> str:
        """The answer text ``piece`` releases (may be empty while thinking or undecided)."""
        self.buffer += piece
        if self.state != "answer":
            self._pending += 1
        return self._advance(final=False)

    def end(self) -> str:
        """The answer text still held back when the stream ends."""
        return self._advance(final=True)

    def _advance(self, final: bool) -> str:
        if self.state == "start":
            stripped = self.buffer.lstrip()
            opening = next((tag for tag in OPEN_TAGS if stripped.startswith(tag)), None)
            if opening is not None:
                self.state, self.buffer = "thinking", stripped[len(opening) :]
            elif any(tag.startswith(stripped) for tag in OPEN_TAGS) and not final:
                return ""  # may still become an opening tag
            elif not self.reasoning:
                self.state, self._pending = "answer", 0
            elif self._close():
                pass
            elif not final:
                return ""
            elif self.opens:
                self.state = "thinking"  # the template's block never closed
            else:
                self.state, self._pending = "answer", 0  # a reasoning model that did not think
        if self.state == "thinking" and not self._close():
            keep = 0 if final else _partial(self.buffer, CLOSE_TAGS)
            self._think(self.buffer[: len(self.buffer) - keep])
            self.buffer = self.buffer[len(self.buffer) - keep :]
            if final:
                self.thinking_tokens += self._pending
                self._pending = 0
            return ""
        if self.state == "answer":
            text = self.buffer
            for tag in OPEN_TAGS + CLOSE_TAGS:
                text = text.replace(tag, "")
            if self.closed and not self._started:
                text = text.lstrip()  # the blank lines after </think>
                self._started = bool(text)
            keep = 0 if final else _partial(text, OPEN_TAGS + CLOSE_TAGS)
            self.buffer = text[len(text) - keep :]
            return text[: len(text) - keep]
        return ""

    def _close(self) -> bool:
        """Find a closing tag in the buffer: what precedes it is thinking, the rest becomes answer."""
        found = [(i, tag) for tag in CLOSE_TAGS if (i := self.buffer.find(tag)) >= 0]
        if not found:
            return False
        index, tag = min(found)
        self._think(self.buffer[:index])
        self.thinking_tokens += self._pending
        self._pending = 0
        self.closed = True
        self.state, self.buffer = "answer", self.buffer[index + len(tag) :]
        return True

    def _think(self, text: str) -> None:
        self.thinking_chars += len(text)
        self.thought += text


class Thinker:
    """The thinking settings and decisions of a model (a base of :class:`~onprem_bot.llm.base.LLM`)."""

    name: str = "llm"
    n_ctx: int = 4096
    supports_chat: bool = False
    chat_template: str | None = None
    """The model's chat template when known (a local GGUF's), for recognising a reasoning model."""
    thinking: str = "auto"
    """``llm.thinking``: ``auto``, ``on`` or ``off`` (:data:`~onprem_bot.llm.thinking.THINKING_MODES`)."""
    think_tokens: int = DEFAULT_THINK_TOKENS
    """A reasoning model's thinking budget, on top of the answer's ``max_tokens``."""

    def set_thinking(self, thinking: str, think_tokens: int) -> None:
        """Apply ``llm.thinking`` and ``llm.think_tokens`` (:class:`ThinkingError` when invalid)."""
        check_thinking(thinking, think_tokens)
        self.thinking, self.think_tokens = thinking, think_tokens

    def reasoning(self) -> bool:
        """True when the model thinks before answering (``thinking = on``, or its template or name)."""
        return self.thinking == "on" or looks_like_reasoning(self.name, self.chat_template)

    def thinking_switched_off(self) -> bool:
        """True when ``thinking = off`` and the chat template has a switch that :meth:`plan` uses."""
        return self.thinking == "off" and self.supports_chat and has_thinking_switch(self.chat_template)

    def thinking_budget(self) -> int:
        """Tokens reserved for thinking on top of an answer (0 for a model that does not think):
        callers leave this much more room in the context; at most half of it."""
        if not self.reasoning():
            return 0
        return min(NO_THINK_TOKENS if self.thinking_switched_off() else self.think_tokens, self.n_ctx // 2)

    def plan(self, prompt: Prompt, max_tokens: int, stop: Sequence[str]) -> tuple[Prompt, int, list[str]]:
        """What a backend sends for an answer of ``max_tokens``: for a reasoning model the thinking
        budget is added and the stop strings are left to :meth:`guard` (which applies them to the
        answer only, so a stop inside the thinking does not end it); ``/no_think`` when switched off."""
        extra = self.thinking_budget()
        if not extra:
            return prompt, max_tokens, list(stop)
        if isinstance(prompt, list) and self.thinking_switched_off():
            prompt = add_no_think(prompt)
        return prompt, max_tokens + extra, []
