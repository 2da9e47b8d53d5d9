"""Word automatic list numbering rendered into paragraph text (../shared/cases/word-list-numbering;
fixture copied into tests/fixtures/word_numbering)."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml

from onprem_bot.ingest.chunking import chunk_document
from onprem_bot.ingest.loaders import load_document
from onprem_bot.ingest.loaders.docx import load_docx
from onprem_bot.ingest.loaders.docx_numbering import format_number, render_level_text

CASE = Path(__file__).parent / "fixtures" / "word_numbering" / "재택근무운영규칙.docx"
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


@pytest.mark.parametrize(
    ("fmt", "n", "text"),
    [
        ("decimal", 12, "12"),
        ("decimalZero", 3, "03"),
        ("decimalEnclosedCircle", 1, "①"),
        ("decimalEnclosedCircle", 20, "⑳"),
        ("decimalEnclosedCircle", 21, "21"),
        ("ganada", 1, "가"),
        ("ganada", 14, "하"),
        ("ganada", 15, "가"),
        ("chosung", 3, "ㄷ"),
        ("lowerLetter", 2, "b"),
        ("lowerLetter", 27, "aa"),
        ("upperLetter", 3, "C"),
        ("lowerRoman", 4, "iv"),
        ("upperRoman", 1994, "MCMXCIV"),
        ("koreanDigital", 12, "일이"),
        ("bullet", 1, ""),
        ("somethingNew", 5, "5"),
    ],
)
def test_format_number(fmt: str, n: int, text: str) -> None:
    assert format_number(n, fmt) == text


def test_render_level_text() -> None:
    assert render_level_text("제%1조", [3], ["decimal"]) == "제3조"
    assert render_level_text("%1.%2.", [2, 3], ["decimal", "decimal"]) == "2.3."
    assert render_level_text("%2)", [1, 2], ["decimal", "ganada"]) == "나)"
    assert render_level_text("%1.%2", [1, 2], ["upperRoman", "lowerLetter"], legal=True) == "1.2"


def test_case_articles_and_paragraph_numbers_are_rendered() -> None:
    doc = load_docx(CASE)
    texts = [b.text for b in doc.blocks]
    assert texts == [
        "재택근무 운영규칙",
        "제1조(목적) 이 규칙은 재택근무의 운영 기준을 정함을 목적으로 한다.",
        "제2조(신청) 재택근무를 하려는 직원은 전날까지 신청하여야 한다.",
        "① 신청은 전자결재로 한다.",
        "② 부서장은 신청을 받은 날부터 3일 이내에 승인 여부를 알려야 한다.",
        "제3조(횟수) 재택근무는 주 2회를 넘을 수 없다.",
    ]


def test_case_is_chunked_by_article() -> None:
    name, chunks = chunk_document(load_document(CASE), "doc1")
    assert name == "statute"
    assert [c.article for c in chunks] == ["제1조", "제2조", "제3조"]
    second = next(c for c in chunks if c.article == "제2조")
    assert "① 신청은 전자결재로 한다." in second.text and "② 부서장은" in second.text


def _lvl(ilvl: int, fmt: str, text: str, start: int = 1, suff: str = "") -> str:
    suffix = f'<w:suff w:val="{suff}"/>' if suff else ""
    return (
        f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>{suffix}'
        f'<w:lvlText w:val="{text}"/></w:lvl>'
    )


def _numbered_docx(path: Path) -> Path:
    """Lists 501 (%1. over %1.%2.), 502 restarting 501's definition at 1, 503 가. from 3, bullets;
    plus a style that carries its own numbering."""
    document = docx.Document()
    numbering = document.part.numbering_part.element
    for child in list(numbering):
        numbering.remove(child)
    numbering.append(
        parse_xml(
            f'<w:abstractNum {W} w:abstractNumId="50">{_lvl(0, "decimal", "%1.")}{_lvl(1, "decimal", "%1.%2.")}</w:abstractNum>'
        )
    )
    numbering.append(
        parse_xml(f'<w:abstractNum {W} w:abstractNumId="51">{_lvl(0, "ganada", "%1.", start=3)}</w:abstractNum>')
    )
    numbering.append(parse_xml(f'<w:abstractNum {W} w:abstractNumId="52">{_lvl(0, "bullet", "•")}</w:abstractNum>'))
    numbering.append(
        parse_xml(
            f'<w:abstractNum {W} w:abstractNumId="53">{_lvl(0, "upperRoman", "%1", suff="nothing")}</w:abstractNum>'
        )
    )
    numbering.append(parse_xml(f'<w:num {W} w:numId="501"><w:abstractNumId w:val="50"/></w:num>'))
    numbering.append(
        parse_xml(
            f'<w:num {W} w:numId="502"><w:abstractNumId w:val="50"/>'
            '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>'
        )
    )
    numbering.append(parse_xml(f'<w:num {W} w:numId="503"><w:abstractNumId w:val="51"/></w:num>'))
    numbering.append(parse_xml(f'<w:num {W} w:numId="504"><w:abstractNumId w:val="52"/></w:num>'))
    numbering.append(parse_xml(f'<w:num {W} w:numId="505"><w:abstractNumId w:val="53"/></w:num>'))
    style = document.styles.add_style("번호 문단", 1)
    style.element.get_or_add_pPr().append(parse_xml(f'<w:numPr {W}><w:numId w:val="505"/></w:numPr>'))

    def para(text: str, num_id: int | None = None, ilvl: int = 0, style_name: str | None = None) -> None:
        p = document.add_paragraph(text, style=style_name)
        if num_id is not None:
            p._p.get_or_add_pPr().append(
                parse_xml(f'<w:numPr {W}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>')
            )

    para("하나", 501)
    para("하나의 하나", 501, 1)
    para("하나의 둘", 501, 1)
    para("둘", 501)
    para("둘의 하나", 501, 1)  # the deeper level restarts under a new parent
    para("번호 없는 문단")
    para("다시 하나", 502)  # a new list on the same definition, restarted
    para("다시 둘", 501)  # continues the shared count
    para("셋째 항목", 503)
    para("넷째 항목", 503)
    para("글머리표", 504)
    para("스타일 번호", style_name="번호 문단")
    para("스타일 번호 둘", style_name="번호 문단")
    para("번호 지움", 0)
    document.save(str(path))
    return path


def test_restart_two_levels_styles_and_bullets(tmp_path: Path) -> None:
    texts = [b.text for b in load_docx(_numbered_docx(tmp_path / "번호.docx")).blocks]
    assert texts == [
        "1. 하나",
        "1.1. 하나의 하나",
        "1.2. 하나의 둘",
        "2. 둘",
        "2.1. 둘의 하나",
        "번호 없는 문단",
        "1. 다시 하나",
        "2. 다시 둘",
        "다. 셋째 항목",
        "라. 넷째 항목",
        "글머리표",
        "I스타일 번호",  # w:suff="nothing": no space after the number
        "II스타일 번호 둘",
        "번호 지움",
    ]


def test_a_list_that_is_not_defined_gives_no_number(tmp_path: Path) -> None:
    path = tmp_path / "plain.docx"
    document = docx.Document()
    p = document.add_paragraph("번호 정의 없음")
    p._p.get_or_add_pPr().append(parse_xml(f'<w:numPr {W}><w:ilvl w:val="0"/><w:numId w:val="999"/></w:numPr>'))
    document.save(str(path))
    assert [b.text for b in load_docx(path).blocks] == ["번호 정의 없음"]
