"""What the model wrote, read as text: echoes of the question, refusals, sentence ends (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from difflib import SequenceMatcher


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
