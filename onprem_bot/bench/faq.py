"""`onprem-bot bench faq`: match latency in a warm process with N FAQ entries.

Entries are real statute sentences turned into questions; probes are half entries reworded
(a particle dropped, an ending changed) and half unrelated sentences, so both the exact path
and the full scoring path are timed. Query encoding with the configured embedder is included in
the match times, and also timed alone (``query_encode_*``).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onprem_bot.bench.retrieval import percentile, statute_sentences
from onprem_bot.faq.matcher import FaqMatcher

BASELINE_LEXICAL_WEIGHT = 0.3
"""The matcher before the character n-grams and the learned scorer (morphemes 0.3, embedding 0.7)."""


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

    ``like`` is the installation's matcher: its weights, rule and learned scorer are used. The same
    queries are then timed on a baseline matcher (morphemes + embedding, plain rule).
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
            like.suggest_threshold,
            like.key_side,
        )
    matcher.build(faq)
    build_s = time.perf_counter() - started
    # the same-run baseline: morphemes + embedding under the plain rule, no characters, no scorer
    baseline = FaqMatcher(analyzer, embedder, lexical_weight=BASELINE_LEXICAL_WEIGHT)
    baseline.build(faq)
    queries = [e.question.replace("는 ", " ").replace("인가요?", "이에요?") for e in rng.sample(faq, probes // 2)]
    queries += [s[:50] + " 알려줘" for s in rng.sample(sentences, probes - len(queries))]
    for q in queries[:10]:
        matcher.match(q)
        baseline.match(q)
    times: list[float] = []
    base_times: list[float] = []
    for m, out in ((matcher, times), (baseline, base_times)):  # one after the other: each keeps its data in cache
        for q in queries:
            t = time.perf_counter()
            m.match(q)
            out.append(1000 * (time.perf_counter() - t))
    encode: list[float] = []  # the question's embedding alone (part of every match above)
    if embedder is not None:
        for q in queries:
            t = time.perf_counter()
            embedder.embed_query(q)
            encode.append(1000 * (time.perf_counter() - t))
    p95, base_p95 = percentile(times, 95), percentile(base_times, 95)
    return {
        "entries": matcher.size,
        "build_s": round(build_s, 2),
        "match_p50_ms": round(percentile(times, 50), 2),
        "match_p95_ms": round(p95, 2),
        "baseline_p50_ms": round(percentile(base_times, 50), 2),
        "baseline_p95_ms": round(base_p95, 2),
        "p95_vs_baseline": round(p95 / base_p95, 3) if base_p95 else None,
        "query_encode_p50_ms": round(percentile(encode, 50), 2) if encode else None,
        "query_encode_p95_ms": round(percentile(encode, 95), 2) if encode else None,
        "embedder": getattr(embedder, "name", None),
        "learned_scorer": matcher.scorer is not None,
        "key_side": matcher.key_side,
        "char_weight": matcher.char_weight,
    }
