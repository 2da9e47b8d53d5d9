"""The value objects every stage passes around (frozen: safe to share and cache)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from onprem_bot.faq.matcher import FaqSuggestion


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of a document, with where it sits in the document.

    ``kind`` is ``article`` (a whole 조), ``article_part`` (an article split by 항/호),
    ``supplementary`` (부칙), ``section`` (a report's heading section) or ``qa``.
    ``article`` is the article label (``제60조``, ``제6조의3``; for transitional provisions the 부칙
    and its articles, ``부칙 <2024. 1. 1.> 제1조~제2조``) or None; ``paragraph``/``item`` are 항/호 labels (``제1항``, ``제1항~제3항``).
    """

    id: str
    document_id: str
    ordinal: int
    kind: str
    text: str
    doc_title: str = ""
    heading_path: tuple[str, ...] = ()
    article: str | None = None
    article_title: str | None = None
    paragraph: str | None = None
    item: str | None = None
    page: int | None = None
    page_end: int | None = None
    char_start: int = 0
    char_end: int = 0
    token_count: int = 0
    amendments: tuple[str, ...] = ()

    @property
    def location(self) -> str:
        """Where the chunk is, for a citation: ``제60조 제1항``, ``별표 1 (국내여비지급표) p.15``,
        ``부칙 <2024. 1. 1.> 제1조``, ``p.3``, a heading."""
        parts: list[str] = []
        if self.article and self.kind == "appendix" and self.article_title:
            parts.append(f"{self.article} ({self.article_title})")
        elif self.article:
            parts.append(self.article)
            if self.paragraph:
                parts.append(self.paragraph)
            if self.item:
                parts.append(self.item)
        elif self.heading_path:
            parts.append(self.heading_path[-1])
        if self.page is not None:
            pages = f"p.{self.page}" if self.page_end in (None, self.page) else f"p.{self.page}-{self.page_end}"
            parts.append(pages)
        return " ".join(parts)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the score from each retriever.

    ``bm25_score`` and ``dense_score`` are raw (BM25 score, cosine similarity); ``score``
    is the fused score that ordered the results.
    """

    chunk: Chunk
    score: float
    bm25_score: float = 0.0
    dense_score: float = 0.0
    rank: int = 0


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: the document, where in it, and the quoted snippet."""

    n: int
    doc_title: str
    article: str | None
    location: str
    page: int | None
    chunk_id: str
    snippet: str


@dataclass(frozen=True)
class Turn:
    """One earlier turn of a conversation, as a follow-up question sees it: the question, the final
    answer's text and citations, and the standalone question that was searched (None: not known)."""

    question: str
    answer: str = ""
    citations: tuple[Citation, ...] = ()
    standalone_question: str | None = None


@dataclass(frozen=True)
class Check:
    """The hallucination checker's verdict (``pass``/``corrected``/``flagged``) and findings."""

    verdict: str = "pass"
    findings: tuple[dict[str, object], ...] = ()


@dataclass(frozen=True)
class Answer:
    """What every entry point returns: the UI, the CLI and the evaluation read this one object."""

    answer: str
    route: str
    """``faq``, ``rag``, ``extractive`` or ``refused``."""
    citations: tuple[Citation, ...] = ()
    check: Check = Check()
    timings: dict[str, float] | None = None
    notices: tuple[str, ...] = ()
    """Things the user should know (a truncated question, the model unavailable)."""
    faq_suggestions: tuple[FaqSuggestion, ...] = ()
    """관련 FAQ: the best FAQ entries when the FAQ did not answer directly (at most 3; empty for route faq)."""
    standalone_question: str | None = None
    """The question retrieval searched when it differs from the one asked (a rewritten follow-up)."""
    fallback_reason: str | None = None
    """Why a model answer was replaced by the quote (``loop``, ``question_echo``, … see
    :data:`onprem_bot.answer_guards.REASONS`); for the log and ``--json``, not for employees."""
    retrieved: tuple[tuple[str, str, str], ...] = ()
    """``(chunk_id, document_id, doc_title)`` of every retrieved chunk, best first: for the audit log only
    (never shown; the citations are what the reader sees)."""

    def as_json(self) -> dict[str, object]:
        """The DESIGN.md ``ask --json`` contract."""
        return {
            "answer": self.answer,
            "route": self.route,
            "citations": [c.__dict__ for c in self.citations],
            "check": {"verdict": self.check.verdict, "findings": list(self.check.findings)},
            "timings": dict(self.timings or {}),
            "notices": list(self.notices),
            "faq_suggestions": [s.as_json() for s in self.faq_suggestions],
            "standalone_question": self.standalone_question,
            "fallback_reason": self.fallback_reason,
        }
