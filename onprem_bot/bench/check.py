"""`onprem-bot bench check`: checker latency for ~300-character answers against 5 sources.

Answers are real statute sentences (rephrased, with their reference and ``[n]`` markers) packed to
about 300 characters; the sources are the article and its four neighbouring chunks. Cold: the
sources are seen for the first time (Mecab analysis included); warm: the same chunks again (the
checker caches analysed sources, as happens when questions hit the same articles). Every answer is
timed ``repeats`` times, cold and warm; the figures are the median and 95th percentile over all of
those runs, with the load average so that a figure taken on a busy machine can be told apart. The
checker with only its value checks (before the sentence judgement of issue 18.2) is timed in the same
loop: ``ratio_p95_to_values_only`` is what the sentence judgement costs, whatever the machine's speed.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from onprem_bot.bench.retrieval import percentile
from onprem_bot.checker import Checker, Source
from onprem_bot.checker.bars import load_bars
from onprem_bot.errors import OnpremBotError
from onprem_bot.eval.checker import load_documents, rephrase
from onprem_bot.ingest.chunking.base import split_sentences


def bench_cases(corpus: Path, answers: int, chars: int = 300, seed: int = 0) -> list[tuple[str, list[Source]]]:
    """``answers`` answers of about ``chars`` characters, each with 5 sources."""
    rng = random.Random(seed)
    docs = [d for d in load_documents(corpus, pdfs=False) if len(d) >= 5]
    if not docs:
        raise OnpremBotError(f"{corpus}: 조문이 5개 이상인 법령이 없습니다 (no statute with 5+ chunks)")
    out: list[tuple[str, list[Source]]] = []
    tries = 0
    while len(out) < answers and tries < answers * 20:
        tries += 1
        chunks = rng.choice(docs)
        i = rng.randrange(0, len(chunks) - 4)
        window = chunks[i : i + 5]
        sources = [Source(n, c.text, c.doc_title, c.article, c.location) for n, c in enumerate(window, start=1)]
        parts: list[str] = []
        for n, c in enumerate(window, start=1):
            body = c.text.split("\n", 1)[-1]
            for s in split_sentences(body):
                if sum(map(len, parts)) >= chars or len(s) > chars // 2:
                    break
                head = f"「{c.doc_title}」 {c.article}에 따르면, " if c.article and not parts else ""
                parts.append(head + rephrase(s, rng) + f" [{n}].")
        answer = " ".join(parts)
        if chars * 0.8 <= len(answer) <= chars * 1.5:
            out.append((answer, sources))
    return out


def run_check_benchmark(corpus: Path, answers: int, analyzer: Any, repeats: int = 3) -> dict[str, Any]:
    """Time the checker on ``answers`` answers, ``repeats`` times each (cold and warm source cache)."""
    cases = bench_cases(corpus, answers)
    if not cases:
        raise OnpremBotError(f"{corpus}: 300자 답변을 만들 수 없습니다 (no benchmark answers could be built)")
    checker = Checker(analyzer)
    checker.warm_up()
    values_only = Checker(analyzer, bars=replace(load_bars(None), checks=()))  # the checker before issue 18.2
    values_only.warm_up()
    old: list[float] = []
    load_before = _load()
    cold: list[float] = []
    warm: list[float] = []
    per_repeat: list[float] = []
    verdicts: dict[str, int] = {}
    for r in range(repeats):
        this_repeat = []
        for answer, sources in cases:
            values_only.clear_cache()
            t = time.perf_counter()
            values_only.run(answer, sources)
            old.append(1000 * (time.perf_counter() - t))
            checker.clear_cache()
            t = time.perf_counter()
            result = checker.run(answer, sources)
            this_repeat.append(1000 * (time.perf_counter() - t))
            if r == 0:
                verdicts[result.verdict] = verdicts.get(result.verdict, 0) + 1
            t = time.perf_counter()
            checker.run(answer, sources)
            warm.append(1000 * (time.perf_counter() - t))
        cold.extend(this_repeat)
        per_repeat.append(round(percentile(this_repeat, 50), 2))
    return {
        "answers": len(cases),
        "answer_chars_mean": round(sum(len(a) for a, _ in cases) / max(len(cases), 1), 1),
        "sources": 5,
        "repeats": repeats,
        "check_p50_ms": round(percentile(cold, 50), 2),
        "check_p95_ms": round(percentile(cold, 95), 2),
        "warm_p50_ms": round(percentile(warm, 50), 2),
        "warm_p95_ms": round(percentile(warm, 95), 2),
        "p50_per_repeat_ms": per_repeat,
        "values_only_p95_ms": round(percentile(old, 95), 2),
        "ratio_p95_to_values_only": round(percentile(cold, 95) / max(percentile(old, 95), 1e-9), 2),
        "target_ms": 50,
        "verdicts": verdicts,
        "cpus": os.cpu_count(),
        "load_avg_1m": [load_before, _load()],
    }


def _load() -> float | None:
    """The 1-minute load average (None where the system does not say)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None
