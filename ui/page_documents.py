"""관리 → 문서: upload and ingest (with 열람 그룹), the stored documents with their groups, editing a
document's groups, delete and re-ingest. An editor sees and manages only the documents they may read."""

from __future__ import annotations

from typing import Any

import streamlit as st
from ui_common import flash, md

from onprem_bot.access import GroupError
from onprem_bot.admin import ALL_READERS, UploadError
from onprem_bot.errors import OnpremBotError

GROUPS_HELP = "쉼표로 구분합니다 (예: 인사팀,임원). 비우면 전체 공개입니다."
UPLOAD_GROUPS_HELP = (
    "이 그룹만 문서를 볼 수 있습니다. 쉼표로 구분합니다 (예: 인사팀,임원). "
    "비우면 새 문서는 전체 공개, 이미 있는 문서는 기존 그룹을 유지합니다."
)


def documents_page(app: Any, session: Any) -> None:
    """Upload and ingest (progress bar), the readable stored documents, groups, delete and re-ingest."""
    docs = app.doc_admin
    viewer = app.access.viewer(session.user)
    upload_section(app, viewer)

    st.subheader("수집된 문서")
    rows = docs.rows(viewer)
    if not rows:
        st.info("아직 수집된 문서가 없습니다." if viewer.everything else "열람할 수 있는 문서가 없습니다.")
        return
    st.dataframe([{k: v for k, v in r.items() if k != "id"} for r in rows], hide_index=True, width="stretch")
    titles = {r["id"]: f"{r['제목']} ({r['파일']})" for r in rows}
    chosen = st.selectbox("문서 선택", list(titles), format_func=lambda i: titles[i], key="doc_chosen")
    groups_section(app, session, viewer, {r["id"]: r for r in rows}[chosen])
    again, remove, confirm = st.columns([1, 1, 2])
    if again.button("다시 수집", key="doc_reingest"):
        try:
            with st.spinner("다시 수집하는 중…"):
                status, chunks = docs.reingest(chosen)
            flash("success", f"다시 수집했습니다: 청크 {chunks}개 ({status})")
        except OnpremBotError as exc:
            flash("error", str(exc))
        st.rerun()
    sure = confirm.checkbox("삭제를 확인합니다", key="doc_delete_confirm")
    if remove.button("삭제", key="doc_delete", disabled=not sure):
        try:
            with st.spinner("삭제하고 색인을 바꾸는 중…"):
                title = docs.delete(chosen)
            flash("success", f"삭제했습니다: {title}")
        except OnpremBotError as exc:
            flash("error", str(exc))
        st.session_state.pop("doc_delete_confirm", None)
        st.rerun()


def upload_section(app: Any, viewer: Any) -> None:
    """Files and the groups that may read them; one refused file (or a bad group name) stores nothing."""
    docs = app.doc_admin
    st.subheader("문서 올리기")
    gen = int(st.session_state.get("doc_upload_gen", 0))
    files = st.file_uploader(
        "문서 파일", accept_multiple_files=True, key=f"doc_upload_{gen}", help="여러 파일을 한 번에 올릴 수 있습니다"
    )
    groups = st.text_input(
        "열람 그룹", key=f"doc_upload_groups_{gen}", placeholder="인사팀,임원", help=UPLOAD_GROUPS_HELP
    )
    st.caption(f"지원 형식: {', '.join(docs.extensions)} · 파일당 최대 {docs.max_upload_mb} MB")
    if not (files and st.button("올리고 수집하기", key="doc_ingest", type="primary")):
        return
    bar = st.progress(0.0, text="준비 중…")
    try:
        report = docs.ingest_uploads(
            [(f.name, f.getvalue()) for f in files],
            progress=lambda frac, text: bar.progress(frac, text=text),
            groups=groups if groups.strip() else None,
            viewer=viewer,
        )
    except (UploadError, GroupError) as exc:
        bar.empty()
        st.error(md(str(exc)) + "  \n아무 파일도 저장하지 않았습니다.")
        return
    for name, status, chunks in report.ingested:
        label = {"new": "새 문서", "updated": "변경됨", "unchanged": "변경 없음"}.get(status, status)
        flash("success", f"{name}: {label}, 청크 {chunks}개")
    for name, reason in report.failed:
        flash("error", f"{name}: 수집하지 못했습니다 (저장하지 않음) — {reason}")
    st.session_state["doc_upload_gen"] = gen + 1
    st.rerun()


def groups_section(app: Any, session: Any, viewer: Any, row: dict[str, Any]) -> None:
    """The chosen document's 열람 그룹: edited as comma-separated names, saved through the audited service."""
    current = "" if row["열람 그룹"] == ALL_READERS else row["열람 그룹"].replace(", ", ",")
    field, save = st.columns([3, 1], vertical_alignment="bottom")
    typed = field.text_input("열람 그룹 (비우면 전체)", value=current, key=f"doc_groups_{row['id']}", help=GROUPS_HELP)
    if not save.button("그룹 저장", key="doc_groups_save"):
        return
    try:
        after = app.access.set_document_groups(row["id"], typed, by=session.user)
    except OnpremBotError as exc:  # GroupError: which name and why, in Korean
        st.error(md(str(exc)))
        return
    flash("success", f"열람 그룹을 바꿨습니다: {row['제목']} → {', '.join(after) or ALL_READERS}")
    if not viewer.may_read(after):
        flash("warning", "이제 이 문서는 내 그룹에서 볼 수 없어 목록에서 빠집니다.")
        st.session_state.pop("doc_chosen", None)
    st.rerun()
