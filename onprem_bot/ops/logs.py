"""Structured logs with rotation: one JSON object per line in ``<home>/logs/onprem-bot.log``.

:func:`setup_logging` is called once per process (the CLI, the Streamlit app) with the settings;
it attaches a size-rotated file handler (``log.max_mb`` × ``log.backups`` files) to the
``onprem_bot`` logger and, when ``log.stderr`` is on, a plain stderr handler for warnings. Several
processes (replicas) should each get their own file: ``log.file`` may contain ``{pid}``; or send
them to journald with ``log.stderr`` under systemd. Fields: ``ts`` (UTC ISO-8601), ``level``,
``logger``, ``msg``, ``pid`` and whatever was passed as ``extra={...}``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.handlers
import os
from pathlib import Path
from typing import Any

from onprem_bot.config import Settings

LOGGER = "onprem_bot"
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}
_configured: dict[str, Path] = {}
"""The file the handler writes to (one per process)."""


class JsonFormatter(logging.Formatter):
    """One JSON object per record; ``extra`` fields are kept, exceptions as a ``exc`` string."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class _LazyRotatingHandler(logging.handlers.RotatingFileHandler):
    """Creates the log folder on the first record; a record that cannot be written is dropped quietly
    (a full disk or a read-only home must never stop an answer)."""

    def _open(self) -> Any:
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def handleError(self, record: logging.LogRecord) -> None:
        return None


def start_command_log(ctx: Any) -> None:
    """For the CLI group: set up logging from the invocation's settings and log the command's start and end."""
    import time

    from onprem_bot.cli.common import settings_of
    from onprem_bot.errors import OnpremBotError

    try:
        settings = settings_of(ctx)
    except OnpremBotError:
        return  # the command itself reports the bad setting
    if setup_logging(settings) is None:
        return
    logger = logging.getLogger(LOGGER + ".cli")
    command = ctx.invoked_subcommand or ""
    started = time.perf_counter()
    logger.info("command started", extra={"event": "command_start", "command": command})

    def _end() -> None:
        seconds = round(time.perf_counter() - started, 3)
        logger.info("command finished", extra={"event": "command_end", "command": command, "seconds": seconds})

    ctx.call_on_close(_end)


def log_file(settings: Settings) -> Path:
    """The log file in effect (``log.file`` relative to the home folder, ``{pid}`` expanded)."""
    name = str(settings.log.file).replace("{pid}", str(os.getpid()))
    path = Path(name)
    return path if path.is_absolute() else settings.home / path


def setup_logging(settings: Settings) -> Path | None:
    """Attach the rotating JSON file handler (idempotent per file); returns the file, or None when off."""
    cfg = settings.log
    logger = logging.getLogger(LOGGER)
    logger.setLevel(cfg.level.upper())
    if not cfg.enabled:
        return None
    path = log_file(settings)
    if _configured.get("file") == path:
        return path
    reset_logging()  # one file per process: a new home (tests, `--home`) replaces the previous handler
    logger.setLevel(cfg.level.upper())
    handler = _LazyRotatingHandler(
        path, maxBytes=int(cfg.max_mb * 2**20), backupCount=cfg.backups, encoding="utf-8", delay=True
    )
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    if cfg.stderr:
        err = logging.StreamHandler()
        err.setLevel(logging.WARNING)
        err.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(err)
    logger.propagate = False
    _configured["file"] = path
    return path


def reset_logging() -> None:
    """Remove the handlers :func:`setup_logging` attached (tests)."""
    logger = logging.getLogger(LOGGER)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.propagate = True
    _configured.clear()
