"""Answer guards: what a model wrote that must not reach an employee as a checked answer.

Small models (the embedded Gemma-3-270M) restate the question, copy the prompt's rules, loop or
write nothing; :func:`guard` names such output so the pipeline quotes the sources instead. The
pipeline then reads FAQ → retrieve → answer → (guard) → check; every model-specific workaround of
that kind lives here, with its tests in ``tests/test_pipeline.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from difflib import SequenceMatcher

from onprem_bot.llm.base import repeats_phrases
from onprem_bot.prompt import drop_instruction_echoes

QUOTED_NOTICE = "모델이 쓴 답 대신 문서 원문을 그대로 보여 드립니다."
"""What an employee reads when a model answer was replaced by the quote (the reason goes to the log
and to ``Answer.fallback_reason`` in ``--json``)."""
REASONS = ("instructions", "loop", "empty", "question_echo", "cut_off")
"""The technical reasons :func:`guard` gives, in the order it tests them."""


def guard(
    text: str,
    question: str,
    system: str,
    tokens: Callable[[str], Sequence[str]] | None = None,
    cut_by_limit: bool = False,
) -> tuple[str, str | None]:
    """``(text without copied prompt rules, reason)``: ``reason`` is one of :data:`REASONS` when the
    answer must not be shown (it only copies the rules, loops, is empty, restates the question, or —
    ``cut_by_limit``: the model ran out of tokens — stops in the middle of a sentence), else None."""
    kept = drop_instruction_echoes(text, system)
    if text.strip() and not kept:
        return kept, "instructions"
    if repeats_phrases(kept):
        return kept, "loop"
    if not kept.strip():
        return kept, "empty"
    if echoes_question(question, kept, tokens):
        return kept, "question_echo"
    if cut_by_limit and not finished(kept):
        return kept, "cut_off"
    return kept, None


_TRAILING_MARKERS = re.compile(r"(?:\s*\[\s*\d+(?:\s*,\s*\d+)*\s*\])+\s*$")


def finished(text: str) -> bool:
    """Whether ``text`` ends a sentence (``…다.``, ``…요``, ``?``, ``!``), citation markers aside."""
    tail = _TRAILING_MARKERS.sub("", text).rstrip()
    return tail.endswith(("다", "요", ".", "?", "!", "죠", "까"))


def echoes_question(question: str, text: str, tokens: Callable[[str], Sequence[str]] | None = None) -> bool:
    """True when every sentence of ``text`` is a question or restates ``question`` (no answer in it).

    Small models often repeat the question instead of answering; such text carries nothing to check.
    A sentence restates the question when it is a near copy of it or, given a morpheme ``tokens``
    function, when it has no figure and no content word the question lacks ("출산휴가는 며칠이에요.").
    """
    plain = re.sub(r"\[\d+\]", " ", text)
    sentences = [s.strip() for s in re.split(r"(?<=[.?!])\s+|\n+", plain) if len(s.strip()) > 1]
    asked = re.sub(r"\s+", "", question)
    asked_words = set(tokens(question)) if tokens is not None else set()

    def restates(s: str) -> bool:
        if s.endswith("?") or SequenceMatcher(None, re.sub(r"\s+", "", s), asked).ratio() >= 0.75:
            return True
        if tokens is None or any(ch.isdigit() for ch in s):
            return False
        words = set(tokens(s))
        return bool(words) and words <= asked_words

    return bool(sentences) and all(restates(s) for s in sentences)


def is_refusal(text: str) -> bool:
    return "찾을 수 없" in text or "나와 있지 않" in text


def ends_sentence(text: str) -> bool:
    tail = text.rstrip()
    return tail.endswith(("다.", "요.", "]", "다", ".", "?", "!")) and not tail.endswith(("제", "조"))


def cite_sentences(text: str, n: int) -> str:
    return text.rstrip() + f" [{n}]"
