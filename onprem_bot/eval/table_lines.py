"""Does one line of the loaded text hold a table value together with its row and column?

For each ``kind: table`` question (``row``, ``column``, ``keywords``, ``doc_file``, ``page``), the PDF is
loaded twice in one run — pypdf's layout text only (``tables=False``) and with pdfplumber's table rows —
and a question counts when some line of the gold page holds every keyword, every part of the row
label (``기관장 / 라`` → ``기관장`` and ``라``; its words, for a label spread over two cells) and the column's first word (``숙박비(그 외 지역)`` →
``숙박비``), spaces ignored. A line that holds all three can be quoted, checked and retrieved alone;
in pypdf's layout text the headers are usually lines away from the values.

    python -m onprem_bot.eval.table_lines PDF_FOLDER QUESTIONS.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from onprem_bot.eval.retrieval import read_questions
from onprem_bot.ingest.loaders.base import normalized_document
from onprem_bot.ingest.loaders.pdf import load_pdf


def _squash(text: str) -> str:
    return "".join(text.split())


def needles(row: Mapping[str, Any]) -> list[str]:
    """What one line must hold: the keywords, each part of the row label, the column's first word."""
    parts = [p for p in re.split(r"\s*/\s*|\s+", str(row.get("row") or "")) if p]
    column = re.split(r"[\s(]", str(row.get("column") or "").strip())[0]
    return [*map(str, row.get("keywords") or []), *parts, *([column] if column else [])]


def holds(lines: Sequence[str], wanted: Sequence[str]) -> bool:
    """Whether one of ``lines`` contains every string of ``wanted`` (spaces ignored)."""
    squashed = [_squash(w) for w in wanted]
    return any(all(w in _squash(line) for w in squashed) for line in lines)


def page_lines(path: Path, page: int, tables: bool) -> list[str]:
    """The text lines of one page of ``path`` as the loader gives them."""
    doc = normalized_document(load_pdf(path, tables=tables))
    return [b.text for b in doc.blocks if b.page == page]


def evaluate(folder: Path, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per question and overall: found with pypdf layout text vs with table rows."""
    details = []
    for row in rows:
        path, page, wanted = folder / str(row["doc_file"]), int(row["page"]), needles(row)
        details.append(
            {
                "question": row["question"],
                "needles": wanted,
                "pypdf": holds(page_lines(path, page, tables=False), wanted),
                "tables": holds(page_lines(path, page, tables=True), wanted),
            }
        )
    n = len(details) or 1
    return {
        "questions": len(details),
        "pypdf": round(sum(d["pypdf"] for d in details) / n, 4),
        "tables": round(sum(d["tables"] for d in details) / n, 4),
        "details": details,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m onprem_bot.eval.table_lines", description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--json", dest="json_out", type=Path)
    args = parser.parse_args(argv)
    rows = [row for _, row in read_questions(args.questions) if row.get("kind") == "table"]
    report = evaluate(args.folder, rows)
    for d in report["details"]:
        print(f"{'O' if d['pypdf'] else 'X'} {'O' if d['tables'] else 'X'}  {d['question']}  {d['needles']}")
    print(
        f"table questions {report['questions']}: value+row+column on one line — pypdf layout {report['pypdf']:.3f}, "
        f"table rows {report['tables']:.3f}"
    )
    if args.json_out:
        args.json_out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
