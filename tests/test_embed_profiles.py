"""Embedder profiles: the cosine bars per embedder, their lookup, measurement, and the pipeline's use of them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from onprem_bot.embed import HashEmbedder
from onprem_bot.embed.profiles import (
    FALLBACK,
    PROFILE_FILE,
    EmbedderProfile,
    load_profiles,
    load_sts_pairs,
    measure_profiles,
    profile_for,
    write_profiles,
)
from onprem_bot.pipeline import _any_overlap, _relevance
from onprem_bot.types import Chunk, Hit

E5 = "multilingual-e5-small-q4"
USE = "use-multilingual-v3"


def hit(dense: float, bm25: float = 0.0) -> Hit:
    chunk = Chunk("c1", "d1", 0, "article", "본문", doc_title="시험법")
    return Hit(chunk, 0.5, bm25, dense, 1)


def test_the_shipped_file_has_measured_profiles_for_e5_and_use() -> None:
    profiles = load_profiles()
    for name in (E5, USE):
        for pairing in ("query/passage", "query/query"):
            p = profiles[(name, pairing)]
            assert p.measured and p.unrelated < p.related and p.unrelated_pairs > 100 and p.related_pairs > 100
            assert "KorSTS" in p.source
    # e5's cosines sit in a narrow high band: its unrelated bar is far above USE's
    assert profiles[(E5, "query/passage")].unrelated > profiles[(USE, "query/passage")].unrelated + 0.1
    assert json.loads(PROFILE_FILE.read_text(encoding="utf-8"))["profiles"]


def test_an_unknown_embedder_gets_the_fallback_and_a_home_file_overrides(tmp_path: Path) -> None:
    unknown = profile_for("st:KR-SBERT:abcd1234")
    assert not unknown.measured and unknown.embedder == "st:KR-SBERT:abcd1234"
    assert (unknown.unrelated, unknown.related) == (FALLBACK.unrelated, FALLBACK.related)
    mine = EmbedderProfile("st:KR-SBERT:abcd1234", 0.31, 0.72, source="test")
    home = tmp_path / "embedder_profiles.json"
    write_profiles(home, [mine])
    write_profiles(home, [EmbedderProfile("other", 0.1, 0.2)])  # added, the first one kept
    assert profile_for("st:KR-SBERT:abcd1234", files=[home]) == mine
    assert profile_for("other", files=[home]).related == 0.2
    assert profile_for(E5, files=[tmp_path / "missing.json"]).measured
    home.write_text('{"profiles": [{"embedder": "x"}]}', encoding="utf-8")
    with pytest.raises(ValueError, match="bad embedder profile file"):
        profile_for("x", files=[home])
    with pytest.raises(ValueError, match="query/passage, query/query"):
        profile_for(E5, pairing="passage/passage")


def test_profile_bars_and_scale() -> None:
    p = EmbedderProfile("m", unrelated=0.8, related=0.9)
    assert p.is_overlap(0.8) and not p.is_overlap(0.79)
    assert p.scaled(0.8) == 0.0 and p.scaled(0.9) == 1.0 and p.scaled(0.5) == 0.0 and p.scaled(0.99) == 1.0
    assert p.scaled(0.85) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unrelated < related"):
        EmbedderProfile("m", unrelated=0.9, related=0.8)


def test_pipeline_overlap_and_relevance_use_the_profile() -> None:
    e5 = profile_for(E5)
    use = profile_for(USE)
    between = (use.unrelated + e5.unrelated) / 2  # above USE's unrelated bar, below e5's
    hits = [hit(between)]
    assert _any_overlap(hits, use) and not _any_overlap(hits, e5)
    assert _any_overlap([hit(between, bm25=1.5)], e5)  # a shared word is overlap for any embedder
    assert _relevance(hit(e5.unrelated), e5) == 0.0 and _relevance(hit(e5.related), e5) == 1.0
    assert _relevance(hit(between), use) > 0 and _relevance(hit(between), e5) == 0.0
    assert _relevance(hit(0.0, bm25=5.0), e5) == 0.5
    # the fallback keeps the bar used before profiles
    assert _any_overlap([hit(0.5)], FALLBACK) and not _any_overlap([hit(0.49)], FALLBACK)


def test_the_wired_pipeline_gets_the_configured_embedders_profile(app: object) -> None:
    pipeline = app.pipeline  # type: ignore[attr-defined]
    assert pipeline.profile.embedder == "hash-64" and not pipeline.profile.measured


def test_measure_profiles_on_scored_pairs() -> None:
    pairs = [
        ("임금은 매월 지급한다", "임금은 매월 지급한다", 5.0),
        ("근로자의 임금은 매월 지급한다", "근로자 임금은 매월 지급", 4.2),
        ("도로에서 운전할 때 속도를 지켜라", "임금은 매월 지급한다", 0.0),
        ("고양이가 잔다", "주택 임대차 계약", 0.4),
        ("중간 점수는 빠진다", "중간 점수", 2.5),
    ]
    profiles = measure_profiles(HashEmbedder(), pairs, source="test")
    assert [p.pairing for p in profiles] == ["query/passage", "query/query"]
    p = profiles[0]
    assert (p.unrelated_pairs, p.related_pairs) == (2, 2) and p.related > p.unrelated
    assert profiles[1].unrelated == p.unrelated  # a symmetric model: the same either way
    with pytest.raises(ValueError, match="score <= 1"):
        measure_profiles(HashEmbedder(), pairs[:2])


def test_sts_pairs_are_read_from_the_shared_data(shared_data: Path) -> None:
    pairs = load_sts_pairs(shared_data / "similarity")
    assert len(pairs) > 3000 and all(0 <= s <= 5 and a and b for a, b, s in pairs)
    assert np.mean([s for *_, s in pairs]) > 1
