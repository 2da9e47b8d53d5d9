"""`onprem-bot ingest` end to end: real files, a real SQLite database, the real CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfWriter

from onprem_bot.app import build_app
from onprem_bot.cli import main
from onprem_bot.config import load_settings
from tests.statute_sample import STATUTE_MD

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, home: Path) -> tuple[int, str, str]:
    """The real console script in a subprocess: exit code, stdout, stderr."""
    proc = subprocess.run(
        [sys.executable, "-c", "from onprem_bot.cli import main; main()", "--home", str(home), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    return proc.returncode, proc.stdout, proc.stderr


def ingest_json(capsys: pytest.CaptureFixture[str], home: Path, *paths: Path | str) -> dict:
    with pytest.raises(SystemExit) as exit_info:
        main(["--home", str(home), "ingest", "--json", *map(str, paths)])
        raise SystemExit(0)
    assert exit_info.value.code in (0, None), capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "시험근로법.md").write_text(STATUTE_MD, encoding="utf-8")
    (folder / "안내.txt").write_bytes("연차휴가 안내\n\n연차는 15일입니다.".encode("cp949"))
    (folder / "qa.csv").write_text("질문,답변\n연차는 며칠?,15일\n야근 수당은?,50% 가산\n", encoding="utf-8")
    (folder / "LICENSE").write_text("not a document", encoding="utf-8")
    return folder


def test_ingest_folder_stores_structured_chunks(capsys: pytest.CaptureFixture[str], tmp_path: Path, docs: Path) -> None:
    home = tmp_path / "home"
    out = ingest_json(capsys, home, docs)
    assert out["documents"] == 3 and out["new"] == 3 and out["skipped"] == []
    assert out["ignored"] == [str(docs / "LICENSE")]
    assert set(out) >= {"documents", "chunks", "seconds"}
    app = build_app(load_settings(env={}, home=home))
    by_title = {d.title: d for d in app.documents.list_all()}
    assert set(by_title) == {"시험근로법", "연차휴가 안내", "qa"}
    assert (by_title["시험근로법"].chunker, by_title["안내.txt" if False else "연차휴가 안내"].chunker) == (
        "statute",
        "report",
    )
    law = app.documents.chunks(by_title["시험근로법"].id)
    assert [c.article for c in law if c.kind == "article"] == ["제1조", "제2조", "제60조", "제6조의3"]
    assert out["chunks"] == sum(d.chunk_count for d in by_title.values())


def test_reingest_unchanged_changes_nothing_and_changed_replaces(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, docs: Path
) -> None:
    home = tmp_path / "home"
    ingest_json(capsys, home, docs)
    app = build_app(load_settings(env={}, home=home))
    before = {d.id: (d.ingested_at, d.content_hash) for d in app.documents.list_all()}
    ids_before = [c.id for c in app.documents.chunks()]
    again = ingest_json(capsys, home, docs)
    assert (again["unchanged"], again["new"], again["updated"]) == (3, 0, 0)
    assert {d.id: (d.ingested_at, d.content_hash) for d in app.documents.list_all()} == before
    assert [c.id for c in app.documents.chunks()] == ids_before

    law = docs / "시험근로법.md"
    law.write_text(STATUTE_MD.replace("15일의 유급휴가", "20일의 유급휴가"), encoding="utf-8")
    changed = ingest_json(capsys, home, docs)
    assert (changed["unchanged"], changed["updated"]) == (2, 1)
    texts = [c.text for c in app.documents.chunks() if c.article == "제60조"]
    assert len(texts) == 1 and "20일의 유급휴가" in texts[0]
    untouched = set(ids_before) & {c.id for c in app.documents.chunks()}
    assert len(untouched) == len(ids_before) - 1  # only 제60조 got a new id


def test_bad_inputs_give_one_line_and_non_zero_exit(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "notes.xyz").write_text("?", encoding="utf-8")
    scanned = PdfWriter()
    scanned.add_blank_page(595, 842)
    scanned.write(bad / "scan.pdf")
    locked = PdfWriter()
    locked.add_blank_page(595, 842)
    locked.encrypt("secret")
    locked.write(bad / "locked.pdf")
    (tmp_path / "nothing").mkdir()
    cases = {
        bad / "empty.txt": "empty file",
        bad / "notes.xyz": "unsupported file type '.xyz'",
        bad / "scan.pdf": "no text layer",
        bad / "locked.pdf": "encrypted PDF",
        tmp_path / "nothing": "no documents found",
        tmp_path / "missing.md": "file not found",
    }
    for path, reason in cases.items():
        code, out, err = run_cli("ingest", str(path), home=home)
        assert code != 0, path
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("오류:") and reason in lines[0], err
        assert "Traceback" not in err and out == ""
        if path.suffix:
            assert str(path) in lines[0]


def test_one_bad_file_among_many_is_skipped_with_a_warning(tmp_path: Path, docs: Path) -> None:
    (docs / "empty.md").write_bytes(b"")
    code, out, err = run_cli("ingest", str(docs), "--json", home=tmp_path / "home")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["documents"] == 3
    assert summary["skipped"] == [{"path": str(docs / "empty.md"), "error": "빈 파일입니다 (empty file, 0 bytes)"}]
    assert f"경고: 건너뜀 (skipped) {docs / 'empty.md'}" in err and "Traceback" not in err
    code, _, err = run_cli("ingest", str(docs), "--strict", home=tmp_path / "home")
    assert code != 0 and "--strict" in err.strip().splitlines()[-1]


def test_progress_bar_without_json(tmp_path: Path, docs: Path) -> None:
    code, out, err = run_cli("ingest", str(docs), home=tmp_path / "home")
    assert code == 0
    assert "수집 중" in err and "100%" in err
    assert re.match(r"문서 3개 \(새 문서 3, 변경 0, 변경 없음 0\), 청크 \d+개", out)


# -- the real data in ../shared/data ----------------------------------------------------


def living_articles(markdown: str) -> int:
    """Count `##### 제N조` headings before 부칙 whose body is not just 삭제 (independent of the chunker)."""
    body = markdown.split("\n## 부칙")[0]
    count = 0
    for part in re.split(r"^##### ", body, flags=re.M)[1:]:
        _, _, rest = part.partition("\n")
        rest = re.sub(r"^#.*$", "", rest, flags=re.M).strip()
        count += not re.fullmatch(r"삭제\s*(<[^>]*>)?", rest)
    return count


@pytest.mark.slow
def test_shared_laws_and_docs_ingest_completely(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shared_data: Path
) -> None:
    home = tmp_path / "home"
    out = ingest_json(capsys, home, shared_data / "laws", shared_data / "docs")
    assert out["skipped"] == [], out["skipped"]
    app = build_app(load_settings(env={}, home=home))
    docs = {Path(d.path): d for d in app.documents.list_all()}
    expected = [
        p
        for folder in ("laws", "docs")
        for p in (shared_data / folder).rglob("*")
        if p.suffix.lower() in {".md", ".txt", ".pdf", ".hwp", ".hwpx", ".csv", ".docx", ".xlsx"}
    ]
    assert out["documents"] == len(docs) == len(expected) >= 40

    for law in ["민법", "개인정보보호법", "근로기준법", "도로교통법", "주택임대차보호법", "최저임금법"]:
        for md in (shared_data / "laws" / law).glob("*.md"):
            doc = docs[md.resolve()]
            chunks = app.documents.chunks(doc.id)
            articles = {c.article for c in chunks if c.kind in ("article", "article_part")}
            assert len(articles) == living_articles(md.read_text(encoding="utf-8")), md
            assert all(c.doc_title == doc.title for c in chunks)

    privacy = docs[(shared_data / "laws/개인정보보호법/법률.md").resolve()]
    assert privacy.title == "개인정보 보호법"
    art2 = [c for c in app.documents.chunks(privacy.id) if c.article == "제2조"]
    assert len(art2) > 1 and all(c.kind == "article_part" and c.text.startswith("제2조(정의)\n") for c in art2)
    assert all(c.token_count <= 450 for c in app.documents.chunks())

    pdf_chunks = [c for d in docs.values() if d.doc_type == "pdf" for c in app.documents.chunks(d.id)]
    assert pdf_chunks and all(c.page is not None and c.page >= 1 for c in pdf_chunks)
    salary = next(d for d in docs.values() if d.title == "급여규정")
    pay_day = next(c for c in app.documents.chunks(salary.id) if c.article == "제6조")
    assert pay_day.article_title == "지급일" and "매월 20일" in pay_day.text and pay_day.page == 2

    encodings = shared_data / "docs/encoding_test"
    texts = {
        name: [c.text for c in app.documents.chunks(docs[(encodings / f"appendix-keywords-{name}.txt").resolve()].id)]
        for name in ("utf8", "CP949", "EUCKR")
    }
    assert texts["utf8"] and texts["utf8"] == texts["CP949"] == texts["EUCKR"]
