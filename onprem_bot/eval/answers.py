"""Answer quality on a question set: route mix, the gold article among the citations, the keyword score.

Keyword score (the seed teams' measure): per question ``m/n × 5`` for m of its n expected
keywords found in the answer; accuracy = total / (5 × questions with keywords).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from onprem_bot.eval.metrics import cites_gold, keyword_score


def evaluate_answers(
    pipeline: Any, rows: Sequence[dict[str, Any]], progress: Callable[[int, int], None] = lambda _i, _n: None
) -> dict[str, Any]:
    """Ask every question of ``rows`` and score the answers; per-question details included."""
    details = []
    for i, row in enumerate(rows, start=1):
        started = time.perf_counter()
        answer = pipeline.ask(row["question"]).as_json()
        seconds = time.perf_counter() - started
        gold = {k: row[k] for k in ("doc_title", "article") if row.get(k)}
        details.append(
            {
                "question": row["question"],
                "route": answer["route"],
                "verdict": answer["check"]["verdict"],
                "cites_gold": cites_gold(answer["citations"], gold) if gold else None,
                "keyword_score": keyword_score(answer["answer"], row.get("keywords") or []),
                "keywords": len(row.get("keywords") or []),
                "seconds": round(seconds, 2),
                "answer": answer["answer"],
            }
        )
        progress(i, len(rows))
    with_gold = [d for d in details if d["cites_gold"] is not None]
    with_keywords = [d for d in details if d["keywords"]]
    total = sum(d["keyword_score"] for d in with_keywords)
    durations = sorted(d["seconds"] for d in details)
    return {
        "questions": len(details),
        "routes": dict(Counter(d["route"] for d in details)),
        "verdicts": dict(Counter(d["verdict"] for d in details)),
        "gold_cited": round(sum(d["cites_gold"] for d in with_gold) / len(with_gold), 4) if with_gold else None,
        "keyword_total": round(total, 2),
        "keyword_max": 5 * len(with_keywords),
        "keyword_accuracy": round(total / (5 * len(with_keywords)), 4) if with_keywords else None,
        "seconds_p50": durations[len(durations) // 2] if durations else None,
        "details": details,
    }
