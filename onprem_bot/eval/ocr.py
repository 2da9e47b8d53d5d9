"""OCR accuracy and speed: CER of Tesseract on rendered PDF pages against their own text layer.

``python -m onprem_bot.eval.ocr PDF --pages 1-3`` renders the pages with pypdfium2, reads them
with Tesseract (no cache) and prints, per page and in total, the character error rate against
pypdf's text of the same pages (edit distance over the text with all whitespace removed, divided
by the reference length) and the pages per minute. ``--json`` prints the same as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from pypdf import PdfReader

from onprem_bot.errors import OnpremBotError
from onprem_bot.ingest.ocr import DEFAULT_DPI, DEFAULT_LANG, DEFAULT_PSM, TesseractOcr


def squeeze(text: str) -> str:
    """``text`` without any whitespace: Tesseract's spacing and line breaks are not errors here."""
    return "".join(text.split())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate of ``hypothesis`` against ``reference``, whitespace ignored."""
    ref, hyp = squeeze(reference), squeeze(hypothesis)
    return edit_distance(hyp, ref) / max(1, len(ref))


def page_range(spec: str) -> list[int]:
    """``"1-3,5"`` → ``[1, 2, 3, 5]``."""
    pages: list[int] = []
    for part in spec.split(","):
        first, _, last = part.strip().partition("-")
        pages.extend(range(int(first), int(last or first) + 1))
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pdf", type=Path)
    parser.add_argument("--pages", default="1", help="1-based pages, e.g. 1-3,5 (default 1)")
    parser.add_argument("--lang", default=DEFAULT_LANG)
    parser.add_argument("--dpi", type=int, default=DEFAULT_DPI)
    parser.add_argument("--psm", type=int, default=DEFAULT_PSM)
    parser.add_argument("--tesseract-cmd", default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--reference", type=Path, help="PDF whose text layer is the truth (default: PDF itself)")
    parser.add_argument("--reference-pages", help="its pages, one per page of --pages (default: the same numbers)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        pages = page_range(args.pages)
        ocr = TesseractOcr(args.lang, args.dpi, args.tesseract_cmd, psm=args.psm, workers=args.workers)
        version = ocr.warm_up()
        reader = PdfReader(args.reference or args.pdf)
        truth = page_range(args.reference_pages) if args.reference_pages else pages
        if len(truth) != len(pages):
            raise ValueError("--reference-pages: one page per page of --pages")
        reference = {p: reader.pages[t - 1].extract_text() for p, t in zip(pages, truth, strict=True)}
        started = time.perf_counter()
        texts = ocr.run(args.pdf, pages)
        seconds = time.perf_counter() - started
    except (OnpremBotError, ValueError, IndexError) as exc:
        print(f"오류: {exc}", file=sys.stderr)
        return 2
    rows = [
        {"page": p, "cer": round(cer(texts[p], reference[p]), 4), "chars": len(squeeze(reference[p]))} for p in pages
    ]
    errors = sum(edit_distance(squeeze(texts[p]), squeeze(reference[p])) for p in pages)
    total = {
        "pdf": str(args.pdf),
        "pages": len(pages),
        "cer": round(errors / max(1, sum(r["chars"] for r in rows)), 4),
        "pages_per_minute": round(len(pages) / seconds * 60, 1),
        "seconds": round(seconds, 2),
        "tesseract": version,
        "lang": args.lang,
        "dpi": args.dpi,
        "psm": args.psm,
        "workers": ocr.workers,
    }
    if args.json:
        print(json.dumps({**total, "per_page": rows}, ensure_ascii=False))
    else:
        for r in rows:
            print(f"p.{r['page']}: CER {r['cer']:.2%} ({r['chars']} characters)")
        print(
            f"CER {total['cer']:.2%} over {len(pages)} pages; {total['pages_per_minute']} pages/min "
            f"(Tesseract {version}, {args.lang}, {args.dpi} DPI, psm {args.psm}, {ocr.workers} workers)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
