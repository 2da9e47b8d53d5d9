"""FAQ store and files: edits with history, one-transaction imports, encodings, safe exports."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from onprem_bot.app import App, build_app
from onprem_bot.config import Settings
from onprem_bot.faq.io import escape_cell, read_faq_file, write_faq_file
from onprem_bot.faq.store import FaqConflictError, FaqError, FaqStore


@pytest.fixture
def settings(any_backend_settings: Settings) -> Settings:
    """Every test here runs on SQLite and on a real PostgreSQL server (tests/pg.py)."""
    return any_backend_settings


@pytest.fixture
def store(app: App) -> FaqStore:
    return app.faq_store


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_seed_imported_once_and_not_again_after_edits(settings: Settings, store: FaqStore) -> None:
    seeded = store.entries()
    assert len(seeded) >= 10 and all(e.answer and e.question for e in seeded)
    assert {c.changed_by for c in store.history()} == {"seed"}
    store.delete(seeded[0].id, by="kim")
    again = build_app(settings)  # a restart must not bring the deleted entry back
    assert len(again.faq_store.entries()) == len(seeded) - 1
    again.db.dispose()


def test_edit_history_records_who_and_what(store: FaqStore) -> None:
    entry = store.add(
        "회의실 예약은 어떻게 하나요?", "그룹웨어에서 예약합니다.", "총무", ["회의실 예약 방법"], by="lee"
    )
    before = store.revision()
    store.update(entry.id, by="park", answer="그룹웨어 > 자원예약에서 합니다.")
    store.set_enabled(entry.id, False, by="park")
    assert store.revision() > before
    changes = store.history(entry.id)
    assert [c.action for c in changes] == ["update", "update", "create"]
    assert changes[1].old["answer"] == "그룹웨어에서 예약합니다." and changes[1].new["answer"].startswith("그룹웨어 >")
    assert changes[0].new["enabled"] is False and changes[0].changed_by == "park"
    assert entry.id not in {e.id for e in store.enabled()}
    store.delete(entry.id, by="park")
    assert store.history(entry.id)[0].action == "delete"  # history outlives the entry


def test_bad_entries_are_refused_with_reasons(store: FaqStore) -> None:
    with pytest.raises(FaqError, match="질문이 비어"):
        store.add("  ", "답")
    with pytest.raises(FaqError, match="답변이 비어"):
        store.add("질문?", "")
    entry = store.add("복지포인트 사용처는?", "온라인몰에서 씁니다.")
    with pytest.raises(FaqError, match=f"#{entry.id}"):
        store.add("복지포인트 사용처는", "다른 답")  # the same question, normalised
    with pytest.raises(FaqError, match="unknown field"):
        store.update(entry.id, colour="red")


def test_concurrent_edit_is_a_conflict_not_a_silent_loss(store: FaqStore) -> None:
    entry = store.add("주차 등록은?", "총무팀에 신청합니다.")
    store.update(entry.id, by="kim", expected_version=entry.version, answer="온라인으로 신청합니다.")
    with pytest.raises(FaqConflictError, match="kim"):
        store.update(entry.id, by="lee", expected_version=entry.version, answer="전화로 신청합니다.")
    assert store.get(entry.id).answer == "온라인으로 신청합니다."


def test_import_adds_updates_rejects_and_reports(tmp_path: Path, store: FaqStore) -> None:
    existing = store.add("법인카드 분실 시 어떻게 하나요?", "카드사에 신고합니다.")
    path = write_csv(
        tmp_path / "faq.csv",
        [
            ["질문", "답변", "분류", "유사질문"],
            ["법인카드 분실 시 어떻게 하나요", "카드사와 재무팀에 즉시 신고합니다.", "재무", "법카 분실"],
            ["재택근무 신청은?", "팀장 승인 후 신청합니다.", "인사", "재택 신청 | 원격근무 신청"],
            ["", "답변만 있음", "", ""],
            ["재택근무 신청은?", "중복", "", ""],
            ["질문만 있음", "", "", ""],
        ],
    )
    report = store.import_rows(read_faq_file(path), by="admin")
    assert (report.added, report.updated) == (1, 1)
    assert [line for line, _ in report.rejected] == [4, 5, 6]
    assert "3행과 같습니다" in report.rejected[1][1]
    updated = store.get(existing.id)
    assert updated.answer.startswith("카드사와 재무팀") and updated.alternatives == ("법카 분실",)
    new = next(e for e in store.entries() if e.question == "재택근무 신청은?")
    assert new.alternatives == ("재택 신청", "원격근무 신청") and new.category == "인사"
    assert store.import_rows(read_faq_file(path)).unchanged == 2  # importing again changes nothing


def test_strict_import_and_a_broken_file_import_nothing(tmp_path: Path, store: FaqStore) -> None:
    count = len(store.entries())
    bad = write_csv(tmp_path / "bad.csv", [["question", "answer"], ["새 질문?", "새 답"], ["", "x"]])
    with pytest.raises(FaqError, match="nothing imported"):
        store.import_rows(read_faq_file(bad), strict=True)
    assert len(store.entries()) == count
    broken = tmp_path / "broken.csv"  # UTF-8 header, then a byte that is neither UTF-8 nor CP949 late in the file
    rows = "question,answer\n" + "".join(f"질문{i}?,답{i}\n" for i in range(30_000))
    broken.write_bytes(rows.encode("utf-8") + b"\xff\xff,x\n")
    with pytest.raises(FaqError, match="인코딩"):
        store.import_rows(read_faq_file(broken))
    assert len(store.entries()) == count  # the 30,000 good rows before it were rolled back


def test_cp949_and_xlsx_files(tmp_path: Path, store: FaqStore) -> None:
    cp949 = write_csv(
        tmp_path / "cp.csv", [["question", "answer"], ["급여일은 언제인가요?", "매월 25일입니다."]], "cp949"
    )
    assert store.import_rows(read_faq_file(cp949)).added == 1
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["question", "answer", "category"])
    book.active.append(["건강검진 대상은?", "전 직원입니다.", "복지"])
    book.save(tmp_path / "faq.xlsx")
    assert store.import_rows(read_faq_file(tmp_path / "faq.xlsx")).added == 1


def test_missing_columns_and_unknown_type(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", [["제목", "내용"], ["a", "b"]])
    with pytest.raises(FaqError, match=r"missing columns.*question, answer"):
        list(read_faq_file(path))
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(FaqError, match=r"valid: \.csv"):
        list(read_faq_file(tmp_path / "x.pdf"))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_escapes_formulas_and_round_trips(tmp_path: Path, store: FaqStore, suffix: str) -> None:
    store.add('=HYPERLINK("http://x")?', "@SUM(A1) 위험한 답", alternatives=["+1 질문", "-2 질문"])
    out = tmp_path / f"faq{suffix}"
    write_faq_file(store.entries(), out)
    if suffix == ".csv":
        text = out.read_text(encoding="utf-8-sig")
        assert "'=HYPERLINK" in text and "'@SUM" in text and "\n=" not in text
    rows = dict((r["question"], r) for _, r in read_faq_file(out))
    assert rows['=HYPERLINK("http://x")?']["answer"] == "@SUM(A1) 위험한 답"
    assert rows['=HYPERLINK("http://x")?']["alternatives"] == ["+1 질문", "-2 질문"]
    assert escape_cell("-5") == "'-5" and escape_cell("정상") == "정상"
