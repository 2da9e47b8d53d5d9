"""Q&A files: one chunk per question/answer pair."""

from __future__ import annotations

from collections.abc import Sequence

from onprem_bot.ingest.chunking.base import Draft


class QAChunker:
    """One ``qa`` chunk per pair: ``질문: …`` then ``답변: …``."""

    name = "qa"

    def run(self, pairs: Sequence[tuple[str, str]]) -> list[Draft]:
        """Return a draft per pair, in file order."""
        return [
            Draft("qa", f"질문: {q.strip()}\n답변: {a.strip()}", heading_path=(q.strip()[:200],))
            for q, a in pairs
            if q.strip() and a.strip()
        ]
