"""`onprem-bot bench faq`: match latency in a warm process with N FAQ entries.

Entries are real statute sentences turned into questions; probes are half entries reworded
(a particle dropped, an ending changed) and half unrelated sentences, so both the exact path
and the full scoring path are timed. Query encoding with the configured embedder is included.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onprem_bot.bench.retrieval import percentile, statute_sentences
from onprem_bot.faq.matcher import FaqMatcher


@dataclass(frozen=True)
class _Entry:
    id: int
    question: str
    answer: str
    alternatives: tuple[str, ...] = ()


def run_faq_benchmark(
    corpus: Path, entries: int, probes: int, analyzer: Any, embedder: Any, like: FaqMatcher | None = None
) -> dict[str, Any]:
    """Build a matcher over ``entries`` questions and time ``probes`` matches.

    ``like`` is the installation's matcher: its weight, rule and learned scorer are used.
    """
    sentences = statute_sentences(corpus)
    rng = random.Random(0)
    picked = [s[:60].rstrip(" ,.") + "인가요?" for s in rng.sample(sentences, min(entries, len(sentences)))]
    while len(picked) < entries:  # more entries than sentences: combine two fragments
        a, b = rng.sample(sentences, 2)
        picked.append(f"{a[:30]} {b[:30]}인가요?")
    faq = [_Entry(i, q, "답변") for i, q in enumerate(dict.fromkeys(picked))]
    started = time.perf_counter()
    if like is None:
        matcher = FaqMatcher(analyzer, embedder)
    else:
        matcher = FaqMatcher(
            analyzer,
            embedder,
            like.threshold,
            like.margin,
            like.lexical_weight,
            like.check_conflicts,
            like.scorer,
            like.char_weight,
        )
    matcher.build(faq)
    build_s = time.perf_counter() - started
    queries = [e.question.replace("는 ", " ").replace("인가요?", "이에요?") for e in rng.sample(faq, probes // 2)]
    queries += [s[:50] + " 알려줘" for s in rng.sample(sentences, probes - len(queries))]
    for q in queries[:3]:
        matcher.match(q)
    times = []
    for q in queries:
        t = time.perf_counter()
        matcher.match(q)
        times.append(1000 * (time.perf_counter() - t))
    return {
        "entries": matcher.size,
        "build_s": round(build_s, 2),
        "match_p50_ms": round(percentile(times, 50), 2),
        "match_p95_ms": round(percentile(times, 95), 2),
        "embedder": getattr(embedder, "name", None),
        "learned_scorer": matcher.scorer is not None,
    }
