"""Wiring: :func:`build_app` builds every service once from the settings.

The CLI and the Streamlit UI receive an :class:`App`; they never construct services.
Models are not loaded here: each service loads its model on first use (``warm_up``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onprem_bot.config import Settings
from onprem_bot.errors import ConfigError
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
    analyzer: Any
    embedder: Any
    indexer: Any
    retriever: Any

    def reindex(self, progress: bool = False) -> Any:
        """Rebuild the search index from every stored chunk (atomic swap); returns its metadata."""
        return self.indexer.build(self.documents.chunks(), progress=progress)


def build_embedder(settings: Settings) -> Any:
    """The configured embedder (the backend is chosen here, in one place)."""
    from onprem_bot.embed.backends import make_embedder

    cfg = settings.embedder
    return make_embedder(cfg.backend, cfg.model_path, cfg.device or None)


def build_app(settings: Settings) -> App:
    """Create the home folder, open and migrate the database, and wire the services."""
    from onprem_bot.embed.cache import CachedEmbedder
    from onprem_bot.index.builder import IndexBuilder
    from onprem_bot.index.retriever import HybridRetriever
    from onprem_bot.index.store import IndexStore
    from onprem_bot.korean.analyzer import KoreanAnalyzer
    from onprem_bot.korean.synonyms import SynonymDictionary

    enforce_offline()
    settings.ensure_home()
    db = Database(settings.db_url)
    db.migrate()
    documents = DocumentStore(db)
    ingestor = Ingestor(documents, settings.ingest.chunker, settings.ingest.max_tokens)
    analyzer = KoreanAnalyzer()
    embedder = build_embedder(settings)
    extra = settings.retrieval.synonyms_file or settings.home / "synonyms.tsv"
    try:
        synonyms = SynonymDictionary.default([extra])
    except ValueError as exc:  # a malformed administrator file: say which line
        raise ConfigError(f"동의어 사전 오류 (synonym file): {exc}") from None
    store = IndexStore(settings.index_dir)
    indexer = IndexBuilder(
        store, analyzer, CachedEmbedder(embedder, db), settings.retrieval, settings.embedder.batch_size
    )
    retriever = HybridRetriever(store, analyzer, embedder, synonyms, settings.retrieval, documents.chunks_by_ids)
    return App(settings, db, documents, ingestor, analyzer, embedder, indexer, retriever)
