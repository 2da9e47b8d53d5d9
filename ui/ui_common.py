"""What every page shares: the services (built once per server process) and safe Markdown."""

from __future__ import annotations

import uuid

import streamlit as st

from onprem_bot.app import App, build_app
from onprem_bot.config import load_settings
from onprem_bot.ops.logs import setup_logging
from onprem_bot.presentation import escape_markdown


@st.cache_resource(show_spinner="서비스를 준비하는 중…")
def get_app() -> App:
    """One App per server process, shared by every browser session (logs to the rotating file)."""
    settings = load_settings()
    setup_logging(settings)
    return build_app(settings)


def md(text: object) -> str:
    """User, document, FAQ or model text as Markdown that renders literally (never as HTML)."""
    return escape_markdown(str(text))


def session_key() -> str:
    """This browser session's random id (conversations and log-in throttling are keyed by it)."""
    if "session_key" not in st.session_state:
        st.session_state["session_key"] = uuid.uuid4().hex
    return str(st.session_state["session_key"])


def flash(kind: str, text: str) -> None:
    """Show a message after the next rerun (``success``, ``info``, ``warning``, ``error``)."""
    st.session_state.setdefault("_flash", []).append((kind, text))


def show_flashes() -> None:
    """Show and forget the queued messages."""
    for kind, text in st.session_state.pop("_flash", []):
        getattr(st, kind)(md(text))
