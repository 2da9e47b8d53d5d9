"""관리 → 사용자 (administrators only): the accounts with role, groups and source, creating a local
account, changing an account's groups, role and status; and the 감사 기록 (audit log) with its export.

Every change goes through ``app.access`` (audited with the administrator's name); an export of the
audit log is itself recorded."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import streamlit as st
from login import ROLE_NAMES
from ui_common import date_range, flash, md

from onprem_bot.admin import local_time
from onprem_bot.errors import OnpremBotError
from onprem_bot.storage.audit import AUDIT_EXPORT
from onprem_bot.storage.users import ROLES

SOURCE_NAMES = {"local": "로컬", "ldap": "디렉터리(LDAP)"}
ACTION_NAMES = {
    "ask": "질문",
    "login": "로그인",
    "login_failed": "로그인 실패",
    "login_locked": "로그인 잠김",
    "audit_export": "감사 기록 내보내기",
    "document_groups": "문서 열람 그룹 변경",
    "user_created": "계정 생성",
    "user_groups": "계정 그룹 변경",
    "user_role": "역할 변경",
    "user_active": "사용 여부 변경",
}
AUDIT_SHOWN = 200
"""How many of the newest audit rows the page shows (the export holds every row of the filter)."""
EXPORT_TYPES = {"csv": ("CSV", "text/csv"), "jsonl": ("JSONL", "application/jsonl")}


def users_page(app: Any, session: Any) -> None:
    """Accounts, a new account, an account's groups/role/status, and the audit log."""
    st.subheader("사용자")
    users = app.auth.users.list_all()
    st.dataframe(
        [
            {
                "아이디": u.name,
                "역할": ROLE_NAMES.get(u.role, u.role),
                "그룹": ", ".join(u.groups) or "없음",
                "출처": SOURCE_NAMES.get(u.source, u.source),
                "상태": "사용" if u.active else "중지",
                "마지막 로그인": local_time(u.last_login_at),
            }
            for u in users
        ],
        hide_index=True,
        width="stretch",
    )
    create_section(app, session)
    if users:
        change_section(app, session, {u.name: u for u in users})
    audit_section(app, session)


def create_section(app: Any, session: Any) -> None:
    """A new local account: 아이디, 비밀번호, 역할 (user, editor, admin) and groups."""
    gen = int(st.session_state.get("user_form_gen", 0))
    with st.expander("계정 만들기", expanded=False), st.form(f"user_create_{gen}"):
        name = st.text_input("아이디", key=f"user_new_name_{gen}")
        password = st.text_input("비밀번호 (8자 이상)", type="password", key=f"user_new_password_{gen}")
        role = st.selectbox(
            "역할", list(ROLES)[::-1], format_func=lambda r: ROLE_NAMES.get(r, r), key=f"user_new_role_{gen}"
        )
        groups = st.text_input("그룹 (쉼표로 구분)", placeholder="인사팀,임원", key=f"user_new_groups_{gen}")
        submitted = st.form_submit_button("계정 만들기")
    if not submitted:
        return
    try:
        user = app.access.create_user(name, password, role, groups, by=session.user)
    except OnpremBotError as exc:  # a bad name, password, role or group: the service's Korean message
        st.error(md(str(exc)))
        return
    flash("success", f"계정을 만들었습니다: {user.name} ({ROLE_NAMES.get(user.role, user.role)})")
    st.session_state["user_form_gen"] = gen + 1
    st.rerun()


def change_section(app: Any, session: Any, users: dict[str, Any]) -> None:
    """One account's groups, role and status (an administrator cannot demote or switch off themselves)."""
    st.markdown("**계정 변경**")
    name = st.selectbox("계정", list(users), key="user_chosen")
    user = users[name]
    if user.source == "ldap":
        st.caption("디렉터리(LDAP) 계정의 그룹은 로그인할 때마다 디렉터리의 그룹으로 다시 정해집니다.")
    groups_col, groups_save = st.columns([3, 1], vertical_alignment="bottom")
    typed = groups_col.text_input(
        "그룹 (쉼표로 구분, 비우면 없음)", value=",".join(user.groups), key=f"user_groups_{name}"
    )
    if groups_save.button("그룹 저장", key="user_groups_save"):
        _apply(lambda: app.access.set_user_groups(name, typed, by=session.user), f"{name}의 그룹을 바꿨습니다.")
    role_col, role_save, active_col = st.columns([2, 1, 1], vertical_alignment="bottom")
    roles = list(ROLES)
    role = role_col.selectbox(
        "역할", roles, index=roles.index(user.role), format_func=lambda r: ROLE_NAMES.get(r, r), key=f"user_role_{name}"
    )
    own = name == session.user
    if role_save.button("역할 저장", key="user_role_save", disabled=own or role == user.role):
        _apply(lambda: app.access.set_role(name, role, by=session.user), f"{name}의 역할을 바꿨습니다.")
    label = "사용 중지" if user.active else "다시 사용"
    if active_col.button(label, key="user_active_toggle", disabled=own):
        _apply(lambda: app.access.set_active(name, not user.active, by=session.user), f"{name}: {label}")


def _apply(action: Any, done: str) -> None:
    try:
        action()
    except OnpremBotError as exc:
        st.error(md(str(exc)))
        return
    flash("success", done)
    st.rerun()


def _utc_bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Local calendar days (both inclusive) as UTC instants [since 00:00, the day after until 00:00)."""

    def start(day: date) -> datetime:
        return datetime.combine(day, time.min).astimezone().astimezone(UTC)

    return (None if since is None else start(since)), (None if until is None else start(until + timedelta(days=1)))


def audit_section(app: Any, session: Any) -> None:
    """The newest audit rows of a period (and one account), and the export of every matching row."""
    st.subheader("감사 기록")
    left, right = st.columns(2)
    with left:
        since, until = date_range("audit_range")
    actor = right.text_input("계정 (비우면 전체)", key="audit_actor").strip().lower() or None
    start, end = _utc_bounds(since, until)
    shown = app.audit.entries(start, end, actor, limit=AUDIT_SHOWN)[::-1]
    st.caption(f"최근 {len(shown)}건 (최대 {AUDIT_SHOWN}건, 최신순) · 질문은 개인정보를 가린 채 기록됩니다")
    st.dataframe(
        [
            {
                "시각": local_time(e.at),
                "계정": e.actor,
                "동작": ACTION_NAMES.get(e.action, e.action),
                "대상": e.subject,
                "내용": _detail(e.detail),
            }
            for e in shown
        ],
        hide_index=True,
        width="stretch",
    )
    fmt_col, make_col = st.columns([2, 1], vertical_alignment="bottom")
    fmt = fmt_col.radio(
        "파일 형식", list(EXPORT_TYPES), format_func=lambda f: EXPORT_TYPES[f][0], horizontal=True, key="audit_format"
    )
    if make_col.button("내보내기 파일 만들기", key="audit_export"):
        entries = app.audit.entries(start, end, actor)
        data = app.audit.export(fmt, entries)
        detail = {
            "format": fmt,
            "since": None if since is None else since.isoformat(),
            "until": None if until is None else until.isoformat(),
            "actor": actor,
            "rows": len(entries),
        }
        app.audit.record(session.user, AUDIT_EXPORT, "", detail)
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        st.session_state["audit_file"] = (fmt, data, f"audit-{stamp}.{fmt}", len(entries))
    made = st.session_state.get("audit_file")
    if made is not None:
        kind, data, file_name, count = made
        name, mime = EXPORT_TYPES[kind]
        st.download_button(f"{name} 내려받기 ({count}건)", data, file_name, mime, key="audit_download")


def _detail(detail: dict[str, Any]) -> str:
    return json.dumps(detail, ensure_ascii=False) if detail else ""
