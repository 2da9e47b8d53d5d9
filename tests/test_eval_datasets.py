"""The evaluation data sets: the hand-written statutes set and the Welfare-QA sampler."""

from __future__ import annotations

import codecs
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from onprem_bot.eval.welfare import main, match_key, resolve, welfare_documents, welfare_questions, write_jsonl

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
STATUTES_DEV = REPO / "onprem_bot" / "data" / "eval" / "statutes_dev.jsonl"
LAWS = SHARED / "laws"
WELFARE = SHARED / "rag_dev" / "welfare"

ARTICLE = re.compile(r"^제\d+조(?:의\d+)?$")
HEADING = re.compile(r"^#####\s+(제\d+조(?:의\d+)?)(?:\s*\((.*)\))?\s*$")
MIN_ROWS = {
    "최저임금법": 6,
    "주택임대차보호법": 6,
    "상가건물 임대차보호법": 6,
    "개인정보 보호법": 6,
    "도로교통법": 6,
    "민법": 4,
    "국가공무원법": 4,
    "저작권법": 4,
}


def _rows() -> list[dict[str, str]]:
    lines = STATUTES_DEV.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _front_matter_title(text: str) -> str | None:
    if not text.startswith("---"):
        return None
    end = text.find("\n---", 3)
    m = re.search(r"^제목:\s*(.+?)\s*$", text[:end], re.M)
    return m.group(1).strip("'\"") if m else None


def _articles(text: str) -> dict[str, tuple[str, bool]]:
    """``{"제N조": (article title, deleted)}`` from the ``#####`` headings."""
    out: dict[str, tuple[str, bool]] = {}
    lines = text.split("\n")
    for i, line in enumerate(lines):
        m = HEADING.match(line)
        if not m:
            continue
        body: list[str] = []
        for nxt in lines[i + 1 :]:
            if nxt.startswith("#"):
                break
            if nxt.strip():
                body.append(nxt.strip())
        deleted = not body or body[0].startswith("삭제")
        out[m.group(1)] = ((m.group(2) or "").strip(), deleted)
    return out


@pytest.fixture(scope="module")
def statutes() -> dict[str, dict[str, tuple[str, bool]]]:
    """``{front-matter 제목: articles}`` for every statute in ../shared/data/laws."""
    if not LAWS.is_dir():
        pytest.skip("../shared/data/laws is not present")
    out: dict[str, dict[str, tuple[str, bool]]] = {}
    for path in sorted(LAWS.glob("*/*.md")):
        text = path.read_text(encoding="utf-8")
        title = _front_matter_title(text)
        if title:
            out[title] = _articles(text)
    return out


# -- statutes_dev.jsonl ----------------------------------------------------------------


def test_statutes_set_has_enough_well_formed_rows() -> None:
    rows = _rows()
    assert len(rows) >= 80
    for row in rows:
        assert set(row) in ({"question", "doc_title", "article"}, {"question", "chunk_text_contains"}), row
        assert all(isinstance(v, str) and v.strip() for v in row.values()), row
        if "article" in row:
            assert ARTICLE.match(row["article"]), row
    questions = [r["question"] for r in rows]
    assert len(set(questions)) == len(questions), "repeated questions"


def test_statutes_set_spread() -> None:
    counts = Counter(r.get("doc_title") for r in _rows())
    assert counts["근로기준법"] + counts["근로기준법 시행령"] >= 25
    for title, least in MIN_ROWS.items():
        assert counts[title] >= least, (title, counts[title])


def test_statutes_labels_are_live_articles(statutes: dict[str, dict[str, tuple[str, bool]]]) -> None:
    for row in _rows():
        if "article" not in row:
            continue
        assert row["doc_title"] in statutes, f"no statute titled {row['doc_title']!r}"
        articles = statutes[row["doc_title"]]
        assert row["article"] in articles, f"{row['doc_title']} has no {row['article']}: {row['question']}"
        _title, deleted = articles[row["article"]]
        assert not deleted, f"{row['doc_title']} {row['article']} is deleted: {row['question']}"


def test_statutes_questions_are_colloquial(statutes: dict[str, dict[str, tuple[str, bool]]]) -> None:
    """At least 70% of the questions do not repeat their gold article's title verbatim."""
    rows = [r for r in _rows() if "article" in r]
    squash = re.compile(r"\s+")
    verbatim = []
    for row in rows:
        title, _ = statutes[row["doc_title"]][row["article"]]
        if title and squash.sub("", title) in squash.sub("", row["question"]):
            verbatim.append(row["question"])
    assert len(verbatim) <= 0.3 * len(rows), verbatim


# -- Welfare-QA: a small synthetic copy (no shared data needed) ----------------------------


@pytest.fixture
def tiny_welfare(tmp_path: Path) -> Path:
    root = tmp_path / "welfare"
    (root / "docs" / "data" / "01_a").mkdir(parents=True)
    (root / "docs" / "data" / "readme.md").write_text("# Description\n\n책자 설명\n", encoding="utf-8")
    (root / "docs" / "data" / "01_a" / "01_기초연금.md").write_text(
        "기초연금\n\n기초연금은 만 65세 이상 어르신께 드립니다.\n", encoding="utf-8"
    )
    (root / "docs" / "data" / "01_a" / "01_에너지바우처.txt").write_bytes(
        "\n  에너지 바우처·냉방비 지원  \n\n여름과 겨울에 에너지 이용권을 드립니다.\n".encode("cp949")
    )
    (root / "docs" / "data" / "01_a" / "01_전세자금_보증.md").write_text(
        "전세자금 보증\n\n임차보증금 중 5% 이상 납입한 세대주.\n", encoding="utf-8"
    )
    csv_text = (
        "Question,Answer,Documents\n"
        "기초연금은 몇 살부터 받아요?,만 65세부터입니다.,기초연금\n"
        '"여름 냉방비도 지원돼요, 바우처로?",네.,"에너지 바우처, 냉방비 지원"\n'
        "전세 보증 받으려면 얼마 내야 돼요?,5% 이상입니다.,전세자금 보증 대상\n"
        "없는 제도는요?,없습니다.,없는 제도\n"
        "기초연금은 몇 살부터 받아요?,중복 질문.,기초연금\n"
    )
    (root / "QA_total.csv").write_bytes(codecs.BOM_UTF8 + csv_text.encode("utf-8"))
    return root


def test_welfare_documents_skip_readme(tiny_welfare: Path) -> None:
    names = [p.name for p in welfare_documents(tiny_welfare)]
    assert names == ["01_기초연금.md", "01_에너지바우처.txt", "01_전세자금_보증.md"]


def test_welfare_resolution_maps_titles_through_doc_first_lines(tiny_welfare: Path) -> None:
    res = resolve(tiny_welfare)
    assert res.rows == [
        {"question": "기초연금은 몇 살부터 받아요?", "doc_title": "기초연금"},
        {"question": "여름 냉방비도 지원돼요, 바우처로?", "doc_title": "에너지 바우처·냉방비 지원"},
        {"question": "전세 보증 받으려면 얼마 내야 돼요?", "doc_title": "전세자금 보증"},
    ]
    assert res.normalised == {"에너지 바우처, 냉방비 지원": "에너지 바우처·냉방비 지원"}
    assert res.aliased == {"전세자금 보증 대상": "전세자금 보증"}
    assert res.missing == {"없는 제도": 1}
    assert res.duplicate_questions == 1
    assert match_key(" 에너지 바우처, 냉방비 지원") == match_key("에너지바우처·냉방비지원")


def test_welfare_loader_titles(tiny_welfare: Path) -> None:
    # Both loaders title a file without front matter or a # heading by its first line.
    titles = {r["doc_title"] for r in resolve(tiny_welfare, "loader").rows}
    assert titles == {"기초연금", "에너지 바우처·냉방비 지원", "전세자금 보증"}


def test_welfare_sampling_and_cli(tiny_welfare: Path, tmp_path: Path) -> None:
    assert welfare_questions(tiny_welfare, n=2, seed=1) == welfare_questions(tiny_welfare, n=2, seed=1)
    assert len(welfare_questions(tiny_welfare, n=99)) == 3
    out = tmp_path / "out" / "welfare.jsonl"
    assert main([str(tiny_welfare), str(out), "--n", "2", "--seed", "1"]) == 0
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert written == welfare_questions(tiny_welfare, n=2, seed=1)
    assert write_jsonl([], tmp_path / "empty.jsonl") == 0


# -- Welfare-QA: the real data set ---------------------------------------------------------


def _first_line(path: Path) -> str:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp949")
    return next((ln.strip()[:100] for ln in text.splitlines() if ln.strip()), path.stem)


@pytest.fixture(scope="module")
def welfare_root() -> Path:
    if not (WELFARE / "QA_total.csv").is_file():
        pytest.skip("../shared/data/rag_dev/welfare is not present")
    return WELFARE


def test_welfare_sample_is_deterministic_and_labels_are_doc_first_lines(welfare_root: Path) -> None:
    first = welfare_questions(welfare_root, n=300, seed=0)
    assert first == welfare_questions(welfare_root, n=300, seed=0)
    assert first != welfare_questions(welfare_root, n=300, seed=1)
    assert len(first) == 300
    assert len({r["question"] for r in first}) == 300
    assert all(set(r) == {"question", "doc_title"} and r["question"] for r in first)
    titles = {_first_line(p) for p in welfare_documents(welfare_root)}
    assert len(welfare_documents(welfare_root)) >= 400
    assert not {r["doc_title"] for r in first} - titles


def test_welfare_nearly_every_row_finds_its_document(welfare_root: Path) -> None:
    res = resolve(welfare_root)
    assert res.total_rows >= 9000
    assert not res.missing, res.summary()
    assert len(res.rows) >= 0.97 * res.total_rows, res.summary()


def test_welfare_loader_labels_are_loaded_titles(welfare_root: Path) -> None:
    from onprem_bot.ingest.loaders import load_document

    rows = welfare_questions(welfare_root, n=100, seed=0, title_source="loader")
    assert len(rows) == 100
    loaded = {load_document(p).title for p in welfare_documents(welfare_root)}
    assert not {r["doc_title"] for r in rows} - loaded
