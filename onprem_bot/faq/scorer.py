"""The learned FAQ decision: a logistic regression over :data:`onprem_bot.faq.features.FEATURES`.

``onprem-bot faq calibrate --write FILE`` fits it on the *tune* small-FAQ episodes of the
calibration data (:mod:`onprem_bot.eval.faq_episodes`: FAQs of 20, 50 and 200 entries with their
paraphrases, near-misses and off-topic questions) and chooses its two bars on cross-fitted scores
(each probe scored by a model that did not see its entry): the *direct* bar (``threshold``) and
the lower *suggestion* bar; the held-out episodes then report them. A scorer belongs to one
embedder (and mix of weights, and side the FAQ keys are embedded as): the dense feature means
something else under another embedder. One file holds a scorer per embedder;
:func:`load_scorer` takes the one for the running embedder, or none (the matcher then falls back
to the threshold/margin rule).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from onprem_bot.faq.features import FEATURES

log = logging.getLogger(__name__)

SCORER_VERSION = 3
DEFAULT_SCORER = Path(__file__).resolve().parents[1] / "data" / "faq_scorer.json"
"""The scorers fitted for the embedded embedders (``faq calibrate --write`` over ../shared/data)."""


@dataclass(frozen=True)
class LinearScorer:
    """Standardised features → logistic probability that the top candidate is the right entry."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    """A direct answer needs probability >= threshold (the direct bar)."""
    suggest_threshold: float
    """An entry is suggested (관련 FAQ) when its probability reaches this lower bar."""
    embedder: str
    lexical_weight: float
    char_weight: float = 0.0
    key_side: str = "passage"
    """How the FAQ keys were embedded: as ``passage`` or as ``query`` (e5's two prefixes)."""
    version: int = SCORER_VERSION

    def __post_init__(self) -> None:
        n = len(self.features)
        if not (len(self.mean) == len(self.scale) == len(self.weights) == n):
            raise ValueError(f"scorer: {n} features but {len(self.mean)}/{len(self.scale)}/{len(self.weights)} values")
        if not 0 <= self.suggest_threshold <= self.threshold <= 1:
            raise ValueError(
                f"scorer bars suggest={self.suggest_threshold}, direct={self.threshold}: need 0 <= suggest <= direct <= 1"
            )

    def probability(self, x: np.ndarray) -> float:
        """P(match) of one feature vector."""
        z = (np.asarray(x, dtype=np.float64) - np.asarray(self.mean)) / np.asarray(self.scale)
        return float(_sigmoid(float(z @ np.asarray(self.weights)) + self.bias))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (what :func:`save_scorer` writes)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinearScorer:
        """The scorer stored by :meth:`to_json`."""
        tuples = ("features", "mean", "scale", "weights")
        values: dict[str, Any] = {k: tuple(v) if k in tuples else v for k, v in data.items()}
        return cls(**values)


def scorer_embedder(embedder: str, lexical_weight: float, char_weight: float) -> str:
    """The embedder a scorer is tied to: ``embedder``, or ``none`` when the mix has no dense part."""
    return embedder if lexical_weight + char_weight < 1 else "none"


def _sigmoid(z: Any) -> Any:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 50) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression (Newton's method; bias not penalised)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = x.shape
    a = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = _sigmoid(a @ w)
        grad = a.T @ (p - y) + penalty * w
        hess = (a * (p * (1 - p))[:, None]).T @ a + np.diag(penalty) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w[:-1], float(w[-1])


def standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and scales (1 where a column is constant)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-12] = 1.0
    return mean, scale


def train(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Standardise ``x`` and fit: (mean, scale, weights, bias)."""
    mean, scale = standardise(x)
    weights, bias = fit_logistic((x - mean) / scale, y, l2)
    return mean, scale, weights, bias


def cross_fitted(x: np.ndarray, y: np.ndarray, groups: Sequence[Any], folds: int = 5, l2: float = 1.0) -> np.ndarray:
    """Probabilities for every row from models fitted without that row's group (an FAQ entry)."""
    distinct = sorted({str(g) for g in groups})
    fold_of = {g: i % folds for i, g in enumerate(distinct)}
    fold = np.array([fold_of[str(g)] for g in groups])
    out = np.zeros(len(y))
    for f in range(folds):
        test = fold == f
        if not test.any() or test.all():
            continue
        mean, scale, weights, bias = train(x[~test], y[~test], l2)
        out[test] = _sigmoid(((x[test] - mean) / scale) @ weights + bias)
    return out


def save_scorer(scorer: LinearScorer, path: Path) -> None:
    """Write ``scorer`` into the file at ``path`` (atomically), replacing the one for its embedder only."""
    records = _records(path) if path.is_file() else []
    records = [r for r in records if r.get("embedder") != scorer.embedder] + [scorer.to_json()]
    records.sort(key=lambda r: str(r.get("embedder")))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    data = {"version": SCORER_VERSION, "scorers": records}
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def _records(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if isinstance(data, dict) and isinstance(data.get("scorers"), list):
        return [r for r in data["scorers"] if isinstance(r, dict)]
    return []


def scorer_names(path: Path) -> list[str]:
    """The embedders the file at ``path`` holds a scorer for."""
    return [str(r.get("embedder")) for r in _records(path)]


def load_scorer(
    path: Path,
    embedder: str,
    lexical_weight: float,
    char_weight: float = 0.0,
    explicit: bool = True,
    key_side: str | None = None,
) -> LinearScorer | None:
    """The scorer in the file at ``path`` fitted for ``embedder`` and these weights, else None.

    ``key_side`` (None: any) must match too. Why not is logged: a warning for a file the
    administrator named (``explicit``), debug for the shipped default (another embedder simply
    means the rule decides; ``doctor`` says so).
    """
    level = logging.WARNING if explicit else logging.DEBUG
    extra = {"event": "faq_scorer_skipped", "path": str(path)}
    if not path.is_file():
        log.log(level, "FAQ scorer %s not found: using the threshold/margin rule", path, extra=extra)
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != SCORER_VERSION:
            log.log(level, "FAQ scorer %s is of another version: re-run `faq calibrate --write`", path, extra=extra)
            return None
        records = [r for r in data.get("scorers", []) if isinstance(r, dict) and r.get("embedder") == embedder]
        scorer = LinearScorer.from_json(records[0]) if records else None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        log.log(level, "FAQ scorer %s unreadable (%s): using the threshold/margin rule", path, exc, extra=extra)
        return None
    if scorer is None:
        log.log(
            level,
            "FAQ scorer %s has no scorer for embedder %s (it has %s): using the threshold/margin rule; "
            "run `onprem-bot faq calibrate --write FILE`",
            path,
            embedder,
            ", ".join(scorer_names(path)) or "none",
            extra=extra,
        )
        return None
    if scorer.features != FEATURES or scorer.version != SCORER_VERSION:
        log.log(level, "FAQ scorer %s is for other features: re-run `faq calibrate --write`", path, extra=extra)
        return None
    mine = (round(scorer.lexical_weight, 6), round(scorer.char_weight, 6))
    wanted = (round(lexical_weight, 6), round(char_weight, 6))
    if mine != wanted or (key_side is not None and key_side != scorer.key_side):
        log.log(
            level,
            "FAQ scorer %s for %s was fitted for (lexical_weight, char_weight, key_side) = %s, not %s: "
            "using the threshold/margin rule; re-run `onprem-bot faq calibrate --write`",
            path,
            embedder,
            (*mine, scorer.key_side),
            (*wanted, key_side),
            extra=extra,
        )
        return None
    return scorer
