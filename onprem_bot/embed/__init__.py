"""Sentence embeddings: the :class:`Embedder` interface and its backends.

Importing this package loads no model and imports neither torch nor sentence-transformers.
The database cache is :class:`onprem_bot.embed.cache.CachedEmbedder`.
"""

from onprem_bot.embed.backends import (
    BACKENDS,
    HashEmbedder,
    SentenceTransformerEmbedder,
    USEEmbedder,
    make_embedder,
)
from onprem_bot.embed.base import Embedder, EmbedderError, normalize_rows

__all__ = [
    "BACKENDS",
    "Embedder",
    "EmbedderError",
    "HashEmbedder",
    "SentenceTransformerEmbedder",
    "USEEmbedder",
    "make_embedder",
    "normalize_rows",
]
