"""Several 부칙 restart their numbering: every 부칙 chunk names which 부칙 and which of its articles
(../shared/cases/supplementary-provisions; fixture copied into tests/fixtures/supplementary)."""

from __future__ import annotations

from pathlib import Path

from onprem_bot.app import App
from onprem_bot.ingest.chunking import chunk_document
from onprem_bot.ingest.chunking.supplement import supplement_label
from onprem_bot.ingest.loaders import load_document

FIXTURE = Path(__file__).parent / "fixtures" / "supplementary" / "여비규정.md"


def test_supplement_label() -> None:
    assert supplement_label("부칙 <2024. 1. 1.>", ["제1조", None, "제2조"]) == "부칙 <2024. 1. 1.> 제1조~제2조"
    assert supplement_label("부칙  <2025. 3. 1.>", ["제1조"]) == "부칙 <2025. 3. 1.> 제1조"
    assert supplement_label("부칙", [None]) == "부칙"


def test_each_supplement_is_told_apart_from_the_others_and_from_the_main_text() -> None:
    _, chunks = chunk_document(load_document(FIXTURE), "d")
    main = [c.article for c in chunks if c.kind == "article"]
    sup = [c for c in chunks if c.kind == "supplementary"]
    assert main == ["제1조", "제2조", "제3조"]
    assert [c.location for c in sup] == ["부칙 <2024. 1. 1.> 제1조~제2조", "부칙 <2025. 3. 1.> 제1조"]
    assert "2025년 3월 1일" in sup[1].text and "2025년" not in sup[0].text


def test_a_citation_of_a_supplement_names_it(app: App) -> None:
    assert app.ingestor.run([FIXTURE]).ok
    app.reindex()
    hits = app.retriever.run("2025년 부칙 시행일은 언제예요?", k=5)
    labels = [h.chunk.article for h in hits]
    assert "부칙 <2025. 3. 1.> 제1조" in labels and "제1조" in labels  # never confused: distinct labels
