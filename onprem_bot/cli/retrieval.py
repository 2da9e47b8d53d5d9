"""Retrieval commands: search, eval, bench."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from onprem_bot.cli import cli
from onprem_bot.cli.common import app_of, print_json

MODES = ("hybrid", "bm25", "dense")


def hit_json(hit: Any) -> dict[str, Any]:
    """A hit as the DESIGN.md ``search --json`` contract spells it."""
    c = hit.chunk
    return {
        "chunk_id": c.id,
        "doc_title": c.doc_title,
        "article": c.article,
        "location": c.location,
        "page": c.page,
        "text": c.text,
        "score": round(hit.score, 6),
        "bm25_score": round(hit.bm25_score, 6),
        "dense_score": round(hit.dense_score, 6),
    }


@cli.command()
@click.argument("question")
@click.option("-k", "k", type=click.IntRange(1, 100), help="결과 수 (default: settings.retrieval.k)")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON으로 출력")
@click.option(
    "--user", help="이 사용자가 볼 수 있는 문서에서만 (as this account; default: the operator, every document)"
)
@click.pass_context
def search(ctx: click.Context, question: str, k: int | None, mode: str, as_json: bool, user: str | None) -> None:
    """문서에서 질문과 관련된 조문·문단을 찾습니다 (hybrid search)."""
    app = app_of(ctx)
    viewer = app.access.viewer(user)
    hits = (
        app.retriever.run(question, k=k, mode=mode, viewer=viewer)
        if user
        else app.retriever.run(question, k=k, mode=mode)
    )
    if as_json:
        print_json({"hits": [hit_json(h) for h in hits]})
        return
    if not hits:
        click.echo("관련 문서를 찾지 못했습니다 (no results)")
    for h in hits:
        c = h.chunk
        click.echo(
            f"[{h.rank}] {c.doc_title} {c.location}  (score {h.score:.3f}, bm25 {h.bm25_score:.2f}, dense {h.dense_score:.3f})"
        )
        click.echo("    " + c.text.replace("\n", " ")[:160])


@cli.command(name="eval")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--modes", default="bm25,dense,hybrid", show_default=True, help="쉼표로 구분 (comma-separated)")
@click.option("--json", "as_json", is_flag=True, help="JSON으로 출력 (per-question details included)")
@click.option("--retrieval-only", is_flag=True, help="검색만 평가 (retrieval hit@k/MRR only, no answers)")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="보고서 파일 (.html + .json, or .json)")
@click.option(
    "--compare", "compare", type=click.Path(path_type=Path, dir_okay=False), help="비교할 설정 파일 (settings B, TOML)"
)
@click.option(
    "--compare-model", type=click.Path(path_type=Path, dir_okay=False), help="비교할 GGUF 모델 (model B, same settings)"
)
@click.option("--limit", type=click.IntRange(1, 100_000), help="첫 N개 질문만 (first N questions)")
@click.option("--no-faq", is_flag=True, help="FAQ를 건너뜁니다 (documents only)")
@click.pass_context
def eval_command(
    ctx: click.Context,
    dataset: Path,
    modes: str,
    as_json: bool,
    retrieval_only: bool,
    out: Path | None,
    compare: Path | None,
    compare_model: Path | None,
    limit: int | None,
    no_faq: bool,
) -> None:
    """평가: 전체 파이프라인 답변 품질·검색·지연 보고서 (--retrieval-only: 검색 hit@k/MRR만)."""
    from onprem_bot.eval.retrieval import evaluate_retrieval, format_table, read_dataset

    chosen = [m.strip() for m in modes.split(",") if m.strip()]
    bad = [m for m in chosen if m not in MODES]
    if bad or not chosen:
        raise click.BadParameter(f"{','.join(bad) or modes!r}: valid: {', '.join(MODES)}", param_hint="--modes")
    if not retrieval_only:
        from onprem_bot.cli.evaluate import run_eval

        run_eval(ctx, dataset, chosen, as_json, out, compare, compare_model, limit, no_faq)
        return
    rows = read_dataset(dataset)[:limit]
    report = evaluate_retrieval(app_of(ctx).retriever, rows, chosen)
    if as_json:
        print_json(report)
    else:
        click.echo(format_table(report))


@cli.group()
def bench() -> None:
    """성능 측정 (benchmarks); figures are printed, not asserted."""


@bench.command(name="retrieval")
@click.option("--chunks", type=click.IntRange(100, 2_000_000), default=100_000, show_default=True)
@click.option(
    "--corpus", type=click.Path(path_type=Path, file_okay=False), help="문장을 뽑을 법령 폴더 (default: corpus/)"
)
@click.option("--queries", type=click.IntRange(5, 1000), default=60, show_default=True)
@click.option("--no-encoder", is_flag=True, help="기본 임베더의 질문 인코딩 측정 생략")
@click.option(
    "--groups", is_flag=True, help="그룹 필터 검색 vs 필터 없음 (group-filtered hybrid p95 as a ratio, N chunks)"
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def bench_retrieval(
    ctx: click.Context, chunks: int, corpus: Path | None, queries: int, no_encoder: bool, groups: bool, as_json: bool
) -> None:
    """BM25 / dense / hybrid 검색 지연시간 (10k and N chunks) vs rank-bm25; --groups: filtered vs unfiltered."""
    from onprem_bot.bench.retrieval import run_benchmark
    from onprem_bot.eval.retrieval import read_dataset

    app = app_of(ctx)
    corpus = corpus or Path(__file__).resolve().parents[2] / "corpus"
    questions = [r["question"] for r in read_dataset(dev_set_path())][:queries]
    if groups:
        from onprem_bot.bench.retrieval_groups import run_groups_benchmark

        result = run_groups_benchmark(
            corpus, chunks, questions, app.analyzer, app.retriever.synonyms, lambda m: click.echo(m, err=True)
        )
        if as_json:
            print_json(result)
        else:
            click.echo(" ".join(f"{k}={v}" for k, v in result.items()))
        return
    sizes = sorted({min(10_000, chunks), chunks})
    encoder = None if no_encoder else app.embedder
    report = run_benchmark(
        corpus,
        sizes,
        questions,
        app.analyzer,
        app.retriever.synonyms,
        encoder,
        progress=lambda m: click.echo(m, err=True),
    )
    if as_json:
        print_json(report)
        return
    for row in report["sizes"]:
        click.echo(" ".join(f"{k}={v}" for k, v in row.items()))


def dev_set_path() -> Path:
    """The shipped statute development set (colloquial questions with gold articles)."""
    return Path(__file__).resolve().parents[1] / "data" / "eval" / "statutes_dev.jsonl"


@bench.command(name="faq")
@click.option("--entries", type=click.IntRange(10, 200_000), default=10_000, show_default=True)
@click.option("--probes", type=click.IntRange(10, 10_000), default=200, show_default=True)
@click.option(
    "--corpus", type=click.Path(path_type=Path, file_okay=False), help="질문을 만들 법령 폴더 (default: corpus/)"
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def bench_faq(ctx: click.Context, entries: int, probes: int, corpus: Path | None, as_json: bool) -> None:
    """FAQ 일치 판정 지연시간 (warm process, query encoding included)."""
    from onprem_bot.bench.faq import run_faq_benchmark

    app = app_of(ctx)
    corpus = corpus or Path(__file__).resolve().parents[2] / "corpus"
    report = run_faq_benchmark(corpus, entries, probes, app.analyzer, app.faq_embedder, app.faq.matcher)
    if as_json:
        print_json(report)
    else:
        click.echo(" ".join(f"{k}={v}" for k, v in report.items()))
