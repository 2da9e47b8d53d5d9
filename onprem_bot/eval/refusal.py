"""Fit and measure refusal (:mod:`onprem_bot.answerable`) on answerable vs unanswerable questions.

    python -m onprem_bot.eval.refusal --fit [--write]      # development sets: fit, cross-fitted figures
    python -m onprem_bot.eval.refusal --answerable A.jsonl --unanswerable U.jsonl   # report a frozen set

Uses the app of ``$ONPREM_BOT_HOME`` (its index and embedder). Fitting: a logistic regression over
:data:`onprem_bot.answerable.FEATURES`; the refusal threshold is the highest one that still keeps
at least ``1 - MAX_FALSE_REFUSAL`` of the answerable development questions, read off 5-fold
cross-fitted probabilities (each question scored by a model that did not see it).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from onprem_bot.answerable import DEFAULT_MODEL_FILE, FEATURES, AnswerabilityJudge, RefusalModel, write_refusal_model
from onprem_bot.eval.retrieval import read_questions

EVAL_DIR = Path(__file__).resolve().parents[1] / "data" / "eval"
DEV_ANSWERABLE = ("statutes_dev.jsonl", "statutes_answers.jsonl", "sample_30.jsonl")
DEV_UNANSWERABLE = ("unanswerable_dev.jsonl",)
MAX_FALSE_REFUSAL = 0.05
"""At most this share of answerable development questions may be refused (a wrong refusal costs an
employee an answer the documents hold; a wrong answer to an unanswerable question is checked later)."""
FOLDS = 5


def questions(paths: Sequence[Path]) -> list[str]:
    """The ``question`` of every row of the JSONL files ``paths`` (:func:`~onprem_bot.eval.retrieval.read_questions`)."""
    return [str(row["question"]) for path in paths for _, row in read_questions(path)]


def feature_matrix(app: Any, judge: AnswerabilityJudge, texts: Sequence[str], k: int) -> np.ndarray:
    """One row of features per question, over the app's hybrid top ``k``."""
    rows = [judge.features(q, app.retriever.run(q, k=k)) for q in texts]
    return np.asarray(rows, dtype=np.float64).reshape(len(texts), len(FEATURES))


def fit(x: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[RefusalModel, np.ndarray]:
    """The model on all rows and the cross-fitted probabilities of each row (``y``: 1 answerable)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    def model() -> Any:
        return LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)

    cross = np.zeros(len(y))
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(x, y):
        cross[test] = model().fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    threshold = choose_threshold(cross, y)
    full = model().fit(x, y)
    fitted = RefusalModel(
        embedder="",
        weights=tuple(float(w) for w in full.coef_[0]),
        bias=float(full.intercept_[0]),
        threshold=threshold,
        source=f"python -m onprem_bot.eval.refusal --fit: {int(y.sum())} answerable / {int((1 - y).sum())} "
        f"unanswerable development questions; threshold keeps >= {1 - MAX_FALSE_REFUSAL:.0%} answerable (cross-fitted)",
    )
    return fitted, cross


def choose_threshold(p: np.ndarray, y: np.ndarray, max_false: float = MAX_FALSE_REFUSAL) -> float:
    """The highest probability bar that refuses at most ``max_false`` of the answerable rows (pure)."""
    answerable = np.sort(p[y == 1])
    if answerable.size == 0:
        return 0.5
    allowed = int(np.floor(max_false * answerable.size))
    return float(answerable[allowed]) if allowed < answerable.size else 1.0


def rates(p: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, float]:
    """Refusal precision/recall (refused = unanswerable predicted) and the false-refusal rate."""
    refused = p < threshold
    unans = y == 0
    tp = int((refused & unans).sum())
    return {
        "refusal_precision": round(tp / max(1, int(refused.sum())), 4),
        "refusal_recall": round(tp / max(1, int(unans.sum())), 4),
        "false_refusal": round(int((refused & ~unans).sum()) / max(1, int((~unans).sum())), 4),
        "answerable": int((~unans).sum()),
        "unanswerable": int(unans.sum()),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="fit on the development sets")
    parser.add_argument("--write", action="store_true", help="store the fitted model in onprem_bot/data/refusal.json")
    parser.add_argument("--answerable", type=Path, nargs="*", default=[])
    parser.add_argument("--unanswerable", type=Path, nargs="*", default=[])
    parser.add_argument("-k", type=int, default=5)
    args = parser.parse_args(argv)

    from onprem_bot.app import build_app
    from onprem_bot.config import load_settings

    app = build_app(load_settings())
    judge = app.pipeline.judge
    ans = args.answerable or [EVAL_DIR / n for n in DEV_ANSWERABLE]
    una = args.unanswerable or [EVAL_DIR / n for n in DEV_UNANSWERABLE]
    answerable, unanswerable = questions(ans), questions(una)
    x = np.vstack([feature_matrix(app, judge, answerable, args.k), feature_matrix(app, judge, unanswerable, args.k)])
    y = np.concatenate([np.ones(len(answerable)), np.zeros(len(unanswerable))])
    report: dict[str, Any] = {"embedder": app.embedder.name, "features": FEATURES}
    if args.fit:
        model, cross = fit(x, y)
        model = RefusalModel(**{**model.__dict__, "embedder": app.embedder.name})
        report["model"] = {"weights": model.weights, "bias": model.bias, "threshold": model.threshold}
        report["cross_fitted"] = rates(cross, y, model.threshold)
        if args.write:
            write_refusal_model(DEFAULT_MODEL_FILE, model)
            report["written"] = str(DEFAULT_MODEL_FILE)
    else:
        model = judge.model
        if model is None:
            raise SystemExit(
                f"임베딩 {app.embedder.name}용 거절 모델이 없습니다 (no refusal model): --fit --write first"
            )
        p = np.asarray([model.probability(row) for row in x])
        report["figures"] = rates(p, y, model.threshold)
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
