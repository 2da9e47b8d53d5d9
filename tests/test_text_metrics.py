"""Answer metrics on hand-computed cases: keyword score, TF-IDF cosine, ROUGE-L, BLEU, hit@k, MRR."""

from __future__ import annotations

import math

import pytest

from onprem_bot.eval.metrics import hit_at, keyword_score, mrr_at
from onprem_bot.eval.text_metrics import (
    bleu,
    hit_at_k,
    idf_table,
    lcs_length,
    mean,
    ngrams,
    percentile,
    reciprocal_rank,
    rouge_l,
    tfidf_cosine,
    tokenize,
)


def test_keyword_score_is_m_of_n_scaled_to_five() -> None:
    answer = "1년간 80퍼센트 이상 출근하면 15 일의 휴가"
    # "80퍼센트" and "15일" (spaces ignored) are in, "유급휴가" is not: 2 of 3 → 5 × 2/3
    assert keyword_score(answer, ["80퍼센트", "15일", "유급휴가"]) == pytest.approx(10 / 3)
    assert keyword_score(answer, ["80퍼센트"]) == 5.0
    assert keyword_score(answer, ["없음"]) == 0.0
    assert keyword_score(answer, []) == 0.0
    # accuracy = total / (5 × questions): 10/3 + 5 + 0 over three questions
    total = sum(keyword_score(answer, kw) for kw in (["80퍼센트", "15일", "유급휴가"], ["80퍼센트"], ["없음"]))
    assert total / (5 * 3) == pytest.approx((10 / 3 + 5) / 15)


def test_idf_is_smoothed_over_the_documents() -> None:
    idf = idf_table([["a", "b"], ["a", "c"]])
    assert idf["a"] == pytest.approx(1.0)  # ln(3/3) + 1
    assert idf["b"] == pytest.approx(math.log(3 / 2) + 1)


def test_tfidf_cosine_by_hand() -> None:
    # x is shared (idf 1), y and z are not (idf ln(1.5) + 1 = 1.405465)
    w = math.log(1.5) + 1
    assert tfidf_cosine(["x", "y"], ["x", "z"]) == pytest.approx(1 / (1 + w * w))
    assert tfidf_cosine(["x", "y"], ["x", "z"]) == pytest.approx(0.336097, abs=1e-6)
    assert tfidf_cosine(["x", "y"], ["y", "x"]) == pytest.approx(1.0)
    assert tfidf_cosine(["x"], ["z"]) == 0.0
    assert tfidf_cosine([], ["z"]) == 0.0
    # term counts matter: [x, x, y] vs [x, z] → (2·1) / (sqrt(4 + w²) · sqrt(1 + w²))
    assert tfidf_cosine(["x", "x", "y"], ["x", "z"]) == pytest.approx(2 / (math.sqrt(4 + w * w) * math.sqrt(1 + w * w)))
    # a given IDF table is used as is
    assert tfidf_cosine(["x", "y"], ["x", "z"], {"x": 1.0, "y": 2.0, "z": 2.0}) == pytest.approx(1 / 5)


def test_rouge_l_by_hand() -> None:
    cand, ref = ["a", "b", "c", "d"], ["a", "c", "e", "d", "f"]
    assert lcs_length(cand, ref) == 3  # a c d
    r = rouge_l(cand, ref)
    assert r["precision"] == pytest.approx(3 / 4)
    assert r["recall"] == pytest.approx(3 / 5)
    assert r["f1"] == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert rouge_l(["x"], ref) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert rouge_l([], ref)["f1"] == 0.0
    assert rouge_l(ref, ref)["f1"] == 1.0


def test_bleu_by_hand() -> None:
    ref = ["a", "b", "c", "d", "f", "g"]
    cand = ["a", "b", "c", "d", "e"]
    assert ngrams(cand, 2)[("a", "b")] == 1 and sum(ngrams(cand, 4).values()) == 2
    # p1 = 4/5, p2 = 3/4, p3 = 2/3, p4 = 1/2; candidate 5 < reference 6 → BP = exp(1 - 6/5)
    bp = math.exp(-0.2)
    assert bleu(cand, ref, smooth=False) == pytest.approx(bp * (0.8 * 0.75 * (2 / 3) * 0.5) ** 0.25)
    # add-one smoothing for n ≥ 2: 4/5, 4/5, 3/4, 2/3
    assert bleu(cand, ref) == pytest.approx(bp * (0.8 * 0.8 * 0.75 * (2 / 3)) ** 0.25)
    assert bleu(ref, ref) == pytest.approx(1.0)
    # clipping: "a a a" against "a b" counts one "a"; unsmoothed there is no matching bigram → 0
    assert bleu(["a", "a", "a"], ["a", "b"], max_n=1) == pytest.approx(1 / 3)
    assert bleu(["a", "a", "a"], ["a", "b"], smooth=False) == 0.0
    assert bleu([], ref) == 0.0


def test_hit_at_k_and_reciprocal_rank_by_hand() -> None:
    ranks = [1, 3, None, 2, 11]
    assert [hit_at_k(r, 1) for r in ranks] == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert [hit_at_k(r, 3) for r in ranks] == [1.0, 1.0, 0.0, 1.0, 0.0]
    assert [reciprocal_rank(r, 10) for r in ranks] == [1.0, 1 / 3, 0.0, 0.5, 0.0]
    assert reciprocal_rank(11) == pytest.approx(1 / 11)
    # the per-question functions agree with the totals used by the retrieval evaluation
    assert mean(hit_at_k(r, 3) for r in ranks) == pytest.approx(hit_at(ranks, 3)) == 0.6
    assert mean(reciprocal_rank(r, 10) for r in ranks) == pytest.approx(mrr_at(ranks, 10))
    assert mrr_at(ranks, 10) == pytest.approx((1 + 1 / 3 + 0.5) / 5)


def test_percentile_and_mean() -> None:
    assert percentile([10.0, 20.0, 30.0, 40.0], 50) == pytest.approx(25.0)
    assert percentile([10.0, 20.0, 30.0, 40.0], 95) == pytest.approx(38.5)
    assert percentile([], 50) is None and mean([]) is None


def test_korean_answers_compare_on_mecab_tokens() -> None:
    from onprem_bot.korean.analyzer import KoreanAnalyzer

    analyzer = KoreanAnalyzer()
    ref = tokenize(analyzer, "사용자는 1년간 80퍼센트 이상 출근한 근로자에게 15일의 유급휴가를 주어야 한다.")
    same = tokenize(analyzer, "1년간 80퍼센트 이상 출근한 근로자에게 사용자는 15일의 유급휴가를 주어야 합니다.")
    wrong = tokenize(analyzer, "해고하려면 30일 전에 예고해야 합니다.")
    assert "15일" in ref  # numbers keep their unit
    assert tfidf_cosine(same, ref) == pytest.approx(1.0)  # word order and endings do not matter
    assert tfidf_cosine(wrong, ref) < 0.2
    assert rouge_l(same, ref)["f1"] > rouge_l(wrong, ref)["f1"]
    assert bleu(same, ref) > bleu(wrong, ref)
