"""What every page shares: the services (built once per server process) and safe Markdown."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

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


def date_range(key: str, days: int = 30) -> tuple[date | None, date | None]:
    """A 기간 picker (the last ``days`` days by default); (since, until), both inclusive."""
    today = date.today()
    picked = st.date_input("기간", value=(today - timedelta(days=days), today), key=key)
    if isinstance(picked, tuple | list):
        since = picked[0] if picked else None
        until = picked[1] if len(picked) > 1 else since
        return since, until
    return picked, picked
