"""`onprem-bot bench report` (alias `bench all`): every component benchmark in one JSON + Markdown report.

Components: FAQ matching, retrieval (BM25 / dense / hybrid vs rank-bm25), generation (product
path vs raw llama_cpp), the checker, and ingest throughput (chunks/s for load + chunk + store, and
for building the search index). Each component runs ``repeats`` times in this one process; every
figure is reported as the median over the repeats with min and max. Each speed comparison is a
ratio of medians against a baseline measured in the same run (never against numbers from an
earlier run or another machine). GPU figures are included only when a GPU is present; otherwise
the report says they are absent.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

Progress = Callable[[str], None]
SUFFIXES = ("_median", "_min", "_max")


def summarize_runs(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``{figure: {"median", "min", "max", "n"}}`` for numeric figures; other values from the first run.

    Figures a component already reports as ``X_median``/``X_min``/``X_max`` (over its own internal
    repeats) are folded into one ``X`` entry.
    """
    if not runs:
        return {}
    out: dict[str, Any] = {}
    first = runs[0]
    folded = {k[: -len("_median")] for k in first if k.endswith("_median")}
    for key, value in first.items():
        base = next((key[: -len(s)] for s in SUFFIXES if key.endswith(s)), None)
        if base in folded and base is not None:
            if key.endswith("_median"):
                vals = [r[key] for r in runs if isinstance(r.get(key), int | float)]
                mins = [r[base + "_min"] for r in runs if isinstance(r.get(base + "_min"), int | float)]
                maxs = [r[base + "_max"] for r in runs if isinstance(r.get(base + "_max"), int | float)]
                if vals:
                    out[base] = {
                        "median": _round(statistics.median(vals)),
                        "min": _round(min(mins or vals)),
                        "max": _round(max(maxs or vals)),
                        "n": len(runs),
                    }
            continue
        raw = [r.get(key) for r in runs]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw):
            values = [float(v) for v in raw if v is not None]
            out[key] = {
                "median": _round(statistics.median(values)),
                "min": _round(min(values)),
                "max": _round(max(values)),
                "n": len(values),
            }
        else:
            out[key] = value
    return out


def _round(v: float) -> float:
    return round(float(v), 4 if abs(v) < 1 else 2)


def ratio(name: str, value: Any, baseline: Any, value_of: str, baseline_of: str, note: str = "") -> dict[str, Any]:
    """A speed comparison: ``value / baseline`` of two medians from the same run."""
    v, b = _median(value), _median(baseline)
    return {
        "name": name,
        "value_of": value_of,
        "value": v,
        "baseline_of": baseline_of,
        "baseline": b,
        "ratio": round(v / b, 3) if v is not None and b else None,
        "note": note,
    }


def _median(figure: Any) -> float | None:
    if isinstance(figure, dict):
        return figure.get("median")
    return float(figure) if isinstance(figure, int | float) else None


def machine_info() -> dict[str, Any]:
    """The machine the figures come from: CPU, cores, memory, OS, Python, library versions, GPU."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        import psutil

        memory_gb = round(psutil.virtual_memory().total / 2**30, 1)
    except Exception:  # pragma: no cover - psutil is a dependency
        pass
    versions = {}
    for dist in ("onprem-bot", "llama_cpp_python", "faiss-cpu", "faiss-gpu", "bm25s", "rank-bm25", "python-mecab-ko"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "hostname": platform.node(),
        "versions": versions,
        "gpu": gpu_info(),
    }


def gpu_info() -> dict[str, Any]:
    """``{"present": bool, "name"?, "llama_gpu_offload"?, "note"}`` (nvidia-smi and the llama_cpp build)."""
    names: list[str] = []
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=20,
            )
            names = [line.strip() for line in out.stdout.splitlines() if line.strip()] if out.returncode == 0 else []
        except (OSError, subprocess.SubprocessError):
            names = []
    offload = None
    try:
        import llama_cpp

        offload = bool(llama_cpp.llama_supports_gpu_offload())
    except Exception:
        offload = None
    if not names:
        return {"present": False, "llama_gpu_offload": offload, "note": "GPU figures absent: no GPU on this machine"}
    note = "GPU figures labelled with the GPU below"
    if not offload:
        note += "; this llama-cpp-python build has no GPU offload (generation ran on the CPU)"
    return {"present": True, "name": "; ".join(names), "llama_gpu_offload": offload, "note": note}


def bench_ingest(
    corpus: Path, embedder: Any, analyzer: Any, settings: Any, batch_size: int = 32, baseline: Any = None
) -> dict[str, Any]:
    """Ingest ``corpus`` into a fresh temporary database and build its index; chunks/s of each step.

    With a ``baseline`` embedder of another name (USE), the same chunks are indexed with it too, in
    this run and with an empty cache: ``baseline_index_s`` and ``total_vs_baseline`` (load + chunk +
    store + index with the configured embedder over the same with the baseline).
    """
    from onprem_bot.embed.cache import CachedEmbedder
    from onprem_bot.index.builder import IndexBuilder
    from onprem_bot.index.store import IndexStore
    from onprem_bot.ingest.pipeline import Ingestor
    from onprem_bot.storage.db import Database
    from onprem_bot.storage.documents import DocumentStore

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            db.migrate()
            documents = DocumentStore(db)
            started = time.perf_counter()
            report = Ingestor(documents, settings.ingest.chunker, settings.ingest.max_tokens).run([corpus])
            ingest_s = time.perf_counter() - started
            chunks = sum(r.chunks for r in report.ok)
            builder = IndexBuilder(
                IndexStore(Path(tmp) / "index"), analyzer, CachedEmbedder(embedder, db), settings.retrieval, batch_size
            )
            started = time.perf_counter()
            builder.build(documents.chunks())
            index_s = time.perf_counter() - started
            base_s = None
            if baseline is not None and getattr(baseline, "name", None) != getattr(embedder, "name", None):
                base = IndexBuilder(IndexStore(Path(tmp) / "base"), analyzer, baseline, settings.retrieval, batch_size)
                started = time.perf_counter()
                base.build(documents.chunks())
                base_s = time.perf_counter() - started
        finally:
            db.dispose()
    compared = {}
    if base_s is not None:
        compared = {
            "baseline_embedder": baseline.name,
            "baseline_index_s": round(base_s, 3),
            "total_s": round(ingest_s + index_s, 3),
            "baseline_total_s": round(ingest_s + base_s, 3),
            "total_vs_baseline": round((ingest_s + index_s) / (ingest_s + base_s), 3),
        }
    return {
        "documents": len(report.ok),
        "chunks": chunks,
        "ingest_s": round(ingest_s, 3),
        "ingest_chunks_per_s": round(chunks / ingest_s, 1) if ingest_s else None,
        "index_s": round(index_s, 3),
        "index_chunks_per_s": round(chunks / index_s, 1) if index_s else None,
        "embedder": getattr(embedder, "name", type(embedder).__name__),
        **compared,
    }


def run_bench_report(
    app: Any,
    corpus: Path,
    questions: Sequence[str],
    *,
    repeats: int = 3,
    chunks: Sequence[int] = (10_000,),
    faq_entries: int = 2000,
    faq_probes: int = 100,
    check_answers: int = 50,
    generation_model: Path | None = None,
    generation_repeats: int = 3,
    generation_max_tokens: int = 32,
    skip: Sequence[str] = (),
    progress: Progress = lambda _m: None,
) -> dict[str, Any]:
    """Run every component ``repeats`` times; figures as median/min/max, ratios against same-run baselines."""
    components: dict[str, Any] = {}
    absent: dict[str, str] = {}
    started = time.perf_counter()

    def repeated(name: str, fn: Callable[[], dict[str, Any]], times: int = repeats) -> dict[str, Any] | None:
        if name in skip:
            absent[name] = "skipped (--skip)"
            return None
        runs = []
        for i in range(times):
            progress(f"{name} {i + 1}/{times}")
            t = time.perf_counter()
            try:
                runs.append(fn())
            except Exception as exc:  # one component failing must not lose the others
                absent[name] = f"failed: {type(exc).__name__}: {exc}"
                return None
            progress(f"{name} {i + 1}/{times}: {time.perf_counter() - t:.1f}s")
        summary = summarize_runs(runs)
        summary["repeats"] = len(runs)
        components[name] = summary
        return summary

    if "ingest" not in skip:
        from onprem_bot.embed.backends import USEEmbedder

        use = USEEmbedder()  # the same-run baseline of the embedded default's ingest time
        repeated("ingest", lambda: bench_ingest(corpus, app.embedder, app.analyzer, app.settings, baseline=use))
    else:
        absent["ingest"] = "skipped (--skip)"

    from onprem_bot.bench.faq import run_faq_benchmark

    repeated(
        "faq",
        lambda: run_faq_benchmark(corpus, faq_entries, faq_probes, app.analyzer, app.faq_embedder, app.faq.matcher),
    )

    from onprem_bot.bench.retrieval import run_benchmark

    if "retrieval" in skip:
        absent["retrieval"] = "skipped (--skip)"
    else:
        for size in chunks:

            def one_size(size: int = size) -> dict[str, Any]:
                result = run_benchmark(corpus, [size], questions, app.analyzer, app.retriever.synonyms, app.embedder)
                sized: dict[str, Any] = result["sizes"][0]
                return sized

            repeated(f"retrieval_{size}", one_size)

    from onprem_bot.bench.check import run_check_benchmark

    repeated("check", lambda: run_check_benchmark(corpus, check_answers, app.analyzer))

    if "generation" in skip:
        absent["generation"] = "skipped (--skip)"
    elif generation_model is None or not Path(generation_model).is_file():
        absent["generation"] = f"model file not found: {generation_model}"
    else:
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            absent["generation"] = "llama-cpp-python is not installed"
        else:
            from onprem_bot.bench.generation import run_generation_benchmark

            llm = app.settings.llm
            model = Path(generation_model)
            repeated(
                "generation",
                lambda: run_generation_benchmark(
                    model,
                    max_tokens=generation_max_tokens,
                    repeats=generation_repeats,
                    n_threads=llm.n_threads,
                    n_gpu_layers=llm.n_gpu_layers,
                ),
                times=1,
            )
    machine = machine_info()
    return {
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "command": shlex.join(["onprem-bot", *sys.argv[1:]]),
        "machine": machine,
        "repeats": repeats,
        "components": components,
        "ratios": speed_ratios(components),
        "absent": absent,
        "gpu": machine["gpu"],
        "seconds": round(time.perf_counter() - started, 1),
    }


_RETRIEVAL_RATIOS = (
    ("BM25 (bm25s) vs rank-bm25, {size} chunks", "bm25_qps", "rank_bm25_qps", "bm25s queries/s",
     "rank-bm25 queries/s", "higher is faster"),
    ("hybrid vs BM25 alone, {size} chunks", "hybrid_p50_ms", "bm25_p50_ms", "hybrid p50 ms", "bm25 p50 ms",
     "whole hybrid query (analysis, encoding, dense, fusion) vs BM25 scoring alone"),
)  # fmt: skip
_RATIOS = (
    ("faq", "FAQ match: configured matcher vs morphemes + embedding rule", "match_p95_ms", "baseline_p95_ms",
     "p95 ms", "baseline p95 ms", "the cost of the character n-grams and the learned scorer; lower is faster"),
    ("generation", "generation tokens/s: product vs raw llama_cpp", "product_tokens_per_s", "raw_tokens_per_s",
     "product tokens/s", "raw tokens/s", "1.0 = the product's layer costs nothing"),
    ("generation", "time to first token: product vs raw llama_cpp", "product_ttft_ms", "raw_ttft_ms",
     "product TTFT ms", "raw TTFT ms", "1.0 = no overhead"),
    ("check", "checker warm vs cold source cache", "warm_p50_ms", "check_p50_ms", "warm p50 ms", "cold p50 ms",
     "lower is faster"),
    ("ingest", "index build vs ingest throughput", "index_chunks_per_s", "ingest_chunks_per_s", "index chunks/s",
     "ingest chunks/s", "which step bounds a re-ingest"),
    ("ingest", "sample-corpus ingest + index time: configured embedder vs USE", "total_s", "baseline_total_s",
     "total s", "USE total s", "the embedder's share of a first ingest; higher is slower"),
)  # fmt: skip
"""(component, comparison, value figure, baseline figure, value label, baseline label, note)."""


def speed_ratios(components: dict[str, Any]) -> list[dict[str, Any]]:
    """Every speed comparison as a ratio of same-run medians."""
    out = []
    for name, c in components.items():
        if name.startswith("retrieval_"):
            size = name.split("_", 1)[1]
            for title, value, baseline, value_of, baseline_of, note in _RETRIEVAL_RATIOS:
                out.append(ratio(title.format(size=size), c.get(value), c.get(baseline), value_of, baseline_of, note))
    for component, title, value, baseline, value_of, baseline_of, note in _RATIOS:
        if component in components:
            c = components[component]
            out.append(ratio(title, c.get(value), c.get(baseline), value_of, baseline_of, note))
    return out


METHODS = [
    "- **ingest**: `corpus/` loaded, chunked and stored into a fresh SQLite database (chunks/s), then the "
    "search index built from those chunks: Mecab BM25 + the configured embedder, no embedding cache (chunks/s); "
    "when that embedder is not USE, the same chunks are indexed with USE in the same run (`baseline_*`).",
    "- **faq**: match latency in a warm process over N entries made from statute sentences; half the probes "
    "are reworded entries, half unrelated; query encoding with the configured embedder included; the same "
    "queries are then timed on the morphemes + embedding rule as the baseline.",
    "- **retrieval_N**: N synthetic chunks of real statute sentences; BM25 (bm25s) and FAISS search alone, the "
    "whole hybrid query, index load time and memory in a fresh process; rank-bm25 answers the same queries in "
    "the same run as the baseline. Dense vectors are hash vectors of the embedder's dimension (real FAISS "
    "cost); `query_encode_p50_ms` is the configured embedder's real query encoding.",
    "- **check**: the hallucination checker on ~300-character answers against 5 sources, cold and warm source cache.",
    "- **generation**: time to first token and tokens/s of the configured GGUF through the product's "
    "LlamaCppLLM and through raw llama_cpp, alternating, from a cleared cache.",
]


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if abs(v) >= 1 and v == int(v):
            return f"{int(v):,}"
        return f"{v:,.4g}" if abs(v) < 1 else f"{v:,.2f}"
    return str(v)


def render_markdown(report: dict[str, Any], note: str = "") -> str:
    """The report as Markdown (what docs/benchmarks.md holds)."""
    m = report["machine"]
    lines = ["# Benchmarks", ""]
    if note:
        lines += [f"> {note}", ""]
    lines += [
        f"Generated {report['created']} by `{report['command']}` in {report['seconds']} s.",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']} ({m['cores']} cores)",
        f"- memory: {m['memory_gb']} GiB",
        f"- OS: {m['os']}, Python {m['python']}",
        "- libraries: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"- GPU: {m['gpu'].get('name') or 'none'} — {m['gpu']['note']}",
        "",
        f"Every figure is the median over {report['repeats']} repeated runs in one process, with min and max; "
        "components that repeat internally (generation) report the median of their own repeats. "
        "Every ratio compares two medians measured in the same run.",
        "",
        "## Speed comparisons (same-run baselines)",
        "",
        "| comparison | value | baseline | ratio | note |",
        "|---|---|---|---|---|",
    ]
    for r in report["ratios"]:
        lines.append(
            f"| {r['name']} | {r['value_of']} {_cell(r['value'])} | {r['baseline_of']} {_cell(r['baseline'])} "
            f"| **{_cell(r['ratio'])}** | {r['note']} |"
        )
    for name, comp in report["components"].items():
        lines += ["", f"## {name}", "", "| figure | median | min | max |", "|---|---|---|---|"]
        others = []
        for key, v in comp.items():
            constant = isinstance(v, dict) and v.get("min") == v.get("max") and float(v.get("max") or 0).is_integer()
            if isinstance(v, dict) and "median" in v and not constant:
                lines.append(f"| {key} | {_cell(v['median'])} | {_cell(v['min'])} | {_cell(v['max'])} |")
            elif key != "repeats":  # a setting or count, the same in every run
                value = _cell(v["median"]) if isinstance(v, dict) and "median" in v else v
                others.append(f"{key}: {value}")
        if others:
            lines += ["", " ".join("; ".join(others).split())]
    lines += ["", "## What is measured", "", *METHODS]
    if report["absent"]:
        lines += ["", "## Not measured", ""]
        lines += [f"- {k}: {v}" for k, v in report["absent"].items()]
    if not report["gpu"].get("present"):
        lines += ["", "GPU figures absent: this run had no GPU."]
    return "\n".join(lines) + "\n"
