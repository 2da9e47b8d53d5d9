"""Who may read which documents: group names, the reader (:class:`Viewer`) and the one rule.

A document (or an FAQ entry) carries the groups that may read it; none means everyone. A reader
sees an item when the item has no groups, when they share a group, or when the reader sees
everything (the CLI operator without ``--user``, an ``admin`` account). Pure values and functions:
the stores keep the groups, the services pass a :class:`Viewer` down to retrieval and the FAQ.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from onprem_bot.errors import OnpremBotError

MAX_GROUP_CHARS = 64
_BAD_GROUP = re.compile(r"[\s,;/\\]")


class GroupError(OnpremBotError):
    """A group name is unusable (empty, too long, a space, comma, semicolon or slash inside)."""


def clean_group(name: str) -> str:
    """``name`` trimmed and NFC-normalised; :class:`GroupError` naming the bad value otherwise.

    Group names are compared exactly (``인사팀`` and ``인사 팀`` are different names), so a space or a
    separator inside a name is refused rather than guessed at."""
    value = unicodedata.normalize("NFC", str(name or "")).strip()
    if not value:
        raise GroupError("그룹 이름이 비어 있습니다 (empty group name)")
    if len(value) > MAX_GROUP_CHARS:
        raise GroupError(f"그룹 이름은 {MAX_GROUP_CHARS}자 이하여야 합니다 (group name too long): {value[:20]}…")
    if _BAD_GROUP.search(value):
        raise GroupError(
            f"그룹 이름 {value!r}에 공백이나 , ; / 를 넣을 수 없습니다 (no spaces or separators inside a group name); "
            "여러 그룹은 쉼표로 구분하세요: 인사팀,임원"
        )
    return value


def parse_groups(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Sorted, distinct group names from ``"인사팀,임원"`` or a list; () for None or empty.

    A comma-separated string is split on commas; each part must pass :func:`clean_group`."""
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else list(value)
    if isinstance(value, str) and not value.strip():
        return ()
    return tuple(sorted({clean_group(p) for p in parts}))


@dataclass(frozen=True)
class Viewer:
    """The reader of an answer: a name (for the audit log), their groups, and whether they see everything."""

    name: str
    groups: frozenset[str] = frozenset()
    everything: bool = False

    def may_read(self, item_groups: Iterable[str]) -> bool:
        """Whether an item restricted to ``item_groups`` (empty: everyone) is readable by this viewer."""
        wanted = frozenset(item_groups)
        return self.everything or not wanted or bool(wanted & self.groups)

    @property
    def restricted(self) -> bool:
        """False for a viewer who sees everything (no filter needed)."""
        return not self.everything


OPERATOR = Viewer("operator", everything=True)
"""The command line without ``--user``: the person at the server's console sees every document."""
PUBLIC = Viewer("anonymous")
"""A chat user in ``auth.chat = "open"`` mode: only documents without groups."""
