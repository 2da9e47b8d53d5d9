"""Text normalisation for Korean statutes and questions: Unicode, quotes, whitespace, legal references."""

from __future__ import annotations

import re
import unicodedata

# Circled numbers (①..⑳) mark paragraphs (항) in statutes; NFKC would turn them into plain digits.
# They are parked in the Private Use Area around NFKC and put back afterwards.
_CIRCLED = [chr(c) for c in range(0x2460, 0x2474)]
_PUA_BASE = 0xF0000
_PROTECT = str.maketrans({c: chr(_PUA_BASE + i) for i, c in enumerate(_CIRCLED)})
_RESTORE = str.maketrans({chr(_PUA_BASE + i): c for i, c in enumerate(_CIRCLED)})

# Applied after NFKC: curly quotes become plain, invisible characters disappear.
# 「」 and 『』 are kept on purpose: statutes quote law titles with 「」.
_AFTER_NFKC = str.maketrans(
    {
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u201e": '"',  # „
        "\u00ab": '"',  # «
        "\u00bb": '"',  # »
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’
        "\u201a": "'",  # ‚
        "\u2032": "'",  # ′
        "\u200b": None,  # zero width space
        "\u200c": None,  # zero width non-joiner
        "\u200d": None,  # zero width joiner
        "\u2060": None,  # word joiner
        "\ufeff": None,  # BOM / zero width no-break space
        "\u00ad": None,  # soft hyphen
    }
)

# 제 60 조 → 제60조, 제 1 항 → 제1항 (the units of a Korean legal reference).
_REF_UNIT = r"(?:조|항|호|목|장|절|관|편)"
_RE_REF_SPACED = re.compile(r"제\s*(\d+)\s*(" + _REF_UNIT + r")")
# 제6조 의3 → 제6조의3, and 제6조의 3 only when the number is not followed by a unit (제6조의 3개월 stays).
_RE_BRANCH_TIGHT = re.compile(r"(제\d+조)\s*의(\d+)")
_RE_BRANCH_LOOSE = re.compile(r"(제\d+조)\s*의\s+(\d+)(?=$|[\s,.)」\]·]|[에의을를은는이가와과및제])")
# 제23조제1항 → 제23조 제1항, 제1항제6호 → 제1항 제6호 (Mecab reads 조제 as one noun otherwise).
_RE_GLUED = re.compile(r"(제\d+(?:조(?:의\d+)?|항))(?=제\d+(?:항|호))")


def normalize(text: str) -> str:
    """Canonical form of ``text`` for matching and indexing.

    NFKC (full-width letters and digits become ASCII), curly quotes become plain quotes (「」 stay),
    zero-width characters are removed, every whitespace run (newlines, U+3000, NBSP included) becomes
    one space, and the ends are stripped. Circled paragraph numbers (①) are kept as they are.
    """
    if not text:
        return ""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text.translate(_PROTECT)).translate(_RESTORE)
        text = text.translate(_AFTER_NFKC)
    return " ".join(text.split())


def normalize_spacing_for_refs(text: str) -> str:
    """Close the spaces inside legal references: ``제 60 조`` → ``제60조``, ``제6조 의3`` → ``제6조의3``.

    References are separated by exactly one space: ``제60 조 제 1 항`` → ``제60조 제1항`` and
    ``제23조제1항`` → ``제23조 제1항``.
    """
    if "제" not in text:
        return text
    text = _RE_REF_SPACED.sub(r"제\1\2", text)
    if "의" in text:
        text = _RE_BRANCH_TIGHT.sub(r"\1의\2", text)
        text = _RE_BRANCH_LOOSE.sub(r"\1의\2", text)
    return _RE_GLUED.sub(r"\1 ", text)
