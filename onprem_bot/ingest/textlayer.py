"""Is a PDF page's extracted text real text? A pure judgement on one page's text layer.

A PDF whose font has no usable ToUnicode map decodes to glyph ids: pypdf returns control
characters (``\\x01\\x02\\x03``), pdfminer/pdfplumber return ``(cid:123)``, other producers give
private-use code points (U+E000–U+F8FF) or U+FFFD. Indexing that text poisons search and the
checker, so such a page is treated like a scanned page (OCR, else skipped with a warning).

Thresholds (tuned on ../shared/cases/pdf-without-text-map/b_no_tounicode.pdf against every page of
the 12 KISA regulation PDFs in ../shared/data/docs/pdf_kisa, 252 pages):

- **garbage**: more than :data:`MAX_BAD_CHARS` bad characters *and* more than :data:`MAX_BAD_RATIO`
  of the page's non-space characters are bad. Bad = C0/C1 control characters other than tab,
  newline and carriage return, private-use, unassigned and surrogate code points, U+FFFD, and every
  character of a ``(cid:N)`` marker. The garbage case has 52 bad characters out of 61 (85%); the
  worst real page has 10 private-use bullets (U+F000, the circled numbers after ⑲) out of 308
  characters (3.2%). 10% leaves three times that margin and still catches a page where one
  character in ten is a glyph id; the floor of 2 keeps a two-word page with one stray bullet usable.
- **no words**: the page has characters but not one Hangul syllable and not one Latin word of two
  or more letters (only digits, punctuation, symbols: a scanned page often carries just a page
  number or a stamp in its text layer). The real pages with the fewest letters still have words
  (``[별표 제2호] <삭제 2023.7.19.>``: 6% of the characters are letters, so no ratio is demanded).
- **empty**: nothing but whitespace; "no text" (a scanned page), not garbage.

The verdict says nothing about text that decodes to *wrong but printable* characters (a
ToUnicode map pointing at the wrong syllables): that cannot be told from one page alone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

MAX_BAD_RATIO: Final = 0.10
"""Largest share of bad characters among the non-space characters of a usable page."""
MAX_BAD_CHARS: Final = 2
"""A page with at most this many bad characters is never garbage (a stray bullet)."""

_BAD_CATEGORIES: Final = frozenset({"Cc", "Co", "Cn", "Cs"})
_WHITESPACE_CONTROLS: Final = frozenset("\t\n\r")
_CID: Final = re.compile(r"\(cid:\d+\)")
_WORD: Final = re.compile(r"[\uac00-\ud7a3]|[A-Za-z]{2,}")


@dataclass(frozen=True)
class TextVerdict:
    """Whether a page's text layer can be indexed; ``reason`` is ``ok``, ``empty``, ``garbage`` or ``no-words``."""

    usable: bool
    reason: str

    @property
    def empty(self) -> bool:
        """True for a page with no text at all (a scanned page), as opposed to unusable text."""
        return self.reason == "empty"


OK: Final = TextVerdict(True, "ok")
EMPTY: Final = TextVerdict(False, "empty")
GARBAGE: Final = TextVerdict(False, "garbage")
NO_WORDS: Final = TextVerdict(False, "no-words")


def _is_bad(ch: str) -> bool:
    if ch == "\ufffd":
        return True
    return ch not in _WHITESPACE_CONTROLS and unicodedata.category(ch) in _BAD_CATEGORIES


def judge_text(text: str) -> TextVerdict:
    """Judge one page's extracted text (raw, before any cleaning: line-splitting hides ``\\x0b``)."""
    cid_chars = sum(len(m) for m in _CID.findall(text))
    rest = _CID.sub(" ", text) if cid_chars else text
    visible = [ch for ch in rest if not (ch.isspace() and ch not in "\x0b\x0c\x1c\x1d\x1e\x1f\x85")]
    total = len(visible) + cid_chars
    if total == 0:
        return EMPTY
    bad = cid_chars + sum(_is_bad(ch) for ch in visible)
    if bad > MAX_BAD_CHARS and bad > MAX_BAD_RATIO * total:
        return GARBAGE
    if not _WORD.search(rest):
        return NO_WORDS
    return OK
