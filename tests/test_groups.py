"""Groups (issue 19): who may read which document and FAQ entry, through the services and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onprem_bot.access import OPERATOR, PUBLIC, GroupError, Viewer, parse_groups
from onprem_bot.access_admin import UnknownUserError
from onprem_bot.app import App
from onprem_bot.cli import main
from tests.statute_sample import REGULATION_TEXT, STATUTE_MD

HR = Viewer("kim", frozenset({"인사팀"}))
NOBODY = Viewer("lee")  # logged in, in no group
SALARY = "급여규정"


def test_group_names_are_checked_with_a_message_naming_the_bad_one() -> None:
    assert parse_groups("인사팀, 임원,인사팀") == ("인사팀", "임원")
    assert parse_groups("") == () and parse_groups(None) == ()
    for bad in ("인사 팀", "인사팀;임원", "a/b", "x" * 65):
        with pytest.raises(GroupError) as err:
            parse_groups(bad)
        assert "그룹 이름" in str(err.value)
    with pytest.raises(GroupError):
        parse_groups(["인사팀", " "])


def test_the_one_rule() -> None:
    assert PUBLIC.may_read(()) and not PUBLIC.may_read(("인사팀",))
    assert HR.may_read(("인사팀", "임원")) and not HR.may_read(("임원",))
    assert NOBODY.may_read(()) and not NOBODY.may_read(("인사팀",))
    assert OPERATOR.may_read(("임원",)) and not OPERATOR.restricted


@pytest.fixture
def grouped(indexed: App) -> App:
    """The indexed sample with the 급여규정 restricted to 인사팀."""
    doc = next(d for d in indexed.documents.list_all() if d.title == SALARY)
    indexed.access.set_document_groups(doc.id, "인사팀", by="tester")
    return indexed


def test_a_restricted_document_is_searched_only_for_its_groups(grouped: App) -> None:
    question = "급여는 매월 며칠에 지급하나요?"
    for viewer, sees in ((HR, True), (NOBODY, False), (PUBLIC, False), (OPERATOR, True)):
        hits = grouped.retriever.run(question, k=5, viewer=viewer)
        assert (SALARY in {h.chunk.doc_title for h in hits}) is sees, viewer
        answer = grouped.pipeline.ask(question, viewer=viewer)
        assert (SALARY in {c.doc_title for c in answer.citations}) is sees, viewer
        if not sees:
            assert "20일" not in json.dumps(answer.as_json(), ensure_ascii=False)


def test_a_reingest_without_groups_keeps_them_and_the_list_is_filtered(grouped: App, tmp_path: Path) -> None:
    path = next(Path(d.path) for d in grouped.documents.list_all() if d.title == SALARY)
    path.write_text(REGULATION_TEXT + "\n제9조(기타) 기타 사항은 원장이 정한다.\n", encoding="utf-8")
    grouped.ingestor.run([path])
    doc = next(d for d in grouped.documents.list_all() if d.title == SALARY)
    assert doc.groups == ("인사팀",)
    assert SALARY not in {d.title for d in grouped.documents.list_all(PUBLIC)}
    assert SALARY in {d.title for d in grouped.documents.list_all(HR)}


def test_a_source_view_is_refused_once_the_groups_change(grouped: App) -> None:
    conv = grouped.chat.start("s1")
    message = grouped.chat.ask(conv, "급여는 매월 며칠에 지급하나요?", HR)
    cited = [c for c in message.answer.citations if c.doc_title == SALARY]
    assert cited and grouped.chat.source_text(cited[0], HR)
    doc = next(d for d in grouped.documents.list_all() if d.title == SALARY)
    grouped.access.set_document_groups(doc.id, "임원", by="admin")
    assert grouped.chat.source_text(cited[0], HR) is None
    assert grouped.chat.source_text(cited[0], OPERATOR)


def test_faq_entries_with_groups_answer_only_their_groups(indexed: App) -> None:
    app = indexed
    app.faq_store.add("성과급 지급 기준은 무엇인가요?", "성과급은 S등급 300%입니다.", groups=["인사팀"])
    app.faq_store.add("주차장 이용 시간은?", "주차장은 24시간 이용할 수 있습니다.")
    assert app.faq.match("성과급 지급 기준은 무엇인가요?", HR).matched
    miss = app.faq.match("성과급 지급 기준은 무엇인가요?", NOBODY)
    assert not miss.matched and all("성과급" not in s.question for s in miss.suggestions)
    assert app.faq.match("주차장 이용 시간은?", NOBODY).matched
    answer = app.pipeline.ask("성과급 지급 기준은 무엇인가요?", viewer=PUBLIC)
    assert "300%" not in json.dumps(answer.as_json(), ensure_ascii=False)


def test_every_question_and_change_is_audited_and_exported(grouped: App) -> None:
    conv = grouped.chat.start("s2")
    grouped.chat.ask(conv, "급여는 매월 며칠에 지급하나요? 010-1234-5678", HR)
    entries = grouped.audit.entries()
    actions = [e.action for e in entries]
    assert actions[0] == "document_groups" and entries[0].actor == "tester"
    ask = [e for e in entries if e.action == "ask"][-1]
    assert ask.actor == "kim" and "010-1234-5678" not in ask.subject  # masked like the conversation log
    assert SALARY in {t for _, t in ask.detail["retrieved"]} and ask.detail["cited"]
    csv = grouped.audit.export("csv", entries).decode("utf-8-sig")
    assert csv.splitlines()[0] == "id,at,actor,action,subject,detail" and "kim" in csv
    lines = grouped.audit.export("jsonl", entries).decode().splitlines()
    assert json.loads(lines[-1])["action"] == "ask"
    with pytest.raises(ValueError, match="csv, jsonl"):
        grouped.audit.export("xml", entries)


def test_the_user_lookup_of_the_cli(app: App) -> None:
    app.access.create_user("Park", "correct horse", "user", "인사팀,임원", by="operator")
    assert app.access.viewer("park") == Viewer("park", frozenset({"인사팀", "임원"}))
    assert app.access.viewer(None) is OPERATOR
    with pytest.raises(UnknownUserError, match="없거나"):
        app.access.viewer("ghost")
    app.access.set_active("park", False, by="operator")
    with pytest.raises(UnknownUserError):
        app.access.viewer("park")


def cli(capsys: pytest.CaptureFixture[str], home: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    import io
    import sys

    old = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["--home", str(home), *args])
            raise SystemExit(0)
    finally:
        sys.stdin = old
    out = capsys.readouterr()
    return int(exit_info.value.code or 0), out.out, out.err


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home, docs = tmp_path / "home", tmp_path / "docs"
    (docs / "hr").mkdir(parents=True)
    (docs / "시험근로법.md").write_text(STATUTE_MD, encoding="utf-8")
    (docs / "hr" / "급여규정.txt").write_text(REGULATION_TEXT, encoding="utf-8")
    code, _, err = cli(capsys, home, "ingest", str(docs / "hr"), "--groups", "인사 팀")
    assert code != 0 and "공백" in err  # a bad name stops before any work
    assert cli(capsys, home, "ingest", "--json", str(docs / "hr"), "--groups", "인사팀")[0] == 0
    assert cli(capsys, home, "ingest", "--json", str(docs))[0] == 0  # no --groups: the HR file keeps its group
    code, out, _ = cli(capsys, home, "documents", "--json")
    by_title = {d["title"]: d for d in json.loads(out)["documents"]}
    assert by_title[SALARY]["groups"] == ["인사팀"] and by_title["시험근로법"]["groups"] == []
    assert cli(capsys, home, "admin", "create-user", "kim", "--role", "user", "--groups", "인사팀", "--password-stdin", stdin="long enough 1\n")[0] == 0  # fmt: skip
    assert cli(capsys, home, "admin", "create-user", "lee", "--role", "user", "--password-stdin", stdin="long enough 2\n")[0] == 0  # fmt: skip
    question = "급여는 매월 며칠에 지급하나요?"
    titles = lambda out: {h["doc_title"] for h in json.loads(out)["hits"]}  # noqa: E731
    assert SALARY in titles(cli(capsys, home, "search", question, "--json", "--user", "kim")[1])
    assert SALARY not in titles(cli(capsys, home, "search", question, "--json", "--user", "lee")[1])
    assert SALARY in titles(cli(capsys, home, "search", question, "--json")[1])  # the operator sees everything
    code, out, _ = cli(capsys, home, "ask", question, "--json", "--user", "lee")
    assert code == 0 and SALARY not in out
    code, _, err = cli(capsys, home, "ask", question, "--user", "ghost")
    assert code != 0 and "ghost" in err and "Traceback" not in err
    assert cli(capsys, home, "documents", "set-groups", SALARY, "--groups", "")[0] == 0
    assert SALARY in titles(cli(capsys, home, "search", question, "--json", "--user", "lee")[1])
    code, _, err = cli(capsys, home, "documents", "set-groups", "없는문서", "--groups", "인사팀")
    assert code != 0 and "없는문서" in err
    code, out, _ = cli(capsys, home, "admin", "audit", "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert {"document_groups", "user_created", "ask"} <= {r["action"] for r in rows}
    assert [r["actor"] for r in rows if r["action"] == "ask"][:1] == ["lee"]


def test_folder_groups_from_the_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from onprem_bot.app import build_app
    from onprem_bot.config import load_settings

    docs = tmp_path / "docs"
    (docs / "hr" / "secret").mkdir(parents=True)
    (docs / "hr" / "급여규정.txt").write_text(REGULATION_TEXT, encoding="utf-8")
    (docs / "hr" / "secret" / "시험근로법.md").write_text(STATUTE_MD, encoding="utf-8")
    folders = {str(docs / "hr"): "인사팀", str(docs / "hr" / "secret"): "임원"}
    app = build_app(load_settings(env={}, home=tmp_path / "home", ingest={"folder_groups": folders}))
    app.ingestor.run([docs])
    assert {d.title: d.groups for d in app.documents.list_all()} == {SALARY: ("인사팀",), "시험근로법": ("임원",)}
    app.ingestor.run([docs], groups=())  # explicit: everyone
    assert {d.groups for d in app.documents.list_all()} == {()}
    app.db.dispose()


def test_faq_groups_in_the_admin_table_and_the_import_file(app: App, tmp_path: Path) -> None:
    admin = app.faq_admin
    entry = app.faq_store.add("법인카드 한도는?", "월 300만 원입니다.")
    snapshot = admin.snapshot()
    pos = next(i for i, e in enumerate(snapshot) if e.id == entry.id)
    assert admin.table(snapshot)[pos]["열람 그룹"] == ""
    report = admin.apply_edits(snapshot, {"edited_rows": {str(pos): {"열람 그룹": "재무팀, 임원"}}}, by="kim")
    assert report.updated == 1 and app.faq_store.get(entry.id).groups == ("임원", "재무팀")
    bad = admin.apply_edits(admin.snapshot(), {"edited_rows": {str(pos): {"열람 그룹": "재무 팀"}}}, by="kim")
    assert bad.errors and "공백" in bad.errors[0] and app.faq_store.get(entry.id).groups == ("임원", "재무팀")
    added = admin.apply_edits(admin.snapshot(), {"added_rows": [{"질문": "비밀 질문?", "답변": "비밀 답.", "열람 그룹": "감사실"}]}, by="kim")  # fmt: skip
    assert added.added == 1
    csv = tmp_path / "faq.csv"
    csv.write_text("질문,답변,그룹\n보안 점검 주기는?,분기마다 합니다.,보안팀\n", encoding="utf-8")
    assert admin.import_file("faq.csv", csv.read_bytes(), by="kim").added == 1
    groups = {e.question: e.groups for e in app.faq_store.entries(include_disabled=True)}
    assert groups["비밀 질문?"] == ("감사실",) and groups["보안 점검 주기는?"] == ("보안팀",)
    exported = admin.export("csv").decode("utf-8-sig")
    assert exported.splitlines()[0].endswith(",groups") and "보안팀" in exported


def test_a_group_change_by_another_process_is_seen_at_once(app: App, tmp_path: Path) -> None:
    """The groups are cached per process behind the documents revision: a change made through another
    connection (another replica, the CLI) moves it, so the next read is fresh."""
    from onprem_bot.storage.db import Database
    from onprem_bot.storage.documents import DocumentStore

    docs = tmp_path / "d"
    docs.mkdir()
    (docs / "급여규정.txt").write_text(REGULATION_TEXT, encoding="utf-8")
    app.ingestor.run([docs])
    [doc] = app.documents.list_all()
    assert app.documents.readable(PUBLIC) == {doc.id}
    other = DocumentStore(Database(app.settings.db_url))
    other.set_groups(doc.id, ["인사팀"])
    assert app.documents.readable(PUBLIC) == frozenset() and app.documents.readable(HR) == {doc.id}
    other.delete(doc.id)
    assert app.documents.groups() == {}
    other.db.dispose()


def test_every_way_of_setting_groups_is_audited(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--groups, ingest.folder_groups, set-groups and an upload on the documents page all leave a row; a group
    no account holds gets a warning (a typo hides the document)."""
    home, docs = tmp_path / "home", tmp_path / "docs"
    (docs / "hr").mkdir(parents=True)
    (docs / "hr" / "급여규정.txt").write_text(REGULATION_TEXT, encoding="utf-8")
    config = tmp_path / "onprem-bot.toml"
    config.write_text(f'[ingest.folder_groups]\n"{docs / "hr"}" = "인사팀"\n', encoding="utf-8")
    code, out, err = cli(capsys, home, "--config", str(config), "ingest", "--json", str(docs))
    assert code == 0 and json.loads(out)["groups"][0]["groups"] == ["인사팀"]
    assert "인사팀" in err and "경고" in err  # nobody is in 인사팀 yet
    code, _, err = cli(capsys, home, "documents", "set-groups", SALARY, "--groups", "인샤팀")
    assert code == 0 and "'인샤팀'" in err
    code, out, _ = cli(capsys, home, "admin", "audit", "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines() if json.loads(line)["action"] == "document_groups"]
    assert [(r["detail"]["title"], r["detail"].get("via")) for r in rows] == [
        (SALARY, "ingest.folder_groups"),
        (SALARY, None),
    ]
    assert rows[1]["detail"]["before"] == ["인사팀"] and rows[1]["detail"]["after"] == ["인샤팀"]


def test_an_upload_with_groups_and_failed_log_ins_are_audited(app: App) -> None:
    from onprem_bot.auth import LoginError

    kim = Viewer("kim", frozenset({"인사팀"}))
    report = app.doc_admin.ingest_uploads([("급여규정.txt", REGULATION_TEXT.encode())], groups="인사팀", viewer=kim)
    assert report.ingested
    [row] = [e for e in app.audit.entries() if e.action == "document_groups"]
    assert row.actor == "kim" and row.detail["via"] == "upload" and row.detail["after"] == ["인사팀"]
    app.access.create_user("lee", "long enough 3", "user", "", by="operator")
    for _ in range(app.settings.auth.max_failures):
        with pytest.raises(LoginError):
            app.auth.login("lee", "wrong password", client="browser-1")
    actions = [(e.actor, e.action) for e in app.audit.entries() if e.action.startswith("login")]
    assert actions.count(("lee", "login_failed")) == app.settings.auth.max_failures
    assert ("lee", "login_locked") in actions and ("browser-1", "login_locked") in actions
