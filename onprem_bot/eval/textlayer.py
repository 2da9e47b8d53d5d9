"""Judge every page of PDFs with :func:`onprem_bot.ingest.textlayer.judge_text`: false-positive check.

``python -m onprem_bot.eval.textlayer ../shared/data`` prints one line per PDF (pages, unusable
pages with their reason) and a total; exit status 1 when any page is unusable.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from pypdf import PdfReader

from onprem_bot.ingest.textlayer import judge_text


def pdf_files(paths: list[Path]) -> list[Path]:
    """The PDFs named or found (recursively) under ``paths``."""
    found: list[Path] = []
    for p in paths:
        found.extend(sorted(p.rglob("*.pdf")) if p.is_dir() else [p])
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)
    pages = 0
    reasons: Counter[str] = Counter()
    for path in pdf_files(args.paths):
        reader = PdfReader(path)
        bad = []
        for number, page in enumerate(reader.pages, start=1):
            verdict = judge_text(page.extract_text(extraction_mode="layout"))
            pages += 1
            reasons[verdict.reason] += 1
            if not verdict.usable:
                bad.append(f"p.{number} {verdict.reason}")
        print(f"{path.name}: {len(reader.pages)} pages" + (f"; unusable: {', '.join(bad)}" if bad else ""))
    print(f"total: {pages} pages; " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
    return 0 if reasons["ok"] == pages else 1


if __name__ == "__main__":
    sys.exit(main())
