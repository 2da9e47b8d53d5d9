"""The chat page: every employee asks; answers stream with route, verdict, citations, feedback.

With ``auth.chat = "login"`` nothing but the log-in form is drawn until the employee logs in; every
call into the chat service names the reader (``app.access.viewer``, read afresh on every run; the
open chat reads as :data:`~onprem_bot.access.PUBLIC`: documents without groups only)."""

from __future__ import annotations

from typing import Any

import streamlit as st
from login import current_session, login_form, owner_key, reader, who
from ui_common import flash, md, show_flashes

from onprem_bot.access import Viewer
from onprem_bot.errors import OnpremBotError
from onprem_bot.llm.admission import Waiting, waiting_text
from onprem_bot.presentation import (
    SUGGESTIONS_TITLE,
    answer_badges,
    citation_title,
    conversation_label,
    finding_icon,
    finding_line,
    highlighted_markdown,
    icon,
    offered_suggestions,
    problem_findings,
    searched_caption,
    suggestion_label,
)
from onprem_bot.storage.conversations import StoredMessage

TITLE = "onprem-bot · 사내 문서 챗봇"
EMPTY = (
    "아직 수집된 문서가 없습니다. 관리 → 문서에서 올리거나 서버에서 "
    "`onprem-bot ingest 폴더` 로 문서를 넣어 주세요. (FAQ 질문에는 지금도 답합니다.)"
)
NONE_READABLE = (
    "열람할 수 있는 문서가 없습니다. 권한이 필요하면 관리자에게 문의해 주세요. (FAQ 질문에는 지금도 답합니다.)"
)
LOGIN_NEEDED = "사내 계정으로 로그인하면 소속 그룹이 볼 수 있는 문서로 답해 드립니다."
SOURCE_REFUSED = "이 출처는 볼 수 없습니다: 문서가 삭제되었거나 열람 권한이 바뀌었습니다."


def new_conversation() -> None:
    """The 새 대화 button: the next question starts a fresh conversation (no history)."""
    st.session_state.pop("conversation_id", None)


def open_conversation(conv: str) -> None:
    """A click on an earlier conversation in the sidebar: it becomes the current one."""
    st.session_state["conversation_id"] = conv


def current_conversation() -> str | None:
    """This browser session's current conversation, or None before its first question."""
    conv = st.session_state.get("conversation_id")
    return None if conv is None else str(conv)


def conversation_id(app: Any, owner: str) -> str:
    """The current conversation, created (in the database, under ``owner``) on the first question."""
    if "conversation_id" not in st.session_state:
        st.session_state["conversation_id"] = app.chat.start(owner)
    return str(st.session_state["conversation_id"])


def render(app: Any) -> None:
    """Draw the chat page: the log-in form first when the chat needs one, then the chat."""
    st.title(TITLE)
    session = current_session(app)
    if session is None and app.settings.auth.chat == "login":
        st.info(LOGIN_NEEDED)
        login_form(app, "chat_")
        return
    viewer = reader(app, session)
    if viewer is None:  # the account went away since the last run
        st.rerun()
        return
    owner = owner_key(session)
    if st.session_state.get("chat_owner") != owner:  # never continue someone else's conversation
        st.session_state.pop("conversation_id", None)
        st.session_state.pop("faq_picked", None)
        st.session_state["chat_owner"] = owner
    if session is not None:
        who(session, "chat_logout")
    readable = app.documents.list_all(viewer)
    with st.sidebar:
        st.button("새 대화", key="new_conversation", icon=":material/add:", on_click=new_conversation, width="stretch")
        listing = st.container()  # filled last, so a conversation started by this run's question is in it
        left, right = st.columns(2)
        left.metric("문서", f"{len(readable):,}")
        right.metric("청크", f"{sum(d.chunk_count for d in readable):,}")
        if readable:
            with st.expander("검색 대상 문서"):
                st.dataframe(
                    [{"제목": d.title, "청크 수": d.chunk_count} for d in readable],
                    hide_index=True,
                    width="stretch",
                )
    if not readable:
        st.info(EMPTY if not app.documents.counts()[0] else NONE_READABLE)
    show_flashes()
    conv = current_conversation()
    for message in app.chat.history(conv) if conv else ():
        with st.chat_message("user"):
            st.markdown(md(message.question))
        with st.chat_message("assistant"):
            render_answer(app, message, viewer)
    question = st.chat_input("질문을 입력하세요 (예: 연차휴가는 며칠인가요?)", key="question")
    if question:
        ask(app, conversation_id(app, owner), question, viewer)
    with listing:
        render_conversations(app, owner)


def render_conversations(app: Any, owner: str) -> None:
    """This person's (or, in the open chat, this session's) conversations that have a question, latest
    first: a click reopens one."""
    current = current_conversation()
    listed = [c for c in app.conversations.conversations(owner) if c.messages]
    if not listed:
        return
    st.caption("대화 목록")
    for c in listed:
        st.button(
            md(conversation_label(c.title, c.messages)),
            key=f"conv_{c.id}",
            icon=":material/chat:",
            help=f"{md(c.title)}  \n질문 {c.messages}개",
            on_click=open_conversation,
            args=(c.id,),
            type="secondary" if c.id == current else "tertiary",
            width="stretch",
        )


def ask(app: Any, conv: str, question: str, viewer: Viewer) -> None:
    """Stream the answer to ``question``, then draw it in full. While the question waits for the model
    the answer's place shows "대기 중: 앞에 N명 · 약 M초" (a browser that left or 새 대화 stops this run at
    that update, which drops the question from the queue)."""
    with st.chat_message("user"):
        st.markdown(md(question))
    with st.chat_message("assistant"):
        holder = st.empty()
        text = ""
        stored: StoredMessage | None = None

        def waiting(w: Waiting) -> None:
            holder.markdown(waiting_text(w))

        try:
            with st.spinner("답변을 찾는 중…"):
                for item in app.chat.stream(conv, question, viewer, on_wait=waiting):
                    if isinstance(item, StoredMessage):
                        stored = item
                    else:
                        text += item
                        holder.markdown(md(text) + " ▌")
        except OnpremBotError as exc:
            holder.empty()
            st.error(md(str(exc)))
            return
        holder.empty()
        if stored is not None:
            render_answer(app, stored, viewer)


def render_answer(app: Any, message: StoredMessage, viewer: Viewer) -> None:
    """The answer text, its badges, the checker's findings, the citations and the feedback controls."""
    answer = message.answer
    st.markdown(md(answer.answer))
    searched = searched_caption(answer)
    if searched:
        st.caption(searched, help="이전 대화를 이어 이해한 질문입니다. 이 질문으로 문서를 검색했습니다.")
    for notice in answer.notices:
        st.caption(md(notice))
    st.markdown(answer_badges(answer))
    findings = list(answer.check.findings)
    if findings:
        problems = problem_findings(findings)
        label = f"검증 결과: 수치 {len(findings)}개 중 {len(problems)}개 확인 필요" if problems else "검증 결과"
        with st.expander(label, expanded=bool(problems)):
            for f in findings:
                st.markdown(f"{finding_icon(f)} {md(finding_line(f))}")
    if answer.route == "refused" and answer.citations:
        st.caption(
            "가장 가까운 문서 (답을 담고 있지 않을 수 있습니다) — the closest documents, not sources of an answer"
        )
    for c in answer.citations:
        with st.expander(md(citation_title(c))):
            source = app.chat.source_text(c, viewer)
            if source is None:  # deleted, or its groups changed since the answer: nothing of it is shown
                st.warning(SOURCE_REFUSED)
            else:
                st.markdown(highlighted_markdown(source, c.snippet))
    render_suggestions(app, message, viewer)
    render_feedback(app, message)


def render_suggestions(app: Any, message: StoredMessage, viewer: Viewer) -> None:
    """관련 FAQ as "이 질문을 찾으셨나요?" buttons: a click adds that entry's approved answer to the
    conversation and records the question as a wording of the entry (for an editor to approve)."""
    suggestions = offered_suggestions(message.answer)
    if not suggestions:
        return
    picked: dict[int, Any] = st.session_state.setdefault("faq_picked", {})
    chosen = picked.get(message.id)
    st.markdown(f"**{md(SUGGESTIONS_TITLE)}**")
    for s in suggestions:
        picked_this = chosen is not None and str(chosen) == str(s.id)
        if st.button(
            md(suggestion_label(s)),
            key=f"faq_suggest_{message.id}_{s.id}",
            icon=":material/check:" if picked_this else None,
            disabled=chosen is not None,
        ):
            try:
                app.chat.choose_suggestion(message.conversation_id, message.id, s.id, viewer)
            except OnpremBotError as exc:
                flash("error", str(exc))
            else:
                picked[message.id] = s.id
            st.rerun()


def render_feedback(app: Any, message: StoredMessage) -> None:
    """도움됨/아쉬움 (thumbs up/down) with an optional comment, stored with the logged answer."""
    key = f"fb_{message.id}"
    if message.rating is not None:
        st.caption("평가해 주셔서 감사합니다 " + icon("thumb_up" if message.rating > 0 else "thumb_down"))
    comment = st.text_input(
        "의견 (선택)", key=f"{key}_comment", placeholder="틀린 점이나 부족한 점을 적어 주세요", max_chars=2000
    )
    up_col, down_col, _ = st.columns([1, 1, 4])
    rating = None
    if up_col.button("도움됨", key=f"{key}_up", icon=":material/thumb_up:", help="도움이 되었어요"):
        rating = 1
    if down_col.button("아쉬움", key=f"{key}_down", icon=":material/thumb_down:", help="도움이 안 되었어요"):
        rating = -1
    if rating is not None:
        app.chat.feedback(message.id, rating, comment)
        st.success("의견이 저장되었습니다. 감사합니다.")
