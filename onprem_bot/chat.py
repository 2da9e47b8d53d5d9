"""The chat service: answers a question through the pipeline, streaming, and logs it.

The UI (and any other front end) calls only this: :meth:`ChatService.stream` yields the answer's
text pieces as the model writes them and, last, the :class:`StoredMessage` that was logged (the
final answer may differ from the streamed text: corrected values, an extractive fallback).
Every call names its reader (a :class:`~onprem_bot.access.Viewer`; by default :data:`PUBLIC`, who
reads only documents without groups): answers, suggestions and source views never show anything
else, and each question goes to the audit log with the documents retrieved and cited.

One question is in flight per conversation: a second one sent while the first is being answered is
refused (:class:`ConversationError`, nothing logged). While a question waits for the shared model
(:mod:`onprem_bot.llm.admission`), ``on_wait`` hears its place in the queue.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from onprem_bot.access import PUBLIC, Viewer
from onprem_bot.errors import OnpremBotError
from onprem_bot.llm.admission import Waiting
from onprem_bot.llm.queued import within_request
from onprem_bot.storage.conversations import ConversationError, ConversationStore, StoredMessage
from onprem_bot.types import Answer, Citation, Turn

log = logging.getLogger(__name__)
CLICK_USER = "chat"
"""Who a phrasing learned from a chat click is recorded as when the chat is open (no log-in)."""
BUSY = "이전 질문에 답하는 중입니다. 답이 끝난 뒤 다시 보내 주세요. (a question of this conversation is still being answered)"


class ChatService:
    """Pipeline + conversation log + the sources behind citations."""

    def __init__(
        self,
        pipeline: Any,
        conversations: ConversationStore,
        documents: Any,
        faq_store: Any,
        phrasings: Any = None,
        audit: Any = None,
    ) -> None:
        self.pipeline = pipeline
        self.conversations = conversations
        self.documents = documents
        self.faq_store = faq_store
        self.phrasings = phrasings
        self.audit = audit
        """An :class:`~onprem_bot.storage.audit.AuditLog`, or None (no audit)."""
        self._in_flight: set[str] = set()
        self._in_flight_lock = threading.Lock()

    def start(self, session_key: str) -> str:
        """A new conversation for a browser session."""
        return self.conversations.start(session_key)

    def history(self, conversation_id: str) -> list[StoredMessage]:
        """The conversation so far, from the database."""
        return self.conversations.messages(conversation_id)

    def turns(self, conversation_id: str) -> list[Turn]:
        """The conversation so far as the pipeline reads it (question, answer, citations, what was searched)."""
        return [
            Turn(m.question, m.answer.answer, m.answer.citations, m.answer.standalone_question)
            for m in self.conversations.messages(conversation_id)
        ]

    def stream(
        self,
        conversation_id: str,
        question: str,
        viewer: Viewer = PUBLIC,
        on_wait: Callable[[Waiting], None] | None = None,
    ) -> Iterator[str | StoredMessage]:
        """Text pieces, then the logged message (raises the pipeline's errors, e.g. an empty question).

        The conversation's earlier turns go with the question, so a follow-up ("차 지원받으면요?") is
        understood in context (:mod:`onprem_bot.contextualiser`). While the question waits for the
        model, ``on_wait`` is called (in this thread, about twice a second) with its place in the queue;
        what it raises ends the request (dropped from the queue) and propagates. Raises
        :class:`ConversationError` (nothing logged) while another question of this conversation is
        being answered; a full queue or a timeout is answered by quoting, with a "잠시 후 다시" notice."""
        with self._in_flight_lock:
            if conversation_id in self._in_flight:
                raise ConversationError(BUSY)
            self._in_flight.add(conversation_id)
        try:
            self._preview(on_wait, conversation_id)
            final: Answer | None = None
            pieces = self.pipeline.stream(question, self.turns(conversation_id), viewer)
            for item in within_request(pieces, owner=conversation_id, on_wait=on_wait):
                if isinstance(item, Answer):
                    final = item
                else:
                    yield item
            assert final is not None, "the pipeline ended without an answer"
            stored = self.conversations.record(conversation_id, question, final)
            if self.audit is not None:
                self.audit.asked(viewer.name, question, final)
        finally:
            with self._in_flight_lock:
                self._in_flight.discard(conversation_id)
        yield stored

    def _preview(self, on_wait: Callable[[Waiting], None] | None, conversation_id: str) -> None:
        """Tell a sender at once where they would wait when the model is busy (search runs first, and with
        many questions at once on a loaded server that alone can take more than a second): the questions
        already sent in other conversations that have not reached the queue count as ahead; the queue's
        own reports follow."""
        queue = getattr(getattr(self.pipeline, "llm", None), "queue", None)
        settings = getattr(self.pipeline, "settings", None)
        if on_wait is None or queue is None or getattr(settings, "mode", "rag") == "extractive":
            return
        status = queue.status()
        with self._in_flight_lock:
            others = len(self._in_flight - {conversation_id})
        waiting = queue.preview(pending=others - status["running"] - status["waiting"])
        if waiting is not None:
            on_wait(waiting)

    def ask(
        self,
        conversation_id: str,
        question: str,
        viewer: Viewer = PUBLIC,
        on_wait: Callable[[Waiting], None] | None = None,
    ) -> StoredMessage:
        """The logged message (the stream consumed; see :meth:`stream`)."""
        last: Any = None
        for last in self.stream(conversation_id, question, viewer, on_wait):  # noqa: B007
            pass
        assert isinstance(last, StoredMessage)
        return last

    def choose_suggestion(
        self, conversation_id: str, message_id: int, entry_id: Any, viewer: Viewer = PUBLIC
    ) -> StoredMessage:
        """The user picked 관련 FAQ ``entry_id`` under answer ``message_id``: log that entry's approved
        answer (verbatim, route ``faq``, cited as FAQ #id) in the conversation, and record the
        question they asked as a pending phrasing of the entry (a failure there never costs the answer).

        :class:`ConversationError` (one line, nothing logged) when the entry was not offered with
        that answer, was deleted or is switched off.
        """
        from onprem_bot.pipeline import faq_citation

        original = self.conversations.message(message_id)
        if original.conversation_id != conversation_id:
            raise ConversationError(f"이 대화의 답변이 아닙니다 (message {message_id} is not in this conversation)")
        if str(entry_id) not in {str(x.id) for x in original.answer.faq_suggestions}:
            raise ConversationError(f"FAQ #{entry_id}은(는) 이 답변에 제안된 항목이 아닙니다 (not suggested here)")
        try:
            entry = self.faq_store.get(int(entry_id))
        except OnpremBotError:
            raise ConversationError(f"FAQ #{entry_id}은(는) 삭제되어 보여 드릴 수 없습니다 (entry deleted)") from None
        if not entry.enabled:
            raise ConversationError(f"FAQ #{entry_id}은(는) 지금 사용하지 않는 항목입니다 (entry disabled)")
        if not viewer.may_read(entry.groups):
            raise ConversationError(f"FAQ #{entry_id}은(는) 볼 수 있는 권한이 없습니다 (not in your groups)")
        if self.phrasings is not None:
            try:
                self.phrasings.record(entry.id, original.question, "click", CLICK_USER, message_id=message_id)
            except OnpremBotError as exc:  # learning is a bonus: the user still gets the answer
                log.warning("phrasing not recorded: %s", exc, extra={"event": "faq_phrasing_failed"})
        answer = Answer(entry.answer, "faq", (faq_citation(entry),))
        return self.conversations.record(conversation_id, entry.question, answer)

    def feedback(self, message_id: int, rating: int, comment: str = "") -> None:
        """Store thumbs up (1) / down (-1) and an optional comment on an answer."""
        self.conversations.feedback(message_id, rating, comment)

    def source_text(self, citation: Citation, viewer: Viewer = PUBLIC) -> str | None:
        """The whole quoted source of a citation (the chunk, or the FAQ entry), or None when it is gone or
        ``viewer`` may no longer read it (its groups changed after the answer was given)."""
        if citation.chunk_id.startswith("faq:"):
            try:
                entry = self.faq_store.get(int(citation.chunk_id[4:]))
            except Exception:
                return None
            return f"{entry.question}\n\n{entry.answer}" if viewer.may_read(entry.groups) else None
        chunk = self.documents.chunks_by_ids([citation.chunk_id]).get(citation.chunk_id)
        if chunk is None:
            return None
        if viewer.restricted and chunk.document_id not in self.documents.readable(viewer):
            return None
        return chunk.text
