"""A text with article headers is statute text however few articles it has and wherever its numbering
starts (../shared/cases/statute-excerpts; fixtures copied into tests/fixtures/statute_excerpts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onprem_bot.app import App
from onprem_bot.cli import main
from onprem_bot.ingest.chunking.base import Line, document_lines
from onprem_bot.ingest.chunking.statute import looks_like_statute
from onprem_bot.ingest.loaders import load_document

FIXTURES = Path(__file__).parent / "fixtures" / "statute_excerpts"
ONE_ARTICLE = FIXTURES / "근로기준법_제60조.txt"
EXCERPT = FIXTURES / "주차장운영규정_발췌.txt"


def test_excerpts_are_chunked_as_statutes_with_their_articles(app: App) -> None:
    assert app.ingestor.run([ONE_ARTICLE, EXCERPT]).ok
    by_title: dict[str, list[str | None]] = {}
    for chunk in app.documents.chunks():
        by_title.setdefault(chunk.doc_title, []).append(chunk.article)
    assert by_title["근로기준법"] == ["제60조"]  # the law's name on the first line is the title
    assert sorted(set(by_title["주차장 운영규정 (발췌)"])) == ["제5조", "제6조"]  # numbering starting at 제5조


def test_a_reference_that_a_line_break_put_first_is_not_a_header() -> None:
    doc = load_document(ONE_ARTICLE)
    lines = document_lines(doc)
    assert looks_like_statute(lines)
    report = [ln for ln in lines if "제60조" not in ln.text]
    reference = Line("제2조(정의)에 따른 근로자는 다음과 같다.", None, 0, 0)
    assert not looks_like_statute([*report, reference])


def test_a_correct_article_reference_to_an_excerpt_passes_the_checker(capsys: pytest.CaptureFixture[str]) -> None:
    answer = "1년간 80퍼센트 이상 출근하면 15일의 유급휴가를 받습니다 (근로기준법 제60조)."
    main(["check", "--answer", answer, "--sources", str(ONE_ARTICLE), "--json"])
    assert json.loads(capsys.readouterr().out)["verdict"] == "pass"
