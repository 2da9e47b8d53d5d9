"""The log-in shared by the chat and the administration pages: one session per browser.

The session (an :class:`~onprem_bot.auth.AuthSession`) lives in ``st.session_state["auth"]``; an
administrator logged in on 관리 is logged in on 채팅 too, and the other way round. What a person may
read is always asked of ``app.access.viewer(name)`` afresh (a group change applies on the next question).
"""

from __future__ import annotations

import hashlib
from typing import Any

import streamlit as st
from ui_common import md, session_key

from onprem_bot.access import PUBLIC, Viewer
from onprem_bot.access_admin import UnknownUserError
from onprem_bot.auth import LoginError

AUTH = "auth"
EXPIRED = "세션이 만료되었습니다. 다시 로그인해 주세요."
ROLE_NAMES = {"admin": "관리자", "editor": "편집자", "user": "사용자"}
CHAT_STATE = ("conversation_id", "faq_picked", "chat_owner")
"""What belongs to the person chatting: dropped on log-in and log-out."""


def current_session(app: Any) -> Any:
    """The logged-in session with its idle clock reset, or None (a warning when it just expired)."""
    previous = st.session_state.get(AUTH)
    session = app.auth.touch(previous)
    if previous is not None and session is None:
        forget()
        st.warning(EXPIRED)
    if session is not None:
        st.session_state[AUTH] = session
    return session


def forget() -> None:
    """Log out: the session and this person's open conversation are dropped (the log is kept)."""
    st.session_state.pop(AUTH, None)
    for key in CHAT_STATE:
        st.session_state.pop(key, None)


def login_form(app: Any, prefix: str = "") -> None:
    """아이디 and 비밀번호; the log-in service's own message on failure (wrong, throttled, directory down)."""
    with st.form(f"{prefix}login", clear_on_submit=False):
        name = st.text_input("아이디", key=f"{prefix}login_name")
        password = st.text_input("비밀번호", type="password", key=f"{prefix}login_password")
        submitted = st.form_submit_button("로그인")
    if submitted:
        try:
            session = app.auth.login(name, password, client=session_key())
        except LoginError as exc:
            st.error(md(str(exc)))
            return
        forget()
        st.session_state[AUTH] = session
        st.rerun()


def who(session: Any, key: str) -> None:
    """The logged-in name and role, and 로그아웃 (in the sidebar)."""
    with st.sidebar:
        st.caption(md(f"{session.user} ({ROLE_NAMES.get(session.role, session.role)})"))
        st.button("로그아웃", key=key, icon=":material/logout:", on_click=forget)


def reader(app: Any, session: Any) -> Viewer | None:
    """What ``session``'s account may read now (fresh from the database); PUBLIC without a session;
    None when the account was removed or switched off meanwhile (the session is dropped)."""
    if session is None:
        return PUBLIC
    try:
        viewer: Viewer = app.access.viewer(session.user)
        return viewer
    except UnknownUserError:
        forget()
        return None


def owner_key(session: Any) -> str:
    """Whose conversations to list: ``user:<name>`` for a logged-in person (the same on any browser),
    else this browser session's random key."""
    if session is None:
        return session_key()
    key = f"user:{session.user}"
    return key if len(key) <= 64 else "user:" + hashlib.sha256(session.user.encode()).hexdigest()[:59]
