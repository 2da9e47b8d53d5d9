"""Calibrating the FAQ threshold, margin and lexical weight on labelled questions.

Each probe is scored once per lexical weight (top-2 candidates); the decision rule
(:func:`onprem_bot.faq.matcher.decide`) is then replayed for every threshold and margin.
The chosen setting maximises paraphrase recall on the *tune* split subject to at most
``max_false`` false matches on near-miss and on off-topic probes (and wrong-entry matches);
it is reported on the *held-out* split, which took no part in the choice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from onprem_bot.faq.matcher import FaqMatcher, decide, exact_key

THRESHOLDS = tuple(round(x, 2) for x in np.arange(0.30, 0.96, 0.01))
MARGINS = (0.0, 0.02, 0.05, 0.08, 0.12)
WEIGHTS = (0.3, 0.5, 0.7, 1.0)


@dataclass(frozen=True)
class _Entry:
    id: Any
    question: str
    alternatives: tuple[str, ...]
    answer: str = ""


@dataclass(frozen=True)
class Scored:
    """One probe's top candidates (what the decision rule needs)."""

    gold: Any
    kind: str
    exact: Any
    top: Any
    score: float
    runner_up: float
    conflicts: tuple[str, ...]


def score_probes(matcher: FaqMatcher, probes: Sequence[Any]) -> list[Scored]:
    """Top-2 candidates for every probe under the matcher's current lexical weight."""
    out = []
    for p in probes:
        exact = matcher._exact.get(exact_key(p.text))
        cands = matcher.candidates(p.text, n=2)
        top = cands[0] if cands else None
        out.append(
            Scored(
                p.gold,
                p.kind,
                exact,
                top.entry_id if top else None,
                top.score if top else 0.0,
                cands[1].score if len(cands) > 1 else 0.0,
                top.conflicts if top else (),
            )
        )
    return out


def rates(scored: Sequence[Scored], threshold: float, margin: float, conflicts: bool = True) -> dict[str, float]:
    """Recall on paraphrases, wrong-entry rate, and false-match rates on near-miss/off-topic."""
    hits = {"paraphrase": 0, "wrong": 0, "near_miss": 0, "off_topic": 0}
    totals = {"paraphrase": 0, "near_miss": 0, "off_topic": 0}
    for s in scored:
        totals[s.kind] = totals.get(s.kind, 0) + 1
        if s.exact is not None:
            matched: Any = s.exact
        elif decide(s.score, s.runner_up, s.conflicts if conflicts else (), threshold, margin) == "score":
            matched = s.top
        else:
            matched = None
        if matched is None:
            continue
        if s.kind == "paraphrase":
            hits["paraphrase" if matched == s.gold else "wrong"] += 1
        else:
            hits[s.kind] = hits.get(s.kind, 0) + 1
    para = max(totals["paraphrase"], 1)
    return {
        "recall": hits["paraphrase"] / para,
        "wrong_entry": hits["wrong"] / para,
        "false_near_miss": hits["near_miss"] / max(totals["near_miss"], 1),
        "false_off_topic": hits["off_topic"] / max(totals["off_topic"], 1),
    }


def calibrate(
    analyzer: Any,
    embedder: Any,
    data: Any,
    max_false: float = 0.02,
    weights: Sequence[float] = WEIGHTS,
    progress: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Sweep weights × thresholds × margins on ``data.tune``; report the choice on ``data.heldout``."""
    entries = [_Entry(c.id, c.question, tuple(c.alternatives)) for c in data.faq]
    best: dict[str, Any] | None = None
    curves: dict[str, list[dict[str, float]]] = {}
    for weight in weights:
        progress(f"lexical_weight={weight}")
        matcher = FaqMatcher(analyzer, embedder if weight < 1 else None, lexical_weight=weight)
        matcher.build(entries)
        tune = score_probes(matcher, data.tune)
        heldout = score_probes(matcher, data.heldout)
        curve = []
        for threshold in THRESHOLDS:
            per_margin = [(m, rates(tune, threshold, m)) for m in MARGINS]
            ok = [(m, r) for m, r in per_margin if _safe(r, max_false)]
            margin, r = max(ok, key=lambda mr: mr[1]["recall"]) if ok else min(per_margin, key=lambda mr: _false(mr[1]))
            curve.append({"threshold": threshold, "margin": margin, **{k: round(v, 4) for k, v in r.items()}})
            if _safe(r, max_false) and (best is None or r["recall"] > best["tune"]["recall"]):
                best = {
                    "lexical_weight": weight,
                    "threshold": threshold,
                    "margin": margin,
                    "tune": r,
                    "heldout": rates(heldout, threshold, margin),
                    "heldout_without_conflict_check": rates(heldout, threshold, margin, conflicts=False),
                }
        curves[str(weight)] = curve
    return {"chosen": best, "max_false": max_false, "curves": curves}


def _false(r: dict[str, float]) -> float:
    return max(r["false_near_miss"], r["false_off_topic"], r["wrong_entry"])


def _safe(r: dict[str, float], max_false: float) -> bool:
    return _false(r) <= max_false
