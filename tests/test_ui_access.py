"""Who sees which documents in the web UI (issue 19): the chat log-in, the documents an employee's
groups open, source views re-checked, the open chat's public documents, document groups and accounts
on the administration pages, and the audit log's export."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from onprem_bot.cli import main
from onprem_bot.storage.audit import AUDIT_EXPORT, DOCUMENT_GROUPS, USER_CREATED, USER_GROUPS
from tests.statute_sample import REGULATION_TEXT, STATUTE_MD
from tests.ui_helpers import fresh_app_test, log_in, plain, services

PASSWORD = "correct horse 1"
PAY_QUESTION = "급여 지급일은 언제인가요?"
LAW_QUESTION = "근로자의 정의는 무엇인가요?"
REFUSED = "이 출처는 볼 수 없습니다: 문서가 삭제되었거나 열람 권한이 바뀌었습니다."


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """시험근로법 for everyone, 급여규정 for 인사팀 only; the scripted LLM; accounts of every kind."""
    monkeypatch.setenv("ONPREM_BOT_LLM__BACKEND", "scripted")
    law = tmp_path / "시험근로법.md"
    law.write_text(STATUTE_MD, encoding="utf-8")
    pay = tmp_path / "급여규정.txt"
    pay.write_text(REGULATION_TEXT, encoding="utf-8")
    main(["ingest", str(law), "--json"])
    main(["ingest", str(pay), "--groups", "인사팀", "--json"])
    app = services()
    app.access.create_user("boss", PASSWORD, "admin", "", by="test")
    app.access.create_user("hr", PASSWORD, "user", "인사팀", by="test")
    app.access.create_user("sales", PASSWORD, "user", "영업팀", by="test")
    app.access.create_user("ed", PASSWORD, "editor", "영업팀", by="test")
    app.db.dispose()


@pytest.fixture
def login_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONPREM_BOT_AUTH__CHAT", "login")


def chat_log_in(at: AppTest, name: str, password: str = PASSWORD) -> AppTest:
    at.text_input(key="chat_login_name").input(name)
    at.text_input(key="chat_login_password").input(password)
    for b in at.button:
        if b.label == "로그인":
            return b.click().run()
    raise AssertionError("no log-in button")


def ask(at: AppTest, question: str) -> AppTest:
    return at.chat_input(key="question").set_value(question).run()


def click(at: AppTest, label: str) -> AppTest:
    for b in at.button:
        if b.label == label:
            return b.click().run()
    raise AssertionError(f"no button {label!r}: {[b.label for b in at.button]}")


def sidebar_titles(at: AppTest) -> list[str]:
    return [t for d in at.sidebar.dataframe for t in d.value["제목"].tolist()]


def everything_shown(at: AppTest) -> str:
    """Every text on the page (markdown, captions, labels, tables), for 'nothing of it shown' checks."""
    parts = [
        e.value for kind in ("markdown", "caption", "info", "warning", "error", "title") for e in getattr(at, kind)
    ]
    parts += [e.label for e in at.expander] + [b.label for b in at.button] + [str(m.value) for m in at.metric]
    parts += [d.value.to_csv() for d in at.dataframe]
    return plain("\n".join(str(p) for p in parts))


def test_login_mode_shows_only_the_log_in_form(corpus: None, login_mode: None) -> None:
    at = fresh_app_test().run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["아이디", "비밀번호"]
    assert not at.chat_input and not at.dataframe and not at.metric and not at.chat_message
    assert not [b for b in at.sidebar.button if b.key == "new_conversation"]
    shown = everything_shown(at)
    assert "시험근로법" not in shown and "급여규정" not in shown and "검색 대상 문서" not in shown


def test_chat_log_in_with_a_wrong_password_says_so(corpus: None, login_mode: None) -> None:
    at = chat_log_in(fresh_app_test().run(), "hr", "wrong password")
    assert not at.exception
    assert [plain(e.value) for e in at.error] == ["아이디 또는 비밀번호가 올바르지 않습니다."]
    assert not at.chat_input and not at.dataframe


def test_chat_log_in_shows_the_directorys_and_the_throttles_messages(
    corpus: None, login_mode: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onprem_bot import directory
    from onprem_bot.auth import AuthService, LoginError

    original = AuthService.login

    def unreachable(self: AuthService, name: str, password: str, client: str = "") -> object:
        if name == "dir-user":
            raise LoginError(directory.UNAVAILABLE)
        return original(self, name, password, client)

    monkeypatch.setattr(AuthService, "login", unreachable)
    at = chat_log_in(fresh_app_test().run(), "dir-user", "whatever1")
    assert [plain(e.value) for e in at.error] == [directory.UNAVAILABLE]
    monkeypatch.setenv("ONPREM_BOT_AUTH__MAX_FAILURES", "2")
    at = fresh_app_test().run()
    for password in ("wrong one!", "wrong two!", PASSWORD):
        chat_log_in(at, "hr", password)
    assert "너무 많습니다" in plain(at.error[0].value) and not at.chat_input


def test_an_idle_chat_session_ends_and_asks_for_the_log_in_again(corpus: None, login_mode: None) -> None:
    from dataclasses import replace

    at = ask(chat_log_in(fresh_app_test().run(), "hr"), LAW_QUESTION)
    assert len(at.chat_message) == 2
    at.session_state["auth"] = replace(at.session_state["auth"], last_seen=0.0)  # idle since 1970
    at.run()
    assert not at.exception
    assert [plain(w.value) for w in at.warning] == ["세션이 만료되었습니다. 다시 로그인해 주세요."]
    assert not at.chat_message and not at.chat_input and not at.dataframe
    chat_log_in(at, "hr")
    assert not at.chat_message  # a fresh start; the conversation is in the sidebar list
    assert [b for b in at.sidebar.button if str(b.key).startswith("conv_")]


def test_an_employee_sees_the_documents_of_their_groups(corpus: None, login_mode: None) -> None:
    at = chat_log_in(fresh_app_test().run(), "hr")
    assert not at.exception
    assert sorted(sidebar_titles(at)) == ["급여규정", "시험근로법"]
    assert at.metric[0].value == "2"
    assert any("hr (사용자)" in plain(c.value) for c in at.sidebar.caption)
    other = chat_log_in(fresh_app_test().run(), "sales")
    assert sidebar_titles(other) == ["시험근로법"]
    assert "급여규정" not in everything_shown(other)
    click(other, "로그아웃")
    assert not other.chat_input and [t.label for t in other.text_input] == ["아이디", "비밀번호"]


def test_questions_name_the_reader_and_conversations_follow_the_account(corpus: None, login_mode: None) -> None:
    at = ask(chat_log_in(fresh_app_test().run(), "sales"), PAY_QUESTION)
    assert not at.exception
    cited = {e.label for e in at.expander}
    assert not any("급여규정" in label for label in cited)  # not in sales' groups: never cited
    app = services()
    [asked] = [e for e in app.audit.entries() if e.action == "ask"]
    assert asked.actor == "sales" and "급여규정" not in str(asked.detail)
    # another browser, the same account: the conversation is listed there too
    again = chat_log_in(fresh_app_test().run(), "sales")
    [listed] = [b for b in again.sidebar.button if str(b.key).startswith("conv_")]
    assert plain(listed.label).startswith(PAY_QUESTION[:10])
    assert not [b for b in chat_log_in(fresh_app_test().run(), "hr").sidebar.button if str(b.key).startswith("conv_")]


def test_a_source_view_is_refused_once_the_documents_groups_change(corpus: None, login_mode: None) -> None:
    at = ask(chat_log_in(fresh_app_test().run(), "hr"), LAW_QUESTION)
    assert not at.exception
    assert any("시험근로법" in e.label for e in at.expander)
    assert any("임금을 목적으로" in m.value for m in at.markdown)  # the source, highlighted
    app = services()
    [law] = [d for d in app.documents.list_all() if d.title == "시험근로법"]
    app.access.set_document_groups(law.id, "임원", by="boss")
    at.run()
    assert not at.exception
    assert [plain(w.value) for w in at.warning] == [REFUSED]
    assert not any("임금을 목적으로" in m.value for m in at.markdown if "badge" not in m.value)
    assert sidebar_titles(at) == ["급여규정"]  # the sidebar follows the change at once


def test_the_open_chat_shows_only_documents_without_groups(corpus: None) -> None:
    at = fresh_app_test().run()
    assert not at.exception
    assert sidebar_titles(at) == ["시험근로법"]
    assert [m.value for m in at.metric] == ["1", "6"]
    assert "급여규정" not in everything_shown(at)
    ask(at, PAY_QUESTION)
    assert not at.exception
    assert not any("급여규정" in e.label for e in at.expander)
    assert [e.actor for e in services().audit.entries() if e.action == "ask"] == ["anonymous"]


def test_an_administrator_logged_in_reads_everything_in_the_open_chat(corpus: None) -> None:
    at = log_in(fresh_app_test().run(), "boss", PASSWORD)
    at.sidebar.radio(key="nav").set_value("채팅").run()
    assert not at.exception
    assert sorted(sidebar_titles(at)) == ["급여규정", "시험근로법"]


def groups_of(document_id: str) -> tuple[str, ...] | None:
    info = services().documents.get(document_id)
    assert info is not None
    return info.groups


def open_documents(at: AppTest) -> AppTest:
    return at.sidebar.radio(key="admin_section").set_value("문서").run()


def test_an_administrator_edits_a_documents_groups(corpus: None) -> None:
    at = open_documents(log_in(fresh_app_test().run(), "boss", PASSWORD))
    assert not at.exception
    table = at.dataframe[0].value
    groups = dict(zip(table["제목"], table["열람 그룹"], strict=True))
    assert groups == {"급여규정": "인사팀", "시험근로법": "전체"}
    app = services()
    [law] = [d for d in app.documents.list_all() if d.title == "시험근로법"]
    at.selectbox(key="doc_chosen").set_value(law.id).run()
    at.text_input(key=f"doc_groups_{law.id}").input("인사 팀").run()
    click(at, "그룹 저장")
    assert any("공백" in plain(e.value) for e in at.error)  # GroupError's Korean message
    assert groups_of(law.id) == ()
    at.text_input(key=f"doc_groups_{law.id}").input("인사팀, 임원").run()
    click(at, "그룹 저장")
    assert not at.exception
    assert any("열람 그룹을 바꿨습니다" in plain(s.value) for s in at.success)
    assert groups_of(law.id) == ("인사팀", "임원")
    [change] = [e for e in app.audit.entries(actor="boss") if e.action == DOCUMENT_GROUPS]
    assert (change.actor, change.subject, change.detail["after"]) == ("boss", law.id, ["인사팀", "임원"])


def test_an_editor_sees_and_manages_only_readable_documents(corpus: None) -> None:
    at = open_documents(log_in(fresh_app_test().run(), "ed", PASSWORD))
    assert not at.exception
    assert at.dataframe[0].value["제목"].tolist() == ["시험근로법"]
    assert len(at.selectbox(key="doc_chosen").options) == 1
    # an upload with groups: stored with them (and, outside the editor's groups, off the editor's list)
    data = "# 영업지침\n\n제1조(목적) 이 지침은 영업 활동의 기준을 정한다.\n".encode()
    at.file_uploader(key="doc_upload_0").set_value(("영업지침.md", data, "text/markdown"))
    at.text_input(key="doc_upload_groups_0").input("영업팀").run()
    click(at, "올리고 수집하기")
    assert not at.exception
    assert sorted(at.dataframe[0].value["제목"].tolist()) == ["시험근로법", "영업지침"]
    [sales_doc] = [d for d in services().documents.list_all() if d.title == "영업지침"]
    assert sales_doc.groups == ("영업팀",)
    # a bad group name stores nothing
    at.file_uploader(key="doc_upload_1").set_value(("다른.md", b"# x\n\nabc\n", "text/markdown"))
    at.text_input(key="doc_upload_groups_1").input("영업/팀").run()
    click(at, "올리고 수집하기")
    assert any("아무 파일도 저장하지 않았습니다" in plain(e.value) for e in at.error)
    assert len(services().documents.list_all()) == 3


def test_an_editor_cannot_replace_a_document_they_may_not_read(corpus: None) -> None:
    at = open_documents(log_in(fresh_app_test().run(), "boss", PASSWORD))
    at.file_uploader(key="doc_upload_0").set_value(("비밀.md", b"# secret\n\nsecret text\n", "text/markdown"))
    at.text_input(key="doc_upload_groups_0").input("임원").run()
    click(at, "올리고 수집하기")
    ed = open_documents(log_in(fresh_app_test().run(), "ed", PASSWORD))
    ed.file_uploader(key="doc_upload_0").set_value(("비밀.md", b"# replaced\n\nother\n", "text/markdown")).run()
    click(ed, "올리고 수집하기")
    assert any("열람 권한이 없어" in plain(e.value) for e in ed.error)
    [secret] = [d for d in services().documents.list_all() if d.groups == ("임원",)]
    assert secret.title == "secret"


def test_a_user_account_has_no_administration_pages(corpus: None) -> None:
    at = log_in(fresh_app_test().run(), "hr", PASSWORD)
    assert not at.exception
    assert any("관리 화면 권한이 없습니다" in plain(i.value) for i in at.info)
    assert not [r for r in at.sidebar.radio if r.key == "admin_section"]


def open_users(at: AppTest) -> AppTest:
    return at.sidebar.radio(key="admin_section").set_value("사용자").run()


def test_the_users_page_lists_creates_and_changes_accounts(corpus: None) -> None:
    at = open_users(log_in(fresh_app_test().run(), "boss", PASSWORD))
    assert not at.exception
    table = at.dataframe[0].value
    assert {"아이디", "역할", "그룹", "출처"} <= set(table.columns)
    rows = {r["아이디"]: r for r in table.to_dict("records")}
    assert rows["hr"]["그룹"] == "인사팀" and rows["hr"]["역할"] == "사용자" and rows["hr"]["출처"] == "로컬"
    at.text_input(key="user_new_name_0").input("kim")
    at.text_input(key="user_new_password_0").input("short")
    at.text_input(key="user_new_groups_0").input("인사팀,임원")
    click(at, "계정 만들기")
    assert at.error  # the password rule, in Korean
    assert services().auth.users.get("kim") is None
    at.text_input(key="user_new_password_0").input(PASSWORD)
    click(at, "계정 만들기")
    assert not at.exception
    kim = services().auth.users.get("kim")
    assert kim is not None and kim.role == "user" and kim.groups == ("인사팀", "임원")
    at.selectbox(key="user_chosen").set_value("sales").run()
    at.text_input(key="user_groups_sales").input("영업팀,인사팀").run()
    click(at, "그룹 저장")
    assert services().auth.users.get("sales").groups == ("영업팀", "인사팀")
    actions = [(e.actor, e.action, e.subject) for e in services().audit.entries() if e.actor == "boss"]
    assert ("boss", USER_CREATED, "kim") in actions and ("boss", USER_GROUPS, "sales") in actions
    # the new groups apply on sales' next visit: 급여규정 is now in their sidebar
    chat = fresh_app_test().run()
    chat.sidebar.radio(key="nav").set_value("관리").run()
    assert sorted(sidebar_titles(log_in(chat, "sales", PASSWORD).sidebar.radio(key="nav").set_value("채팅").run())) == [
        "급여규정",
        "시험근로법",
    ]


def test_the_audit_log_is_shown_filtered_and_exported_and_the_export_recorded(corpus: None) -> None:
    ask(fresh_app_test().run(), LAW_QUESTION)  # an anonymous question
    at = open_users(log_in(fresh_app_test().run(), "boss", PASSWORD))
    assert not at.exception
    audit = at.dataframe[-1].value
    assert {"시각", "계정", "동작", "대상", "내용"} <= set(audit.columns)
    actions = audit["동작"].tolist()
    assert (
        actions[:2] == ["로그인", "질문"] and "계정 생성" in actions
    )  # newest first: boss's log-in, then the question
    at.text_input(key="audit_actor").input("anonymous").run()
    assert at.dataframe[-1].value["계정"].tolist() == ["anonymous"]
    click(at, "내보내기 파일 만들기")
    assert not at.exception
    fmt, data, name, count = at.session_state["audit_file"]
    assert (fmt, count) == ("csv", 1) and name.endswith(".csv")
    text = data.decode("utf-8-sig")
    assert text.startswith("id,at,actor,action,subject,detail") and "anonymous" in text
    assert any(b.proto.label == "CSV 내려받기 (1건)" for b in at.get("download_button"))
    at.radio(key="audit_format").set_value("jsonl").run()
    click(at, "내보내기 파일 만들기")
    assert at.session_state["audit_file"][0] == "jsonl"
    exports = [e for e in services().audit.entries() if e.action == AUDIT_EXPORT]
    assert [(e.actor, e.detail["format"], e.detail["actor"], e.detail["rows"]) for e in exports] == [
        ("boss", "csv", "anonymous", 1),
        ("boss", "jsonl", "anonymous", 1),
    ]
