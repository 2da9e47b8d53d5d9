"""Scanned and glyph-garbage PDF pages: OCR with Tesseract, or skipped with one warning; never indexed as garbage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter

from onprem_bot.config import load_settings
from onprem_bot.errors import ConfigError, LoaderError, OnpremBotError
from onprem_bot.eval.ocr import cer, edit_distance, page_range
from onprem_bot.ingest.loaders import load_document
from onprem_bot.ingest.loaders.pdf import load_pdf
from onprem_bot.ingest.ocr import OcrUnavailable, TesseractOcr, ocr_from_settings
from onprem_bot.ingest.scanned import page_list
from onprem_bot.ingest.textlayer import judge_text
from tests.fixtures.make_docs import make_pdf

FIXTURES = Path(__file__).parent / "fixtures" / "ocr"
GARBAGE = FIXTURES / "b_no_tounicode.pdf"
SCANNED = FIXTURES / "scanned_출장규칙_p2.pdf"
"""Page 2 of the KISA 출장규칙 rendered at 200 DPI, grayscale, saved as an image-only PDF (no text layer)."""
REPO = Path(__file__).resolve().parents[1]


def _tesseract_missing() -> str | None:
    try:
        TesseractOcr().warm_up()
    except OcrUnavailable as exc:
        return str(exc)
    return None


needs_tesseract = pytest.mark.skipif(
    _tesseract_missing() is not None, reason=f"Tesseract with kor data is not installed: {_tesseract_missing()}"
)


def mixed_pdf(path: Path) -> Path:
    """Page 1: a real Korean text layer; page 2: the glyph-garbage page."""
    good = make_pdf(path.with_suffix(".good.pdf"), [["제1조(목적) 이 규정은 출장에 관한 사항을 정한다."]], cjk=True)
    writer = PdfWriter()
    writer.add_page(PdfReader(good).pages[0])
    writer.add_page(PdfReader(GARBAGE).pages[0])
    writer.write(path)
    return path


def test_fixtures_are_what_they_claim() -> None:
    assert SCANNED.stat().st_size < 300_000
    assert PdfReader(SCANNED).pages[0].extract_text().strip() == ""  # image only
    assert judge_text(PdfReader(GARBAGE).pages[0].extract_text(extraction_mode="layout")).reason == "garbage"


@needs_tesseract
def test_ocr_recovers_a_scanned_regulation_page(tmp_path: Path) -> None:
    doc = load_document(SCANNED, TesseractOcr(cache_dir=tmp_path))
    assert doc.metadata["pages_ocr"] == "1" and "pages_skipped" not in doc.metadata
    assert {b.page for b in doc.blocks} == {1}
    for words in ("제4조(출장명령)", "제5조(출장기록관리)", "출장승인권자", "가족이전비", "시내출장"):
        assert words in doc.text, words
    assert judge_text(doc.text).usable


def test_garbage_page_skipped_with_one_warning_without_ocr(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = mixed_pdf(tmp_path / "규정.pdf")
    doc = load_pdf(path)  # no OCR
    assert {b.page for b in doc.blocks} == {1}
    assert doc.text == "제1조(목적) 이 규정은 출장에 관한 사항을 정한다."
    assert doc.metadata["pages_skipped"] == "2"
    warning = doc.metadata["warning"]
    assert "규정.pdf" in warning and "건너뜀" in warning and "pages skipped: 2" in warning
    assert [r.getMessage() for r in caplog.records if r.name == "onprem_bot.ingest.scanned"] == [warning]


def test_all_garbage_without_ocr_is_a_korean_error(tmp_path: Path) -> None:
    with pytest.raises(LoaderError) as err:
        load_pdf(GARBAGE)
    assert "tesseract-ocr-kor" in err.value.reason and "스캔" in err.value.reason


@needs_tesseract
def test_garbage_page_is_read_by_ocr(tmp_path: Path) -> None:
    doc = load_pdf(mixed_pdf(tmp_path / "규정.pdf"), TesseractOcr(cache_dir=tmp_path / "cache"))
    assert doc.metadata["pages_ocr"] == "2" and "warning" not in doc.metadata
    page2 = "\n".join(b.text for b in doc.blocks if b.page == 2)
    assert "보안점검" in page2 and "제1조(목적)" in page2
    assert judge_text(doc.text).usable and not any(ord(c) < 32 and c not in "\n\t" for c in doc.text)


def test_tesseract_absent_is_a_warning_or_a_korean_error(tmp_path: Path) -> None:
    ocr = TesseractOcr(tesseract_cmd=tmp_path / "nowhere" / "tesseract", cache_dir=tmp_path / "cache")
    assert not ocr.available()
    with pytest.raises(OcrUnavailable, match="tesseract"):
        ocr.warm_up()
    doc = load_pdf(mixed_pdf(tmp_path / "규정.pdf"), ocr)
    assert {b.page for b in doc.blocks} == {1}
    assert "Tesseract" in doc.metadata["warning"] and "tesseract-ocr-kor" in doc.metadata["warning"]
    with pytest.raises(LoaderError) as err:
        load_pdf(GARBAGE, ocr)
    assert "tesseract-ocr-kor" in err.value.reason


@needs_tesseract
def test_missing_language_is_named() -> None:
    with pytest.raises(OcrUnavailable, match="zzz") as err:
        TesseractOcr(lang="kor+zzz").warm_up()
    assert "tesseract-ocr-zzz" in str(err.value)


@pytest.mark.parametrize(
    "kwargs", [{"lang": "kor eng"}, {"lang": ""}, {"dpi": 10}, {"dpi": 5000}, {"dpi": True}, {"workers": 0}]
)
def test_init_validates(kwargs: dict[str, Any]) -> None:
    with pytest.raises(OnpremBotError):
        TesseractOcr(**kwargs)


def test_cache_resumes_an_interrupted_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three scanned pages, interrupted at the second: the rerun reads only pages 2-3; a third run none."""
    writer = PdfWriter()
    for _ in range(3):
        writer.add_page(PdfReader(SCANNED).pages[0])
    scan = tmp_path / "scan.pdf"
    writer.write(scan)
    calls: list[int] = []
    stop_at: list[int] = [2]

    def fake_ocr(self: TesseractOcr, image: Any) -> str:
        calls.append(1)
        if len(calls) in stop_at:
            raise KeyboardInterrupt
        return f"제{len(calls)}조(목적) 스캔한 쪽"

    monkeypatch.setattr(TesseractOcr, "_probe", lambda self: "fake")
    monkeypatch.setattr(TesseractOcr, "image_to_text", fake_ocr)
    ocr = TesseractOcr(cache_dir=tmp_path / "cache", workers=1)
    with pytest.raises(KeyboardInterrupt):
        load_pdf(scan, ocr)
    assert len(calls) == 2
    cached = [ocr.cache_path(_sha(scan), p) for p in (1, 2, 3)]
    assert [c is not None and c.is_file() for c in cached] == [True, False, False]
    assert not list((tmp_path / "cache").rglob("*.tmp"))  # nothing half-written
    calls.clear()
    stop_at.clear()
    doc = load_pdf(scan, ocr)
    assert len(calls) == 2 and doc.metadata["pages_ocr"] == "1-3"
    calls.clear()
    progress: list[tuple[int, int]] = []
    assert ocr.run(scan, [1, 2, 3], progress=lambda d, t: progress.append((d, t))) == {
        1: "제1조(목적) 스캔한 쪽",
        2: "제1조(목적) 스캔한 쪽",
        3: "제2조(목적) 스캔한 쪽",
    }
    assert calls == [] and progress == [(3, 3)]
    other = TesseractOcr(cache_dir=tmp_path / "cache", dpi=200, workers=1)  # another DPI is another key
    other.run(scan, [1])
    assert len(calls) == 1


def _sha(path: Path) -> str:
    from onprem_bot.ingest.ocr import file_sha256

    return file_sha256(path)


def test_settings(tmp_path: Path) -> None:
    settings = load_settings(env={}, home=tmp_path)
    assert (settings.ingest.ocr, settings.ingest.ocr_lang, settings.ingest.ocr_dpi) == ("auto", "kor", 300)
    ocr = ocr_from_settings(settings)
    assert ocr is not None and ocr.cache_dir == tmp_path / "cache" / "ocr"
    off = load_settings(env={"ONPREM_BOT_INGEST__OCR": "off"}, home=tmp_path)
    assert ocr_from_settings(off) is None
    custom = load_settings(
        env={"ONPREM_BOT_INGEST__OCR_LANG": "kor+eng", "ONPREM_BOT_INGEST__TESSERACT_CMD": "/opt/t/tesseract"},
        home=tmp_path,
    )
    built = ocr_from_settings(custom)
    assert built is not None and built.lang == "kor+eng" and built.tesseract_cmd == "/opt/t/tesseract"
    for key, value, valid in [("OCR", "on", "auto, off"), ("OCR_DPI", "20", "72..600"), ("OCR_LANG", "kor eng", "kor")]:
        with pytest.raises(ConfigError) as err:
            load_settings(env={f"ONPREM_BOT_INGEST__{key}": value}, home=tmp_path)
        assert valid in str(err.value) and f"ingest.{key.lower()}" in str(err.value)


def test_ingest_cli_warns_in_korean_and_stores_only_usable_pages(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    mixed_pdf(docs / "규정.pdf")
    (docs / "규정.good.pdf").unlink()
    (docs / "메모.md").write_text("# 메모\n\n연차는 15일이다.\n", encoding="utf-8")
    env = dict(
        os.environ, ONPREM_BOT_INGEST__OCR="off", ONPREM_BOT_EMBEDDER__BACKEND="hash", ONPREM_BOT_CONFIG=os.devnull
    )
    env.pop("ONPREM_BOT_HOME", None)
    proc = subprocess.run(
        [sys.executable, "-c", "from onprem_bot.cli import main; main()", "--home", str(tmp_path / "home"), "ingest", str(docs)],
        capture_output=True, text=True, cwd=REPO, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    warnings = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip().startswith("경고")]
    assert len(warnings) == 1 and "규정.pdf" in warnings[0] and "pages skipped: 2" in warnings[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_eval_helpers() -> None:
    assert page_range("1-3,5") == [1, 2, 3, 5]
    assert edit_distance("제1조", "제2조") == 1 and edit_distance("", "abc") == 3
    assert cer("제1 조 (목적)", "제1조(목적)") == 0.0
    assert cer("제2조(목적)", "제1조(목적)") == pytest.approx(1 / 7)
    assert page_list([1, 2, 3, 7, 9, 10]) == "1-3,7,9-10"


def test_doctor_reports_tesseract(tmp_path: Path) -> None:
    from onprem_bot.cli.doctor import _tesseract

    missing = load_settings(env={"ONPREM_BOT_INGEST__TESSERACT_CMD": str(tmp_path / "none")}, home=tmp_path)
    status, name, detail = _tesseract(missing)
    assert (status, name) == ("warn", "tesseract") and "tesseract-ocr-kor" in detail
    assert _tesseract(load_settings(env={"ONPREM_BOT_INGEST__OCR": "off"}, home=tmp_path))[0] == "ok"
    if _tesseract_missing() is None:
        status, _, detail = _tesseract(load_settings(env={}, home=tmp_path))
        assert status == "ok" and "kor" in detail
