"""Wiring: :func:`build_app` builds every service once from the settings.

The CLI and the Streamlit UI receive an :class:`App`; they never construct services.
"""

from __future__ import annotations

from dataclasses import dataclass

from onprem_bot.config import Settings
from onprem_bot.ingest.pipeline import Ingestor
from onprem_bot.offline import enforce_offline
from onprem_bot.storage.db import Database
from onprem_bot.storage.documents import DocumentStore


@dataclass(frozen=True)
class App:
    """The services of one running product."""

    settings: Settings
    db: Database
    documents: DocumentStore
    ingestor: Ingestor


def build_app(settings: Settings) -> App:
    """Create the home folder, open and migrate the database, and wire the services."""
    enforce_offline()
    settings.ensure_home()
    db = Database(settings.db_url)
    db.migrate()
    documents = DocumentStore(db)
    ingestor = Ingestor(documents, settings.ingest.chunker, settings.ingest.max_tokens)
    return App(settings=settings, db=db, documents=documents, ingestor=ingestor)
