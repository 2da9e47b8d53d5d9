"""Shared set-up for the Streamlit AppTest tests (the conftest isolates ONPREM_BOT_HOME)."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from onprem_bot.app import App, build_app
from onprem_bot.config import load_settings

REPO = Path(__file__).resolve().parents[1]
APP_FILE = str(REPO / "ui" / "app.py")


def fresh_app_test() -> AppTest:
    """An AppTest of ui/app.py over this test's home (the cached services rebuilt)."""
    st.cache_resource.clear()
    return AppTest.from_file(APP_FILE, default_timeout=120)


def services() -> App:
    """The services over the same home and settings as the page (for set-up and checks)."""
    assert os.environ.get("ONPREM_BOT_HOME")
    return build_app(load_settings())


def log_in(at: AppTest, name: str, password: str) -> AppTest:
    """Open 관리 and submit the log-in form."""
    at.sidebar.radio(key="nav").set_value("관리").run()
    at.text_input(key="login_name").input(name)
    at.text_input(key="login_password").input(password)
    return _submit(at)


def _submit(at: AppTest) -> AppTest:
    for b in at.button:
        if b.label == "로그인":
            return b.click().run()
    raise AssertionError("no log-in button")


def plain(markdown: str) -> str:
    """Escaped Markdown (see onprem_bot.presentation.escape_markdown) back to the text it shows."""
    import re

    return re.sub(r"\\(.)", r"\1", markdown.replace("  \n", "\n"))
