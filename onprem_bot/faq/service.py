"""The FAQ service: the store plus a matcher that is rebuilt as soon as an entry changes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from onprem_bot.access import OPERATOR, Viewer
from onprem_bot.faq.matcher import FaqMatch, FaqMatcher

MAX_GROUP_MATCHERS = 16
"""Matchers kept for distinct sets of visible entries (readers of different groups), least recently used out."""


class FaqService:
    """Matches questions against the enabled FAQ entries a reader may see; edits apply on the next question.

    Every edit changes ``store.revision()``; :meth:`match` compares it with the revision the
    matcher was built from and rebuilds first when they differ (no restart needed). Dense
    vectors come through the embedding cache, so a rebuild embeds only new wording. A reader who
    may not see every entry (entries with groups) gets a matcher built over the entries they may
    see only, so a restricted entry can neither answer nor be suggested to them.
    """

    def __init__(self, store: Any, matcher: FaqMatcher) -> None:
        self.store = store
        self.matcher = matcher
        self._revision: int | None = None
        self._entries: list[Any] = []
        self._by_set: OrderedDict[frozenset[Any], FaqMatcher] = OrderedDict()
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Rebuild the matcher if the FAQ changed since the last build."""
        revision = self.store.revision()
        if revision == self._revision:
            return
        with self._lock:
            if revision != self._revision:
                self._entries = list(self.store.enabled())
                self.matcher.build(self._entries)
                self._by_set.clear()
                self._revision = revision

    def match(self, question: str, viewer: Viewer = OPERATOR) -> FaqMatch:
        """The matcher's decision for ``question`` over the current entries ``viewer`` may see."""
        self.refresh()
        return self._matcher_for(viewer).match(question)

    def _matcher_for(self, viewer: Viewer) -> FaqMatcher:
        entries = self._entries
        visible = [e for e in entries if viewer.may_read(getattr(e, "groups", ()))]
        if len(visible) == len(entries):
            return self.matcher
        key = frozenset(e.id for e in visible)
        with self._lock:
            found = self._by_set.get(key)
            if found is None:
                found = self.matcher.fresh()
                found.build(visible)
                self._by_set[key] = found
                while len(self._by_set) > MAX_GROUP_MATCHERS:
                    self._by_set.popitem(last=False)
            self._by_set.move_to_end(key)
            return found
