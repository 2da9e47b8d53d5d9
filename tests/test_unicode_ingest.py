"""Text from any source reaches storage in one Unicode form (NFC): decomposed Hangul is searched,
shown and checked like composed Hangul (macOS file names and copied text are decomposed, NFD)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from onprem_bot.app import App
from onprem_bot.ingest.loaders.base import Block, LoadedDocument, normalized_document, stored_text

NFD = "NFD"


def test_stored_text_composes_hangul_and_drops_invisible_characters() -> None:
    decomposed = unicodedata.normalize(NFD, "연차휴가는 15일")
    assert decomposed != "연차휴가는 15일"
    assert stored_text(decomposed + "\u200b") == "연차휴가는 15일"
    assert stored_text("１５일 ㎡\n②") == "１５일 ㎡\n②"  # compatibility characters and lines kept as written


def test_every_part_of_a_loaded_document_is_normalised() -> None:
    d = lambda s: unicodedata.normalize(NFD, s)  # noqa: E731
    doc = LoadedDocument(
        Path("x.txt"),
        d("출장규칙"),
        "text",
        (Block(d("제1조 숙박비"), kind="heading", level=5),),
        ((d("질문"), d("답")),),
    )
    out = normalized_document(doc)
    assert out.title == "출장규칙" and out.blocks[0].text == "제1조 숙박비" and out.qa_pairs == (("질문", "답"),)
    assert out.blocks[0].kind == "heading" and out.blocks[0].level == 5


def test_a_decomposed_file_and_name_are_stored_composed_and_found(app: App, tmp_path: Path) -> None:
    name = unicodedata.normalize(NFD, "출장규칙.txt")
    text = unicodedata.normalize(NFD, "출장규칙\n\n제1조(숙박비) 직원의 숙박비는 1박에 70,000원 이내로 한다.\n")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    report = app.ingestor.run([path])
    assert report.ok
    [doc] = app.documents.list_all()
    assert doc.title == "출장규칙"
    chunks = app.documents.chunks()
    assert all(c.text == unicodedata.normalize("NFC", c.text) for c in chunks)
    assert any("숙박비" in c.text for c in chunks)
    app.reindex()
    hits = app.retriever.run("직원 숙박비는 얼마인가요?", k=1)
    assert hits and "70,000원" in hits[0].chunk.text
