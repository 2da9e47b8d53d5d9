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

# (comments, not docstrings: Streamlit draws a bare string in the main script on the page)
PAGES = {"채팅": page_chat.render, "관리": page_admin.render}
# Streamlit's bundled Material Symbols font: no emoji font needed on the client, nothing fetched
ICONS = {"채팅": ":material/chat:", "관리": ":material/settings:"}
# a local file: a ":material/...:" page icon would be fetched from fonts.gstatic.com
FAVICON = Path(__file__).with_name("favicon.svg")


def main() -> None:
    """Choose the page in the sidebar and draw it."""
    st.set_page_config(page_title="onprem-bot · 사내 문서 챗봇", page_icon=str(FAVICON), layout="wide")
    app = get_app()
    page = st.sidebar.radio(
        "메뉴", list(PAGES), key="nav", format_func=lambda p: f"{ICONS[p]} {p}", label_visibility="collapsed"
    )
    PAGES[page](app)


main()
