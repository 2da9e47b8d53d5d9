"""The administration pages (log-in required): FAQ, documents, review, dashboard, users and the audit log."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st
from login import current_session, login_form, who
from page_documents import documents_page
from page_users import users_page
from ui_common import date_range, flash, md, show_flashes

from onprem_bot.admin import FAQ_COLUMNS, local_time
from onprem_bot.auth import AuthSession
from onprem_bot.errors import OnpremBotError
from onprem_bot.faq.phrasings import SOURCE_NAMES
from onprem_bot.storage.review import review_csv, review_rows

SECTIONS = (
    ("FAQ", "faq"),
    ("문서", "documents"),
    ("검토", "review"),
    ("대시보드", "review"),
    ("평가 보고서", "review"),
    ("사용자", "users"),
)
NO_USERS = (
    "관리자 계정이 아직 없습니다. 서버에서 `onprem-bot admin create-user 이름 --role admin` 으로 만든 뒤 로그인하세요."
)
NO_ADMIN_RIGHTS = "이 계정에는 관리 화면 권한이 없습니다. 채팅에서 질문할 수 있습니다."


def render(app: Any) -> None:
    """Log-in, then the section chosen in the sidebar."""
    st.title("관리")
    session = current_session(app)
    if session is None:
        if not app.auth.users.count():
            st.info(NO_USERS)
        login_form(app)
        return
    who(session, "logout")
    allowed = [label for label, area in SECTIONS if session.can(area)]
    if not allowed:  # a 'user' account: the chat only
        st.info(NO_ADMIN_RIGHTS)
        return
    section = st.sidebar.radio("관리 메뉴", allowed, key="admin_section")
    show_flashes()
    pages = {"FAQ": faq_page, "문서": documents_page, "검토": review_page, "대시보드": dashboard_page}
    pages["평가 보고서"] = report_page
    pages["사용자"] = users_page
    pages[section](app, session)


# ── FAQ ──────────────────────────────────────────────────────────────────────────────────────


def _reload_faq(app: Any) -> None:
    st.session_state["faq_snapshot"] = app.faq_admin.snapshot()
    st.session_state["faq_gen"] = int(st.session_state.get("faq_gen", 0)) + 1


def faq_page(app: Any, session: AuthSession) -> None:
    """Table editing, saving with conflict detection, test box, import/export, history."""
    admin = app.faq_admin
    if "faq_snapshot" not in st.session_state:
        st.session_state["faq_snapshot"] = admin.snapshot()
        st.session_state.setdefault("faq_gen", 0)
    snapshot = st.session_state["faq_snapshot"]
    editor_key = f"faq_editor_{st.session_state['faq_gen']}"
    st.subheader("FAQ 편집")
    st.caption(
        "셀을 고친 뒤 **변경 저장**을 누르세요. 유사질문은 `|` 로 구분합니다. "
        "'사용'을 끄면 답변에 쓰이지 않습니다. 행을 선택해 삭제할 수 있습니다. 저장하면 바로 적용됩니다."
    )
    table = pd.DataFrame(admin.table(snapshot, admin.pending_counts()), columns=list(FAQ_COLUMNS))
    st.data_editor(
        table,
        key=editor_key,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        disabled=["id", "대기 후보", "버전", "수정자", "수정 시각"],
        column_config={
            "id": st.column_config.NumberColumn("id", width="small"),
            "질문": st.column_config.TextColumn("질문", required=True, max_chars=1000),
            "답변": st.column_config.TextColumn("답변", required=True, width="large"),
            "열람 그룹": st.column_config.TextColumn(
                "열람 그룹", help="이 답을 받을 수 있는 그룹, 쉼표로 구분 (비우면 전체)", width="small"
            ),
            "사용": st.column_config.CheckboxColumn("사용", default=True),
        },
    )
    save, reload, _ = st.columns([1, 1, 4])
    if save.button("변경 저장", key="faq_save", type="primary"):
        state = st.session_state.get(editor_key) or {}
        report = admin.apply_edits(snapshot, state, session.user)
        if report.changed:
            flash("success", f"저장했습니다: 추가 {report.added}, 수정 {report.updated}, 삭제 {report.deleted}")
        for text in report.conflicts:
            flash("warning", f"충돌: {text}")
        for text in report.errors:
            flash("error", text)
        if not (report.changed or report.conflicts or report.errors):
            flash("info", "바뀐 내용이 없습니다.")
        _reload_faq(app)
        st.rerun()
    if reload.button("새로 불러오기", key="faq_reload"):
        _reload_faq(app)
        st.rerun()

    phrasings_section(app, session)

    st.subheader("질문 테스트")
    test_q = st.text_input("질문을 넣으면 채팅과 같은 방식으로 FAQ와 맞춰 봅니다", key="faq_test_question")
    if test_q.strip():
        m = admin.test(test_q)
        if m.matched:
            st.success(md(f"FAQ #{m.id}에 일치합니다: {m.question}"))
        else:
            st.warning(md(f"일치하는 FAQ가 없습니다 (문서 검색으로 넘어갑니다). 이유: {m.reason}"))
        a, b = st.columns(2)
        a.metric("점수", f"{m.score:.3f}")
        b.metric("2순위 점수", f"{m.runner_up_score:.3f}")
        if m.runner_up_question:
            st.caption(md(f"2순위: FAQ #{m.runner_up_id} {m.runner_up_question}"))

    st.subheader("가져오기 · 내보내기")
    upload = st.file_uploader("CSV/XLSX 가져오기 (질문, 답변, 분류, 유사질문, 그룹)", key="faq_import_file")
    if upload is not None and st.button("가져오기", key="faq_import"):
        try:
            report = admin.import_file(upload.name, upload.getvalue(), session.user)
        except OnpremBotError as exc:
            st.error(md(str(exc)))
        else:
            flash("success", f"가져왔습니다: 추가 {report.added}, 수정 {report.updated}, 변경 없음 {report.unchanged}")
            for line, reason in report.rejected[:20]:
                flash("warning", f"{line}행 거부: {reason}")
            _reload_faq(app)
            st.rerun()
    left, right = st.columns(2)
    left.download_button("CSV로 내보내기", admin.export("csv"), "faq.csv", "text/csv", key="faq_export_csv")
    right.download_button(
        "XLSX로 내보내기",
        admin.export("xlsx"),
        "faq.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="faq_export_xlsx",
    )
    with st.expander("편집 기록"):
        st.dataframe(admin.history_rows(200), hide_index=True, width="stretch")


def phrasings_section(app: Any, session: AuthSession) -> None:
    """The wordings waiting per entry (count + list) with 승인 / 거절."""
    admin = app.faq_admin
    waiting = admin.pending_phrasings()
    st.subheader(f"유사질문 후보 ({len(waiting)})")
    if not waiting:
        st.caption(
            "승인을 기다리는 후보가 없습니다. 채팅에서 '이 질문을 찾으셨나요?'의 FAQ를 누르거나 "
            "검토 화면에서 '같은 질문'으로 연결한 질문이 여기에 모입니다."
        )
        return
    st.caption("승인하면 그 FAQ의 유사질문이 되어 바로 적용됩니다. 거절한 문장은 다시 제안되지 않습니다.")
    for entry_id, items in itertools.groupby(waiting, key=lambda p: p.entry_id):
        group = list(items)
        title = group[0].entry_question
        name = title if title is not None else "(삭제된 항목)"
        with st.expander(md(f"FAQ #{entry_id} {name} — 대기 {len(group)}건"), expanded=True):
            for p in group:
                text_col, ok_col, no_col = st.columns([6, 1, 1])
                source = SOURCE_NAMES.get(p.source, p.source)
                text_col.markdown(md(p.text) + "  \n" + md(f"{p.count}회 · {source} · {local_time(p.updated_at)}"))
                if ok_col.button("승인", key=f"phrasing_approve_{p.id}"):
                    _decide(lambda pid=p.id: admin.approve_phrasing(pid, session.user), p, "승인")
                if no_col.button("거절", key=f"phrasing_reject_{p.id}"):
                    _decide(lambda pid=p.id: admin.reject_phrasing(pid, session.user), p, "거절")


def _decide(action: Any, phrasing: Any, verb: str) -> None:
    try:
        action()
    except OnpremBotError as exc:
        flash("error", str(exc))
    else:
        target = f"FAQ #{phrasing.entry_id}의 유사질문으로 추가" if verb == "승인" else "거절"
        flash("success", f"{verb}했습니다: '{phrasing.text}' → {target}")
    st.session_state.pop("faq_snapshot", None)  # the table reloads with the new alternative
    st.session_state["faq_gen"] = int(st.session_state.get("faq_gen", 0)) + 1
    st.rerun()


# ── Review and dashboard ───────────────────────────────────────────────────────────────────


def review_page(app: Any, session: AuthSession) -> None:
    """Recent questions with route and verdict, negative feedback first; CSV export."""
    st.subheader("질문 검토")
    since, until = date_range("review_range")
    messages = app.conversations.review(since, until)
    st.caption(f"{len(messages)}건 · 부정 평가(:material/thumb_down: 아쉬움)가 먼저 나옵니다")
    st.dataframe(review_rows(messages), hide_index=True, width="stretch")
    st.download_button("CSV로 내보내기", review_csv(messages), "review.csv", "text/csv", key="review_export")
    link_section(app, session, messages)


def link_section(app: Any, session: AuthSession, messages: list[Any]) -> None:
    """같은 질문: record a logged question as a wording of a chosen FAQ entry (an editor approves it)."""
    st.subheader("같은 질문 연결")
    entries = app.faq_store.entries()
    if not messages or not entries:
        st.caption("연결할 질문이나 FAQ 항목이 없습니다.")
        return
    st.caption(
        "기록된 질문이 어떤 FAQ와 같은 질문이면 연결하세요. FAQ 화면의 유사질문 후보에 올라가고, "
        "승인하면 그 FAQ의 유사질문이 됩니다."
    )
    by_id = {m.id: m for m in messages}
    faq = {e.id: e for e in entries}
    left, right = st.columns(2)
    message_id = left.selectbox(
        "기록된 질문",
        list(by_id),
        format_func=lambda i: f"{local_time(by_id[i].created_at)} · {_clip(by_id[i].question)}",
        key="link_message",
    )
    entry_id = right.selectbox(
        "FAQ 항목", list(faq), format_func=lambda i: f"#{i} {_clip(faq[i].question)}", key="link_entry"
    )
    if st.button("같은 질문", key="link_same", help="이 질문을 선택한 FAQ의 유사질문 후보로 기록합니다"):
        question = by_id[message_id].question
        try:
            recorded = app.faq_admin.link_phrasing(entry_id, question, session.user, message_id)
        except OnpremBotError as exc:
            st.error(md(str(exc)))
            return
        if recorded is None:
            st.info(md(f"이미 FAQ #{entry_id}의 질문이나 유사질문입니다 (기록하지 않음)."))
        elif recorded.status == "pending":
            st.success(md(f"FAQ #{entry_id}의 유사질문 후보로 기록했습니다 (후보 #{recorded.id}, {recorded.count}회)."))
        else:
            state = "승인" if recorded.status == "approved" else "거절"
            st.info(md(f"이미 {state}된 후보입니다 (후보 #{recorded.id}); 다시 제안하지 않습니다."))


def _clip(text: str, limit: int = 80) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def dashboard_page(app: Any, session: AuthSession) -> None:
    """Questions per day, FAQ hit rate, flagged answers."""
    st.subheader("대시보드")
    since, until = date_range("dashboard_range")
    d = app.conversations.dashboard(since, until)
    a, b, c, e = st.columns(4)
    a.metric("질문 수", f"{d.questions:,}")
    b.metric("FAQ 적중률", f"{d.faq_hit_rate:.0%}")
    c.metric("검증 경고", f"{d.flagged:,}")
    e.metric("부정 평가", f"{d.negative:,}")
    if d.per_day:
        chart = pd.DataFrame({"날짜": [str(day) for day, _ in d.per_day], "질문 수": [n for _, n in d.per_day]})
        st.bar_chart(chart, x="날짜", y="질문 수")
    else:
        st.info("기간 안에 질문이 없습니다.")


def report_page(app: Any, session: AuthSession) -> None:
    """The last ``onprem-bot eval`` report (self-contained HTML written by the command)."""
    from streamlit.components.v1 import html

    from onprem_bot.cli.evaluate import latest_paths

    st.subheader("평가 보고서")
    page, _ = latest_paths(app.settings.home)
    if not page.is_file():
        st.info("아직 평가 보고서가 없습니다. 서버에서 `onprem-bot eval 질문목록.jsonl` 을 실행하면 여기에 나타납니다.")
        return
    st.caption(md(f"{page} · {date.fromtimestamp(page.stat().st_mtime)}"))
    html(page.read_text(encoding="utf-8"), height=900, scrolling=True)
