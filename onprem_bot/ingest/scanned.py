"""PDF pages without a usable text layer: OCR them, or skip them with one warning.

:func:`check_pages` runs after a PDF's pages have become blocks. A page whose blocks are
missing (no text: a scanned page) or unusable (:func:`onprem_bot.ingest.textlayer.judge_text`:
glyph garbage, no words) loses its blocks; it is read with Tesseract when OCR is configured and
available, else skipped, and the file gets one warning naming the pages. Garbage is never
indexed. A PDF with no usable page and no OCR raises :class:`LoaderError` saying to install
``tesseract-ocr-kor``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from onprem_bot.errors import LoaderError
from onprem_bot.ingest.loaders.base import Block
from onprem_bot.ingest.ocr import INSTALL_HINT, OcrUnavailable, TesseractOcr, tqdm_progress
from onprem_bot.ingest.textlayer import judge_text

log = logging.getLogger(__name__)

WARNING_KEY = "warning"
"""``LoadedDocument.metadata`` key of the one-line warning (``ingest`` prints it)."""
SKIPPED_KEY = "pages_skipped"
"""Metadata: pages left out for want of text (``3-5,9``); a later ingest with OCR reads them."""
OCR_KEY = "pages_ocr"
"""Metadata: pages whose text came from OCR."""


def page_list(pages: Iterable[int]) -> str:
    """``[1, 2, 3, 7]`` → ``"1-3,7"``."""
    runs: list[list[int]] = []
    for p in sorted(set(pages)):
        if runs and p == runs[-1][1] + 1:
            runs[-1][1] = p
        else:
            runs.append([p, p])
    return ",".join(f"{a}-{b}" if a != b else str(a) for a, b in runs)


def unusable_pages(page_count: int, blocks: Sequence[Block]) -> dict[int, str]:
    """``{page: reason}`` for the pages (1-based) whose blocks are absent or not usable text."""
    texts: dict[int, list[str]] = {}
    for block in blocks:
        if block.page is not None:
            texts.setdefault(block.page, []).append(block.text)
    verdicts = {n: judge_text("\n".join(texts.get(n, ()))) for n in range(1, page_count + 1)}
    return {n: v.reason for n, v in verdicts.items() if not v.usable}


def check_pages(
    path: Path, page_count: int, blocks: Sequence[Block], ocr: TesseractOcr | None
) -> tuple[list[Block], dict[str, str]]:
    """The blocks with unusable pages OCR'd or dropped, and metadata notes (warning, pages skipped/OCR'd)."""
    from onprem_bot.ingest.loaders.pdf import page_lines  # pdf.py imports this module

    bad = unusable_pages(page_count, blocks)
    if not bad:
        return list(blocks), {}
    kept = [b for b in blocks if b.page not in bad]
    why = ""
    texts: dict[int, str] = {}
    if ocr is None:
        why = 'OCR 꺼짐 (OCR off: ingest.ocr = "auto"로 켤 수 있습니다)'
    else:
        progress, close = tqdm_progress(f"OCR {path.name}")
        try:
            texts = ocr.run(path, sorted(bad), progress=progress)
        except OcrUnavailable as exc:
            why = str(exc)
        except LoaderError:
            raise
        except Exception as exc:  # TesseractError, a timeout, a rendering failure: name the file
            raise LoaderError(path, f"OCR 실패 (OCR failed: {type(exc).__name__}: {exc})") from exc
        finally:
            close()
    ocr_blocks = [Block(line, page=n) for n in sorted(texts) for line in page_lines(texts[n])]
    read = sorted({b.page for b in ocr_blocks if b.page is not None})
    skipped = sorted(set(bad) - set(read))
    notes: dict[str, str] = {}
    if read:
        notes[OCR_KEY] = page_list(read)
    if skipped:
        notes[SKIPPED_KEY] = page_list(skipped)
        if not kept and not ocr_blocks and why:
            raise LoaderError(
                path,
                "텍스트 레이어가 없거나 깨진 PDF입니다(스캔 이미지일 수 있음); "
                f"OCR을 쓰려면 Tesseract 한국어 데이터를 설치하세요: {INSTALL_HINT} "
                f"(no text layer or unusable text, and no OCR: {why})",
            )
        reasons = sorted({bad[p] for p in skipped})
        detail = why or "OCR 결과 없음 (OCR found no text)"
        notes[WARNING_KEY] = (
            f"{path.name}: {len(skipped)}쪽을 건너뜀 (pages skipped: {notes[SKIPPED_KEY]}; "
            f"text layer {'/'.join(reasons)}) — {detail}"
        )
        log.warning("%s", notes[WARNING_KEY])
    merged = sorted([*kept, *ocr_blocks], key=lambda b: b.page or 0)  # stable: page order, lines kept
    return merged, notes
