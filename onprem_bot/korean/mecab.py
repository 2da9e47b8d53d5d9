"""One shared Mecab analyser (python-mecab-ko with its bundled dictionary), loaded lazily."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from onprem_bot.errors import OnpremBotError

_lock = threading.Lock()


@lru_cache(maxsize=1)
def mecab() -> Any:
    """The process-wide ``mecab.MeCab`` instance (python-mecab-ko), created on first use."""
    try:
        from mecab import MeCab
    except ImportError as exc:  # pragma: no cover - a broken install
        raise OnpremBotError(
            "python-mecab-ko가 설치되어 있지 않습니다 (python-mecab-ko is not installed): make install"
        ) from exc
    return MeCab()


def morphs(text: str) -> list[str]:
    """The morphemes of ``text`` in order (punctuation included)."""
    if not text:
        return []
    with _lock:
        return list(mecab().morphs(text))


def count_tokens(text: str) -> int:
    """How many Mecab morphemes ``text`` has: the unit of the chunk size limit."""
    return len(morphs(text))
