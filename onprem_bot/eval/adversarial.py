"""The checker on adversarial answers: recall on the wrong ones per label, false flags on the correct.

``python -m onprem_bot.eval.adversarial FILE [--embedder none|hash|e5|use] [--fit [--write]] [--json]``

Each row of FILE (JSON lines): ``question``, ``sources`` (``[{doc_title, article, text}]``, numbered
``[1]``, ``[2]``… in order), ``answer`` (with ``[n]`` markers) and ``label`` (``correct`` or the kind
of fault: ``off_topic``, ``wrong_sentence_number``, ``negation``, ``condition_dropped``,
``exception_as_rule``, ``unsupported``). A wrong answer is caught when the verdict is not ``pass``.

``--fit`` measures every feature once and picks the grounding bars (:mod:`onprem_bot.checker.bars`)
with the highest mean recall over the labels at <= 3% false flags on the correct rows; ``--write``
stores them for the embedder in ``onprem_bot/data/grounding_bars.json`` (``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from onprem_bot.checker import Checker, Source
from onprem_bot.checker.bars import BARS_FILE, NO_EMBEDDER, GroundingBars, load_bars, write_bars
from onprem_bot.checker.support import Judgement, reasons

MAX_FALSE_FLAGS = 0.03
NEW_KINDS = ("unsupported", "off_topic")


@dataclass
class Row:
    """One answer, measured: its label, whether the value checks flag it, and the grounding features."""

    label: str
    numbers_flag: bool
    judgements: list[Judgement]
    skipped: set[int]
    not_answered: bool
    topic: float


def load_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSON-lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sources_of(row: dict[str, Any]) -> list[Source]:
    """The row's sources as the checker's, numbered from 1."""
    out = []
    for n, s in enumerate(row.get("sources") or [], start=1):
        article = s.get("article") or None
        out.append(Source(n, str(s.get("text") or ""), str(s.get("doc_title") or ""), article, article or ""))
    return out


def measure(checker: Checker, rows: Sequence[dict[str, Any]]) -> list[Row]:
    """Every feature of every row (the cosine too, when the checker has an embedder)."""
    out = []
    for row in rows:
        result = checker.run(row["answer"], sources_of(row), row.get("question") or "", measure=True)
        numbers = [f for f in result.findings if f["kind"] not in NEW_KINDS]
        starts = {int(str(f["start"])) for f in numbers if f["supported"] is False}
        g = result.grounding
        skipped = {
            k
            for k, j in enumerate(g.judgements)
            if any(j.sentence.start <= s < j.sentence.start + len(j.sentence.text) for s in starts)
        }
        out.append(
            Row(
                str(row.get("label") or "correct"),
                any(f["supported"] is False for f in numbers),
                g.judgements,
                skipped,
                any(r.startswith("not_answered") for r in g.off_topic),
                g.topic,
            )
        )
    return out


def flagged(row: Row, bars: GroundingBars) -> bool:
    """Whether the checker under ``bars`` would not pass the row (the checker's own rules)."""
    if row.numbers_flag:
        return True
    if any(reasons(j, bars) for k, j in enumerate(row.judgements) if k not in row.skipped):
        return True
    return (bars.on("asked") and row.not_answered) or (bars.on("topic") and row.topic < bars.topic)


def report(rows: Sequence[Row], bars: GroundingBars) -> dict[str, Any]:
    """Recall per label on the wrong rows, the false-flag rate on the correct ones."""
    labels: dict[str, list[bool]] = {}
    for r in rows:
        labels.setdefault(r.label, []).append(flagged(r, bars))
    correct = labels.pop("correct", [])
    recall = {k: {"n": len(v), "recall": round(sum(v) / len(v), 3)} for k, v in sorted(labels.items())}
    wrong = [x for v in labels.values() for x in v]
    return {
        "rows": len(rows),
        "recall": recall,
        "recall_overall": round(sum(wrong) / len(wrong), 3) if wrong else None,
        "correct": len(correct),
        "false_flags": round(sum(correct) / len(correct), 3) if correct else None,
    }


def fit(rows: Sequence[Row], base: GroundingBars) -> GroundingBars:
    """The bars with the best mean recall over labels at <= 3% false flags (ties: fewer false flags); where
    the value checks alone flag more correct rows than that, at most 1.5 points above their rate."""
    cosines = sorted({round(j.cosine, 3) for r in rows for j in r.judgements if j.cosine is not None})
    cosine_grid: list[float | None] = [None, *cosines[:: max(1, len(cosines) // 12)]]
    checks = ("support", "negation", "condition", "value", "asked", "topic")
    floor = report(rows, replace(base, checks=()))["false_flags"] or 0.0  # the value checks' own false flags
    limit = max(MAX_FALSE_FLAGS, floor + MAX_FALSE_FLAGS / 2)
    best: tuple[float, float] | None = None
    chosen = replace(base, checks=())
    for ov, cos, topic, judged, gap in itertools.product(
        [x / 20 for x in range(1, 17)],
        cosine_grid,
        (0.34, 0.5, 0.67, 0.75, 1.0),
        (0.25, 0.34, 0.5),
        (0.3, 0.5, 0.7, 2.0),
    ):
        bars = replace(base, overlap=ov, cosine=cos, topic=topic, judged=judged, value_gap=gap, checks=checks)
        rep = report(rows, bars)
        if (rep["false_flags"] or 0.0) > limit:
            continue
        score = _score(rep)
        if best is None or score > best:
            best, chosen = score, bars
    for check in checks:  # switch off a judgement that only adds false flags
        fewer = replace(chosen, checks=tuple(c for c in chosen.checks if c != check))
        rep = report(rows, fewer)
        if (rep["false_flags"] or 0.0) <= limit and best is not None and _score(rep) >= best:
            best, chosen = _score(rep), fewer
    return chosen


def _score(rep: dict[str, Any]) -> tuple[float, float]:
    mean = sum(v["recall"] for v in rep["recall"].values()) / max(1, len(rep["recall"]))
    return mean, -(rep["false_flags"] or 0.0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m onprem_bot.eval.adversarial", description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--embedder", default=NO_EMBEDDER, help="none (overlap only), hash, e5, use")
    parser.add_argument("--fit", action="store_true", help="fit the bars on FILE")
    parser.add_argument("--write", action="store_true", help="store the fitted bars")
    parser.add_argument("--out", type=Path, default=BARS_FILE)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from onprem_bot.korean.analyzer import KoreanAnalyzer

    embedder = None
    if args.embedder != NO_EMBEDDER:
        from onprem_bot.embed.backends import make_embedder

        embedder = make_embedder(args.embedder)
    name = embedder.name if embedder is not None else NO_EMBEDDER
    bars = load_bars(None if embedder is None else name)
    rows = measure(Checker(KoreanAnalyzer(), embedder=embedder, bars=bars), load_rows(args.file))
    if args.fit:
        bars = replace(fit(rows, bars), embedder=name, source=f"fitted on {args.file.name}")
    out = report(rows, bars)
    if args.fit:
        bars = replace(bars, rows=out["rows"], recall=out["recall_overall"], false_flags=out["false_flags"])
        out["bars"] = {k: v for k, v in bars.__dict__.items()}
        if args.write:
            write_bars(args.out, bars)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        for label, v in out["recall"].items():
            print(f"{label:24s} n={v['n']:3d} recall={v['recall']:.3f}")
        print(f"{'overall':24s} recall={out['recall_overall']}  false flags={out['false_flags']} (n={out['correct']})")
        if "bars" in out:
            print("bars:", json.dumps(out["bars"], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
