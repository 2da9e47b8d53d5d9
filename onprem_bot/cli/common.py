"""Helpers shared by the CLI commands: settings, the wired app, JSON output."""

from __future__ import annotations

import json
from typing import Any

import click

from onprem_bot.config import Settings, load_settings


def settings_of(ctx: click.Context) -> Settings:
    """The settings for this invocation (``--config``/``--home`` applied), loaded once."""
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        overrides: dict[str, Any] = {}
        if obj.get("home"):
            overrides["home"] = obj["home"]
        obj["settings"] = load_settings(obj.get("config"), **overrides)
    settings: Settings = obj["settings"]
    return settings


def app_of(ctx: click.Context) -> Any:
    """The wired :class:`onprem_bot.app.App`, built once per invocation."""
    from onprem_bot.app import build_app

    obj = ctx.ensure_object(dict)
    if "app" not in obj:
        obj["app"] = build_app(settings_of(ctx))
    return obj["app"]


def print_json(data: Any) -> None:
    """One line of JSON (UTF-8, Korean kept readable)."""
    click.echo(json.dumps(data, ensure_ascii=False, default=str))
