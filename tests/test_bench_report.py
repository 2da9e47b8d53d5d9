"""The gathered benchmark report: median/min/max over repeats, same-run ratios, Markdown; figures not asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from onprem_bot.app import App
from onprem_bot.bench.report import gpu_info, ratio, render_markdown, run_bench_report, speed_ratios, summarize_runs
from tests.statute_sample import STATUTE_MD

REPO = Path(__file__).resolve().parents[1]


def test_figures_are_median_min_max_over_repeats() -> None:
    runs = [
        {"p50_ms": 3.0, "qps": 10, "kind": "flat", "ok": True},
        {"p50_ms": 1.0, "qps": 30, "kind": "flat", "ok": True},
        {"p50_ms": 2.0, "qps": 20, "kind": "flat", "ok": False},
    ]
    s = summarize_runs(runs)
    assert s["p50_ms"] == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}
    assert s["qps"]["median"] == 20 and s["qps"]["min"] == 10 and s["qps"]["max"] == 30
    assert s["kind"] == "flat" and s["ok"] is True  # not numbers: the first run's value
    assert summarize_runs([]) == {}


def test_internal_repeats_fold_into_one_figure() -> None:
    runs = [
        {"tps_median": 10.0, "tps_min": 8.0, "tps_max": 12.0},
        {"tps_median": 14.0, "tps_min": 13.0, "tps_max": 20.0},
    ]
    assert summarize_runs(runs)["tps"] == {"median": 12.0, "min": 8.0, "max": 20.0, "n": 2}


def test_ratios_compare_same_run_medians() -> None:
    r = ratio("x vs y", {"median": 30.0}, {"median": 10.0}, "x", "y")
    assert r["ratio"] == 3.0 and r["value"] == 30.0 and r["baseline"] == 10.0
    assert ratio("x", None, {"median": 1.0}, "x", "y")["ratio"] is None
    assert ratio("x", {"median": 1.0}, {"median": 0.0}, "x", "y")["ratio"] is None
    comps = {
        "retrieval_1000": {"bm25_qps": {"median": 100.0}, "rank_bm25_qps": {"median": 5.0}},
        "check": {"warm_p50_ms": {"median": 1.0}, "check_p50_ms": {"median": 4.0}},
    }
    by_name = {r["name"]: r["ratio"] for r in speed_ratios(comps)}
    assert by_name["BM25 (bm25s) vs rank-bm25, 1000 chunks"] == 20.0
    assert by_name["checker warm vs cold source cache"] == 0.25


def test_gpu_info_says_when_figures_are_absent() -> None:
    info = gpu_info()
    assert isinstance(info["present"], bool) and info["note"]
    if not info["present"]:
        assert "absent" in info["note"]


@pytest.mark.slow
def test_small_run_gathers_every_component(app: App, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "시험근로법.md").write_text(STATUTE_MD, encoding="utf-8")
    (corpus / "민법.md").write_text(
        STATUTE_MD.replace("시험근로법", "시험민법").replace("근로", "거래"), encoding="utf-8"
    )
    report = run_bench_report(
        app,
        corpus,
        ["연차휴가는 며칠인가요?", "해고 예고는 언제?"],
        repeats=2,
        chunks=(100,),
        faq_entries=10,
        faq_probes=10,
        check_answers=5,
        generation_model=tmp_path / "none.gguf",
    )
    assert {"ingest", "faq", "retrieval_100"} <= set(report["components"]) | set(report["absent"])
    assert "generation" in report["absent"]  # no model file: said, not failed
    faq = report["components"]["faq"]
    assert {"match_p95_ms", "baseline_p95_ms", "p95_vs_baseline"} <= set(faq)
    assert any(r["name"].startswith("FAQ match") for r in report["ratios"])
    ingest = report["components"]["ingest"]
    assert ingest["repeats"] == 2 and set(ingest["ingest_chunks_per_s"]) == {"median", "min", "max", "n"}
    # the same chunks indexed with USE in the same run: the configured embedder's ingest time as a ratio
    assert ingest["baseline_embedder"] == "use-multilingual-v3" and "total_vs_baseline" in ingest
    assert any(r["name"].startswith("sample-corpus ingest") and r["ratio"] for r in report["ratios"])
    md = render_markdown(report, note="test run")
    assert md.startswith("# Benchmarks") and "## Machine" in md and "| figure | median | min | max |" in md
    assert "test run" in md and "generation" in md
