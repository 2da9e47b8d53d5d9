"""Reports and notices: chunks by heading and paragraph, short paragraphs packed together.

A chunk never crosses a heading; paragraphs are packed up to ``max_tokens``; an oversized
paragraph is split by sentences. Table rows stay rows (``a | b | c``). Each chunk starts with
its nearest heading so it reads on its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from onprem_bot.ingest.chunking.base import Draft, Line, fit_pieces, pack

# Headings in plain text: "Ⅰ. 개요", "제1장 총칙", "□ 추진 배경" (short, not a sentence).
PLAIN_HEADING = re.compile(r"^(?:[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]+\s*[.)]|제\s*\d+\s*[장절편]\s|[□■◈▣])\s*\S")
MAX_HEADING_CHARS = 40


class ReportChunker:
    """Cut a report by its headings, packing paragraphs up to ``max_tokens``."""

    name = "report"

    def __init__(self, max_tokens: int = 450) -> None:
        if max_tokens < 32:
            raise ValueError(f"max_tokens={max_tokens}: must be >= 32")
        self.max_tokens = max_tokens

    def run(self, lines: Sequence[Line], title: str = "") -> list[Draft]:
        """Return one or more drafts per heading section, in document order."""
        drafts: list[Draft] = []
        path: list[tuple[int, str]] = []
        section: list[Line] = []
        for ln in lines:
            level = ln.heading_level or (6 if self._plain_heading(ln) else 0)
            if level:
                drafts.extend(self._section(section, path))
                section = []
                if ln.text != title or path:
                    path = [p for p in path if p[0] < level] + [(level, ln.text)]
                continue
            section.append(ln)
        drafts.extend(self._section(section, path))
        return drafts

    @staticmethod
    def _plain_heading(ln: Line) -> bool:
        return (
            not ln.table_row
            and len(ln.text) <= MAX_HEADING_CHARS
            and bool(PLAIN_HEADING.match(ln.text))
            and not ln.text.endswith(("다.", "다"))
        )

    def _section(self, section: list[Line], path: list[tuple[int, str]]) -> list[Draft]:
        if not section:
            return []
        heading_path = tuple(text for _, text in path)
        head = heading_path[-1] if heading_path else ""
        units: list[tuple[str, tuple[Line, ...]]] = []
        for ln in section:
            units.extend((piece, (ln,)) for piece in fit_pieces(ln.text, self.max_tokens, head))
        drafts = []
        for group in pack([u[0] for u in units], self.max_tokens, head=head):
            body = "\n".join(units[i][0] for i in group)
            srcs = tuple(ln for i in group for ln in units[i][1])
            text = f"{head}\n{body}" if head else body
            drafts.append(Draft("section", text, heading_path=heading_path, lines=tuple(dict.fromkeys(srcs))))
        return drafts
