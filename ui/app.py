"""The Streamlit app (a thin shell: every service comes from ``build_app``).

Run with ``onprem-bot ui`` (usage statistics off, headless, no external requests).
"""

from __future__ import annotations

import streamlit as st

from onprem_bot.app import App, build_app
from onprem_bot.config import load_settings


@st.cache_resource(show_spinner="서비스를 준비하는 중…")
def get_app() -> App:
    """One App per server process, shared by every browser session."""
    return build_app(load_settings())


def main() -> None:
    """The start page: what is indexed. Chat and administration pages come next."""
    st.set_page_config(page_title="onprem-bot", page_icon="📄", layout="wide")
    app = get_app()
    st.title("onprem-bot · 사내 문서 챗봇")
    docs, chunks = app.documents.counts()
    left, right = st.columns(2)
    left.metric("문서", f"{docs:,}")
    right.metric("청크", f"{chunks:,}")
    if not docs:
        st.info("아직 수집된 문서가 없습니다. `onprem-bot ingest 폴더` 로 문서를 넣어 주세요.")
        return
    st.subheader("수집된 문서")
    st.dataframe(
        [
            {
                "제목": d.title,
                "형식": d.doc_type,
                "청크 방식": d.chunker,
                "청크 수": d.chunk_count,
                "수집 시각": d.ingested_at.strftime("%Y-%m-%d %H:%M"),
            }
            for d in app.documents.list_all()
        ],
        hide_index=True,
        use_container_width=True,
    )


main()
