"""부칙 (supplementary provisions): one group per 부칙 header, chunked by its articles.

부칙 restart their article numbering (부칙 제1조, 제2조 …) and a regulation may have many of them, so
every chunk's ``article`` names its 부칙 (``부칙 <2024. 1. 1.> 제1조~제2조``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from onprem_bot.ingest.chunking.base import Draft, Line, fit_pieces, pack, split_amendments

ARTICLE = re.compile(
    r"^(?:#+\s*)?제\s*(\d+)\s*조(?:\s*의\s*(\d+))?"
    r"(?:\s*\(((?:[^()]|\([^()]*\))*)\))?\s*(.*)$"
)
"""An article header at a line start: number, 의-number, title in parentheses, the rest of the line."""


@dataclass
class SupplementGroup:
    """One 부칙: its header line (``부칙 <2024. 1. 1.>``) and the lines under it."""

    header: str
    lines: list[Line] = field(default_factory=list)


def supplement_drafts(group: SupplementGroup, max_tokens: int) -> list[Draft]:
    """The chunks of one 부칙: its articles packed up to ``max_tokens``, each chunk labelled with
    :func:`supplement_label` and starting with the 부칙 header."""
    units: list[tuple[list[str], list[Line], str | None]] = []
    amendments: list[str] = []
    for ln in group.lines:
        clean, tags = split_amendments(ln.text)
        amendments.extend(tags)
        m = ARTICLE.match(clean)
        if not units or (m and m.group(3) is not None):
            units.append(([], [], article_label(m) if m and m.group(3) is not None else None))
        if clean:
            units[-1][0].append(clean)
        units[-1][1].append(ln)
    units = [u for u in units if u[0]]
    if not units:
        return []
    texts = ["\n".join(u[0]) for u in units]
    drafts = []
    for idx in pack(texts, max_tokens, head=group.header):
        srcs = tuple(ln for i in idx for ln in units[i][1])
        body = "\n".join(texts[i] for i in idx)
        label = supplement_label(group.header, [units[i][2] for i in idx])
        for part in fit_pieces(body, max_tokens, group.header):
            drafts.append(
                Draft(
                    "supplementary",
                    group.header + "\n" + part,
                    heading_path=(group.header,),
                    article=label,
                    lines=srcs,
                    amendments=tuple(amendments),
                )
            )
    return drafts


def article_label(m: re.Match[str]) -> str:
    """``제N조`` or ``제N조의M`` of an :data:`ARTICLE` match."""
    return f"제{int(m.group(1))}조" + (f"의{int(m.group(2))}" if m.group(2) else "")


def supplement_label(header: str, articles: Sequence[str | None]) -> str:
    """The ``article`` of a 부칙 chunk: which 부칙 (its header, with its date or number) and which of its
    articles, e.g. ``부칙 <2024. 1. 1.> 제1조`` or ``부칙 <2024. 1. 1.> 제1조~제2조`` (pure).

    부칙 restart their numbering, so a bare ``제1조`` would be mixed up with the main text's 제1조
    and with the other 부칙."""
    header = re.sub(r"^부\s*칙\s*", "부칙 ", " ".join(header.split())).strip() or "부칙"
    found = [a for a in articles if a]
    if not found:
        return header
    return f"{header} {found[0]}" if len(found) == 1 else f"{header} {found[0]}~{found[-1]}"
