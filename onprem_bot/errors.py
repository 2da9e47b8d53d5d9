"""Errors that reach the user as one clear line (Korean first, English after)."""

from __future__ import annotations

from pathlib import Path


class OnpremBotError(Exception):
    """Base class for every error the CLI prints as one line instead of a traceback."""

    exit_code = 1


class ConfigError(OnpremBotError):
    """A setting has an invalid value."""

    exit_code = 2


class LoaderError(OnpremBotError):
    """A document could not be read; names the file and says why."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class NoDocumentsError(OnpremBotError):
    """The given paths hold no document that can be ingested."""


class SearchIndexError(OnpremBotError):
    """A search index is missing, corrupt, or was built with another embedder."""


class QueryError(OnpremBotError):
    """A question cannot be searched (empty, too long, no searchable words)."""
