"""Masking of personal data in stored conversation logs (on by default: ``privacy.mask_logs``).

Masked: 주민등록번호/외국인등록번호 (``900101-1234567``), mobile and landline phone numbers
(``010-1234-5678``, ``02-123-4567``, ``+82 10 1234 5678``) and e-mail addresses. Dates
(``2024-01-01``), amounts (``1,000,000원``) and article numbers are left alone.
"""

from __future__ import annotations

import re

RRN_MASK = "******-*******"
PHONE_MASK = "***-****-****"
EMAIL_MASK = "***@***"

_RRN = re.compile(r"(?<![\d-])\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s?[-–]?\s?[1-8]\d{6}(?![\d-])")
_PHONE = re.compile(
    r"(?<![\d-])(?:"
    r"(?:\+82[\s-]?|0)1[016789][\s.-]?\d{3,4}[\s.-]?\d{4}"  # mobile
    r"|(?:\+82[\s-]?|0)(?:2|[3-6][1-5]|70)[\s.)-]\s?\d{3,4}[\s.-]\d{4}"  # landline / VoIP (separators required)
    r"|(?:15|16|18)\d{2}-\d{4}"  # 1588-1234 style
    r")(?![\d-])"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)


def mask_personal_data(text: str) -> str:
    """``text`` with resident registration numbers, phone numbers and e-mail addresses masked."""
    if not text:
        return text
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _RRN.sub(RRN_MASK, text)
    return _PHONE.sub(PHONE_MASK, text)


class Masker:
    """Applies :func:`mask_personal_data` when enabled (the setting), else returns text unchanged."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def __call__(self, text: str) -> str:
        return mask_personal_data(text) if self.enabled else text
