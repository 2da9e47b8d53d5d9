"""The chat service: answers a question through the pipeline, streaming, and logs it.

The UI (and any other front end) calls only this: :meth:`ChatService.stream` yields the answer's
text pieces as the model writes them and, last, the :class:`StoredMessage` that was logged (the
final answer may differ from the streamed text: corrected values, an extractive fallback).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from onprem_bot.storage.conversations import ConversationStore, StoredMessage
from onprem_bot.types import Answer, Citation


class ChatService:
    """Pipeline + conversation log + the sources behind citations."""

    def __init__(self, pipeline: Any, conversations: ConversationStore, documents: Any, faq_store: Any) -> None:
        self.pipeline = pipeline
        self.conversations = conversations
        self.documents = documents
        self.faq_store = faq_store

    def start(self, session_key: str) -> str:
        """A new conversation for a browser session."""
        return self.conversations.start(session_key)

    def history(self, conversation_id: str) -> list[StoredMessage]:
        """The conversation so far, from the database."""
        return self.conversations.messages(conversation_id)

    def stream(self, conversation_id: str, question: str) -> Iterator[str | StoredMessage]:
        """Text pieces, then the logged message (raises the pipeline's errors, e.g. an empty question)."""
        final: Answer | None = None
        for item in self.pipeline.stream(question):
            if isinstance(item, Answer):
                final = item
            else:
                yield item
        assert final is not None, "the pipeline ended without an answer"
        yield self.conversations.record(conversation_id, question, final)

    def ask(self, conversation_id: str, question: str) -> StoredMessage:
        """The logged message (the stream consumed)."""
        last: Any = None
        for last in self.stream(conversation_id, question):  # noqa: B007
            pass
        assert isinstance(last, StoredMessage)
        return last

    def feedback(self, message_id: int, rating: int, comment: str = "") -> None:
        """Store thumbs up (1) / down (-1) and an optional comment on an answer."""
        self.conversations.feedback(message_id, rating, comment)

    def source_text(self, citation: Citation) -> str | None:
        """The whole quoted source of a citation (the chunk, or the FAQ entry), or None when gone."""
        if citation.chunk_id.startswith("faq:"):
            try:
                entry = self.faq_store.get(int(citation.chunk_id[4:]))
            except Exception:
                return None
            return f"{entry.question}\n\n{entry.answer}"
        chunk = self.documents.chunks_by_ids([citation.chunk_id]).get(citation.chunk_id)
        return chunk.text if chunk is not None else None
