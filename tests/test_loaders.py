"""Loaders for text, Markdown, PDF, DOCX, HWPX and Q&A files: fixtures built in tmp_path,
plus the real samples under ../shared/data when they exist."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from onprem_bot.errors import LoaderError
from onprem_bot.ingest.loaders.base import Block, LoadedDocument
from onprem_bot.ingest.loaders.docx import heading_level, load_docx
from onprem_bot.ingest.loaders.hwpx import load_hwpx
from onprem_bot.ingest.loaders.pdf import load_pdf, page_lines, title_from_filename
from onprem_bot.ingest.loaders.qa import load_qa, looks_like_qa
from onprem_bot.ingest.loaders.text import load_markdown, load_text, parse_front_matter, read_text_file
from tests.fixtures.make_docs import (
    STATUTE_MD,
    make_blank_pdf,
    make_docx,
    make_encrypted_pdf,
    make_hwpx,
    make_pdf,
    make_qa_csv,
    make_qa_xlsx,
    write_text,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
KOREAN = "근로기준법 제60조(연차 유급휴가)\r\n① 사용자는 1년간 80퍼센트 이상 출근한 근로자에게 15일의 유급휴가를 주어야 한다.\r\n"


def shared(*parts: str) -> Path:
    """A path under the shared data folder; skips the test when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared sample not available: {path}")
    return path


def texts(doc: LoadedDocument, kind: str | None = None) -> list[str]:
    return [b.text for b in doc.blocks if kind is None or b.kind == kind]


# -- text ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949", "euc-kr"])
def test_read_text_file_decodes_korean_encodings(tmp_path: Path, encoding: str) -> None:
    path = write_text(tmp_path / "a.txt", KOREAN, encoding)
    assert read_text_file(path) == KOREAN.replace("\r\n", "\n")


def test_read_text_file_cp949_only_syllables_and_old_mac_newlines(tmp_path: Path) -> None:
    path = write_text(tmp_path / "a.txt", "똠방각하\r햏", "cp949")  # not in EUC-KR's 2,350 syllables
    assert read_text_file(path) == "똠방각하\n햏"


def test_read_text_file_unknown_encoding(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\x81\x00" * 50)
    with pytest.raises(LoaderError) as err:
        read_text_file(path)
    assert "unknown text encoding" in err.value.reason
    assert err.value.path == path


def test_real_encoding_samples_decode_identically() -> None:
    folder = shared("docs", "encoding_test")
    decoded = {e: read_text_file(folder / f"appendix-keywords-{e}.txt") for e in ("CP949", "EUCKR", "utf8")}
    assert decoded["CP949"] == decoded["EUCKR"] == decoded["utf8"]
    assert decoded["utf8"].startswith("Semantic Search\n\n정의: 의미론적 검색")


def test_load_text_paragraphs_and_title(tmp_path: Path) -> None:
    body = "  보고서 제목  \n\nⅠ. 개요\n1. 추진 배경\n  □ 현황\n\n\n\n가. 세부 내용\r\n"
    doc = load_text(write_text(tmp_path / "report.txt", body, "cp949"))
    assert doc.doc_type == "text"
    assert doc.title == "보고서 제목"
    assert doc.blocks == (Block("보고서 제목"), Block("Ⅰ. 개요\n1. 추진 배경\n□ 현황"), Block("가. 세부 내용"))


def test_load_text_title_fallbacks(tmp_path: Path) -> None:
    assert load_text(write_text(tmp_path / "빈문서.txt", " \n\n")).title == "빈문서"
    assert load_text(write_text(tmp_path / "long.txt", "가" * 150)).title == "가" * 100


# -- markdown -----------------------------------------------------------------------------


def test_front_matter_simple_scalars_only() -> None:
    meta, body = parse_front_matter(STATUTE_MD)
    assert meta == {
        "제목": "테스트법",
        "법령ID": "001872",
        "공포일자": "2026-03-17",
        "출처": "https://www.law.go.kr/법령/테스트법",
    }
    assert body.lstrip().startswith("# 테스트법")
    assert parse_front_matter("---\nno closing line\n") == ({}, "---\nno closing line\n")


def test_load_markdown_statute_structure(tmp_path: Path) -> None:
    doc = load_markdown(write_text(tmp_path / "법률.md", STATUTE_MD))
    assert doc.doc_type == "markdown"
    assert doc.title == "테스트법"
    assert doc.metadata["법령ID"] == "001872"
    headings = [(b.level, b.text) for b in doc.blocks if b.kind == "heading"]
    assert headings == [(1, "테스트법"), (2, "제1장 총칙"), (5, "제1조 (목적)"), (5, "제2조 (정의)"), (2, "부칙")]
    paragraphs = texts(doc, "paragraph")
    assert paragraphs[1] == (
        '① 이 법에서 사용하는 용어의 뜻은 다음과 같다. <개정 2018.3.20>\n1. "근로자"란 일하는 사람을 말한다.\n'
        '2. "사용자"란 사업주를 말한다.\n가. 사업주 본인'
    )
    assert paragraphs[2] == "② 제1항제1호에 따른 *표시는 굵게 쓴다."
    assert texts(doc, "table_row") == ["구분 | 금액", "기본급 | 100"]
    assert "code line 1\n  code line 2" in paragraphs
    assert paragraphs[-2:] == ["부칙 <제8372호,2007.4.11>", "제1조 (시행일) 이 법은 공포한 날부터 시행한다."]
    assert all(b.text == b.text.strip() and b.text for b in doc.blocks)
    assert "**" not in doc.text and "\\" not in doc.text


def test_load_markdown_title_fallbacks(tmp_path: Path) -> None:
    assert load_markdown(write_text(tmp_path / "a.md", "intro\n\n# 큰 제목\n## 작은 제목\n")).title == "큰 제목"
    assert load_markdown(write_text(tmp_path / "notes.md", "## 둘째 수준\n본문\n")).title == "둘째 수준"
    assert (
        load_markdown(write_text(tmp_path / "plain.md", "긴급복지 지원제도\n\n본문입니다.\n")).title
        == "긴급복지 지원제도"
    )
    doc = load_markdown(write_text(tmp_path / "b.md", "---\ntitle: 'It''s here'\n---\n# 본문 제목\n"))
    assert doc.title == "It's here"


def test_real_statute_markdown() -> None:
    doc = load_markdown(shared("laws", "근로기준법", "법률(법률).md"))
    assert doc.title == "근로기준법"
    assert doc.metadata["법령ID"] == "001872" and "소관부처" not in doc.metadata
    assert Block("제1조 (목적)", kind="heading", level=5) in doc.blocks
    assert Block("제1장 총칙", kind="heading", level=2) in doc.blocks
    assert any(t.startswith("① 이 법에서 사용하는 용어의 뜻은") and '\n1. "근로자"란' in t for t in texts(doc))
    supplement = [b.text for b in doc.blocks].index("부칙")
    after = doc.blocks[supplement + 1 : supplement + 3]
    assert [b.kind for b in after] == ["paragraph", "paragraph"]
    assert after[0].text == "부칙 <제8372호,2007.4.11>" and after[1].text.startswith("제1조 (시행일)")
    assert "**" not in doc.text and "\\." not in doc.text


# -- pdf ----------------------------------------------------------------------------------


def test_load_pdf_latin_pages_and_page_numbers(tmp_path: Path) -> None:
    pages = [["Article 1 (Purpose)   this   rule", "- 1 -"], ["1", "Article 2 (Terms)", "", "2 / 2"]]
    doc = load_pdf(make_pdf(tmp_path / "rule.pdf", pages, title="Work Rules"))
    assert doc.doc_type == "pdf" and doc.title == "Work Rules"
    assert [(b.page, b.text, b.kind) for b in doc.blocks] == [
        (1, "Article 1 (Purpose) this rule", "paragraph"),
        (2, "Article 2 (Terms)", "paragraph"),
    ]


def test_load_pdf_korean_text_layer_and_file_name_title(tmp_path: Path) -> None:
    pages = [["제1조(목적) 이 규정은 급여에 관한 사항을 정한다.", "① 급여는 매월 20일에 지급한다."], ["제2조(정의)"]]
    path = make_pdf(tmp_path / "2_06_급여규정(240221).pdf", pages, title="Microsoft Word - 급여규정.docx", cjk=True)
    doc = load_pdf(path)
    assert doc.title == "급여규정"
    assert texts(doc) == [pages[0][0], pages[0][1], pages[1][0]]
    assert [b.page for b in doc.blocks] == [1, 1, 2]


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("2_06_급여규정(240221).pdf", "급여규정"),
        ("1_01_한국인터넷진흥원 정관(240715).pdf", "한국인터넷진흥원 정관"),
        ("2024_보고서.pdf", "2024_보고서"),
        ("보고서.pdf", "보고서"),
    ],
)
def test_title_from_filename(name: str, title: str) -> None:
    assert title_from_filename(Path(name)) == title


def test_page_lines_keeps_numbers_inside_the_page() -> None:
    assert page_lines("3\n  NO.   출장지 \n1\n2\n\n 합계 \n- 3 -\n") == ["NO. 출장지", "1", "2", "합계"]


def test_load_pdf_encryption(tmp_path: Path) -> None:
    plain = make_pdf(tmp_path / "plain.pdf", [["secret text"]])
    locked = make_encrypted_pdf(plain, tmp_path / "locked.pdf", user_password="pw")
    with pytest.raises(LoaderError) as err:
        load_pdf(locked)
    assert err.value.reason == "암호가 걸린 PDF입니다 (encrypted PDF)"
    owner_only = load_pdf(make_encrypted_pdf(plain, tmp_path / "owner_only.pdf", user_password=""))
    assert texts(owner_only) == ["secret text"]


def test_load_pdf_without_text_layer(tmp_path: Path) -> None:
    with pytest.raises(LoaderError) as err:
        load_pdf(make_blank_pdf(tmp_path / "scan.pdf"))
    assert "no text layer" in err.value.reason and "스캔" in err.value.reason


def test_load_pdf_garbage(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    with pytest.raises(LoaderError, match="unreadable PDF"):
        load_pdf(path)


@pytest.mark.parametrize("name", ["2_06_급여규정(240221).pdf", "4_50_휴직자 복무관리 지침(201229).pdf"])
def test_real_regulation_pdfs(name: str) -> None:
    doc = load_pdf(shared("docs", "pdf_kisa", name))
    assert doc.title == title_from_filename(Path(name))
    pages = [b.page or 0 for b in doc.blocks]
    assert pages == sorted(pages) and pages[0] == 1 and pages[-1] == int(doc.metadata["pages"])
    assert any(re.match(r"제1조\s?\(목적\)", t) for t in texts(doc))
    assert any(t.startswith("①") or " ① " in t for t in texts(doc))
    assert not any(re.fullmatch(r"- ?\d+ ?-", t) for t in texts(doc))
    assert all("  " not in t for t in texts(doc))


def test_real_regulation_pdfs_all_load() -> None:
    for path in sorted(shared("docs", "pdf_kisa").glob("*.pdf")):
        doc = load_pdf(path)
        assert len(doc.blocks) > 50, path.name
        assert re.search(r"제\d+조", doc.text), path.name


# -- docx ---------------------------------------------------------------------------------


def test_load_docx_order_headings_and_tables(tmp_path: Path) -> None:
    doc = load_docx(make_docx(tmp_path / "규정.docx"))
    assert doc.doc_type == "docx" and doc.title == "복무 규정"
    assert [(b.kind, b.level, b.text) for b in doc.blocks] == [
        ("heading", 1, "복무 규정"),
        ("paragraph", 0, "제1조(목적) 이 규정은 복무에 관한 사항을 정한다."),
        ("heading", 2, "제2장 근무"),
        ("paragraph", 0, "첫째 줄\n둘째 줄"),
        ("table_row", 0, "구분: 기본급 | 금액: 100 | 비고: 월"),  # rows carry their headers
        ("table_row", 0, "구분: 합계 | 금액: 100"),  # the merged 금액/비고 cell counted once
        ("paragraph", 0, "표 다음 문단"),
    ]


def test_load_docx_core_title_wins(tmp_path: Path) -> None:
    assert load_docx(make_docx(tmp_path / "a.docx", core_title="문서 속성 제목")).title == "문서 속성 제목"


@pytest.mark.parametrize(
    ("style", "level"),
    [("Heading 1", 1), ("heading 3", 3), ("제목 2", 2), ("Title", 1), ("Normal", 0), (None, 0), ("List Paragraph", 0)],
)
def test_heading_level(style: str | None, level: int) -> None:
    assert heading_level(style) == level


# -- hwpx ---------------------------------------------------------------------------------


def test_load_hwpx_blocks(tmp_path: Path) -> None:
    doc = load_hwpx(make_hwpx(tmp_path / "doc.hwpx"))
    assert doc.doc_type == "hwpx" and doc.title == "근무 규정"
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("paragraph", "근무 규정"),
        ("paragraph", "제1조(목적) 첫 줄\n둘째 줄"),
        ("paragraph", "앞 뒤 이어짐"),
        ("paragraph", "표 앞 글"),
        ("table_row", "표앞글 | 이름: 개똥이 | 국어: 89 | 영어: 65"),  # caption and headers in each row
        ("paragraph", "글상자 문단"),
        ("paragraph", "둘째 구역 문단"),
    ]
    assert doc.metadata == {"hpf_title": "메타 제목"}


def test_load_hwpx_section_order(tmp_path: Path) -> None:
    no_manifest = load_hwpx(make_hwpx(tmp_path / "a.hwpx", manifest=False))
    assert texts(no_manifest)[-1] == "둘째 구역 문단"
    reverse = load_hwpx(make_hwpx(tmp_path / "b.hwpx", reverse_spine=True))
    assert texts(reverse)[0] == "둘째 구역 문단"


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK-zip-without-sections", b"bad xml"])
def test_load_hwpx_bad_input(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.hwpx"
    if content == b"not a zip at all":
        path.write_bytes(content)
    else:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("mimetype", "application/hwp+zip")
            if content == b"bad xml":
                zf.writestr("Contents/section0.xml", "<hs:sec><unclosed>")
    with pytest.raises(LoaderError) as err:
        load_hwpx(path)
    assert re.search(r"HWPX", err.value.reason)


def test_load_hwpx_encrypted(tmp_path: Path) -> None:
    with pytest.raises(LoaderError) as err:
        load_hwpx(make_hwpx(tmp_path / "locked.hwpx", encrypted=True))
    assert err.value.reason == "암호가 걸린 HWPX입니다 (encrypted HWPX)"


def test_real_hwpx_samples_lose_no_text() -> None:
    folder = shared("docs", "hwpx")
    samples = sorted(folder.glob("*/*.hwpx"))
    assert len(samples) >= 6
    extract_hwp = pytest.importorskip("extract_hwp")
    for path in samples:
        doc = load_hwpx(path)
        assert doc.blocks and doc.title, path
        reference = extract_hwp.extract_text_from_hwpx(str(path))
        reference = reference[0] if isinstance(reference, tuple) else reference
        ours = re.sub(r"[\s|]", "", doc.text)
        # table rows repeat their caption and headers, so every word is found, not the same string
        assert [w for w in re.findall(r"\S+", reference) if w not in ours] == [], path


def test_real_hwpx_table_and_no_manifest() -> None:
    table = load_hwpx(shared("docs", "hwpx", "textextractor", "Table.hwpx"))
    assert any("이름: 개똥이 | 국어: 89 | 영어: 65 | 수학: 78" in row for row in texts(table, "table_row"))
    assert table.title == "C반 기말고사"
    no_manifest = load_hwpx(shared("docs", "hwpx", "20240626", "no_manifest.hwpx"))
    assert no_manifest.title == "입 법 예 고" and len(no_manifest.blocks) > 20


# -- qa -----------------------------------------------------------------------------------

EXPECTED_PAIRS = (
    ("연차휴가는 며칠인가요?", "1년간 80% 이상 출근하면 15일입니다."),
    ("퇴직금은 언제 받나요?", "퇴직 후 14일 이내에\n지급합니다."),
)


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8-sig", ","), ("cp949", ","), ("euc-kr", "\t")])
def test_load_qa_csv(tmp_path: Path, encoding: str, delimiter: str) -> None:
    path = make_qa_csv(tmp_path / "faq.csv", encoding, delimiter)
    assert looks_like_qa(path)
    doc = load_qa(path)
    assert doc.doc_type == "qa" and doc.title == "faq" and not doc.blocks
    assert doc.qa_pairs == EXPECTED_PAIRS  # 질문 wins over 제목; incomplete rows skipped
    assert doc.metadata["question_column"] == "질문"


def test_load_qa_xlsx(tmp_path: Path) -> None:
    path = make_qa_xlsx(tmp_path / "faq.xlsx")
    assert looks_like_qa(path)
    assert load_qa(path).qa_pairs == (("What is 연차?", "15일"), ("숫자 답", "42"))


def test_load_qa_without_qa_columns(tmp_path: Path) -> None:
    path = make_qa_csv(tmp_path / "data.csv", rows=[["cate2", "paragraph"], ["a", "b"]])
    assert not looks_like_qa(path)
    with pytest.raises(LoaderError) as err:
        load_qa(path)
    assert "'cate2', 'paragraph'" in err.value.reason and "질문" in err.value.reason and "answer" in err.value.reason


@pytest.mark.parametrize(
    "maker",
    [
        lambda p: make_qa_csv(p.with_suffix(".csv"), rows=[["질문", "답변"], ["q", ""]]),
        lambda p: make_qa_xlsx(p.with_suffix(".xlsx"), rows=[["Q", "A"]]),
    ],
)
def test_load_qa_without_complete_rows(tmp_path: Path, maker: Callable[[Path], Path]) -> None:
    with pytest.raises(LoaderError, match="no row has both"):
        load_qa(maker(tmp_path / "empty"))


def test_looks_like_qa_on_unreadable_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    assert not looks_like_qa(bad)
    assert not looks_like_qa(tmp_path / "missing.csv")
    with pytest.raises(LoaderError, match="unreadable Q&A"):
        load_qa(bad)


def test_real_qa_samples() -> None:
    easy = load_qa(shared("faq", "easylaw_qa", "QA.csv"))
    assert easy.qa_pairs[0][0] == "노인복지의 취지 알려줘"
    if (SHARED / "faq" / "easylaw_qa" / "QA.xlsx").exists():
        assert load_qa(SHARED / "faq" / "easylaw_qa" / "QA.xlsx").qa_pairs == easy.qa_pairs
    for path in sorted(shared("faq", "korean_mcfaq").glob("*.csv")):
        doc = load_qa(path)
        assert doc.metadata["question_column"] == "질문" and len(doc.qa_pairs) > 100
        assert all(q.strip() == q and a.strip() == a for q, a in doc.qa_pairs)
    housing = shared("docs", "easylaw_txt", "주택임대차.csv")
    assert not looks_like_qa(housing)
    with pytest.raises(LoaderError):
        load_qa(housing)


# -- every loader wraps library errors ----------------------------------------------------


@pytest.mark.parametrize(
    ("loader", "suffix"),
    [(load_pdf, ".pdf"), (load_docx, ".docx"), (load_hwpx, ".hwpx"), (load_qa, ".xlsx"), (load_qa, ".csv")],
)
def test_garbage_raises_loader_error(tmp_path: Path, loader: Callable[[Path], LoadedDocument], suffix: str) -> None:
    path = tmp_path / f"garbage{suffix}"
    path.write_bytes(b"\x81\x00" * 64)
    with pytest.raises(LoaderError) as err:
        loader(path)
    assert err.value.path == path and "(" in err.value.reason
