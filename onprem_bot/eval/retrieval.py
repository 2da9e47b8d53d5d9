"""Retrieval evaluation: BM25 alone, dense alone and hybrid, side by side, on a JSONL set."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from onprem_bot.errors import OnpremBotError
from onprem_bot.eval.metrics import first_relevant_rank, hit_at, mrr_at

GOLD_KEYS = ("doc_title", "article", "chunk_text_contains")
CUTOFFS = (1, 3, 5, 10)


def read_questions(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """``(line number, row)`` of a JSONL question set; every row needs a ``question``. Errors name the line."""
    if not path.is_file():
        raise OnpremBotError(f"평가 파일이 없습니다 (dataset not found): {path}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise OnpremBotError(f"{path}: UTF-8이 아닙니다 (not UTF-8)") from None
    rows = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise OnpremBotError(f"{path}:{n}: JSON 형식 오류 (invalid JSON: {exc.msg})") from None
        if not isinstance(row, dict) or not str(row.get("question", "")).strip():
            raise OnpremBotError(f"{path}:{n}: question이 없습니다 (missing 'question')")
        rows.append((n, row))
    if not rows:
        raise OnpremBotError(f"평가 파일이 비어 있습니다 (empty dataset): {path}")
    return rows


def read_dataset(path: Path) -> list[dict[str, str]]:
    """Rows of a JSONL dataset; each needs ``question`` and at least one of GOLD_KEYS."""
    rows = []
    for n, row in read_questions(path):
        if not any(row.get(k) for k in GOLD_KEYS):
            raise OnpremBotError(f"{path}:{n}: 정답 정보가 없습니다 (need one of {', '.join(GOLD_KEYS)})")
        rows.append(row)
    return rows


def evaluate_retrieval(
    retriever: Any, rows: Sequence[dict[str, str]], modes: Sequence[str] = ("bm25", "dense", "hybrid")
) -> dict[str, Any]:
    """hit@1/3/5/10 and MRR@10 per mode, plus the per-question ranks and mean latency."""
    report: dict[str, Any] = {"questions": len(rows), "modes": {}}
    for mode in modes:
        ranks: list[int | None] = []
        started = time.perf_counter()
        for row in rows:
            hits = retriever.run(row["question"], k=max(CUTOFFS), mode=mode)
            ranks.append(first_relevant_rank([h.chunk for h in hits], row))
        elapsed = time.perf_counter() - started
        report["modes"][mode] = {
            **{f"hit@{k}": round(hit_at(ranks, k), 4) for k in CUTOFFS},
            "mrr@10": round(mrr_at(ranks, 10), 4),
            "mean_ms": round(1000 * elapsed / len(rows), 2),
            "ranks": ranks,
        }
    return report


def format_table(report: dict[str, Any]) -> str:
    """A console table, one row per mode."""
    head = f"{'mode':<8}" + "".join(f"{'hit@' + str(k):>8}" for k in CUTOFFS) + f"{'MRR@10':>8}{'ms/q':>8}"
    lines = [f"질문 {report['questions']}개", head]
    for mode, m in report["modes"].items():
        lines.append(
            f"{mode:<8}"
            + "".join(f"{m[f'hit@{k}']:>8.3f}" for k in CUTOFFS)
            + f"{m['mrr@10']:>8.3f}{m['mean_ms']:>8.1f}"
        )
    return "\n".join(lines)
