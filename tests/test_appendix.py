"""Appendices (별표/별지/서식) as labelled sections; 부칙 ends where an appendix begins (issue 16, item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from onprem_bot.ingest.appendix import parse_appendix_heading, title_line
from onprem_bot.ingest.chunking import chunk_document
from onprem_bot.ingest.loaders import load_document
from onprem_bot.ingest.loaders.base import Block, LoadedDocument, normalized_document

FIXTURES = Path(__file__).parent / "fixtures" / "appendix"


@pytest.mark.parametrize(
    ("line", "label", "title"),
    [
        ("[별표 제1호] <개정 2010.3.19., 2024. 2. 14.>", "별표 1", ""),
        ("[별표 1]<개정 2018.4.25.>", "별표 1", ""),
        ("[별표제2호] <신설 2014.9.5.>", "별표 2", ""),
        ("<별표 제5호>", "별표 5", ""),
        ("별표 2 국내 여비 지급표", "별표 2", "국내 여비 지급표"),
        ("[별표 3]보직자 청렴행동수칙(제43조제1항 관련)", "별표 3", "보직자 청렴행동수칙(제43조제1항 관련)"),
        ("[별표 제1호] 근무시간 변경 불가 직무 <개정 2021.12.14.>", "별표 1", "근무시간 변경 불가 직무"),
        ("[별지 제3호 서식]", "별지 3", ""),
        ("[별지제13호서식]", "별지 13", ""),
        ("[별지 제10호의2 서식] <신설 2023.12.28.>", "별지 10의2", ""),
        ("[별표] <개정 2016. 7. 21>", "별표", ""),
    ],
)
def test_headings_normalise_to_one_label(line: str, label: str, title: str) -> None:
    heading = parse_appendix_heading(line)
    assert heading is not None and (heading.label, heading.title) == (label, title)


@pytest.mark.parametrize(
    "line",
    [
        "[별지 제2호]를 작성하여 출장승인권자의 승인을 거쳐 시내출장을 행한다.",
        "[별표 제6호] 징계양정기준, [별표 제7호] 음주운전 징계기준, [별표 제9호] 채용비위",
        "별지 제11호 서식에 따른 위임장을 제출하셔야 합니다.",
        "별표 2에 따른 금액",
        "서식]에 기록하여 관리하여야 한다.",
    ],
)
def test_references_are_not_headings(line: str) -> None:
    assert parse_appendix_heading(line) is None


def test_title_line_joins_letter_spacing_and_skips_notes() -> None:
    assert title_line("국 내 여 비 지 급 표") == "국내여비지급표"
    assert title_line("(단위 : 원)") is None and title_line("※ 비고") is None


def _regulation(*lines: str) -> LoadedDocument:
    return normalized_document(LoadedDocument(Path("규정.txt"), "여비규정", "txt", tuple(Block(t) for t in lines)))


def test_supplement_ends_where_an_appendix_begins() -> None:
    doc = _regulation(
        "제1조(목적) 이 규정은 여비에 관한 사항을 정한다.",
        "제2조(지급) 여비는 별표 1에 따라 지급한다.",
        "부 칙 <2024. 1. 1.>",
        "제1조(시행일) 이 규정은 공포한 날부터 시행한다.",
        "[별표 제1호] <개정 2023. 3. 1.,",
        "2024. 1. 1.>",
        "국 내 여 비 지 급 표",
        "구분 직명: 임원 | 숙박비: 100,000원",
        "구분 직명: 직원 | 숙박비: 70,000원",
        "[별지 제1호 서식]",
        "출장 신청서",
        "성명: ____ 소속: ____",
    )
    name, chunks = chunk_document(doc, "d")
    assert name == "statute"
    by_label = {c.article: c for c in chunks}
    assert set(by_label) == {"제1조", "제2조", "부칙 <2024. 1. 1.> 제1조", "별표 1", "별지 1"}
    assert "숙박비" not in by_label["부칙 <2024. 1. 1.> 제1조"].text
    table = by_label["별표 1"]
    assert table.kind == "appendix" and table.article_title == "국내여비지급표"
    assert table.text.startswith("[별표 1] 국내여비지급표\n") and "직원 | 숙박비: 70,000원" in table.text
    assert "2024. 1. 1.>" not in table.text  # the amendment tag's second line is history, not body
    assert by_label["별지 1"].article_title == "출장 신청서"


def test_regulation_of_appendices_only_is_chunked_by_appendix() -> None:
    doc = _regulation("[별표 1] 경조휴가 기준", "결혼 | 본인 | 5일", "[별표 2] 포상 기준", "1등급 | 100만원")
    name, chunks = chunk_document(doc, "d")
    assert name == "statute"
    assert [(c.article, c.article_title) for c in chunks] == [("별표 1", "경조휴가 기준"), ("별표 2", "포상 기준")]


def test_pdf_appendix_tables_become_rows_under_their_label() -> None:
    """출장규칙 pp. 14–17: the last 부칙, [별표 1] 국내 여비 지급표 (two pages) and [별표 2]."""
    doc = normalized_document(load_document(FIXTURES / "출장규칙_p14-17.pdf"))
    rows = [b.text for b in doc.blocks if b.kind == "table_row"]
    staff = next(r for r in rows if "구분 직명: 1급이하" in r)
    assert (
        staff.startswith("[별표 1] 국내여비지급표 | ")
        and "숙박비: 서울: 실비 100,000이내 광역시: 실비 80,000이내" in staff
    )
    # 항공임 is one cell merged over the four 지역 rows: every row repeats it
    assert any(
        r.startswith("[별표 2] 국외여비정액표 | 구분: 기관장 | 항공임: B-Class (Business) | 지역: 나 |") for r in rows
    )
    _, chunks = chunk_document(doc, "d")
    supplements = [c for c in chunks if c.kind == "supplementary"]
    assert [c.article for c in supplements][-1] == "부칙 <2024. 2. 14.>"
    assert not any("여비" in c.text for c in supplements)
    appendix = [c for c in chunks if c.article == "별표 1"]
    assert appendix and all(c.article_title == "국내여비지급표" for c in appendix)
    assert (appendix[0].page, appendix[-1].page_end) == (2, 3)
    assert any("1급이하" in c.text and "80,000" in c.text for c in appendix)


def test_pdf_cell_listing_entries_line_by_line_gives_one_row_each() -> None:
    """취업규칙 [별표 1] 경조휴가: 대상 and 일수 list four relations and four day counts in one cell each."""
    doc = normalized_document(load_document(FIXTURES / "취업규칙_p19.pdf"))
    rows = [b.text for b in doc.blocks if b.kind == "table_row"]
    assert "[별표 1] 경조휴가기준 | 구분: 사망 | 대상: 본인 및 배우자의 조부모․외조부모 | 일수: 3일" in rows
    assert "[별표 1] 경조휴가기준 | 구분: 결혼 | 대상: 자녀 | 일수: 1일" in rows


def test_appendix_citation_names_label_and_title() -> None:
    doc = _regulation("제1조(목적) 이 규정은 여비를 정한다.", "[별표 1] 경조휴가 기준", "결혼 | 본인 | 5일")
    chunk = next(c for c in chunk_document(doc, "d")[1] if c.kind == "appendix")
    assert chunk.location == "별표 1 (경조휴가 기준)"


def test_citation_metric_accepts_labelled_supplement_and_covering_page() -> None:
    from onprem_bot.eval.metrics import cites_gold

    supplement = {"doc_title": "출장규칙", "article": "부칙 <2024. 2. 14.>", "location": "부칙 <2024. 2. 14.> p.14"}
    table = {"doc_title": "출장규칙", "article": "별표 1", "location": "별표 1 (국내여비지급표) p.15-16"}
    assert cites_gold([supplement], {"doc_title": "출장규칙", "article": "부칙"})
    assert cites_gold([table], {"doc_title": "출장규칙", "article": "별표 1"})
    assert cites_gold([table], {"doc_title": "출장규칙", "article": "제8조", "page": "16"})
    assert not cites_gold([table], {"doc_title": "출장규칙", "article": "제8조", "page": "17"})
    assert not cites_gold([supplement], {"doc_title": "출장규칙", "article": "제1조"})


def test_later_chunks_of_a_long_appendix_keep_their_own_pages() -> None:
    from onprem_bot.ingest.appendix import AppendixHeading
    from onprem_bot.ingest.chunking.appendix import AppendixSection, section_drafts
    from onprem_bot.ingest.chunking.base import Line

    rows = [
        Line(f"[별표 2] 수당표 | 구분: {n}급 | 금액: {n},000원 | 비고: 매월 지급", 1 + n // 10, 0, 0, table_row=True)
        for n in range(30)
    ]
    section = AppendixSection(AppendixHeading("별표 2", "수당표"), Line("[별표 2] 수당표", 1, 0, 0), rows)
    drafts = section_drafts(section, max_tokens=120)
    assert len(drafts) > 2
    first_pages = [min(ln.page for ln in d.lines if ln.page) for d in drafts]
    assert first_pages[0] == 1 and first_pages[-1] == 3
