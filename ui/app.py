"""The Streamlit app (a thin shell: every service comes from ``build_app``).

Run with ``onprem-bot ui`` (usage statistics off, headless, no external requests).
Pages: 채팅 (every employee) and 관리 (log-in: FAQ, documents, review, dashboard).
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # `streamlit run` adds it; AppTest does not
    sys.path.insert(0, _HERE)

import page_admin  # noqa: E402
import page_chat  # noqa: E402
import streamlit as st  # noqa: E402
from ui_common import get_app  # noqa: E402

PAGES = {"💬 채팅": page_chat.render, "🛠️ 관리": page_admin.render}


def main() -> None:
    """Choose the page in the sidebar and draw it."""
    st.set_page_config(page_title="onprem-bot · 사내 문서 챗봇", page_icon="📄", layout="wide")
    app = get_app()
    page = st.sidebar.radio("메뉴", list(PAGES), key="nav", label_visibility="collapsed")
    PAGES[page](app)


main()
