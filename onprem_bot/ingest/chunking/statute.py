"""Statutes and regulations: one chunk per article (조), split by 항 then 호 when too long.

Works on Markdown statutes (``##### 제60조 (제목)``) and on regulation text from PDF, HWP
or HWPX (``제60조(제목) ① ...`` at the start of a line). Heading path = 편/장/절/관;
deleted articles (``삭제``) are skipped; amendment tags go to metadata; everything after
``부칙`` becomes transitional-provision chunks labelled with their 부칙 (``부칙 <2024. 1. 1.> 제1조``) until
an appendix heading (``[별표 1]``, ``[별지 제3호 서식]``) starts an appendix section
(:mod:`onprem_bot.ingest.chunking.appendix`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from onprem_bot.ingest.appendix import parse_appendix_heading
from onprem_bot.ingest.chunking.appendix import AppendixSection, sections_drafts
from onprem_bot.ingest.chunking.base import (
    Draft,
    Line,
    fit_pieces,
    is_deleted,
    pack,
    split_amendments,
    split_sentences,
)
from onprem_bot.ingest.chunking.report import ReportChunker
from onprem_bot.ingest.chunking.supplement import (
    ARTICLE,
    SupplementGroup,
    supplement_drafts,
)
from onprem_bot.korean.mecab import count_tokens

STRUCTURE = re.compile(r"^(?:#+\s*)?제\s*\d+\s*(편|장|절|관)(?:\s*의\s*\d+)?(?:\s+.*)?$")
# 민법 groups some 관 into 항 ("제1항 협의상 파양"): a structural heading, not a 항 of an article.
SUB_SECTION = re.compile(r"^제\s*\d+\s*항\s+(?!및|또는)([^\d<>.]{1,20}?)\s*(?:<[^>]*>)?$")
SUPPLEMENT = re.compile(r"^(?:#+\s*)?부\s*칙(?:\s*[<(\[].*)?$")
PARAGRAPH = re.compile(r"^([①-⑳㉑-㉟])")
ITEM = re.compile(r"^(\d+)(?:의\s*\d+)?\s*\.\s*")
_PARTICLE_AFTER_REF = re.compile(r"^(?:에|의|를|을|은|는|와|과|및|로|으로|이|가|부터|까지|중|에서|에도|에게)")
LEVELS = {"편": 0, "장": 1, "절": 2, "관": 3, "항": 4}
DEPTH = len(LEVELS)
MARKER_COUNT_FOR_STATUTE = 3
MAX_GAP = 5  # an article number further ahead than this is suspect (see _starts_article)
LOOKAHEAD = 400  # lines searched for a nearer article header


def looks_like_statute(lines: Sequence[Line]) -> bool:
    """True when the text has article headers at line starts, however few and wherever they start.

    One titled header (``제60조(연차 유급휴가) ① 사용자는 …``: an excerpt, a single article copied
    from a law site) is enough; a title followed by a particle (``제2조(정의)에 따른``) is a reference
    that a line break put first, not a header. Otherwise :data:`MARKER_COUNT_FOR_STATUTE` headers
    (Markdown headings or titled lines) are needed.
    """
    hits = 0
    for ln in lines:
        if not ln.table_row and ln.text.lstrip()[:1] in "[<【" and parse_appendix_heading(ln.text):
            return True  # a regulation's appendices (a document of appendices only, too)
        m = ARTICLE.match(ln.text)
        if m and (ln.heading_level or m.group(3) is not None):
            if m.group(3) is not None and not _PARTICLE_AFTER_REF.match(m.string[m.end(3) + 1 :]):
                return True
            hits += 1
            if hits >= MARKER_COUNT_FOR_STATUTE:
                return True
    return False


def circled_number(ch: str) -> int:
    """①→1 … ⑳→20, ㉑→21 … ㉟→35."""
    code = ord(ch)
    return code - 0x2460 + 1 if code <= 0x2473 else code - 0x3251 + 21


@dataclass
class _Article:
    label: str
    title: str | None
    path: tuple[str, ...]
    lines: list[Line] = field(default_factory=list)
    inline: str = ""


class StatuteChunker:
    """Cut a statute or regulation into article chunks (see module docstring)."""

    name = "statute"

    def __init__(self, max_tokens: int = 450) -> None:
        if max_tokens < 32:
            raise ValueError(f"max_tokens={max_tokens}: must be >= 32")
        self.max_tokens = max_tokens

    def run(self, lines: Sequence[Line], title: str = "") -> list[Draft]:
        """Return the drafts of every article, preamble section and 부칙 group, in order."""
        drafts: list[Draft] = []
        path: list[str] = [""] * DEPTH
        article: _Article | None = None
        last_key = (-1, -1)
        preamble: list[Line] = []
        groups: list[SupplementGroup] | None = None
        appendices: list[AppendixSection] = []
        upcoming = _candidate_numbers(lines)
        for index, ln in enumerate(lines):
            text = ln.text
            appendix = None if ln.table_row else parse_appendix_heading(text)
            if appendix is not None:  # 별표/별지: a section of its own; ends the article or the 부칙
                drafts.extend(self._flush(article))
                article = None
                drafts.extend(d for group in groups or [] for d in supplement_drafts(group, self.max_tokens))
                groups = None
                appendices.append(AppendixSection(appendix, ln))
                continue
            if appendices and not (SUPPLEMENT.match(text) and len(text) < 40):
                appendices[-1].lines.append(ln)
                continue
            if appendices:  # a 부칙 after the appendices
                drafts.extend(sections_drafts(appendices, self.max_tokens))
                appendices = []
            if groups is not None:
                if SUPPLEMENT.match(text) and len(text) < 80:
                    groups.append(SupplementGroup(text.lstrip("# ").strip()))
                else:
                    groups[-1].lines.append(ln)
                continue
            if SUPPLEMENT.match(text) and (ln.heading_level or len(text) < 40):
                drafts.extend(self._flush(article))
                article = None
                groups = [SupplementGroup(text.lstrip("# ").strip())]
                continue
            s = STRUCTURE.match(text)
            level = -1
            if s and (ln.heading_level or (len(text) < 60 and not text.endswith("다."))):
                level = LEVELS[s.group(1)]
            elif SUB_SECTION.match(text):
                level = LEVELS["항"]
            elif ln.heading_level and ln.heading_level <= 4 and not ARTICLE.match(text):
                if text.strip("# ") == title:
                    continue
                level = ln.heading_level - 1
            if level >= 0:
                drafts.extend(self._flush(article))
                article = None
                path[level:] = [_heading(text)] + [""] * (DEPTH - 1 - level)
                continue
            m = ARTICLE.match(text)
            if m and _starts_article(m, ln, last_key, upcoming[index + 1 : index + 1 + LOOKAHEAD]):
                drafts.extend(self._flush(article))
                num, sub = int(m.group(1)), int(m.group(2) or 0)
                last_key = (num, sub)
                label = f"제{num}조의{sub}" if sub else f"제{num}조"
                title_text = split_amendments(m.group(3))[0].strip() if m.group(3) else None
                article = _Article(label, title_text or None, tuple(p for p in path if p), [ln], m.group(4).strip())
                continue
            if article is not None:
                article.lines.append(ln)
            else:
                preamble.append(ln)
        drafts.extend(self._flush(article))
        for group in groups or []:
            drafts.extend(supplement_drafts(group, self.max_tokens))
        drafts.extend(sections_drafts(appendices, self.max_tokens))
        preamble = [ln for ln in preamble if ln.text.strip("# ").strip() != title]  # every chunk carries the title
        if preamble:  # title page, 제정/개정 history, a table of contents: cut like a report
            drafts[:0] = ReportChunker(self.max_tokens).run(preamble, title)
        return drafts

    # -- one article -------------------------------------------------------------------

    def _flush(self, art: _Article | None) -> list[Draft]:
        if art is None:
            return []
        header = f"{art.label}({art.title})" if art.title else art.label
        units: list[tuple[int | None, list[str], list[Line]]] = []  # (항 number, lines, source)
        amendments: list[str] = []
        body = [(art.inline, art.lines[0])] if art.inline else []
        body += [(ln.text, ln) for ln in art.lines[1:]]
        for text, src in body:
            clean, tags = split_amendments(text)
            amendments.extend(tags)
            p = PARAGRAPH.match(clean)
            if p or not units:
                units.append((circled_number(p.group(1)) if p else None, [], []))
            if clean:
                units[-1][1].append(clean)
            units[-1][2].append(src)
        kept = [u for u in units if u[1] and not is_deleted("\n".join(u[1]))]
        if not kept or (art.title or "").startswith("삭제"):
            return []
        texts = ["\n".join(u[1]) for u in kept]
        full = header + "\n" + "\n".join(texts)
        all_tags = tuple(amendments)

        def draft(
            kind: str, text: str, srcs: Sequence[Line], paragraph: str | None = None, item: str | None = None
        ) -> Draft:
            return Draft(kind, text, art.path, art.label, art.title, paragraph, item, tuple(srcs), all_tags)

        if count_tokens(full) <= self.max_tokens:
            return [draft("article", full, art.lines)]
        drafts: list[Draft] = []
        for group in pack(texts, self.max_tokens, head=header):
            numbers = [kept[i][0] for i in group]
            srcs = tuple(ln for i in group for ln in kept[i][2])
            paragraph = _range("항", numbers)
            if len(group) == 1 and count_tokens(header + "\n" + texts[group[0]]) > self.max_tokens:
                for text, item in self._split_paragraph(kept[group[0]][1], header):
                    drafts.append(draft("article_part", text, srcs, paragraph, item))
                continue
            text = header + "\n" + "\n".join(texts[i] for i in group)
            drafts.append(draft("article_part", text, srcs, paragraph))
        return drafts

    def _split_paragraph(self, lines: list[str], header: str) -> list[tuple[str, str | None]]:
        """Split one long 항 by its 호 (the lead sentence repeated), then by sentences."""
        lead: list[str] = []
        items: list[tuple[int | None, list[str]]] = []
        for line in lines:
            m = ITEM.match(line)
            if m:
                items.append((int(m.group(1)), [line]))
            elif items:
                items[-1][1].append(line)
            else:
                lead.append(line)
        head = header + ("\n" + "\n".join(lead) if lead and items else "")
        if not items:  # no 호: fall back to sentences
            items = [(None, [s]) for s in split_sentences("\n".join(lines))]
            head = header
        texts = ["\n".join(x[1]) for x in items]
        out: list[tuple[str, str | None]] = []
        for group in pack(texts, self.max_tokens, head=head):
            if len(group) == 1 and count_tokens(head + "\n" + texts[group[0]]) > self.max_tokens:
                out.extend(self._split_sentences(texts[group[0]], head, items[group[0]][0]))
                continue
            out.append((head + "\n" + "\n".join(texts[i] for i in group), _range("호", [items[i][0] for i in group])))
        return out

    def _split_sentences(self, text: str, head: str, number: int | None) -> list[tuple[str, str | None]]:
        sentences = split_sentences(text)
        out: list[tuple[str, str | None]] = []
        for group in pack(sentences, self.max_tokens, head=head):
            piece = " ".join(sentences[i] for i in group)
            out.extend(
                (head + "\n" + part, _range("호", [number])) for part in fit_pieces(piece, self.max_tokens, head)
            )
        return out


def _candidate_numbers(lines: Sequence[Line]) -> list[int | None]:
    """For each line, the article number it would open (a titled header), else None."""
    out: list[int | None] = []
    for ln in lines:
        m = ARTICLE.match(ln.text)
        out.append(int(m.group(1)) if m and (ln.heading_level or m.group(3) is not None) else None)
    return out


def _starts_article(m: re.Match[str], ln: Line, last: tuple[int, int], upcoming: Sequence[int | None]) -> bool:
    """Is this ``제N조…`` line an article header, or a reference that a line break put first?

    Headers come in increasing order. ``제2조(정의)에 따른`` (a particle right after the title)
    is a reference unless it is the very next article (``제1조(목적)이 지침은``); a jump far
    ahead (``제414조(감사의 책임)`` quoted from 상법 after 제9조) is a reference when a
    nearer article header follows soon.
    """
    if ln.heading_level:
        return True
    num, sub = int(m.group(1)), int(m.group(2) or 0)
    if (num, sub) <= last:
        return False
    successor = num == last[0] + 1 or (num == last[0] and sub > last[1]) or (last[0] < 0 and num == 1)
    if m.group(3) is not None:
        if _PARTICLE_AFTER_REF.match(m.string[m.end(3) + 1 :]) and not successor:
            return False
    elif not (m.group(4) == "" or m.group(4).startswith("삭제")):
        return False
    if not successor and num > max(last[0], 0) + MAX_GAP:
        return not any(n is not None and last[0] < n <= last[0] + MAX_GAP for n in upcoming)
    return True


def _heading(text: str) -> str:
    return split_amendments(text.lstrip("# ").strip())[0]


def _range(unit: str, numbers: Sequence[int | None]) -> str | None:
    nums = [n for n in numbers if n is not None]
    if not nums:
        return None
    if min(nums) == max(nums):
        return f"제{nums[0]}{unit}"
    return f"제{min(nums)}{unit}~제{max(nums)}{unit}"
