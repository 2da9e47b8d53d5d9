"""`onprem-bot bench generation`: time to first token and tokens/s, product path vs raw llama_cpp.

The same GGUF is loaded twice in one process: once behind the product's :class:`LlamaCppLLM`
(lock, stop/repetition guard, stats) and once as a bare ``llama_cpp.Llama``. Both answer the
same Korean one-article completion prompt greedily, from a cleared cache every time (so the
prompt is really evaluated), in alternating order. Figures are medians over the repeats with
min/max; the ratios say what the product's layer costs (1.0 = nothing).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from onprem_bot.llm.llama import LlamaCppLLM, check_gguf_file

ARTICLE = (
    "근로기준법 제60조(연차 유급휴가) ① 사용자는 1년간 80퍼센트 이상 출근한 근로자에게 15일의 유급휴가를 주어야 한다."
)
PROMPT = f"문서: {ARTICLE}\n\n위 문서를 근거로 답하세요.\n질문: 연차 유급휴가는 며칠인가요?\n답변:"
"""A Korean one-article completion prompt (the embedded default model answers "15일...")."""


def _timed(pieces: Iterator[str]) -> tuple[str, float | None, float]:
    started = time.perf_counter()
    first: float | None = None
    parts = []
    for piece in pieces:
        if piece and first is None:
            first = time.perf_counter() - started
        parts.append(piece)
    return "".join(parts), first, time.perf_counter() - started


def _summary(prefix: str, runs: list[dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, digits in (("ttft_ms", 1), ("tokens_per_s", 2), ("tokens", 0)):
        values = [r[key] for r in runs]
        out[f"{prefix}_{key}_median"] = round(statistics.median(values), digits)
        out[f"{prefix}_{key}_min"] = round(min(values), digits)
        out[f"{prefix}_{key}_max"] = round(max(values), digits)
    return out


def run_generation_benchmark(
    model_path: Path,
    *,
    prompt: str = PROMPT,
    max_tokens: int = 64,
    repeats: int = 5,
    n_ctx: int = 2048,
    n_threads: int = 0,
    n_gpu_layers: int = -1,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Time ``repeats`` generations through the product and through raw llama_cpp; a flat dict of figures."""
    from llama_cpp import Llama

    say = progress or (lambda _m: None)
    model_path = Path(model_path)
    check_gguf_file(model_path)
    threads = n_threads or os.cpu_count() or 1
    say(f"모델 로드 (loading) {model_path.name} ×2 …")
    product = LlamaCppLLM(
        model_path,
        n_ctx=n_ctx,
        n_gpu_layers=n_gpu_layers,
        n_threads=threads,
        temperature=0.0,
        prompt_format="completion",
    )
    product.warm_up()
    raw = Llama(
        model_path=str(model_path),
        n_ctx=n_ctx,
        n_gpu_layers=n_gpu_layers,
        n_threads=threads,
        n_threads_batch=threads,
        seed=0,
        verbose=False,
    )

    def count(text: str) -> int:
        return len(raw.tokenize(text.encode("utf-8"), add_bos=False, special=False)) if text else 0

    def run_product() -> tuple[str, float | None, float]:
        product.reset_state()
        return _timed(product.stream(prompt, max_tokens))

    def run_raw() -> tuple[str, float | None, float]:
        raw.reset()
        chunks: Any = raw.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, stream=True)
        return _timed(c["choices"][0]["text"] for c in chunks)

    run_product(), run_raw()  # warm caches and threads; not timed
    results: dict[str, list[dict[str, float]]] = {"product": [], "raw": []}
    texts: dict[str, str] = {}
    for i in range(repeats):
        order = [("product", run_product), ("raw", run_raw)]
        for name, run in order if i % 2 == 0 else order[::-1]:
            text, first, total = run()
            tokens = count(text)
            first = first if first is not None else total
            decode_s = total - first
            results[name].append(
                {
                    "ttft_ms": 1000 * first,
                    "tokens_per_s": (tokens - 1) / decode_s if tokens > 1 and decode_s > 0 else 0.0,
                    "tokens": tokens,
                }
            )
            texts[name] = text
        say(
            f"{i + 1}/{repeats}: product {results['product'][-1]['tokens_per_s']:.1f} tok/s, raw {results['raw'][-1]['tokens_per_s']:.1f} tok/s"
        )
    report: dict[str, Any] = {
        "model": model_path.name,
        "prompt_tokens": count(prompt),
        "max_tokens": max_tokens,
        "repeats": repeats,
        "n_threads": threads,
        "n_gpu_layers": n_gpu_layers,
        **_summary("product", results["product"]),
        **_summary("raw", results["raw"]),
    }
    raw_ttft = report["raw_ttft_ms_median"]
    raw_tps = report["raw_tokens_per_s_median"]
    report["ttft_overhead_ratio"] = round(report["product_ttft_ms_median"] / raw_ttft, 3) if raw_ttft else None
    report["tokens_per_s_ratio"] = round(report["product_tokens_per_s_median"] / raw_tps, 3) if raw_tps else None
    report["same_text"] = texts["product"] == texts["raw"]
    report["answer"] = texts["product"].strip()[:120]
    return report
