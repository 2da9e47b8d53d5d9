"""Fusion maths on hand-computed cases."""

from __future__ import annotations

import pytest

from onprem_bot.index.fusion import min_max, ranks, reciprocal_rank_fusion, weighted_fusion


def test_rrf_hand_computed() -> None:
    bm25 = {"a": 3.0, "b": 2.0, "c": 1.0}
    dense = {"b": 0.9, "d": 0.5}
    fused = dict(reciprocal_rank_fusion([bm25, dense], k=60))
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63)
    assert fused["d"] == pytest.approx(1 / 62)
    assert [key for key, _ in reciprocal_rank_fusion([bm25, dense], k=60)] == ["b", "a", "d", "c"]


def test_rrf_weights_scale_each_run() -> None:
    fused = dict(reciprocal_rank_fusion([{"a": 1.0}, {"b": 1.0}], weights=[2.0, 1.0], k=0))
    assert fused == {"a": 2.0, "b": 1.0}


def test_weighted_fusion_hand_computed() -> None:
    bm25 = {"a": 10.0, "b": 5.0, "c": 0.0}
    dense = {"b": 0.8, "c": 0.4}
    fused = weighted_fusion([bm25, dense], weights=[0.5, 0.5])
    assert fused == [("b", pytest.approx(0.75)), ("a", pytest.approx(0.5)), ("c", pytest.approx(0.0))]
    assert weighted_fusion([bm25, dense], weights=[0.0, 1.0])[0][0] == "b"


def test_min_max_and_ranks_edge_cases() -> None:
    assert min_max({}) == {}
    assert min_max({"x": 2.0, "y": 2.0}) == {"x": 1.0, "y": 1.0}
    assert min_max({"x": -1.0, "y": 3.0}) == {"x": 0.0, "y": 1.0}
    assert ranks({"x": 1.0, "y": 5.0, "z": 1.0}) == {"y": 1, "x": 2, "z": 3}


def test_bad_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="1 weights for 2 runs"):
        weighted_fusion([{"a": 1.0}, {"b": 1.0}], weights=[1.0])
    with pytest.raises(ValueError, match="must be >= 0"):
        reciprocal_rank_fusion([{"a": 1.0}], weights=[-1.0])
    with pytest.raises(ValueError, match="k=-1"):
        reciprocal_rank_fusion([{"a": 1.0}], k=-1)
