"""Text-layer quality: glyph garbage is unusable, every real regulation page stays usable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from onprem_bot.ingest.textlayer import MAX_BAD_RATIO, TextVerdict, judge_text

FIXTURES = Path(__file__).parent / "fixtures" / "ocr"
GARBAGE_PDF = FIXTURES / "b_no_tounicode.pdf"


def test_garbage_pdf_page_is_unusable() -> None:
    text = PdfReader(GARBAGE_PDF).pages[0].extract_text(extraction_mode="layout")
    verdict = judge_text(text)
    assert verdict == TextVerdict(False, "garbage")
    assert not verdict.empty


def test_real_regulation_pages_stay_usable() -> None:
    """The hardest KISA pages: private-use bullets (U+F000), pages that are almost only numbers or '삭제'."""
    pages = json.loads((FIXTURES / "real_pages.json").read_text(encoding="utf-8"))["pages"]
    assert len(pages) >= 10
    wrong = [(p["file"], p["page"], judge_text(p["text"]).reason) for p in pages if not judge_text(p["text"]).usable]
    assert wrong == []
    assert any("\uf000" in p["text"] for p in pages)  # the fixture really holds the private-use case


@pytest.mark.parametrize("text", ["", "   \n\n\t  ", "\n"])
def test_empty_page_is_no_text_not_garbage(text: str) -> None:
    verdict = judge_text(text)
    assert verdict.reason == "empty" and verdict.empty and not verdict.usable


@pytest.mark.parametrize(
    "text",
    [
        "\ufffd\ufffd\ufffd \ufffd\ufffd \ufffd\ufffd\ufffd\ufffd",
        "\ue001\ue002\ue003 \ue004\ue005\ue006 제1조",  # private use with one real word
        "(cid:12)(cid:45)(cid:3) (cid:99)(cid:7) 규정",  # pdfminer's unmapped glyphs
        "\x01\x02\x03\x0b\x0c\x1c 1 2 3",  # controls that str.isspace() calls whitespace still count
    ],
)
def test_glyph_garbage_is_unusable(text: str) -> None:
    assert judge_text(text).reason == "garbage"


@pytest.mark.parametrize("text", ["- 46 -", "1 2 3 4 5", "※ ○ ■ □ …", "12,000 15,000"])
def test_no_words_page(text: str) -> None:
    assert judge_text(text) == TextVerdict(False, "no-words")


@pytest.mark.parametrize(
    "text",
    [
        "제1조(목적) 이 규정은 출장에 관한 사항을 정한다.",
        "Article 1 Purpose",
        "\uf000\uf000 청렴한 계약의 체결 및 이행",  # two bad characters: under the floor
        "표",  # one Hangul syllable is a word
    ],
)
def test_usable_text(text: str) -> None:
    assert judge_text(text).usable


def test_ratio_threshold() -> None:
    good = "가" * 100
    assert judge_text(good + "\x01" * 10).usable  # 10 of 110: under 10%
    assert not judge_text(good + "\x01" * 12).usable
    assert MAX_BAD_RATIO == 0.10
