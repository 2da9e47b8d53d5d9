"""Sentence embeddings: the :class:`Embedder` interface and its backends.

Importing this package loads no model and imports neither torch nor sentence-transformers.
The database cache is :class:`onprem_bot.embed.cache.CachedEmbedder`.
"""

from onprem_bot.embed.backends import (
    BACKENDS,
    DEFAULT_BACKEND,
    HashEmbedder,
    SentenceTransformerEmbedder,
    USEEmbedder,
    make_embedder,
)
from onprem_bot.embed.base import SIDES, Embedder, EmbedderError, check_side, normalize_rows
from onprem_bot.embed.e5 import E5Embedder

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "SIDES",
    "E5Embedder",
    "Embedder",
    "EmbedderError",
    "HashEmbedder",
    "SentenceTransformerEmbedder",
    "USEEmbedder",
    "check_side",
    "make_embedder",
    "normalize_rows",
]
