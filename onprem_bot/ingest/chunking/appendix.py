"""Appendix sections (별표, 별지, 서식): one labelled section per heading, chunked by lines.

A section's ``article`` is the normalised label (``별표 1``, see :mod:`onprem_bot.ingest.appendix`),
its ``article_title`` the appendix title, and every chunk starts with the caption
(``[별표 1] 국내여비지급표``). Table rows (which carry their column headers) and text lines are packed
in order, several rows a chunk, never past the section's end, so a table is never merged with the
next appendix or article.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from onprem_bot.ingest.amendments import split_amendments
from onprem_bot.ingest.appendix import AppendixHeading, is_tag_tail, title_line
from onprem_bot.ingest.chunking.base import Draft, Line, fit_pieces, is_deleted, pack


@dataclass
class AppendixSection:
    """The lines of one appendix, from its heading line to the next heading."""

    heading: AppendixHeading
    head_line: Line
    lines: list[Line] = field(default_factory=list)


def section_drafts(section: AppendixSection, max_tokens: int) -> list[Draft]:
    """The chunks of one appendix section (``[]`` for a deleted or empty appendix)."""
    heading, lines = section.heading, list(section.lines)
    while lines and not lines[0].table_row and is_tag_tail(lines[0].text):
        lines.pop(0)
    title = heading.title
    if not title and lines and not lines[0].table_row:
        found = title_line(lines[0].text)
        if found:
            title = found
            lines.pop(0)
    units: list[tuple[str, Line]] = []
    amendments: list[str] = []
    for ln in lines:
        clean, tags = split_amendments(ln.text)
        amendments.extend(tags)
        if clean:
            units.append((clean, ln))
    if not units or is_deleted("\n".join(u[0] for u in units)):
        return []
    caption = AppendixHeading(heading.label, title).caption
    texts = [u[0] for u in units]
    drafts: list[Draft] = []
    for n, group in enumerate(pack(texts, max_tokens, head=caption)):
        # the heading's line only in the first chunk: later chunks keep their own pages
        srcs = ((section.head_line,) if n == 0 else ()) + tuple(units[i][1] for i in group)
        body = "\n".join(texts[i] for i in group)
        for part in fit_pieces(body, max_tokens, caption):
            drafts.append(
                Draft(
                    "appendix",
                    caption + "\n" + part,
                    heading_path=(caption,),
                    article=heading.label,
                    article_title=title or None,
                    lines=srcs,
                    amendments=tuple(amendments),
                )
            )
    return drafts


def sections_drafts(sections: Sequence[AppendixSection], max_tokens: int) -> list[Draft]:
    """The chunks of every appendix section, in order."""
    return [d for s in sections for d in section_drafts(s, max_tokens)]
