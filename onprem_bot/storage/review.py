"""The review page's table and its CSV export (Korean column and value names)."""

from __future__ import annotations

import csv
import io
from typing import Any

from onprem_bot.storage.conversations import StoredMessage, local_time

REVIEW_COLUMNS = ("시각", "질문", "답변", "경로", "검증", "평가", "의견", "출처")
ROUTE_NAMES = {"faq": "FAQ", "rag": "문서 기반", "extractive": "원문 인용", "refused": "답변 불가"}
VERDICT_NAMES = {"pass": "통과", "corrected": "수정됨", "flagged": "확인 필요"}
RATING_NAMES = {1: "도움됨", -1: "아쉬움"}
"""The chat's feedback buttons' words (no emoji: a server without an emoji font shows boxes)."""


def review_rows(messages: list[StoredMessage]) -> list[dict[str, Any]]:
    """The review table's rows (Korean column names)."""
    return [
        {
            "시각": local_time(m.created_at).strftime("%Y-%m-%d %H:%M"),
            "질문": m.question,
            "답변": m.answer.answer,
            "경로": ROUTE_NAMES.get(m.answer.route, m.answer.route),
            "검증": VERDICT_NAMES.get(m.answer.check.verdict, m.answer.check.verdict),
            "평가": RATING_NAMES.get(m.rating or 0, ""),
            "의견": m.comment,
            "출처": "; ".join(f"[{c.n}] {c.doc_title} {c.location}".strip() for c in m.answer.citations),
        }
        for m in messages
    ]


def review_csv(messages: list[StoredMessage]) -> bytes:
    """The review rows as CSV (UTF-8 with BOM for Excel; cells made formula-safe)."""
    from onprem_bot.faq.io import escape_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(REVIEW_COLUMNS)
    for row in review_rows(messages):
        writer.writerow([escape_cell(str(row[c])) for c in REVIEW_COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")
