"""The administration pages under AppTest: log-in, roles, FAQ editing, document upload."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.statute_sample import STATUTE_MD
from tests.ui_helpers import fresh_app_test, log_in, plain, services

PASSWORD = "correct horse 1"


@pytest.fixture
def users() -> None:
    app = services()
    app.auth.create_user("boss", PASSWORD, "admin")
    app.auth.create_user("ed", PASSWORD, "editor")
    app.db.dispose()


def click(at: AppTest, label: str) -> AppTest:
    for b in at.button:
        if b.label == label:
            return b.click().run()
    raise AssertionError(f"no button {label!r}: {[b.label for b in at.button]}")


def test_without_accounts_the_page_says_how_to_create_one() -> None:
    at = fresh_app_test().run()
    at.sidebar.radio(key="nav").set_value("관리").run()
    assert not at.exception
    assert any("admin create-user" in plain(i.value) for i in at.info)


def test_wrong_password_gets_a_generic_message(users: None) -> None:
    at = log_in(fresh_app_test().run(), "boss", "wrong password")
    assert not at.exception
    assert [plain(e.value) for e in at.error] == ["아이디 또는 비밀번호가 올바르지 않습니다."]
    at = log_in(fresh_app_test().run(), "nobody", "wrong password")
    assert [plain(e.value) for e in at.error] == ["아이디 또는 비밀번호가 올바르지 않습니다."]


def test_repeated_failures_are_throttled(users: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONPREM_BOT_AUTH__MAX_FAILURES", "2")
    at = fresh_app_test().run()
    log_in(at, "boss", "wrong password")
    log_in(at, "boss", "wrong again!")
    log_in(at, "boss", PASSWORD)  # right password, but locked for now
    assert "너무 많습니다" in at.error[0].value
    assert not any(r.label == "관리 메뉴" for r in at.sidebar.radio)


def test_admin_sees_every_section_editor_only_faq_and_documents(users: None) -> None:
    at = log_in(fresh_app_test().run(), "boss", PASSWORD)
    assert not at.exception
    assert at.sidebar.radio(key="admin_section").options == ["FAQ", "문서", "검토", "대시보드", "평가 보고서", "사용자"]
    for section in ("검토", "대시보드", "사용자", "평가 보고서"):
        at.sidebar.radio(key="admin_section").set_value(section).run()
        assert not at.exception
    assert any("onprem-bot eval" in plain(i.value) for i in at.info)  # no report yet: how to make one
    report = Path(os.environ["ONPREM_BOT_HOME"]) / "eval" / "latest.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("<html><body><h1>평가 보고서</h1></body></html>", encoding="utf-8")
    at.run()
    assert not at.exception and not any("onprem-bot eval" in plain(i.value) for i in at.info)
    click(at, "로그아웃")
    assert any(b.label == "로그인" for b in at.button)
    at = log_in(fresh_app_test().run(), "ed", PASSWORD)
    assert at.sidebar.radio(key="admin_section").options == ["FAQ", "문서"]


def edit_state(edited: dict | None = None, added: list | None = None, deleted: list | None = None) -> dict:
    return {"edited_rows": edited or {}, "added_rows": added or [], "deleted_rows": deleted or []}


def test_faq_table_edits_apply_at_once_with_history(users: None) -> None:
    at = log_in(fresh_app_test().run(), "ed", PASSWORD)
    table = at.data_editor(key="faq_editor_0").value
    assert {"질문", "유사질문", "답변", "사용"} <= set(table.columns)
    first_id = int(table["id"][0])
    at.session_state["faq_editor_0"] = edit_state(
        edited={0: {"답변": "새 답변입니다 <b>굵게</b>", "유사질문": "챗봇 소개 | 봇 설명"}, 1: {"사용": False}},
        added=[{"질문": "주차 등록은 어디서 하나요?", "답변": "총무팀에서 합니다.", "분류": "시설"}],
        deleted=[2],
    )
    click(at, "변경 저장")
    assert not at.exception
    assert any("추가 1, 수정 2, 삭제 1" in plain(s.value) for s in at.success)
    app = services()
    entry = app.faq_store.get(first_id)
    assert entry.answer == "새 답변입니다 <b>굵게</b>" and entry.alternatives == ("챗봇 소개", "봇 설명")
    assert entry.updated_by == "ed"
    # applies immediately: the chat matcher answers the new entry, the same one the test box uses
    assert app.faq.match("주차 등록은 어디서 하나요?").matched
    at.text_input(key="faq_test_question").input("주차 등록은 어디서 하나요?").run()
    assert any("일치합니다" in plain(s.value) for s in at.success)
    assert [m.label for m in at.metric][:2] == ["점수", "2순위 점수"]
    history = at.dataframe[-1].value
    assert {"추가", "수정", "삭제"} <= set(history["동작"])
    # the HTML typed into an answer is only ever data, never markup
    assert all(not m.proto.allow_html for m in at.markdown)


def test_two_editors_saving_the_same_row_get_a_conflict_not_a_silent_loss(users: None) -> None:
    first = log_in(fresh_app_test().run(), "boss", PASSWORD)
    second = log_in(fresh_app_test().run(), "ed", PASSWORD)
    entry_id = int(first.data_editor(key="faq_editor_0").value["id"][0])
    first.session_state["faq_editor_0"] = edit_state(edited={0: {"답변": "관리자의 답변"}})
    click(first, "변경 저장")
    second.session_state["faq_editor_0"] = edit_state(edited={0: {"답변": "편집자의 답변"}})
    click(second, "변경 저장")
    assert any("boss님이 먼저 수정했습니다" in plain(w.value) for w in second.warning)
    app = services()
    assert app.faq_store.get(entry_id).answer == "관리자의 답변"
    # after reloading, the second editor can save on top of the first change; both are in history
    second.session_state["faq_editor_1"] = edit_state(edited={0: {"답변": "편집자의 답변"}})
    click(second, "변경 저장")
    assert app.faq_store.get(entry_id).answer == "편집자의 답변"
    answers = [c.new["answer"] for c in app.faq_store.history(entry_id) if c.action == "update"]
    assert answers == ["편집자의 답변", "관리자의 답변"]


def test_faq_import_and_export(users: None) -> None:
    at = log_in(fresh_app_test().run(), "boss", PASSWORD)
    csv_data = "질문,답변,분류,유사질문\n식대는 얼마인가요?,월 20만원입니다.,복지,식비 | 점심값\n".encode()
    at.file_uploader(key="faq_import_file").set_value(("faq.csv", csv_data, "text/csv")).run()
    click(at, "가져오기")
    assert not at.exception
    assert any("추가 1" in plain(s.value) for s in at.success)
    assert services().faq.match("식대는 얼마인가요?").matched
    labels = [b.proto.label for b in at.get("download_button")]
    assert "CSV로 내보내기" in labels and "XLSX로 내보내기" in labels
    at.file_uploader(key="faq_import_file").set_value(("faq.pdf", b"%PDF", "application/pdf")).run()
    click(at, "가져오기")
    assert any("지원하지 않는 형식" in plain(e.value) for e in at.error)


def open_documents(at: AppTest) -> AppTest:
    return at.sidebar.radio(key="admin_section").set_value("문서").run()


def test_document_upload_ingests_with_progress_and_chat_can_use_it(users: None) -> None:
    at = open_documents(log_in(fresh_app_test().run(), "ed", PASSWORD))
    at.file_uploader(key="doc_upload_0").set_value(("시험근로법.md", STATUTE_MD.encode(), "text/markdown")).run()
    click(at, "올리고 수집하기")
    assert not at.exception
    assert any("시험근로법.md: 새 문서" in plain(s.value) for s in at.success)
    listed = at.dataframe[0].value
    assert listed["제목"].tolist() == ["시험근로법"] and int(listed["청크 수"][0]) == 6
    app = services()
    assert app.retriever.run("연차 유급휴가", k=1)[0].chunk.doc_title == "시험근로법"
    # delete needs the confirmation; the index is swapped without the document
    at.checkbox(key="doc_delete_confirm").check().run()
    click(at, "삭제")
    assert any("삭제했습니다" in plain(s.value) for s in at.success)
    assert services().documents.counts() == (0, 0)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("악성.exe", b"MZ....", "지원하지 않는 파일 형식"),
        ("큰파일.md", b"# big\n" + b"x" * (1024 * 1024 + 10), "파일이 너무 큽니다"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(
    users: None, monkeypatch: pytest.MonkeyPatch, name: str, data: bytes, message: str
) -> None:
    monkeypatch.setenv("ONPREM_BOT_UI__MAX_UPLOAD_MB", "1")
    at = open_documents(log_in(fresh_app_test().run(), "ed", PASSWORD))
    good = ("시험근로법.md", STATUTE_MD.encode(), "text/markdown")
    at.file_uploader(key="doc_upload_0").set_value([good, (name, data, "application/octet-stream")]).run()
    click(at, "올리고 수집하기")
    assert not at.exception
    assert any(message in plain(e.value) and "아무 파일도 저장하지 않았습니다" in plain(e.value) for e in at.error)
    app = services()
    assert app.documents.counts() == (0, 0)
    uploads = Path(app.settings.home) / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_unreadable_upload_is_reported_and_not_kept(users: None) -> None:
    at = open_documents(log_in(fresh_app_test().run(), "ed", PASSWORD))
    at.file_uploader(key="doc_upload_0").set_value(("깨진.pdf", b"%PDF-1.4 not really a pdf", "application/pdf")).run()
    click(at, "올리고 수집하기")
    assert not at.exception
    assert any("깨진.pdf: 수집하지 못했습니다" in plain(e.value) for e in at.error)
    app = services()
    assert app.documents.counts() == (0, 0)
    assert not (Path(app.settings.home) / "uploads" / "깨진.pdf").exists()
