"""The full evaluation report: per-question scores, totals, HTML, comparison, the `eval` command.

Uses the scripted LLM and the hash embedder; no timings are asserted.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from onprem_bot.app import App
from onprem_bot.checker import Checker
from onprem_bot.cli import cli
from onprem_bot.config import AnswerSettings
from onprem_bot.eval.compare import compare_reports, format_compare_table, question_outcome, render_compare_html
from onprem_bot.eval.report import evaluate, format_console, read_eval_rows, render_html, write_outputs
from onprem_bot.llm.fake import ScriptedLLM
from onprem_bot.pipeline import Pipeline
from tests.statute_sample import STATUTE_MD

REPO = Path(__file__).resolve().parents[1]
SAMPLE_30 = REPO / "onprem_bot" / "data" / "eval" / "sample_30.jsonl"

ROWS = [
    {
        "question": "연차휴가는 며칠 받을 수 있나요?",
        "answer": "1년간 80퍼센트 이상 출근한 근로자에게 15일의 유급휴가를 주어야 합니다.",
        "keywords": ["80퍼센트", "15일", "유급휴가"],
        "doc_title": "시험근로법",
        "article": "제60조",
    },
    {"question": "시험근로법의 목적은 무엇인가요?", "keywords": ["근로조건"], "doc_title": "시험근로법"},
    {"question": "화성 이주 비자 신청 방법은?", "answer": "제공된 문서에서 찾을 수 없습니다."},
]


def run(app: App, rows: list[dict], **answer: object) -> dict:
    from dataclasses import replace

    settings = replace(AnswerSettings(), **answer)  # type: ignore[arg-type]
    pipeline = Pipeline(None, app.retriever, app.analyzer, ScriptedLLM(), Checker(app.analyzer), settings, k=5)
    return evaluate(pipeline, app.retriever, app.analyzer, rows, meta={"run": "test"})


def test_report_scores_every_question_and_totals(indexed: App) -> None:
    report = run(indexed, ROWS)
    assert report["questions"] == 3 and len(report["details"]) == 3
    first, second, third = report["details"]
    # retrieval figures only where a gold source is given
    assert first["rank"] is not None and "hit@5" in first and "rr" in first
    assert third["rank"] is None and "hit@1" not in third
    assert report["retrieval"]["questions"] == 2
    assert list(report["modes"]) == ["bm25", "dense", "hybrid"]
    # the seed keyword score: m of n → 5 × m/n; accuracy = total / (5 × questions with keywords)
    assert report["keyword"]["max"] == 10
    total = first["keyword_score"] + second["keyword_score"]
    assert report["keyword"]["total"] == pytest.approx(round(total, 2))
    assert report["keyword"]["accuracy"] == pytest.approx(total / 10, abs=1e-4)
    # text metrics only against a reference answer
    assert first["rouge_l"] is not None and 0 <= first["tfidf_cosine"] <= 1 and 0 <= first["bleu"] <= 1
    assert second["rouge_l"] is None and report["text"]["questions"] == 2
    # route, verdict and stage timings come from the pipeline's answer
    assert sum(report["routes"].values()) == 3
    assert {"retrieval_ms", "total_ms"} <= set(first["timings"])
    assert "total_ms" in report["latency_ms"] and report["latency_ms"]["total_ms"]["n"] == 3
    assert first["cites_gold"] in (True, False) and third["cites_gold"] is None
    json.dumps(report)  # serialisable as is


def test_console_table_and_html_are_complete_and_self_contained(indexed: App, tmp_path: Path) -> None:
    report = run(indexed, ROWS)
    table = format_console(report)
    assert "키워드 점수" in table and "hit@5" in table and "hybrid" in table
    page = render_html(report)
    HTMLParser().feed(page)  # parses
    assert page.count("<svg") >= 3  # score per question, route mix, latency distribution
    # no external assets: nothing is fetched (the SVG namespace is an identifier, not a request)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "연차휴가는 며칠" in page
    written = write_outputs(report, tmp_path / "out" / "r.html", page)
    assert [p.name for p in written] == ["r.html", "r.json"]
    assert json.loads((tmp_path / "out" / "r.json").read_text(encoding="utf-8"))["questions"] == 3


def test_comparison_marks_questions_that_changed(indexed: App) -> None:
    a = run(indexed, ROWS[:2], mode="rag")
    b = run(indexed, ROWS[:2], mode="extractive")
    b["details"][0]["keyword_score"] = (a["details"][0]["keyword_score"] or 0) + 1  # B better on question 1
    cmp = compare_reports(a, b, "rag", "extractive")
    assert cmp["questions"] == 2 and cmp["details"][0]["outcome"] == "better"
    assert sum(cmp["outcomes"].values()) == 2
    names = [t["name"] for t in cmp["totals"]]
    assert "keyword accuracy" in names and "ROUGE-L" in names and "latency p50 ms" in names
    assert "B = extractive" in format_compare_table(cmp)
    page = render_compare_html(cmp)
    HTMLParser().feed(page)
    assert "class='better'" in page and "<script" not in page


def test_question_outcome_rules() -> None:
    base = {"keyword_score": 2.5, "cites_gold": True, "rouge_l": 0.5, "route": "rag", "verdict": "pass", "answer": "x"}
    assert question_outcome(base, dict(base)) == "same"
    assert question_outcome(base, {**base, "keyword_score": 5.0}) == "better"
    assert question_outcome(base, {**base, "cites_gold": False}) == "worse"
    assert question_outcome(base, {**base, "rouge_l": 0.52}) == "same"  # below the ROUGE step
    assert question_outcome(base, {**base, "rouge_l": 0.3}) == "worse"
    assert question_outcome(base, {**base, "route": "extractive"}) == "changed"


def test_rows_need_only_a_question(tmp_path: Path) -> None:
    data = tmp_path / "q.jsonl"
    data.write_text('{"question": "연차?"}\n\n{"question": "x", "keywords": "15일"}\n', encoding="utf-8")
    with pytest.raises(Exception, match=r"q.jsonl:3: keywords"):
        read_eval_rows(data)
    data.write_text('{"question": "연차?", "faq_id": 3}\n', encoding="utf-8")
    assert read_eval_rows(data) == [{"question": "연차?", "faq_id": 3}]
    data.write_text('{"answer": "x"}\n', encoding="utf-8")
    with pytest.raises(Exception, match="missing 'question'"):
        read_eval_rows(data)


def test_sample_30_is_verified_against_the_corpus() -> None:
    rows = read_eval_rows(SAMPLE_30)
    assert len(rows) == 30 and len({r["question"] for r in rows}) == 30
    squash = "".join
    for row in rows:
        assert row["answer"] and row["keywords"] and row["doc_title"] and row["article"], row
        body = _article_text(row["doc_title"], row["article"])
        for keyword in row["keywords"]:
            assert squash(keyword.split()) in squash(body.split()), (row["question"], keyword)
            assert squash(keyword.split()) in squash(row["answer"].split()), (row["question"], keyword)


def _article_text(title: str, article: str) -> str:
    for path in (REPO / "corpus").rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        if not re.search(rf"^제목: {re.escape(title)}\s*$", text, re.M):
            continue
        for part in re.split(r"^##### ", text, flags=re.M)[1:]:
            if part.split("\n", 1)[0].split(" ")[0] == article:
                body = re.split(r"^#{1,4} ", part, flags=re.M)[0]
                assert "삭제" not in body.split("\n", 3)[2][:10], f"{title} {article} is deleted"
                return body
    raise AssertionError(f"{title} {article} not in corpus/")


def test_eval_command_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONPREM_BOT_LLM__BACKEND", "scripted")
    law = tmp_path / "시험근로법.md"
    law.write_text(STATUTE_MD, encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(law)]).exit_code == 0
    data = tmp_path / "q.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS[:2]), encoding="utf-8")
    out = tmp_path / "report" / "r.html"
    result = runner.invoke(cli, ["eval", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "키워드 점수" in result.output and out.is_file() and out.with_suffix(".json").is_file()
    assert (tmp_path / "home" / "eval" / "latest.html").is_file()  # for the admin UI
    result = runner.invoke(cli, ["eval", str(data), "--json"])
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["questions"] == 2 and report["meta"]["llm_backend"] == "scripted"
    # retrieval only, as before
    result = runner.invoke(cli, ["eval", str(data), "--retrieval-only", "--json"])
    assert set(json.loads(result.stdout.strip().splitlines()[-1])) == {"questions", "modes"}
    # comparison with a second settings file
    other = tmp_path / "b.toml"
    other.write_text('[answer]\nmode = "extractive"\n[llm]\nbackend = "scripted"\n', encoding="utf-8")
    result = runner.invoke(cli, ["eval", str(data), "--compare", str(other), "--out", str(tmp_path / "c.html")])
    assert result.exit_code == 0, result.output
    assert "B = " in result.output and (tmp_path / "c.html").is_file()
    cmp = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert cmp["reports"]["b"]["meta"]["answer_mode"] == "extractive"
    bad = runner.invoke(cli, ["eval", str(data), "--compare-model", str(tmp_path / "none.gguf")])
    assert bad.exit_code != 0
