"""Follow-up questions in context: the conversation sets, and single-turn sets left untouched.

    python -m onprem_bot.eval.conversations onprem_bot/data/eval/conversations_dev.jsonl [--json OUT]
    python -m onprem_bot.eval.conversations --single onprem_bot/data/eval/kisa_dev.jsonl

A conversation line is ``{"id", "turns": [{"question", "doc_title", "article", "page"?, "followup",
"lookalike"?, "keywords"?}, …]}``. Every turn is asked with the turns before it as history (their
questions, final answers and citations, as the chat passes them) and, in the same run, alone. A turn
counts as cited when an answer's citation names its document and article (or covers its page; any
labelled 부칙 for ``부칙``, see :func:`onprem_bot.eval.metrics.cites_gold`). Reported per group:
follow-ups, turns that stand alone (first turns and look-alikes), look-alikes, and whether the
standalone turns were left unchanged; plus the contextualiser's time per request (p50/p95 ms).

``--single``: each question of a single-turn set is asked after the previous question of the set
as history; it must come back unchanged (no rewrite), which makes its results identical to asking
it alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

from onprem_bot.errors import OnpremBotError
from onprem_bot.eval.metrics import cites_gold
from onprem_bot.types import Answer, Turn


def read_conversations(path: Path) -> list[dict[str, Any]]:
    """The conversations of a JSONL file (one-line error naming the line for a bad one)."""
    rows: list[dict[str, Any]] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise OnpremBotError(f"{path}:{n}: JSON이 아닙니다 (not JSON: {exc})") from None
        if not isinstance(row, dict) or not isinstance(row.get("turns"), list) or not row["turns"]:
            raise OnpremBotError(f"{path}:{n}: turns 목록이 없습니다 (no turns)")
        rows.append(row)
    return rows


def _gold(turn: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(turn[k]) for k in ("doc_title", "article", "page") if turn.get(k) not in (None, "")}


def _cited(answer: Answer, turn: Mapping[str, Any]) -> bool:
    return cites_gold([c.__dict__ for c in answer.citations], _gold(turn))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0..1) of ``values`` by nearest rank (0.0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def run_conversations(pipeline: Any, conversations: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Ask every turn with its history and alone; the per-turn details and the grouped rates."""
    details: list[dict[str, Any]] = []
    times: list[float] = []
    retrieval: list[float] = []  # the baseline the rewrite's time is read against, same requests
    for conv in conversations:
        history: list[Turn] = []
        for i, turn in enumerate(conv["turns"]):
            answer = pipeline.ask(turn["question"], history)
            alone = pipeline.ask(turn["question"]) if history else answer
            if history:
                times.append(float((answer.timings or {}).get("contextualise_ms", 0.0)))
                retrieval.append(float((answer.timings or {}).get("retrieval_ms", 0.0)))
            details.append(
                {
                    "id": conv.get("id"),
                    "turn": i + 1,
                    "question": turn["question"],
                    "followup": bool(turn.get("followup")),
                    "lookalike": bool(turn.get("lookalike")),
                    "standalone_question": answer.standalone_question,
                    "cited": _cited(answer, turn),
                    "cited_alone": _cited(alone, turn),
                    "keywords_missing": [
                        k
                        for k in turn.get("keywords") or []
                        if "".join(k.split()) not in "".join(answer.answer.split())
                    ],
                }
            )
            history.append(Turn(turn["question"], answer.answer, answer.citations, answer.standalone_question))
    return {
        "groups": groups(details),
        "contextualise_ms": _times(times),
        "retrieval_ms": _times(retrieval),
        "details": details,
    }


def _times(times: Sequence[float]) -> dict[str, float]:
    return {"p50": round(percentile(times, 0.5), 3), "p95": round(percentile(times, 0.95), 3), "n": len(times)}


def groups(details: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Cited rates with and without history for follow-ups, standalone turns and look-alikes."""
    picks = {
        "followup": [d for d in details if d["followup"]],
        "standalone": [d for d in details if not d["followup"]],
        "lookalike": [d for d in details if d["lookalike"]],
        "all": list(details),
    }
    out: dict[str, dict[str, float]] = {}
    for name, rows in picks.items():
        n = len(rows) or 1
        out[name] = {
            "n": len(rows),
            "cited": round(sum(d["cited"] for d in rows) / n, 4),
            "cited_alone": round(sum(d["cited_alone"] for d in rows) / n, 4),
            "rewritten": round(sum(d["standalone_question"] is not None for d in rows) / n, 4),
        }
    return out


def run_single(pipeline: Any, questions: Sequence[str]) -> dict[str, Any]:
    """Each question after the previous one as history: how many come back unchanged (the rest listed)."""
    changed: list[dict[str, str]] = []
    times: list[float] = []
    contextualiser = pipeline.contextualiser
    for previous, question in pairwise(questions):
        if contextualiser is None:
            break
        t = time.perf_counter()
        found = contextualiser.run(question, [Turn(previous)])
        times.append(1000 * (time.perf_counter() - t))
        if found.rewritten:
            changed.append({"question": question, "searched": found.question})
    n = max(len(questions) - 1, 1)
    return {
        "questions": n,
        "unchanged": round(1 - len(changed) / n, 4),
        "changed": changed,
        "contextualise_ms": _times(times),
    }


def main(argv: list[str] | None = None) -> int:
    from onprem_bot.app import build_app
    from onprem_bot.config import load_settings
    from onprem_bot.eval.retrieval import read_questions

    parser = argparse.ArgumentParser(prog="python -m onprem_bot.eval.conversations", description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--single", action="store_true", help="a single-turn set: questions must stay unchanged")
    parser.add_argument("--json", dest="json_out", type=Path)
    args = parser.parse_args(argv)
    try:
        app = build_app(load_settings())
        if args.single:
            report = run_single(app.pipeline, [row["question"] for _, row in read_questions(args.dataset)])
            print(
                f"unchanged {report['unchanged']:.3f} of {report['questions']}; contextualise ms {report['contextualise_ms']}"
            )
            for c in report["changed"]:
                print(f"  changed: {c['question']} → {c['searched']}")
        else:
            report = run_conversations(app.pipeline, read_conversations(args.dataset))
            for name, g in report["groups"].items():
                print(
                    f"{name:10s} n={g['n']:3d}  cited {g['cited']:.3f} (alone {g['cited_alone']:.3f})  rewritten {g['rewritten']:.3f}"
                )
            print(
                f"contextualise ms {report['contextualise_ms']}; retrieval ms {report['retrieval_ms']} (same requests)"
            )
    except OnpremBotError as exc:
        print(f"오류 (error): {exc}", file=sys.stderr)
        return 1
    if args.json_out:
        args.json_out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
