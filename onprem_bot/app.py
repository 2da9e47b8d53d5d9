"""Wiring: :func:`build_app` builds every service once from the settings.

The CLI and the Streamlit UI receive an :class:`App`; they never construct services.
Models are not loaded here: each service loads its model on first use (``warm_up``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onprem_bot.config import Settings
from onprem_bot.errors import ConfigError
from onprem_bot.ingest.ocr import ocr_from_settings
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
    faq_store: Any
    faq_embedder: Any
    faq: Any
    llm: Any
    checker: Any
    pipeline: Any
    # the web UI's services (issue 7): log-in, conversation log, chat, FAQ and document administration
    auth: Any = None
    conversations: Any = None
    chat: Any = None
    faq_admin: Any = None
    doc_admin: Any = None
    faq_phrasings: Any = None
    """Users' wordings waiting to become FAQ alternatives (:mod:`onprem_bot.faq.phrasings`)."""
    audit: Any = None
    """The audit log (:class:`~onprem_bot.storage.audit.AuditLog`): questions, group and account changes."""
    access: Any = None
    """Document groups and accounts, audited (:class:`~onprem_bot.access_admin.AccessAdmin`)."""

    def reindex(self, progress: bool = False) -> Any:
        """Rebuild the search index from every stored chunk (atomic swap); returns its metadata."""
        return self.indexer.build(self.documents.chunks(), progress=progress)


def build_embedder(settings: Settings) -> Any:
    """The configured embedder (the backend is chosen here, in one place)."""
    from onprem_bot.embed.backends import make_embedder

    cfg = settings.embedder
    return make_embedder(cfg.backend, cfg.model_path, cfg.device or None)


def embedder_profile(settings: Settings, name: str, pairing: str = "query/passage") -> Any:
    """The cosine bars of embedder ``name`` (shipped, or measured into ``<home>/embedder_profiles.json``)."""
    from onprem_bot.embed.profiles import HOME_PROFILE_FILE, profile_for

    try:
        return profile_for(name, pairing, [settings.home / HOME_PROFILE_FILE])
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


ROOT = Path(__file__).resolve().parents[1]
"""The installation folder (holds faq/, corpus/ and models/)."""
SEED_FAQ = ROOT / "faq" / "seed.csv"


def build_app(settings: Settings) -> App:
    """Create the home folder, open and migrate the database, and wire the services."""
    from onprem_bot.answerable import AnswerabilityJudge, load_refusal_model
    from onprem_bot.checker import Checker
    from onprem_bot.contextualiser import make_contextualiser
    from onprem_bot.embed.cache import CachedEmbedder
    from onprem_bot.faq.matcher import FaqMatcher
    from onprem_bot.faq.scorer import DEFAULT_SCORER, load_scorer, scorer_embedder
    from onprem_bot.faq.service import FaqService
    from onprem_bot.faq.store import FaqStore, ensure_seeded
    from onprem_bot.index.builder import IndexBuilder
    from onprem_bot.index.retriever import HybridRetriever
    from onprem_bot.index.store import IndexStore
    from onprem_bot.korean.analyzer import KoreanAnalyzer
    from onprem_bot.korean.synonyms import SynonymDictionary
    from onprem_bot.llm import make_llm
    from onprem_bot.pipeline import Pipeline
    from onprem_bot.second_opinion import second_opinion

    enforce_offline()
    settings.ensure_home()
    db = Database(settings.db_url)
    db.migrate()
    documents = DocumentStore(db)
    ingestor = Ingestor(
        documents,
        settings.ingest.chunker,
        settings.ingest.max_tokens,
        ocr_from_settings(settings),
        settings.ingest.folder_groups,
    )
    analyzer = KoreanAnalyzer()
    embedder = build_embedder(settings)
    extra = settings.retrieval.synonyms_file or settings.home / "synonyms.tsv"
    try:
        synonyms = SynonymDictionary.default([extra])
    except ValueError as exc:  # a malformed administrator file: say which line
        raise ConfigError(f"동의어 사전 오류 (synonym file): {exc}") from None
    store = IndexStore(settings.index_dir)
    cached = CachedEmbedder(embedder, db)
    indexer = IndexBuilder(store, analyzer, cached, settings.retrieval, settings.embedder.batch_size)
    retriever = HybridRetriever(
        store,
        analyzer,
        embedder,
        synonyms,
        settings.retrieval,
        documents.chunks_by_ids,
        readable=documents.readable,
        chunk_documents=documents.chunk_documents,
    )
    faq_store = FaqStore(db)
    seed = settings.faq.seed_file or SEED_FAQ
    if seed.is_file():
        ensure_seeded(faq_store, seed)
    cfg = settings.faq
    scorer = None
    if cfg.learned:
        scorer = load_scorer(
            cfg.scorer_file or DEFAULT_SCORER,
            scorer_embedder(cached.name, cfg.lexical_weight, cfg.char_weight),
            cfg.lexical_weight,
            cfg.char_weight,
            explicit=cfg.scorer_file is not None,
            key_side=None if embedder.symmetric else cfg.key_side,  # either side gives a symmetric model's vectors
        )
        if scorer is not None and cfg.direct_bar is not None:  # the administrator's own trade-off
            bar = cfg.direct_bar
            scorer = dataclasses.replace(scorer, threshold=bar, suggest_threshold=min(scorer.suggest_threshold, bar))
    matcher = FaqMatcher(
        analyzer,
        cached,
        cfg.threshold,
        cfg.margin,
        cfg.lexical_weight,
        cfg.check_conflicts,
        scorer=scorer,
        char_weight=cfg.char_weight,
        key_side=cfg.key_side,
    )
    faq = FaqService(faq_store, matcher)
    llm = make_llm(settings.llm, ROOT)  # nothing is loaded until the first question
    checker = Checker(
        analyzer, second_opinion=second_opinion(llm) if settings.answer.second_opinion else None, embedder=embedder
    )
    pipeline = Pipeline(
        faq,
        retriever,
        analyzer,
        llm,
        checker,
        settings.answer,
        k=settings.retrieval.k,
        faq_enabled=cfg.enabled,
        max_query_chars=settings.retrieval.max_query_chars,
        max_tokens=settings.llm.max_tokens,
        profile=embedder_profile(settings, embedder.name),
        judge=AnswerabilityJudge(
            analyzer,
            retriever.document_frequency,
            embedder_profile(settings, embedder.name).standardised,
            load_refusal_model(embedder.name) if settings.answer.refuse_unanswerable else None,
            synonyms,
        ),
        contextualiser=make_contextualiser(settings.answer.followup, analyzer, retriever, llm),
    )
    return App(
        settings,
        db,
        documents,
        ingestor,
        analyzer,
        embedder,
        indexer,
        retriever,
        faq_store,
        cached,
        faq,
        llm,
        checker,
        pipeline,
        **_ui_services(settings, db, documents, ingestor, faq_store, faq, pipeline, indexer),
    )


def _ui_services(
    settings: Settings,
    db: Database,
    documents: Any,
    ingestor: Any,
    faq_store: Any,
    faq: Any,
    pipeline: Any,
    indexer: Any,
) -> dict[str, Any]:
    """Log-in, the conversation log, chat and administration (used by the web UI)."""
    from onprem_bot.access_admin import AccessAdmin
    from onprem_bot.admin import DocumentAdmin, FaqAdmin
    from onprem_bot.auth import AuthService
    from onprem_bot.chat import ChatService
    from onprem_bot.faq.phrasings import PhrasingStore
    from onprem_bot.privacy import Masker
    from onprem_bot.storage.audit import AuditLog
    from onprem_bot.storage.conversations import ConversationStore
    from onprem_bot.storage.users import UserStore

    masker = Masker(settings.privacy.mask_logs)
    conversations = ConversationStore(db, masker)
    phrasings = PhrasingStore(db)
    audit = AuditLog(db, masker)
    users = UserStore(db)
    auth = AuthService(users, settings.auth, audit=audit)

    def reindex() -> Any:
        return indexer.build(documents.chunks())

    return {
        "auth": auth,
        "conversations": conversations,
        "chat": ChatService(pipeline, conversations, documents, faq_store, phrasings, audit),
        "faq_admin": FaqAdmin(faq_store, faq, phrasings),
        "doc_admin": DocumentAdmin(
            documents, ingestor, reindex, settings.home / "uploads", settings.ui.max_upload_mb, audit
        ),
        "faq_phrasings": phrasings,
        "audit": audit,
        "access": AccessAdmin(documents, users, auth, audit),
    }
