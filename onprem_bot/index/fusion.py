"""Rank fusion as pure functions: reciprocal-rank fusion and weighted normalised scores.

Inputs are mappings from a document key to a score (higher is better); outputs are
``(key, fused score)`` pairs, best first, ties broken by key for determinism.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

FUSION_METHODS = ("weighted", "rrf")


def ranks(scores: Mapping[K, float]) -> dict[K, int]:
    """1-based ranks by descending score (ties share order by key)."""
    ordered = sorted(scores, key=lambda k: (-scores[k], str(k)))
    return {k: i + 1 for i, k in enumerate(ordered)}


def reciprocal_rank_fusion(
    runs: Sequence[Mapping[K, float]], weights: Sequence[float] | None = None, k: int = 60
) -> list[tuple[K, float]]:
    """RRF: ``sum_i w_i / (k + rank_i(d))`` over the runs that contain ``d``.

    Raises ValueError when ``weights`` does not match ``runs`` or ``k`` is negative.
    """
    weights = _check_weights(runs, weights)
    if k < 0:
        raise ValueError(f"k={k}: must be >= 0")
    fused: dict[K, float] = {}
    for run, weight in zip(runs, weights, strict=True):
        for key, rank in ranks(run).items():
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
    return _sorted(fused)


def min_max(scores: Mapping[K, float]) -> dict[K, float]:
    """Scale scores to [0, 1]; all-equal scores become 1.0 (an empty mapping stays empty)."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo <= 1e-12:
        return {key: 1.0 for key in scores}
    return {key: (value - lo) / (hi - lo) for key, value in scores.items()}


def weighted_fusion(runs: Sequence[Mapping[K, float]], weights: Sequence[float] | None = None) -> list[tuple[K, float]]:
    """``sum_i w_i * minmax_i(d)``; a key missing from a run scores 0 there."""
    weights = _check_weights(runs, weights)
    fused: dict[K, float] = {}
    for run, weight in zip(runs, weights, strict=True):
        for key, value in min_max(run).items():
            fused[key] = fused.get(key, 0.0) + weight * value
    return _sorted(fused)


def _check_weights(runs: Sequence[Mapping[K, float]], weights: Sequence[float] | None) -> list[float]:
    if weights is None:
        return [1.0] * len(runs)
    if len(weights) != len(runs):
        raise ValueError(f"{len(weights)} weights for {len(runs)} runs")
    if any(w < 0 for w in weights):
        raise ValueError(f"weights={list(weights)}: must be >= 0")
    return [float(w) for w in weights]


def _sorted(fused: Mapping[K, float]) -> list[tuple[K, float]]:
    return sorted(fused.items(), key=lambda kv: (-kv[1], str(kv[0])))
