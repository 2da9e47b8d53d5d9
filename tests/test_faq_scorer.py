"""The learned FAQ scorer: fitting, cross-fitting, persistence (one scorer per embedder), the matcher's learned rule."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from onprem_bot.embed.backends import HashEmbedder
from onprem_bot.faq.chargrams import CharNgramIndex
from onprem_bot.faq.features import FEATURES, analyse, candidate_features, entry_text
from onprem_bot.faq.matcher import FaqMatcher
from onprem_bot.faq.scorer import (
    DEFAULT_SCORER,
    LinearScorer,
    cross_fitted,
    fit_logistic,
    load_scorer,
    save_scorer,
)
from onprem_bot.korean.analyzer import KoreanAnalyzer
from tests.test_faq_matcher import Entry


def _scorer(weights: dict[str, float], bias: float, threshold: float = 0.5, **kw: object) -> LinearScorer:
    n = len(FEATURES)
    w = tuple(weights.get(name, 0.0) for name in FEATURES)
    values = {"embedder": "hash-64", "lexical_weight": 0.7, "suggest_threshold": 0.0, **kw}
    return LinearScorer(FEATURES, (0.0,) * n, (1.0,) * n, w, bias, threshold, **values)  # type: ignore[arg-type]


def test_fit_logistic_separates_and_ranks() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] - 0.5 * x[:, 1] > 0).astype(float)
    w, b = fit_logistic(x, y, l2=0.1)
    assert w[0] > 0 > w[1] and abs(w[2]) < abs(w[1])
    p = 1 / (1 + np.exp(-(x @ w + b)))
    assert ((p > 0.5) == (y == 1)).mean() > 0.95


def test_cross_fitted_scores_never_see_their_own_entry() -> None:
    # the label is carried only by a column that is non-zero inside one entry's rows
    groups = [f"e{i // 4}" for i in range(40)]
    x = np.zeros((40, 11))
    for i, g in enumerate(groups):
        x[i, int(g[1:])] = 1.0
    y = np.array([float(g == "e3") for g in groups])
    oof = cross_fitted(x, y, groups, folds=5)
    rows = [i for i, g in enumerate(groups) if g == "e3"]
    assert oof[rows].max() < 0.5  # out of fold the tell-tale column was always zero
    w, b = fit_logistic(x, y, l2=0.01)
    assert 1 / (1 + np.exp(-(x[rows[0]] @ w + b))) > 0.5  # in-sample it is learned


def test_scorer_round_trip_and_refusals(tmp_path: Path) -> None:
    scorer = _scorer({"dense": 4.0}, -2.0)
    path = tmp_path / "s.json"
    save_scorer(scorer, path)
    assert load_scorer(path, "hash-64", 0.7) == scorer
    assert load_scorer(path, "use-m3", 0.7) is None  # fitted for another embedder
    assert load_scorer(path, "hash-64", 0.3) is None  # another lexical weight
    assert load_scorer(path, "hash-64", 0.7, char_weight=0.2) is None  # another character weight
    assert load_scorer(tmp_path / "missing.json", "hash-64", 0.7) is None
    data = json.loads(path.read_text(encoding="utf-8"))
    record = {**data["scorers"][0], "features": ["dense"]}
    path.write_text(json.dumps({**data, "scorers": [record]}), encoding="utf-8")
    assert load_scorer(path, "hash-64", 0.7) is None  # malformed: fewer features than values
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(json.JSONDecodeError):
        json.loads(path.read_text(encoding="utf-8"))
    assert load_scorer(path, "hash-64", 0.7) is None
    with pytest.raises(ValueError, match="bars"):
        replace(scorer, threshold=1.5)


def test_the_shipped_scorers_match_the_features_and_both_embedded_embedders() -> None:
    from onprem_bot.config import FaqSettings
    from onprem_bot.embed.backends import USE_NAME
    from onprem_bot.embed.e5 import E5_NAME

    data = json.loads(DEFAULT_SCORER.read_text(encoding="utf-8"))
    cfg = FaqSettings()
    names = [r["embedder"] for r in data["scorers"]]
    assert E5_NAME in names and USE_NAME in names
    for record in data["scorers"]:
        assert tuple(record["features"]) == FEATURES  # re-run `faq calibrate --write` after changing features
        scorer = load_scorer(DEFAULT_SCORER, record["embedder"], cfg.lexical_weight, cfg.char_weight)
        assert scorer is not None  # fitted with the default weights
        assert 0 < scorer.suggest_threshold <= scorer.threshold < 1


def test_features_see_quoted_terms_and_numbers() -> None:
    analyzer = KoreanAnalyzer()
    q = analyse(analyzer, "'훑었다' 발음 어떻게 해요?")
    right = analyse(analyzer, "'훑었다'의 표준 발음은 무엇인가요?")
    wrong = analyse(analyzer, "'핥는'의 표준 발음은 무엇인가요?")

    def feats(query: object, key: object) -> dict[str, float]:
        entry = entry_text([key], None)  # type: ignore[list-item]
        values = candidate_features(query, key, entry, 0.8, 0.7, 0.11, True).tolist()  # type: ignore[arg-type]
        return dict(zip(FEATURES, values, strict=True))

    good, bad = feats(q, right), feats(q, wrong)
    assert good["quoted_in_key"] == 1.0 and bad["quoted_in_key"] == 0.0
    assert good["trigram_in_key"] > bad["trigram_in_key"]
    assert good["uncovered_by_keys"] < bad["uncovered_by_keys"]
    assert good["dense"] == pytest.approx(0.8) and good["dense_gap"] == pytest.approx(0.1)
    assert good["combined_gap"] == pytest.approx(0.11) and good["dense_rank_first"] == 1.0
    three, six = analyse(analyzer, "수습기간은 3개월인가요?"), analyse(analyzer, "수습기간 6개월이에요?")
    assert feats(six, three)["number_conflict"] == 1.0 and feats(three, three)["number_conflict"] == 0.0


ENTRIES = [
    Entry(1, "비밀번호를 초기화하려면 어떻게 하나요?", "비밀번호 찾기를 누르세요.", ("비밀번호 재설정 방법",)),
    Entry(2, "비밀번호 만료 주기는 얼마인가요?", "90일입니다."),
    Entry(3, "수습기간은 3개월인가요?", "수습기간은 3개월입니다."),
    Entry(4, "출장비 정산은 언제까지 해야 하나요?", "출장 후 7일 이내에 정산합니다."),
]


def test_matcher_decides_with_the_scorer() -> None:
    # a hand-made scorer: words the entry does not cover count against it
    scorer = _scorer({"uncovered_by_entry": -3.0, "key_missing_share": -4.0}, 3.0)
    m = FaqMatcher(KoreanAnalyzer(), HashEmbedder(64), threshold=0.99, margin=0.5, lexical_weight=0.7, scorer=scorer)
    m.build(ENTRIES)
    hit = m.match("비밀번호 초기화 어떻게 해요")
    assert hit.matched and hit.id == 1 and hit.confidence is not None and hit.confidence >= 0.5
    assert hit.as_json()["confidence"] == round(hit.confidence, 4)
    assert not m.match("비밀번호 변경 주기는 얼마인가요?").matched  # 만료 ≠ 변경: 변경 is not covered
    number = m.match("수습기간은 6개월인가요?")
    assert not number.matched and "number" in number.reason  # a different number stays a hard veto
    low = m.match("오늘 점심 뭐 먹지")
    assert not low.matched and low.reason.startswith("low_confidence")
    assert m.match("수습기간은 3개월인가요?").reason == "exact"
    rule = FaqMatcher(KoreanAnalyzer(), HashEmbedder(64), threshold=0.99, margin=0.5, lexical_weight=0.7)
    rule.build(ENTRIES)
    assert not rule.match("비밀번호 초기화 어떻게 해요").matched  # the same question under the strict rule
    assert rule.match("비밀번호 초기화 어떻게 해요").confidence is None


def test_build_app_uses_a_scorer_only_for_its_embedder(tmp_path: Path) -> None:
    from onprem_bot.app import build_app
    from onprem_bot.config import FaqSettings, load_settings

    mine = tmp_path / "mine.json"
    name = HashEmbedder(64).name
    cfg = FaqSettings()
    weights = {"lexical_weight": cfg.lexical_weight, "char_weight": cfg.char_weight}
    save_scorer(_scorer({"dense": 4.0}, -2.0, embedder=name, **weights), mine)
    other = tmp_path / "other.json"
    save_scorer(_scorer({"dense": 4.0}, -2.0, embedder="use-multilingual-v3", **weights), other)
    for path, learned, expect in ((mine, True, True), (other, True, False), (mine, False, False)):
        settings = load_settings(
            env={},
            home=tmp_path / "home",
            embedder={"backend": "hash"},
            faq={"scorer_file": str(path), "learned": learned},
        )
        app = build_app(settings)
        try:
            assert (app.faq.matcher.scorer is not None) is expect
        finally:
            app.db.dispose()


def test_tokens_and_nouns_share_one_pass() -> None:
    analyzer = KoreanAnalyzer()
    text = "비밀번호 만료 주기는 90일인가요? VPN도요"
    tokens, nouns = analyzer.tokens_and_nouns(text)
    assert tokens == analyzer.tokens(text)
    assert {"비밀", "번호", "만료", "주기", "vpn"} <= nouns and "는" not in nouns
    assert analyzer.tokens_and_nouns("  ") == ([], frozenset())


def test_char_ngrams_match_spacing_variants_and_unknown_words() -> None:
    index = CharNgramIndex()
    keys = ["'집에서 몇째예요'에서 '몇째'는 한 단어인가요?", "'살짝요'의 '요'는 띄어 쓰나요?", "연차휴가는 며칠인가요?"]
    index.build(keys)
    scores = index.scores("'몇 째' 맞는 말이에요?")
    assert int(np.argmax(scores)) == 0
    same = index.scores("연차휴가는 며칠인가요")
    assert same[2] == pytest.approx(1.0, abs=1e-5) and same[0] < 0.2
    assert index.scores("").tolist() == [0.0, 0.0, 0.0]
    assert index.scores("연차휴가는 며칠인가요 ㅋㅋ 쀍쀍")[2] < same[2]  # grams no key has lower the cosine


def test_weights_are_validated() -> None:
    from onprem_bot.config import load_settings
    from onprem_bot.errors import ConfigError

    with pytest.raises(ValueError, match="at most 1"):
        FaqMatcher(KoreanAnalyzer(), HashEmbedder(64), lexical_weight=0.7, char_weight=0.5)
    with pytest.raises(ValueError, match="without an embedder"):
        FaqMatcher(KoreanAnalyzer(), None, lexical_weight=0.5, char_weight=0.2)
    FaqMatcher(KoreanAnalyzer(), None, lexical_weight=0.5, char_weight=0.5)  # no dense part: fine
    with pytest.raises(ConfigError, match="char_weight"):
        load_settings(env={}, faq={"lexical_weight": 0.7, "char_weight": 0.5})


def test_a_named_scorer_that_does_not_fit_is_a_warning_the_default_only_debug(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.json"
    save_scorer(_scorer({"dense": 4.0}, -2.0), path)
    with caplog.at_level("DEBUG", logger="onprem_bot.faq.scorer"):
        assert load_scorer(path, "use-multilingual-v3", 0.7) is None
        assert load_scorer(path, "use-multilingual-v3", 0.7, explicit=False) is None
    levels = [r.levelname for r in caplog.records]
    assert levels == ["WARNING", "DEBUG"]
    assert all(getattr(r, "event", None) == "faq_scorer_skipped" for r in caplog.records)
