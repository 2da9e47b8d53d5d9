"""Calibrating the FAQ matcher on labelled questions: the rule's settings and the learned scorer.

Each probe is scored once per lexical weight (top candidates, with the scorer's features); the
rule (:func:`onprem_bot.faq.matcher.decide`) is then replayed for every threshold and margin, and
a :class:`~onprem_bot.faq.scorer.LinearScorer` is fitted on the tune probes. Both choices
maximise paraphrase recall on the *tune* split subject to at most ``max_false`` false matches on
near-miss and on off-topic probes (and wrong-entry matches) and are reported on the *held-out*
split, which took no part in them. The scorer's threshold is chosen on cross-fitted
probabilities (each tune probe scored by a model fitted without its entry).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from onprem_bot.faq.features import FEATURES
from onprem_bot.faq.matcher import FaqMatcher, exact_key
from onprem_bot.faq.scorer import LinearScorer, cross_fitted, scorer_embedder, train

THRESHOLDS = tuple(round(x, 2) for x in np.arange(0.30, 0.96, 0.01))
MARGINS = (0.0, 0.02, 0.05, 0.08, 0.12)
LEARNED_MARGINS = (0.0, 0.02, 0.05)
WEIGHTS: tuple[tuple[float, float], ...] = ((0.2, 0.4), (0.3, 0.0), (0.5, 0.0), (1.0, 0.0))
"""(lexical_weight, char_weight) pairs; the rest of each mix is the dense cosine."""


@dataclass(frozen=True)
class _Entry:
    id: Any
    question: str
    alternatives: tuple[str, ...]
    answer: str = ""


@dataclass(frozen=True)
class Scored:
    """One probe's top candidates (what the decision rules need)."""

    gold: Any
    kind: str
    exact: Any
    top: Any
    score: float
    runner_up: float
    conflicts: tuple[str, ...]
    source: str = ""
    features: np.ndarray | None = None


def score_probes(matcher: FaqMatcher, probes: Sequence[Any]) -> list[Scored]:
    """Top candidates of every probe under the matcher's lexical weight, with the scorer's features."""
    out = []
    for p in probes:
        exact = matcher._exact.get(exact_key(p.text))
        cands = matcher.candidates(p.text, n=2, features=True)
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
                getattr(p, "source", ""),
                top.features if top else None,
            )
        )
    return out


class _Table:
    """The scored probes as arrays, so that a decision rule is replayed for many settings at once."""

    def __init__(self, scored: Sequence[Scored]) -> None:
        self.kind = np.array([s.kind for s in scored])
        self.source = np.array([s.source for s in scored])
        self.exact = np.array([s.exact is not None for s in scored])
        self.right = np.array([s.kind == "paraphrase" and s.top == s.gold for s in scored])
        self.exact_right = np.array([s.exact is not None and s.exact == s.gold for s in scored])
        self.score = np.array([s.score for s in scored])
        self.margin = self.score - np.array([s.runner_up for s in scored])
        self.conflict = np.array([bool(s.conflicts) for s in scored])
        self.number = np.array([any(c.startswith("number") for c in s.conflicts) for s in scored])

    def rates(self, hit: np.ndarray) -> dict[str, float]:
        """Recall, wrong-entry and false-match rates when the top candidate is taken where ``hit``."""
        para = self.kind == "paraphrase"
        matched_right = np.where(self.exact, self.exact_right, hit & self.right)
        matched_wrong = np.where(self.exact, ~self.exact_right, hit & ~self.right)
        n_para = max(int(para.sum()), 1)
        out = {
            "recall": float((matched_right & para).sum()) / n_para,
            "wrong_entry": float((matched_wrong & para).sum()) / n_para,
        }
        for kind, name in (("near_miss", "false_near_miss"), ("off_topic", "false_off_topic")):
            mask = self.kind == kind
            out[name] = float(((self.exact | hit) & mask).sum()) / max(int(mask.sum()), 1)
        return out

    def by_source(self, hit: np.ndarray) -> dict[str, dict[str, float | int]]:
        """Per source: paraphrase recall and right-entry-first rate, or the false-match rate."""
        out: dict[str, dict[str, float | int]] = {}
        got = np.where(self.exact, self.exact_right, hit & self.right)
        for source in sorted(set(self.source.tolist())):
            mask = self.source == source
            para = mask & (self.kind == "paraphrase")
            if para.any():
                out[source] = {
                    "paraphrases": int(para.sum()),
                    "recall": round(float(got[para].mean()), 4),
                    "top1_right": round(float((self.right | self.exact_right)[para].mean()), 4),
                }
            else:
                out[source] = {
                    "negatives": int(mask.sum()),
                    "false_match": round(float((self.exact | hit)[mask].mean()), 4),
                }
        return out

    def rule(self, threshold: float, margin: float, conflicts: bool = True) -> np.ndarray:
        """Where the threshold/margin rule takes the top candidate."""
        hit = (self.score >= threshold) & (self.margin >= margin)
        return hit & ~self.conflict if conflicts else hit

    def learned(self, probability: np.ndarray, threshold: float, margin: float) -> np.ndarray:
        """Where the learned rule takes the top candidate."""
        return (probability >= threshold) & (self.margin >= margin) & ~self.number


def rates(scored: Sequence[Scored], threshold: float, margin: float, conflicts: bool = True) -> dict[str, float]:
    """Recall on paraphrases, wrong-entry rate, and false-match rates on near-miss/off-topic (the rule)."""
    table = _Table(scored)
    return table.rates(table.rule(threshold, margin, conflicts))


def fit_scorer(
    tune: Sequence[Scored],
    heldout: Sequence[Scored],
    embedder: str,
    mix: tuple[float, float],
    max_false: float,
) -> dict[str, Any] | None:
    """Fit the learned scorer on ``tune`` for ``mix`` = (lexical_weight, char_weight); its
    threshold/margin from cross-fitted probabilities."""
    rows = [s for s in tune if s.features is not None and s.exact is None]
    if len(rows) < 20 or len({s.top == s.gold for s in rows}) < 2:
        return None
    x = np.vstack([s.features for s in rows if s.features is not None])
    y = np.array([float(s.kind == "paraphrase" and s.top == s.gold) for s in rows])
    groups = [s.gold if s.gold is not None else s.top for s in rows]
    oof = cross_fitted(x, y, groups)
    table = _Table(tune)
    probability = np.ones(len(tune))  # exact matches never reach the scorer
    probability[[i for i, s in enumerate(tune) if s.features is not None and s.exact is None]] = oof
    best: tuple[float, float, dict[str, float]] | None = None
    for threshold in np.unique(np.round(np.quantile(oof, np.linspace(0, 1, 1001)), 4)):
        for margin in LEARNED_MARGINS:
            r = table.rates(table.learned(probability, float(threshold), margin))
            if _safe(r, max_false) and (best is None or r["recall"] > best[2]["recall"]):
                best = (float(threshold), margin, r)
    if best is None:
        return None
    mean, scale, weights, bias = train(x, y)
    scorer = LinearScorer(
        FEATURES,
        tuple(mean.tolist()),
        tuple(scale.tolist()),
        tuple(weights.tolist()),
        bias,
        best[0],
        best[1],
        embedder,
        mix[0],
        mix[1],
    )
    held = _Table(heldout)
    held_probability = np.array([scorer.probability(s.features) if s.features is not None else 0.0 for s in heldout])
    hit = held.learned(held_probability, scorer.threshold, scorer.margin)
    return {
        "scorer": scorer,
        "lexical_weight": mix[0],
        "char_weight": mix[1],
        "threshold": scorer.threshold,
        "margin": scorer.margin,
        "tune_cross_fitted": best[2],
        "heldout": held.rates(hit),
        "heldout_by_source": held.by_source(hit),
    }


def calibrate(
    analyzer: Any,
    embedder: Any,
    data: Any,
    max_false: float = 0.02,
    weights: Sequence[tuple[float, float]] = WEIGHTS,
    progress: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Sweep weights × thresholds × margins on ``data.tune`` and fit the scorer; report on ``data.heldout``."""
    entries = [_Entry(c.id, c.question, tuple(c.alternatives)) for c in data.faq]
    best: dict[str, Any] | None = None
    learned: dict[str, Any] | None = None
    curves: dict[str, list[dict[str, float]]] = {}
    name = str(getattr(embedder, "name", type(embedder).__name__))
    rule_at: dict[str, dict[str, Any]] = {}
    for lexical_weight, char_weight in weights:
        label = f"{lexical_weight}:{char_weight}"
        progress(f"lexical_weight={lexical_weight} char_weight={char_weight}")
        uses_dense = lexical_weight + char_weight < 1
        matcher = FaqMatcher(
            analyzer,
            embedder if uses_dense else None,
            lexical_weight=lexical_weight,
            char_weight=char_weight,
        )
        matcher.build(entries)
        tune = score_probes(matcher, data.tune)
        heldout = score_probes(matcher, data.heldout)
        table, held = _Table(tune), _Table(heldout)
        curve = []
        for threshold in THRESHOLDS:
            per_margin = [(m, table.rates(table.rule(threshold, m))) for m in MARGINS]
            ok = [(m, r) for m, r in per_margin if _safe(r, max_false)]
            margin, r = max(ok, key=lambda mr: mr[1]["recall"]) if ok else min(per_margin, key=lambda mr: _false(mr[1]))
            curve.append({"threshold": threshold, "margin": margin, **{k: round(v, 4) for k, v in r.items()}})
            if _safe(r, max_false) and (label not in rule_at or r["recall"] > rule_at[label]["tune"]["recall"]):
                hit = held.rule(threshold, margin)
                rule_at[label] = {
                    "lexical_weight": lexical_weight,
                    "char_weight": char_weight,
                    "threshold": threshold,
                    "margin": margin,
                    "tune": r,
                    "heldout": held.rates(hit),
                    "heldout_without_conflict_check": held.rates(held.rule(threshold, margin, conflicts=False)),
                    "heldout_by_source": held.by_source(hit),
                }
        curves[label] = curve
        if label in rule_at and (best is None or rule_at[label]["tune"]["recall"] > best["tune"]["recall"]):
            best = rule_at[label]
        fitted = fit_scorer(
            tune, heldout, scorer_embedder(name, lexical_weight, char_weight), (lexical_weight, char_weight), max_false
        )
        if fitted and (
            learned is None or fitted["tune_cross_fitted"]["recall"] > learned["tune_cross_fitted"]["recall"]
        ):
            fitted["rule"] = rule_at.get(label)  # the rule's threshold/margin for the same weights
            learned = fitted
    return {"chosen": best, "learned": learned, "max_false": max_false, "curves": curves}


def _false(r: dict[str, float]) -> float:
    return max(r["false_near_miss"], r["false_off_topic"], r["wrong_entry"])


def _safe(r: dict[str, float], max_false: float) -> bool:
    return _false(r) <= max_false
