"""Chunkers on project-local samples: statute (조/항/호, 삭제, 부칙), regulation text, report, Q&A."""

from __future__ import annotations

from pathlib import Path

import pytest

from onprem_bot.ingest.chunking import chunk_document, detect_chunker
from onprem_bot.ingest.chunking.base import split_amendments
from onprem_bot.ingest.loaders.base import Block, LoadedDocument
from onprem_bot.ingest.loaders.text import load_markdown
from onprem_bot.korean.mecab import count_tokens
from tests.statute_sample import REGULATION_TEXT, STATUTE_MD


@pytest.fixture
def statute(tmp_path: Path) -> LoadedDocument:
    path = tmp_path / "시험근로법.md"
    path.write_text(STATUTE_MD, encoding="utf-8")
    return load_markdown(path)


def lines_doc(text: str, title: str = "급여규정", page: int | None = 1) -> LoadedDocument:
    blocks = tuple(Block(line, page=page) for line in text.splitlines() if line.strip())
    return LoadedDocument(Path("x.pdf"), title, "pdf", blocks)


def test_statute_one_chunk_per_living_article(statute: LoadedDocument) -> None:
    name, chunks = chunk_document(statute, "doc1")
    assert name == "statute"
    articles = [c for c in chunks if c.kind == "article"]
    assert [c.article for c in articles] == ["제1조", "제2조", "제60조", "제6조의3"]  # 제3조 삭제: skipped
    by_label = {c.article: c for c in articles}
    assert by_label["제60조"].article_title == "연차 유급휴가"
    assert by_label["제60조"].heading_path == ("제2장 근로시간", "제1절 휴가")
    assert by_label["제1조"].heading_path == ("제1장 총칙",)
    assert by_label["제60조"].text.startswith("제60조(연차 유급휴가)\n① 사용자는 1년간 80퍼센트")
    assert all(c.doc_title == "시험근로법" for c in chunks)


def test_amendment_tags_leave_the_text_and_stay_in_metadata(statute: LoadedDocument) -> None:
    _, chunks = chunk_document(statute, "doc1")
    art1 = next(c for c in chunks if c.article == "제1조")
    assert "<개정" not in art1.text and art1.text.endswith("목적으로 한다.")
    assert art1.amendments == ("<개정 2020.5.26>",)
    special = next(c for c in chunks if c.article == "제6조의3")
    assert "본조신설" not in special.text and special.amendments == ("[본조신설 2021.1.5]",)


def test_deleted_paragraph_is_dropped_but_items_are_kept(statute: LoadedDocument) -> None:
    _, chunks = chunk_document(statute, "doc1")
    art2 = next(c for c in chunks if c.article == "제2조")
    assert "삭제" not in art2.text and "③" not in art2.text
    assert '1. "근로자"란' in art2.text and "가. 개인사업주" in art2.text


def test_supplementary_provisions_are_their_own_chunks(statute: LoadedDocument) -> None:
    _, chunks = chunk_document(statute, "doc1")
    sup = [c for c in chunks if c.kind == "supplementary"]
    assert [c.heading_path for c in sup] == [("부칙 <제8372호,2007.4.11>",), ("부칙 <제9999호,2020.1.1>",)]
    # each 부칙 chunk names its 부칙 and articles: 부칙 restart at 제1조, several 부칙 are told apart
    assert [c.article for c in sup] == ["부칙 <제8372호,2007.4.11> 제1조~제2조", "부칙 <제9999호,2020.1.1>"]
    assert "제2조 (경과조치)" in sup[0].text
    assert not any("공포한 날부터" in c.text for c in chunks if c.kind == "article")


def test_long_article_is_split_by_paragraph_with_its_label_on_every_piece(statute: LoadedDocument) -> None:
    _, chunks = chunk_document(statute, "doc1", max_tokens=40)
    pieces = [c for c in chunks if c.article == "제60조"]
    assert len(pieces) == 2 and {c.kind for c in pieces} == {"article_part"}
    assert [c.paragraph for c in pieces] == ["제1항", "제2항"]
    assert all(c.text.startswith("제60조(연차 유급휴가)\n") for c in pieces)
    assert all(c.token_count <= 40 for c in pieces)


def test_long_paragraph_is_split_by_item_with_the_lead_repeated(statute: LoadedDocument) -> None:
    _, chunks = chunk_document(statute, "doc1", max_tokens=36)
    assert [c.article for c in chunks if c.kind == "article"] == ["제1조", "제6조의3"]
    pieces = [c for c in chunks if c.article == "제2조" and c.paragraph == "제1항"]
    assert len(pieces) >= 2
    assert all(c.text.startswith("제2조(정의)\n① 이 법에서 사용하는 용어의 뜻은 다음과 같다.") for c in pieces)
    assert pieces[0].item == "제1호"
    assert "가. 개인사업주" in pieces[-1].text  # a 목 stays with its 호


def test_chunk_ids_are_stable_and_depend_on_document(statute: LoadedDocument) -> None:
    _, first = chunk_document(statute, "doc1")
    _, again = chunk_document(statute, "doc1")
    _, other = chunk_document(statute, "doc2")
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)
    assert not {c.id for c in first} & {c.id for c in other}


def test_offsets_point_into_the_document_text(statute: LoadedDocument) -> None:
    _, chunks = chunk_document(statute, "doc1")
    art60 = next(c for c in chunks if c.article == "제60조")
    assert statute.text[art60.char_start : art60.char_end].startswith("제60조")
    assert "1일의 유급휴가를 주어야 한다." in statute.text[art60.char_start : art60.char_end]


def test_regulation_text_from_pdf_lines() -> None:
    doc = lines_doc(REGULATION_TEXT)
    assert detect_chunker(doc) == "statute"
    _, chunks = chunk_document(doc, "reg")
    articles = [c for c in chunks if c.kind == "article"]
    assert [c.article for c in articles] == ["제1조", "제2조", "제4조", "제6조", "제7조"]
    assert "규정이 정하는 바에 의한다." in articles[1].text  # a wrapped line stays in its article
    assert articles[2].heading_path == ("제2장 급여의 구성",)
    assert articles[4].text.endswith("② 제2조(적용범위)에 따른 직원에게도 같다.")
    assert all(c.page == 1 for c in chunks)
    assert chunks[0].kind == "section"  # the title and 제정 line before 제1조
    assert chunks[-1].kind == "supplementary" and "2001년 1월 1일" in chunks[-1].text


def test_reference_at_line_start_does_not_open_an_article() -> None:
    text = "제1조(목적) 이 규정은 목적을 정한다.\n제2조(정의) 용어의 뜻은\n제1조(목적)에 따른 것으로 한다.\n제3조(시행) 시행한다."
    _, chunks = chunk_document(lines_doc(text), "reg")
    assert [c.article for c in chunks] == ["제1조", "제2조", "제3조"]
    assert "제1조(목적)에 따른" in chunks[1].text


def test_minbeop_style_subsection_heading_goes_into_the_heading_path(tmp_path: Path) -> None:
    md = "# 민법\n\n#### 제3관 파양 <개정 2012.2.10>\n\n**제1항 협의상 파양 <개정 2012.2.10>**\n\n##### 제898조 (협의상 파양)\n\n양부모와 양자는 협의하여 파양할 수 있다.\n\n**제2항 재판상 파양 <개정 2012.2.10>**\n\n##### 제905조 (재판상 파양의 원인)\n\n가정법원에 파양을 청구할 수 있다.\n"
    path = tmp_path / "m.md"
    path.write_text(md, encoding="utf-8")
    _, chunks = chunk_document(load_markdown(path), "m", chunker="statute")
    assert [(c.article, c.heading_path) for c in chunks] == [
        ("제898조", ("제3관 파양", "제1항 협의상 파양")),
        ("제905조", ("제3관 파양", "제2항 재판상 파양")),
    ]
    assert "재판상 파양" not in chunks[0].text


def test_report_chunks_by_heading_and_packs_paragraphs() -> None:
    blocks = (
        Block("추진계획", kind="heading", level=1),
        Block("Ⅰ. 개요", kind="heading", level=2),
        Block("짧은 문단 하나."),
        Block("짧은 문단 둘."),
        Block("Ⅱ. 추진과제", kind="heading", level=2),
        Block("과제 설명입니다."),
        Block("구분 | 2019 | 2020", kind="table_row"),
        Block("서비스 | 2개 | 4개", kind="table_row"),
    )
    doc = LoadedDocument(Path("r.docx"), "추진계획", "docx", blocks)
    name, chunks = chunk_document(doc, "r")
    assert name == "report"
    assert [c.heading_path for c in chunks] == [("Ⅰ. 개요",), ("Ⅱ. 추진과제",)]  # the title is doc_title
    assert chunks[0].text == "Ⅰ. 개요\n짧은 문단 하나.\n짧은 문단 둘."
    assert chunks[1].text.endswith("구분 | 2019 | 2020\n서비스 | 2개 | 4개")
    assert chunks[1].location == "Ⅱ. 추진과제"


def test_report_splits_long_paragraphs_under_the_limit() -> None:
    sentence = "근로자는 정해진 절차에 따라 휴가를 신청하여야 한다. "
    doc = LoadedDocument(
        Path("r.txt"), "안내", "text", (Block("안내문", kind="heading", level=1), Block(sentence * 60))
    )
    _, chunks = chunk_document(doc, "r", max_tokens=80)
    assert len(chunks) > 1
    assert all(c.token_count <= 80 for c in chunks)
    assert all(c.text.startswith("안내문\n") for c in chunks)


def test_qa_pairs_give_one_chunk_each() -> None:
    doc = LoadedDocument(
        Path("q.csv"), "q", "qa", qa_pairs=(("연차는 며칠인가요?", "15일입니다."), ("야근 수당은?", "50% 가산"))
    )
    name, chunks = chunk_document(doc, "q")
    assert name == "qa"
    assert [c.text for c in chunks] == [
        "질문: 연차는 며칠인가요?\n답변: 15일입니다.",
        "질문: 야근 수당은?\n답변: 50% 가산",
    ]


def test_chunker_override_and_unknown_name(statute: LoadedDocument) -> None:
    name, chunks = chunk_document(statute, "d", chunker="report")
    assert name == "report" and all(c.kind == "section" for c in chunks)
    with pytest.raises(Exception, match="valid: auto, statute, report, qa"):
        chunk_document(statute, "d", chunker="legal")


def test_split_amendments_and_token_count() -> None:
    text, tags = split_amendments("근로자에게 15일을 준다. <개정 2018.3.20, 2019.1.15> [전문개정 2020.1.1]")
    assert text == "근로자에게 15일을 준다."
    assert tags == ["<개정 2018.3.20, 2019.1.15>", "[전문개정 2020.1.1]"]
    assert count_tokens("근로자에게 15일") == 4


def test_next_article_with_a_particle_like_start_is_still_a_header() -> None:
    text = "지침\n제1조(목적)이 지침은 목적을 정한다.\n제2조(정의)이 지침에서 쓰는 말은 다음과 같다.\n제3조(적용)이 지침은 임직원에게 적용한다."
    _, chunks = chunk_document(lines_doc(text), "reg")
    assert [c.article for c in chunks if c.kind == "article"] == ["제1조", "제2조", "제3조"]


def test_a_quoted_far_article_at_line_start_is_a_reference() -> None:
    text = (
        "제8조(결격) 결격사유는 법에 따른다.\n"
        "제9조(책임) 「상법」제382조의3(이사의 충실의무), 제399조(회사에 대한 책임),\n"
        "제414조(감사의 책임)\n"
        "및 제415조(준용규정)의 규정은 감사에 준용한다.\n"
        "제10조(직원) 직원은 원장이 임면한다.\n"
        "제11조(보수) 보수는 규정으로 정한다."
    )
    _, chunks = chunk_document(lines_doc(text), "reg")
    assert [c.article for c in chunks] == ["제8조", "제9조", "제10조", "제11조"]
    assert "제414조(감사의 책임)\n및 제415조" in chunks[1].text


@pytest.mark.slow
def test_regulation_pdfs_yield_their_articles_in_order(shared_data: Path) -> None:
    import re

    from onprem_bot.ingest.loaders import load_document

    for pdf in sorted((shared_data / "docs/pdf_kisa").glob("*.pdf")):
        doc = load_document(pdf)
        name, chunks = chunk_document(doc, "x")
        assert name == "statute", pdf.name
        labels = [str(c.article) for c in chunks if c.kind in ("article", "article_part")]
        numbers = [int(label[1:].split("조")[0]) for label in labels]
        assert numbers[0] == 1 and numbers == sorted(numbers), pdf.name
        body = re.split(r"^\s*부\s*칙", doc.text, flags=re.M)[0]
        headers = set(re.findall(r"^(제\d+조(?:의\d+)?)\s*\(", body, flags=re.M)) - {"제414조"}  # 정관 quotes 상법
        assert headers <= set(labels), (pdf.name, headers - set(labels))
        assert all(c.page is not None for c in chunks)
        assert any(c.kind == "supplementary" for c in chunks), pdf.name
    charter = load_document(next((shared_data / "docs/pdf_kisa").glob("1_01_*.pdf")))
    labels = [c.article for c in chunk_document(charter, "x")[1] if c.kind == "article"]
    assert "제414조" not in labels and {"제9조의2", "제10조", "제30조"} <= set(labels)
