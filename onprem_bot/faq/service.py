"""The FAQ service: the store plus a matcher that is rebuilt as soon as an entry changes."""

from __future__ import annotations

import threading
from typing import Any

from onprem_bot.faq.matcher import FaqMatch, FaqMatcher


class FaqService:
    """Matches questions against the enabled FAQ entries; edits apply on the next question.

    Every edit changes ``store.revision()``; :meth:`match` compares it with the revision the
    matcher was built from and rebuilds first when they differ (no restart needed). Dense
    vectors come through the embedding cache, so a rebuild embeds only new wording.
    """

    def __init__(self, store: Any, matcher: FaqMatcher) -> None:
        self.store = store
        self.matcher = matcher
        self._revision: int | None = None
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Rebuild the matcher if the FAQ changed since the last build."""
        revision = self.store.revision()
        if revision == self._revision:
            return
        with self._lock:
            if revision != self._revision:
                self.matcher.build(self.store.enabled())
                self._revision = revision

    def match(self, question: str) -> FaqMatch:
        """The matcher's decision for ``question`` over the current entries."""
        self.refresh()
        return self.matcher.match(question)
