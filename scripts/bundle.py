#!/usr/bin/env python3
"""Build the offline installation bundle (``make bundle [GPU=1]``), on a connected build machine.

One archive ``dist/onprem-bot-<version>-<python>-<platform>-<cpu|cuda>.tar`` holding:

    install.sh            checks Python/platform, verifies SHA256SUMS, installs with
                          ``pip --no-index --find-links wheels``, runs ``onprem-bot doctor``
    bundle.json           version, target Python/platform/glibc, variant, extras, created
    SHA256SUMS            sha256 of every other file (``sha256sum -c`` format)
    wheels/               the wheelhouse: every dependency for this platform, including the locally
                          built llama-cpp-python wheel (CPU or CUDA), setuptools and wheel;
                          constraints.txt pins the versions the build machine's venv was tested with
    app/                  the package source, ui/, models/ (with their sums), corpus/, faq/

The wheels are taken with ``pip wheel`` from the configured registries and the local wheel folder
(``--find-links``); versions are pinned to the build venv's ``pip freeze``, so the target gets
what was tested here. The ``st`` extra (sentence-transformers + PyTorch, several hundred MB to
several GB) is left out unless ``--extras st`` is given.

Usage: ``python scripts/bundle.py [--gpu] [--extras st,gpu] [--out dist] [--local-wheels DIR]``.
Prints the archive's path, size and contents; ``--json`` prints them as one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
APP_ITEMS = ("onprem_bot", "ui", "pyproject.toml", "README.md", "models", "corpus", "faq")
SKIP_NAMES = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
BUILD_TOOLS = ("setuptools>=68", "wheel")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gpu", action="store_true", help="CUDA llama-cpp-python wheel + the gpu extra")
    ap.add_argument("--extras", default="", help="comma-separated extras of the project to include (e.g. st)")
    ap.add_argument("--out", type=Path, default=REPO / "dist")
    ap.add_argument(
        "--local-wheels",
        type=Path,
        action="append",
        default=None,
        help="folders with locally built wheels (default: ~/.cache/onprem-bot/wheels[-cuda])",
    )
    ap.add_argument("--pip", default=str(Path(sys.executable).with_name("pip")), help="the build venv's pip")
    ap.add_argument("--no-pin", action="store_true", help="do not pin to the build venv's versions")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    started = time.perf_counter()
    extras = [e for e in (x.strip() for x in args.extras.split(",")) if e]
    if args.gpu and "gpu" not in extras:
        extras.append("gpu")
    variant = "cuda" if args.gpu else "cpu"
    local = args.local_wheels or [Path.home() / ".cache" / "onprem-bot" / ("wheels-cuda" if args.gpu else "wheels")]
    llama_wheels = [w for d in local for w in sorted(d.glob("llama_cpp_python-*.whl"))]
    if not llama_wheels:
        print(
            f"오류: llama-cpp-python 휠이 없습니다 (no local llama-cpp-python wheel in {', '.join(map(str, local))}); "
            f"`make llama-wheel{' GPU=1' if args.gpu else ''}` 먼저",
            file=sys.stderr,
        )
        return 2

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    version = project["version"]
    py_tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    name = f"onprem-bot-{version}-{py_tag}-{plat}-{variant}"
    args.out.mkdir(parents=True, exist_ok=True)
    stage = args.out / f".{name}.staging-{os.getpid()}"
    archive = args.out / f"{name}.tar"
    shutil.rmtree(stage, ignore_errors=True)
    root = stage / name
    wheels = root / "wheels"
    wheels.mkdir(parents=True)
    try:
        _log(f"휠 모으는 중 (collecting wheels: {variant}, extras={extras or 'none'})")
        requirements = list(project["dependencies"])
        optional = project.get("optional-dependencies", {})
        for extra in extras:
            if extra not in optional:
                raise SystemExit(f"오류: 알 수 없는 extra (unknown extra): {extra}")
            requirements += optional[extra]
        (wheels / "requirements.txt").write_text("\n".join([*requirements, *BUILD_TOOLS]) + "\n", encoding="utf-8")
        constraints = wheels / "constraints.txt"
        constraints.write_text(_pins(args.pip) if not args.no_pin else "", encoding="utf-8")
        cmd = [
            args.pip, "wheel", "--quiet", "--prefer-binary", "--wheel-dir", str(wheels),
            "-r", str(wheels / "requirements.txt"), "-c", str(constraints),
        ]  # fmt: skip
        for d in local:
            cmd += ["--find-links", str(d)]
        subprocess.run(cmd, check=True)
        for wheel in llama_wheels:  # the exact local build, even if pip picked it up already
            shutil.copy2(wheel, wheels / wheel.name)

        _log("소스, 모델, 코퍼스, FAQ 복사 (copying app, models, corpus, faq)")
        app = root / "app"
        app.mkdir()
        for item in APP_ITEMS:
            src = REPO / item
            if src.is_dir():
                shutil.copytree(src, app / item, ignore=_ignore)
            elif src.is_file():
                shutil.copy2(src, app / item)
        shutil.copy2(REPO / "scripts" / "install.sh", root / "install.sh")
        (root / "install.sh").chmod(0o755)

        libc = platform.libc_ver()
        info = {
            "name": "onprem-bot",
            "version": version,
            "variant": variant,
            "extras": extras,
            "python": f"{sys.version_info.major}.{sys.version_info.minor}",
            "python_tag": py_tag,
            "platform": sysconfig.get_platform(),
            "machine": platform.machine(),
            "libc": libc[0],
            "libc_version": libc[1],
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "wheels": sorted(w.name for w in wheels.glob("*.whl")),
            "models": sorted(str(p.relative_to(app)) for p in (app / "models").rglob("*") if p.is_file()),
        }
        (root / "bundle.json").write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        sums = _write_sums(root)

        _log(f"묶는 중 (writing {archive.name})")
        partial = archive.with_name(f".{archive.name}.partial-{os.getpid()}")
        with tarfile.open(partial, "w") as tar:
            tar.add(root, arcname=name)
        os.replace(partial, archive)
        archive_sha = _sha256(archive)
        archive.with_name(archive.name + ".sha256").write_text(f"{archive_sha}  {archive.name}\n", encoding="utf-8")
    finally:
        shutil.rmtree(stage, ignore_errors=True)

    report = {
        "archive": str(archive),
        "bytes": archive.stat().st_size,
        "sha256": archive_sha,
        "sums_sha256": sums,
        "variant": variant,
        "seconds": round(time.perf_counter() - started, 1),
        "contents": _contents(archive, name),
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"\n번들 (bundle): {archive}")
        print(f"크기 (size): {report['bytes'] / 2**20:.1f} MiB, sha256 {archive_sha}")
        print(f"SHA256SUMS 지문 (compare on the target): {sums}")
        for part, (count, size) in report["contents"].items():
            print(f"  {part:<16} {count:>5} files {size / 2**20:>9.1f} MiB")
    return 0


def _pins(pip: str) -> str:
    """The build venv's versions (editable installs and local-path pins left out)."""
    out = subprocess.run(
        [pip, "freeze", "--exclude-editable"], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    keep = []
    for line in out:
        line = line.strip()
        if not line or line.startswith("#") or " @ " in line or line.startswith("-e"):
            continue
        name, _, ver = line.partition("==")
        if name.lower() in {"onprem-bot", "onprem_bot"}:
            continue
        keep.append(f"{name}=={ver}" if ver else name)
    return "\n".join(keep) + "\n"


def _ignore(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in SKIP_NAMES or n.endswith(".pyc") or ".partial" in n}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_sums(root: Path) -> str:
    lines = [
        f"{_sha256(p)}  {p.relative_to(root).as_posix()}"
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "SHA256SUMS"
    ]
    text = "\n".join(lines) + "\n"
    (root / "SHA256SUMS").write_text(text, encoding="utf-8")
    return hashlib.sha256(text.encode()).hexdigest()


def _contents(archive: Path, name: str) -> dict[str, tuple[int, int]]:
    parts: dict[str, list[int]] = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            rel = member.name[len(name) + 1 :].split("/")
            key = "/".join(rel[:2]) if rel[0] == "app" and len(rel) > 2 else rel[0]
            entry = parts.setdefault(key, [0, 0])
            entry[0] += 1
            entry[1] += member.size
    return {k: (v[0], v[1]) for k, v in sorted(parts.items())}


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
