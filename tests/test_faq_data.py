"""The FAQ calibration set: real sources, labels, splits by entry, determinism."""

from __future__ import annotations

import csv
import functools
import json
import random
from pathlib import Path

import pytest

from onprem_bot.errors import OnpremBotError
from onprem_bot.eval import faq_data
from onprem_bot.eval.faq_data import CalibrationSet, build_calibration_set, reword_question, summary, title_question
from onprem_bot.faq.matcher import exact_key


@functools.cache
def _built(data: Path, seed: int = 0) -> CalibrationSet:
    return build_calibration_set(data, seed=seed)


def _golds(probes: tuple[faq_data.Probe, ...]) -> set[str]:
    return {p.gold for p in probes if p.gold is not None}


# ---------------------------------------------------------------------------- the real shared data


def test_real_set_builds_with_every_kind_and_source(shared_data: Path) -> None:
    cal = _built(shared_data)
    assert 3000 <= len(cal.faq) <= 6000
    assert {e.source for e in cal.faq} == {"parakqc", "mcfaq", "question_pair"}
    ids = {e.id for e in cal.faq}
    assert len(ids) == len(cal.faq)
    want = {
        ("parakqc", "paraphrase"),
        ("parakqc", "near_miss"),
        ("question_pair", "paraphrase"),
        ("question_pair", "near_miss"),
        ("mcfaq_reworded", "paraphrase"),
        ("mcfaq_title_reworded", "paraphrase"),
        ("mcfaq", "near_miss"),
        ("chatbot_data", "off_topic"),
    }
    for probes in (cal.tune, cal.heldout):
        assert {(p.source, p.kind) for p in probes} == want
        assert 2000 <= len(probes) <= 6000
        for p in probes:
            assert (p.gold is None) == (p.kind != "paraphrase")
            assert p.gold is None or p.gold in ids
    data = summary(cal)
    json.dumps(data)  # JSON-able
    assert data["faq"]["entries"] == len(cal.faq)
    assert data["tune"]["probes"] == len(cal.tune)
    assert sum(data["heldout"]["by_kind"].values()) == len(cal.heldout)
    assert data["heldout"]["by_source"]["chatbot_data"] == {"off_topic": data["heldout"]["by_kind"]["off_topic"]}


def test_real_set_is_deterministic_and_seeded(shared_data: Path) -> None:
    first = _built(shared_data)
    again = build_calibration_set(shared_data, seed=0)
    assert again == first
    other = _built(shared_data, seed=1)
    assert other.tune != first.tune


def test_splits_are_by_entry(shared_data: Path) -> None:
    cal = _built(shared_data)
    tune, held = _golds(cal.tune), _golds(cal.heldout)
    assert tune and held
    assert not tune & held
    # about half of the entries with probes on each side
    assert 0.4 < len(tune) / (len(tune) + len(held)) < 0.6


def test_no_probe_is_a_key_or_a_repeat(shared_data: Path) -> None:
    cal = _built(shared_data)
    keys = [exact_key(k) for e in cal.faq for k in (e.question, *e.alternatives)]
    assert len(keys) == len(set(keys))
    probes = [exact_key(p.text) for p in (*cal.tune, *cal.heldout)]
    assert len(probes) == len(set(probes))
    assert not set(probes) & set(keys)


def _question_pair_rows(data: Path) -> list[tuple[str, str, str]]:
    rows = []
    for name in faq_data.QUESTION_PAIR_FILES:
        with (data / faq_data.QUESTION_PAIR_DIR / name).open(encoding="utf-8-sig", newline="") as f:
            rows += [
                (r["question1"].strip(), r["question2"].strip(), r["is_duplicate"].strip()) for r in csv.DictReader(f)
            ]
    return rows


def test_question_pair_labels_keep_their_meaning(shared_data: Path) -> None:
    """is_duplicate 0 is the SAME meaning: such pairs give paraphrases, 1-pairs give near-misses."""
    cal = _built(shared_data)
    rows = _question_pair_rows(shared_data)
    same = {frozenset((exact_key(a), exact_key(b))) for a, b, d in rows if d == "0"}
    different = {frozenset((exact_key(a), exact_key(b))) for a, b, d in rows if d == "1"}
    question = {e.id: exact_key(e.question) for e in cal.faq}
    probes = [p for p in (*cal.tune, *cal.heldout) if p.source == "question_pair"]
    para = [p for p in probes if p.kind == "paraphrase"]
    near = [p for p in probes if p.kind == "near_miss"]
    assert para and near
    # a cluster of 2 is one labelled row; larger clusters are chains of them, so most probes are a row
    direct = [p for p in para if frozenset((exact_key(p.text), question[p.gold])) in same]  # type: ignore[index]
    assert len(direct) >= 0.9 * len(para)
    assert not any(frozenset((exact_key(p.text), question[p.gold])) in different for p in para)  # type: ignore[index]
    partners: dict[str, set[str]] = {}
    for pair in different:
        for k in pair:
            partners.setdefault(k, set()).update(pair - {k})
    entry_keys = set(question.values())
    for p in near:
        assert partners.get(exact_key(p.text), set()) & entry_keys, p.text
    # a known row: '2년 가량의 연애,2년 만났어,0' is read as the same meaning
    known = faq_data._read_question_pairs(shared_data / faq_data.QUESTION_PAIR_DIR / "kor_Pair_test.csv")
    assert ("2년 가량의 연애", "2년 만났어", True) in known
    assert ("21살의 사랑에 대해", "사랑을 노력한다는게 말이 되나요?", False) in known


def test_paraphrases_of_real_faq_are_counted_apart(shared_data: Path) -> None:
    cal = _built(shared_data)
    by_id = {e.id: e for e in cal.faq}
    reworded = [p for p in cal.tune if p.source in ("mcfaq_reworded", "mcfaq_title_reworded")]
    assert reworded
    assert all(by_id[p.gold].source == "mcfaq" for p in reworded)  # type: ignore[index]
    assert all(by_id[p.gold].answer for p in reworded)  # type: ignore[index]  # the real answers are kept


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OnpremBotError, match="보정 데이터 파일이 없습니다"):
        build_calibration_set(tmp_path)


# ---------------------------------------------------------------------------- a tiny data folder


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    topics = ["메일", "일정", "조명", "날씨"]
    lines = [
        f"{t}\t1\t{topic} 질문 {s}번 표현 {u}" for t, topic in enumerate(topics) for s in range(2) for u in range(10)
    ]
    para = tmp_path / faq_data.PARAKQC_FILE
    para.parent.mkdir(parents=True)
    para.write_text("\n".join(lines), encoding="utf-8")
    pairs = [
        ["1", "1", "2", "강아지 좋아하는 남자 어때?", "강아지 좋아하는 남자 어떤 것 같아?", "0"],
        ["2", "3", "4", "헤어진 지 한 달 됐어", "헤어진 지 벌써 한 달", "0"],
        ["3", "5", "6", "짝사랑 그만하고 싶어", "짝남한테 고백할까?", "1"],
    ]
    _write_csv(
        tmp_path / faq_data.QUESTION_PAIR_DIR / "kor_pair_train.csv",
        ["id", "qid1", "qid2", "question1", "question2", "is_duplicate"],
        pairs,
    )
    _write_csv(
        tmp_path / faq_data.QUESTION_PAIR_DIR / "kor_Pair_test.csv",
        ["test_id", "question1", "question2", "is_duplicate", ""],
        [["1", "오늘 뭐 먹지", "점심 메뉴 추천해줘", "0", ""]],
    )
    faq = [
        [
            "0",
            "'선물받다', '선물 받다'의 띄어쓰기",
            "2020",
            "'선물받다'도 붙여 쓰는 게 맞나요?",
            "맥락에 따라 다릅니다.",
        ],
        [
            "1",
            "'생로병사', '생노병사'의 표기",
            "2020",
            "'생노병사', '생로병사' 중 어떤 것이 맞는 표기인가요?",
            "'생로병사'가 맞습니다.",
        ],
        [
            "2",
            "'새하얗다', '샛하얗다'의 표기",
            "2020",
            "'새하얗다'가 맞나요, '샛하얗다'가 맞나요?",
            "'새하얗다'가 맞습니다.",
        ],
    ]
    _write_csv(tmp_path / faq_data.MCFAQ_DIR / "국립국어원_FAQ.csv", ["", "제목", "등록일", "질문", "답변"], faq)
    chat = [
        ["강아지 좋아하는 남자 어때?", "좋아요.", "2"],
        ["강아지 좋아하는 남자 어떤 것 같아?", "좋아요.", "2"],
        ["헤어진 지 한 달 됐어", "힘내요.", "1"],
        ["헤어진 지 벌써 한 달", "힘내요.", "1"],
        ["짝사랑 그만하고 싶어", "응원해요.", "2"],
        ["짝남한테 고백할까?", "용기 내요.", "2"],
        ["오늘 뭐 먹지", "맛있는 거요.", "0"],
        ["점심 메뉴 추천해줘", "김밥이요.", "0"],
        ["비 오니까 우울해", "따뜻한 차 어때요.", "0"],
    ]
    _write_csv(tmp_path / faq_data.CHATBOT_FILE, ["Q", "A", "label"], chat)
    return tmp_path


def test_tiny_set_labels(tiny: Path) -> None:
    cal = build_calibration_set(tiny, seed=3)
    probes = (*cal.tune, *cal.heldout)
    by_id = {e.id: e for e in cal.faq}
    qp_entries = {e.question for e in cal.faq if e.source == "question_pair"}
    # the same-meaning pair (is_duplicate 0): the first question is an entry, the second its paraphrase
    para = {p.text: by_id[p.gold].question for p in probes if p.kind == "paraphrase" and p.gold is not None}
    assert para["강아지 좋아하는 남자 어떤 것 같아?"] == "강아지 좋아하는 남자 어때?"
    assert para["헤어진 지 벌써 한 달"] == "헤어진 지 한 달 됐어"
    # the different-meaning pair (is_duplicate 1): one side an entry, the other a near-miss
    near = {p.text for p in probes if p.kind == "near_miss" and p.source == "question_pair"}
    assert len(near) == 1
    assert near | (qp_entries & {"짝사랑 그만하고 싶어", "짝남한테 고백할까?"}) == {
        "짝사랑 그만하고 싶어",
        "짝남한테 고백할까?",
    }
    # daily-life chit-chat (label 0) is off-topic; the daily pair in Question_pair is no entry
    off = {p.text for p in probes if p.kind == "off_topic"}
    assert off == {"오늘 뭐 먹지", "점심 메뉴 추천해줘", "비 오니까 우울해"}
    assert not qp_entries & off
    # paraKQC: 8 sets, 2 withheld as near-misses, 6 entries with a question and an alternative
    pk = [e for e in cal.faq if e.source == "parakqc"]
    assert len(pk) == 6 and all(len(e.alternatives) == 1 for e in pk)
    assert sum(p.kind == "near_miss" and p.source == "parakqc" for p in probes) == 2 * faq_data.PARAKQC_NEAR_MISS
    assert not _golds(cal.tune) & _golds(cal.heldout)
    assert build_calibration_set(tiny, seed=3) == cal


def test_limit_caps_each_source(tiny: Path) -> None:
    cal = build_calibration_set(tiny, seed=0, limit=1)
    assert sum(e.source == "parakqc" for e in cal.faq) == 1
    assert sum(p.kind == "off_topic" for p in (*cal.tune, *cal.heldout)) == 1
    with pytest.raises(OnpremBotError):
        build_calibration_set(tiny, limit=0)


def test_bad_columns_are_a_clear_error(tiny: Path) -> None:
    _write_csv(tiny / faq_data.CHATBOT_FILE, ["question", "answer"], [["안녕", "안녕하세요"]])
    with pytest.raises(OnpremBotError, match="형식"):
        build_calibration_set(tiny)


# ---------------------------------------------------------------------------- the rewording rules


def test_reword_question_changes_the_form_not_the_words() -> None:
    rng = random.Random(0)
    seen = set()
    for _ in range(20):
        out = reword_question("'생노병사', '생로병사' 중 어떤 것이 맞는 표기인가요?", rng)
        assert out is not None and "생노병사" in out and "생로병사" in out
        assert exact_key(out) != exact_key("'생노병사', '생로병사' 중 어떤 것이 맞는 표기인가요?")
        seen.add(out)
    assert len(seen) >= 3
    assert reword_question("맞나요?", random.Random(1)) in {"맞아요?", "맞습니까?", "맞는지 알려 주세요.", "맞나?"}


def test_title_question() -> None:
    rng = random.Random(0)
    out = title_question("'선물받다', '선물 받다'의 띄어쓰기", rng)
    assert out is not None and "선물받다" in out and "선물 받다" in out and "띄어" in out
    assert title_question("표준어 규정", rng) is None
