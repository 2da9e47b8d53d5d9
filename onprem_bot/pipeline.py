"""One request: FAQ → hybrid retrieval → prompt → local LLM (streamed) → citations → checker.

:meth:`Pipeline.stream` yields the answer's text pieces as the model writes them and, last,
the final :class:`~onprem_bot.types.Answer` (which may differ from the streamed text: corrected
values, a citation-less answer replaced, an extractive fallback). :meth:`Pipeline.ask` returns
only that final object. Routes: ``faq``, ``rag``, ``extractive``, ``refused``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace
from typing import Any

from onprem_bot.access import OPERATOR, Viewer
from onprem_bot.answer_guards import QUOTED_NOTICE, cite_sentences, ends_sentence, guard, is_refusal
from onprem_bot.citations import (
    attribute,
    chunk_citation,
    cited_numbers,
    drop_invalid_markers,
    extractive_answer,
    map_citations,
)
from onprem_bot.config import AnswerSettings
from onprem_bot.contextualiser import Contextualiser, Standalone
from onprem_bot.embed.profiles import FALLBACK, EmbedderProfile
from onprem_bot.errors import QueryError
from onprem_bot.llm.admission import QueueFull, QueueTimeout
from onprem_bot.llm.base import LLMError, trim_repetition
from onprem_bot.prompt import STOP, BuiltPrompt, ContextTooSmallError, build_prompt, strip_sentinels
from onprem_bot.types import Answer, Citation, Hit, Turn

log = logging.getLogger(__name__)
NOT_FOUND = "제공된 문서에서 질문에 대한 내용을 찾을 수 없습니다."
TRUNCATED = "질문이 너무 길어 앞의 {n:,}자만 사용했습니다 (question truncated)."
NO_MODEL = "언어 모델을 사용할 수 없어 문서 원문을 인용합니다 (model unavailable: {error})."
QUEUE_BUSY = "지금 질문이 많아 문서 원문을 그대로 보여 드립니다. 잠시 후 다시 물어보시면 모델이 답해 드립니다."
"""The notice when the model's queue is full or the wait ran out (:mod:`onprem_bot.llm.admission`)."""
TOKENS_PER_CHAR = 1.2
"""Answer token budget per requested character (Korean subword tokenizers: ~1 token per 1–1.5 chars)."""


def faq_citation(match: Any) -> Citation:
    """The FAQ entry as the citation of a FAQ answer."""
    return Citation(1, "FAQ", None, f"#{match.id}", None, f"faq:{match.id}", match.question or "")


class Pipeline:
    """Answers questions; every stage is optional except retrieval (``faq``/``llm``/``checker`` may be None)."""

    def __init__(
        self,
        faq: Any | None,
        retriever: Any,
        analyzer: Any,
        llm: Any | None = None,
        checker: Any | None = None,
        settings: AnswerSettings | None = None,
        k: int = 5,
        faq_enabled: bool = True,
        max_query_chars: int = 2000,
        max_tokens: int = 256,
        profile: EmbedderProfile | None = None,
        judge: Any | None = None,
        contextualiser: Contextualiser | None = None,
    ) -> None:
        if k < 1:
            raise ValueError(f"k={k}: must be >= 1")
        self.faq = faq
        self.retriever = retriever
        self.analyzer = analyzer
        self.llm = llm
        self.checker = checker
        self.settings = settings or AnswerSettings()
        self.k = k
        self.faq_enabled = faq_enabled
        self.max_query_chars = max_query_chars
        self.max_tokens = max_tokens
        self.profile = profile or FALLBACK
        """The retrieval embedder's cosine bars (query vs passage): what a dense score means."""
        self.judge = judge
        """An :class:`~onprem_bot.answerable.AnswerabilityJudge`: refuses questions the hits do not cover."""
        self.contextualiser = contextualiser
        """Makes follow-up questions standalone (:mod:`onprem_bot.contextualiser`); None: questions alone."""

    def ask(self, question: str, history: Sequence[Turn] = (), viewer: Viewer = OPERATOR) -> Answer:
        """The final answer to ``question`` after ``history`` (the stream consumed)."""
        final: Answer | None = None
        for item in self.stream(question, history, viewer):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(self, question: str, history: Sequence[Turn] = (), viewer: Viewer = OPERATOR) -> Iterator[str | Answer]:
        """Text pieces while the model writes, then the final :class:`Answer`.

        ``history``: the conversation's earlier turns, oldest first. A follow-up is made standalone
        by the contextualiser and that question is what the FAQ, retrieval, the model and the checker
        see (``Answer.standalone_question`` when it differs); the history itself is never a source.
        ``viewer``: whose answer it is; the FAQ and retrieval see only the entries and documents this
        reader may read (:mod:`onprem_bot.access`), so nothing else can be quoted, cited or suggested.
        """
        if not isinstance(question, str) or not question.strip():
            raise QueryError("질문이 비어 있습니다 (empty question)")
        t = time.perf_counter()
        standalone = (
            self.contextualiser.run(question, history)
            if history and self.contextualiser is not None
            else Standalone(question.strip(), question.strip())
        )
        spent = _ms(t)
        for item in self._answer(standalone.question, standalone.prefer_documents, list(standalone.notices), viewer):
            if isinstance(item, Answer):
                timings = {**(item.timings or {}), "contextualise_ms": spent}
                item = replace(
                    item, timings=timings, standalone_question=standalone.question if standalone.rewritten else None
                )
            yield item

    def _answer(
        self, question: str, prefer: Sequence[str], notices: list[str], viewer: Viewer
    ) -> Iterator[str | Answer]:
        started = time.perf_counter()
        timings: dict[str, float] = {}
        question = question.strip()
        if len(question) > self.max_query_chars:
            question = question[: self.max_query_chars]
            notices.append(TRUNCATED.format(n=self.max_query_chars))
        suggestions: tuple[Any, ...] = ()
        if self.faq is not None and self.faq_enabled:
            t = time.perf_counter()
            match = self.faq.match(question, viewer) if viewer.restricted else self.faq.match(question)
            timings["faq_ms"] = _ms(t)
            if match.matched:
                yield _done(Answer(match.answer, "faq", (faq_citation(match),)), timings, started, notices)
                return
            suggestions = tuple(getattr(match, "suggestions", ()) or ())[:3]  # 관련 FAQ, shown with the answer
        t = time.perf_counter()
        options: dict[str, Any] = {"k": self.k}
        if prefer:
            options["prefer"] = prefer
        if viewer.restricted:
            options["viewer"] = viewer
        hits = self.retriever.run(question, **options)
        timings["retrieval_ms"] = _ms(t)
        retrieved = tuple((h.chunk.id, h.chunk.document_id, h.chunk.doc_title) for h in hits)
        relevance = max((_relevance(h, self.profile) for h in hits), default=0.0)
        if (
            not hits
            or relevance < self.settings.min_relevance
            or not _any_overlap(hits, self.profile)
            or (self.judge is not None and not self.judge.run(question, hits).answerable)
        ):
            closest = tuple(chunk_citation(i + 1, h) for i, h in enumerate(hits[:3]))
            yield _done(
                Answer(NOT_FOUND, "refused", closest, retrieved=retrieved), timings, started, notices, suggestions
            )
            return
        if self.settings.mode == "extractive" or self.llm is None:
            yield _done(
                replace(self._extractive(question, hits), retrieved=retrieved), timings, started, notices, suggestions
            )
            return
        try:
            final = yield from self._generate(question, hits, timings, notices)
        except (QueueFull, QueueTimeout) as exc:  # many employees at once: quote now rather than make them wait
            log.warning("model queue: %s", exc, extra={"event": "queue_fallback"})
            notices.append(QUEUE_BUSY)
            reason = "queue_full" if isinstance(exc, QueueFull) else "queue_timeout"
            final = replace(self._extractive(question, hits), fallback_reason=reason)
        except (LLMError, ContextTooSmallError) as exc:  # a missing, dead or too small model: quote the sources
            notices.append(NO_MODEL.format(error=exc))
            final = self._extractive(question, hits)
        yield _done(replace(final, retrieved=retrieved), timings, started, notices, suggestions)

    def _generate(
        self, question: str, hits: Sequence[Hit], timings: dict[str, float], notices: list[str]
    ) -> Generator[str, None, Answer]:
        assert self.llm is not None
        t = time.perf_counter()
        answer_tokens = min(self.max_tokens, int(self.settings.answer_chars * TOKENS_PER_CHAR) + 32)
        room = self.llm.n_ctx - self.llm.thinking_budget()  # a reasoning model's thinking needs room too
        prompt = build_prompt(question, hits, room, answer_tokens, self.llm.count_tokens, self.settings.answer_chars)
        timings["prompt_ms"] = _ms(t)
        t = time.perf_counter()
        try:
            text = yield from self._complete(prompt, answer_tokens)
            stats = self.llm.last_stats
            if stats is not None and stats.first_piece_s is not None:
                timings["first_token_ms"] = round(1000 * stats.first_piece_s, 2)
            if stats is not None and stats.thinking:  # a reasoning model's thinking, never shown
                timings.update(thinking_tokens=stats.thinking_tokens, thinking_chars=stats.thinking_chars)
            valid = [n for n in cited_numbers(text) if 1 <= n <= len(prompt.sources)]
            attributed = attribute(text, prompt.texts, self.analyzer) if text and not valid else None
            if attributed is not None and not is_refusal(text):
                text = attributed
                timings["attributed"] = 1
            elif text and not valid and not is_refusal(text):
                # re-ask once with the best source alone: whatever it answers rests on that source [1]
                prompt = build_prompt(
                    question, hits[:1], room, answer_tokens, self.llm.count_tokens, self.settings.answer_chars
                )
                text = "".join(self._pieces(prompt, answer_tokens))
                text = text if not text or cited_numbers(text) else cite_sentences(text, 1)
                timings["reasks"] = 1
        finally:
            timings["generation_ms"] = _ms(t)
        text = drop_invalid_markers(trim_repetition(text), len(prompt.sources))
        last = self.llm.last_stats
        cut = last is not None and last.finish == "length"
        text, reason = guard(text, question, prompt.system, self.analyzer.tokens, cut)
        if reason is not None:
            log.info("model answer replaced by the quote: %s", reason)
            notices.append(QUOTED_NOTICE)
            return replace(self._extractive(question, hits), fallback_reason=reason)
        if is_refusal(text) and not cited_numbers(text):
            closest = tuple(chunk_citation(i + 1, h) for i, h in enumerate(hits[:3]))
            return Answer(NOT_FOUND, "refused", closest)
        citations = map_citations(text, prompt.sources, prompt.texts, self.analyzer)
        return self._checked(question, hits, prompt, text, citations, timings)

    def _complete(self, prompt: BuiltPrompt, max_tokens: int) -> Generator[str, None, str]:
        """Stream the answer pieces to the caller; return the whole text."""
        text = ""
        for piece in self._pieces(prompt, max_tokens):
            text += piece
            yield piece
        return text

    def _pieces(self, prompt: BuiltPrompt, max_tokens: int) -> Iterator[str]:
        """The model's pieces, sentinels removed, stopped once the answer is long enough at a sentence end."""
        assert self.llm is not None
        source: Any = prompt.messages() if self.llm.supports_chat else prompt.completion
        text = ""
        stream = self.llm.stream(source, max_tokens, STOP)
        try:
            for raw in stream:
                piece = strip_sentinels(raw)
                if not text:
                    piece = piece.lstrip()
                text += piece
                if piece:
                    yield piece
                if len(text) >= self.settings.answer_chars and ends_sentence(text):
                    break
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    def _checked(
        self,
        question: str,
        hits: Sequence[Hit],
        prompt: BuiltPrompt,
        text: str,
        citations: tuple[Citation, ...],
        timings: dict[str, float],
    ) -> Answer:
        if self.checker is None or not self.settings.check:
            return Answer(text, "rag", citations)
        from onprem_bot.checker import Source

        t = time.perf_counter()
        sources = [
            Source(n, body, h.chunk.doc_title, h.chunk.article, h.chunk.location)
            for n, (h, body) in enumerate(zip(prompt.sources, prompt.texts, strict=True), start=1)
        ]
        result = self.checker.run(text, sources, question)
        timings["check_ms"] = _ms(t)
        check = result.as_check()
        if result.verdict == "pass":
            return Answer(text, "rag", citations, check)
        if result.verdict == "corrected":
            return Answer(result.text, "rag", citations, check)
        policy = self.settings.on_flagged
        if policy == "highlight":
            return Answer(result.highlighted, "rag", citations, check)
        if policy == "refuse":
            return Answer(NOT_FOUND, "refused", citations, check)
        quoted = self._extractive(question, hits)
        return Answer(quoted.answer, "extractive", quoted.citations, check)

    def _extractive(self, question: str, hits: Sequence[Hit]) -> Answer:
        text, citations = extractive_answer(
            question, hits, self.analyzer, max_chars=max(200, self.settings.answer_chars * 2)
        )
        if not citations:
            return Answer(NOT_FOUND, "refused")
        return Answer(text, "extractive", citations)


def _relevance(hit: Hit, profile: EmbedderProfile) -> float:
    """How relevant ``hit`` looks, 0..1: the dense cosine on the embedder's own scale (0 at its unrelated
    bar, 1 at its paraphrase median: :meth:`EmbedderProfile.scaled`) or BM25 / 10, whichever is higher."""
    return max(profile.scaled(hit.dense_score), min(1.0, hit.bm25_score / 10))


def _any_overlap(hits: Sequence[Hit], profile: EmbedderProfile) -> bool:
    """False when no hit shares a single word with the question (BM25 zero) and no dense score
    reaches the embedder's unrelated bar (:meth:`EmbedderProfile.is_overlap`)."""
    return any(h.bm25_score > 0 or profile.is_overlap(h.dense_score) for h in hits)


def _done(
    answer: Answer, timings: dict[str, float], started: float, notices: list[str], suggestions: tuple[Any, ...] = ()
) -> Answer:
    timings["total_ms"] = _ms(started)
    return replace(answer, timings=dict(timings), notices=tuple(notices), faq_suggestions=suggestions)


def _ms(since: float) -> float:
    return round(1000 * (time.perf_counter() - since), 2)
