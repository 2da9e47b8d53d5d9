"""Answer figures per question kind, read off an ``onprem-bot eval --out R.json`` report.

    python -m onprem_bot.eval.by_kind R.json QUESTIONS.jsonl

For each ``kind`` of the question file (``article``, ``table``, ``supplementary``, ``exception``) and
overall: the share of answers citing the gold source (the report's ``cites_gold``), the share holding
every keyword (the right value), and the median number of quoted characters (text inside ``"…" [n]``,
the leads left out). The report's rows are in the question file's order.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from onprem_bot.eval.retrieval import read_questions

_QUOTE = re.compile(r'"(.*?)" \[\d+\]', re.S)


def quoted_chars(answer: str) -> int:
    """Characters quoted in an answer (inside ``"…" [n]``), leads and markers left out (pure)."""
    return sum(len(q) for q in _QUOTE.findall(answer))


def by_kind(details: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """``{kind: {n, cited, value, median_quoted}}`` plus ``overall``; ``details`` and ``rows`` aligned."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for d, row in zip(details, rows, strict=True):
        groups.setdefault(str(row.get("kind") or "all"), []).append(d)
    groups["overall"] = list(details)
    out: dict[str, dict[str, float]] = {}
    for kind, ds in groups.items():
        n = len(ds)
        out[kind] = {
            "n": n,
            "cited": round(sum(bool(d.get("cites_gold")) for d in ds) / n, 3),
            "value": round(sum(not d.get("keywords_missing") for d in ds) / n, 3),
            "median_quoted": statistics.median(quoted_chars(str(d.get("answer") or "")) for d in ds),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m onprem_bot.eval.by_kind", description=__doc__.split("\n")[0])
    parser.add_argument("report", type=Path, help="the JSON of onprem-bot eval --out")
    parser.add_argument("questions", type=Path, help="the question file the report was made from")
    args = parser.parse_args(argv)
    details = json.loads(args.report.read_text(encoding="utf-8"))["details"]
    rows = [row for _, row in read_questions(args.questions)]
    if len(rows) != len(details):
        print(
            f"오류 (error): 질문 {len(rows)}개, 보고서 {len(details)}개 (question file and report differ)",
            file=sys.stderr,
        )
        return 1
    for kind, f in by_kind(details, rows).items():
        print(
            f"{kind:14s} n={f['n']:3d}  cited {f['cited']:.3f}  value {f['value']:.3f}  median quoted {f['median_quoted']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
