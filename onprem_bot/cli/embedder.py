"""Embedder commands: ``embedder profile`` (measure the cosine bars of the configured embedder) and
``bench ingest`` (sample-corpus ingest time, configured embedder vs USE in the same run)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from onprem_bot.cli import cli
from onprem_bot.cli.common import app_of, print_json
from onprem_bot.cli.retrieval import bench
from onprem_bot.errors import OnpremBotError

DEFAULT_SIMILARITY = Path(__file__).resolve().parents[3] / "shared" / "data" / "similarity"
"""``../shared/data/similarity`` next to the installation (KorSTS, KLUE-STS)."""


@cli.group()
def embedder() -> None:
    """임베딩 모델 (the sentence-embedding model)."""


@embedder.command(name="profile")
@click.option(
    "--data",
    "data",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="KorSTS/KLUE-STS 폴더 (default: ../shared/data/similarity)",
)
@click.option(
    "--write",
    "write",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="결과를 이 파일에 추가 (add to this profiles file, e.g. $ONPREM_BOT_HOME/embedder_profiles.json)",
)
@click.option("--json", "as_json", is_flag=True, help="JSON으로 출력")
@click.pass_context
def profile(ctx: click.Context, data: Path | None, write: Path | None, as_json: bool) -> None:
    """코사인 기준 측정: unrelated (p95 of pairs scored <= 1) and related (median of pairs scored >= 4)."""
    from onprem_bot.embed.profiles import load_sts_pairs, measure_profiles, write_profiles

    folder = data or DEFAULT_SIMILARITY
    try:
        pairs = load_sts_pairs(folder)
    except (OSError, ValueError, KeyError) as exc:
        raise OnpremBotError(f"유사도 데이터를 읽을 수 없습니다 (cannot read STS pairs) {folder}: {exc}") from None
    app = app_of(ctx)
    started = time.perf_counter()
    source = "KorSTS dev+test, KLUE-STS dev (onprem-bot embedder profile)"
    profiles = measure_profiles(app.embedder, pairs, source=source, batch_size=app.settings.embedder.batch_size)
    seconds = round(time.perf_counter() - started, 1)
    if write is not None:
        write_profiles(write, profiles)
    rows = [
        {
            "embedder": p.embedder,
            "pairing": p.pairing,
            "unrelated": p.unrelated,
            "related": p.related,
            "unrelated_pairs": p.unrelated_pairs,
            "related_pairs": p.related_pairs,
        }
        for p in profiles
    ]
    if as_json:
        print_json({"profiles": rows, "seconds": seconds, "written": str(write) if write else None})
        return
    for r in rows:
        click.echo(
            f"{r['embedder']} {r['pairing']}: 무관 (unrelated p95) {r['unrelated']:.4f} ({r['unrelated_pairs']} pairs), "
            f"유사 (paraphrase median) {r['related']:.4f} ({r['related_pairs']} pairs)"
        )
    click.echo(f"{seconds}초" + (f"; 저장 (written): {write}" if write else ""))


@bench.command(name="ingest")
@click.option("--corpus", type=click.Path(path_type=Path, file_okay=False), help="문서 폴더 (default: corpus/)")
@click.option(
    "--baseline",
    type=click.Choice(["use", "e5", "hash", "none"]),
    default="use",
    show_default=True,
    help="같은 실행에서 비교할 임베더 (the same chunks indexed with this embedder too)",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def bench_ingest(ctx: click.Context, corpus: Path | None, baseline: str, as_json: bool) -> None:
    """수집 + 색인 시간: the configured embedder vs a baseline (USE), same run, fresh database, no cache."""
    from onprem_bot.bench.report import bench_ingest as run
    from onprem_bot.embed.backends import make_embedder

    app = app_of(ctx)
    corpus = corpus or Path(__file__).resolve().parents[2] / "corpus"
    base = None if baseline == "none" else make_embedder(baseline)
    result = run(corpus, app.embedder, app.analyzer, app.settings, app.settings.embedder.batch_size, baseline=base)
    if as_json:
        print_json(result)
        return
    click.echo(" ".join(f"{k}={v}" for k, v in result.items()))


@embedder.command(name="snapshot")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.pass_context
def snapshot(ctx: click.Context, folder: Path) -> None:
    """FOLDER의 임베딩 스냅샷을 씁니다 (write FOLDER/.embeddings/<embedder>.npz for its stored chunks).

    ``ingest FOLDER`` then takes those vectors instead of embedding again (the sample corpus ships one).
    """
    from onprem_bot.embed.snapshot import export_snapshot

    app = app_of(ctx)
    root = str(folder.resolve())
    docs = [d for d in app.documents.list_all() if str(Path(d.path).resolve()).startswith(root)]
    if not docs:
        raise OnpremBotError(
            f"{folder}: 저장된 문서가 없습니다 (no stored documents from this folder; ingest it first)"
        )
    chunks = [c for d in docs for c in app.documents.chunks(d.id)]
    path = export_snapshot(app.indexer.embedder, chunks, folder)
    click.echo(f"{path}: 문서 {len(docs)}개, 청크 {len(chunks)}개")
