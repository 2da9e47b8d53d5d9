"""Amendment tags of Korean statutes and regulations (``<개정 2018.3.20>``, ``[본조신설 2009.1.1]``): pure functions."""

from __future__ import annotations

import re

_AMENDMENT = re.compile(
    r"<\s*(?:개정|신설|전문개정|본조신설|타법개정|제목개정|본조개정|일부개정|전부개정)[^<>]*>"
    r"|\[\s*(?:본조신설|전문개정|제목개정|본조개정|본조제목개정|종전|시행일|헌법불합치|단순위헌|한정위헌)[^\[\]]*\]"
)


def split_amendments(text: str) -> tuple[str, list[str]]:
    """Remove amendment tags (``<개정 2018.3.20>``, ``[본조신설 2009.1.1]``) from ``text``.

    Returns the cleaned text and the tags removed, in order.
    """
    tags = [m.group(0) for m in _AMENDMENT.finditer(text)]
    if not tags:
        return text, []
    cleaned = _AMENDMENT.sub("", text)
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned).strip()
    cleaned = re.sub(r"\s+([.,])", r"\1", cleaned)
    return cleaned, tags
