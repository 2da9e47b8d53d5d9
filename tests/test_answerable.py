"""Refusal of questions the documents do not cover (onprem_bot.answerable, onprem_bot.eval.refusal)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from onprem_bot.answerable import (
    FEATURES,
    AnswerabilityJudge,
    RefusalModel,
    features,
    idf,
    load_refusal_model,
    write_refusal_model,
)
from onprem_bot.app import App
from onprem_bot.checker import Checker
from onprem_bot.config import AnswerSettings
from onprem_bot.eval.refusal import choose_threshold, rates
from onprem_bot.llm.fake import ScriptedLLM
from onprem_bot.pipeline import NOT_FOUND, Pipeline

WEIGHT = {"연차": 2.0, "휴가": 1.0, "신청": 0.5, "연금": 3.0}


def test_features_read_unknown_words_and_cover_by_idf_mass() -> None:
    known = frozenset({"연차", "휴가", "신청"})
    hits = [frozenset({"휴가"}), frozenset({"연차", "휴가"})]
    x = features(["연차", "휴가", "신청", "며칠"], frozenset({"연차", "휴가"}), WEIGHT, known, hits, 0.4)
    assert x == (0.0, 1.0, pytest.approx(3.0 / 3.5), 0.4)
    # interrogatives (며칠) ask and weigh nothing; a word no chunk contains weighs in 'unknown' and lowers the cover
    y = features(["연금", "신청"], frozenset({"연금"}), WEIGHT, known, hits, 0.1)
    assert y[0] == pytest.approx(3.0 / 3.5) and y[1] == 0.0 and y[2] == 0.0


def test_idf_is_higher_for_rarer_words() -> None:
    w = idf(np.array([0, 1, 50]), 100)
    assert w[0] > w[1] > w[2] > 0


def test_threshold_keeps_the_allowed_share_of_answerable_questions() -> None:
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.2, 0.1] + [0.95] * 14)
    y = np.array([1, 1, 1, 1, 0, 0] + [1] * 14)
    t = choose_threshold(p, y, max_false=0.05)  # 18 answerable: 0 may be refused
    assert t == pytest.approx(0.6)
    r = rates(p, y, t)
    assert r["false_refusal"] == 0 and r["refusal_recall"] == 1 and r["refusal_precision"] == 1


def test_model_file_round_trip_is_per_embedder(tmp_path: Path) -> None:
    path = tmp_path / "refusal.json"
    write_refusal_model(path, RefusalModel("e5", (-3.0, 2.0, 1.0, 1.0), 0.0, 0.4))
    write_refusal_model(path, RefusalModel("use", (0.0, 0.0, 0.0, 0.0), 1.0, 0.5))
    model = load_refusal_model("e5", path)
    assert model is not None and model.weights == (-3.0, 2.0, 1.0, 1.0)
    assert load_refusal_model("hash-64", path) is None
    path.write_text("{not json", encoding="utf-8")
    assert load_refusal_model("e5", path) is None  # a broken file refuses nothing, with a log line


def test_bad_model_is_refused_naming_the_value() -> None:
    with pytest.raises(ValueError, match="threshold"):
        RefusalModel("e5", (0.0,) * len(FEATURES), 0.0, 1.5)
    with pytest.raises(ValueError, match="features"):
        RefusalModel("e5", (0.0,), 0.0, 0.5, features=("dense",))


def test_shipped_model_is_valid_json() -> None:
    from onprem_bot.answerable import DEFAULT_MODEL_FILE

    rows = json.loads(DEFAULT_MODEL_FILE.read_text(encoding="utf-8"))["models"]
    assert rows and all(tuple(r["features"]) == FEATURES for r in rows)


def _pipeline(app: App, model: RefusalModel | None) -> tuple[Pipeline, ScriptedLLM]:
    judge = AnswerabilityJudge(app.analyzer, app.retriever.document_frequency, lambda c: max(0.0, c), model)
    llm = ScriptedLLM(["연차휴가는 15일입니다 [1]."])
    return Pipeline(None, app.retriever, app.analyzer, llm, Checker(app.analyzer), AnswerSettings(), judge=judge), llm


def test_question_about_words_no_document_has_is_refused_with_closest_documents(indexed: App) -> None:
    # a model that refuses when much of the question's weight is in unknown words
    model = RefusalModel("hash-64", (-10.0, 0.0, 0.0, 0.0), 3.0, 0.5)
    p, llm = _pipeline(indexed, model)
    answer = p.ask("국민연금 보험료율과 연차휴가")
    assert answer.route == "refused" and answer.answer == NOT_FOUND and answer.citations and not llm.prompts
    judged = p.judge.run("연차휴가는 며칠인가요?", indexed.retriever.run("연차휴가는 며칠인가요?", k=5))
    assert judged.answerable and judged.features[0] == 0.0


def test_without_a_model_nothing_is_refused_by_the_judge(indexed: App) -> None:
    p, _ = _pipeline(indexed, None)
    assert p.ask("국민연금 보험료율과 연차휴가").route != "refused"
