"""The offline bundle, for real: `scripts/bundle.py` builds it, `install.sh` installs it inside a
network namespace with no network (`unshare -n`), and the installed product ingests and answers.

Also the bad input of issue 8: a tampered file, a bundle for another Python or platform, a full
disk during install (tmpfs) and during ingest, a second install.sh run. Needs root (unshare,
mount) and the locally built llama-cpp-python wheel; CI has both (`make test`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LOCAL_WHEELS = Path.home() / ".cache" / "onprem-bot" / "wheels"

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _can_unshare() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


needs_root = pytest.mark.skipif(not _can_unshare(), reason="needs root and `unshare -n` (CI runs as root)")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of an administrator's shell: no test settings, no pip index configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONPREM_BOT_", "PIP_", "VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    env.update(extra)
    return env


def offline(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in a new network namespace: only a loopback device, nothing outside reachable."""
    script = 'ip link set lo up 2>/dev/null; exec "$@"'
    return subprocess.run(["unshare", "-n", "sh", "-c", script, "sh", *cmd], text=True, capture_output=True, **kwargs)  # type: ignore[call-overload,no-any-return]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Build the CPU bundle once and unpack it; yields the unpacked bundle folder."""
    if not list(LOCAL_WHEELS.glob("llama_cpp_python-*.whl")):
        pytest.skip(f"no locally built llama-cpp-python wheel in {LOCAL_WHEELS} (`make llama-wheel`)")
    out = tmp_path_factory.mktemp("dist")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bundle.py"), "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    archive = Path(report["archive"])
    print(
        f"\nbundle: {archive.name} {report['bytes'] / 2**20:.0f} MiB built in {time.perf_counter() - started:.0f} s;"
        f" contents {report['contents']}"
    )
    assert archive.is_file() and report["bytes"] == archive.stat().st_size
    contents = report["contents"]
    for part in ("install.sh", "SHA256SUMS", "bundle.json", "wheels", "app/models", "app/corpus", "app/faq"):
        assert part in contents, part
    unpacked = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="tar")
    archive.unlink()  # keep the disk lean: the unpacked copy is what the tests use
    (root,) = list(unpacked.iterdir())
    names = {p.name for p in (root / "wheels").glob("*.whl")}
    assert any(n.startswith("llama_cpp_python-") for n in names)
    assert not any(n.startswith(("torch-", "sentence_transformers-")) for n in names), "no st extra by default"
    sums = (root / "SHA256SUMS").read_text(encoding="utf-8")
    assert "app/models/default.gguf" in sums and "app/faq/seed.csv" in sums
    yield root
    shutil.rmtree(unpacked, ignore_errors=True)


def install(bundle: Path, prefix: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return offline(["bash", str(bundle / "install.sh"), str(prefix)], env=clean_env(**env), timeout=900)


@needs_root
def test_offline_install_then_ingest_and_ask(bundle: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "opt"
    started = time.perf_counter()
    first = install(bundle, prefix)
    seconds = time.perf_counter() - started
    print(f"\ninstall.sh (offline): {seconds:.0f} s\n{first.stdout[-1500:]}")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-3000:]
    assert "[OK  ] database" in first.stdout and "[FAIL]" not in first.stdout
    current = (prefix / "current").resolve()
    assert (current / ".complete").is_file()
    assert (prefix / "onprem-bot.toml").is_file()

    # the second run is a no-op that still checks and re-runs doctor
    (prefix / "onprem-bot.toml").write_text(
        (prefix / "onprem-bot.toml").read_text(encoding="utf-8") + "# edited by the admin\n", encoding="utf-8"
    )
    again = install(bundle, prefix)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "already installed" in again.stdout
    assert len(list((prefix / "releases").iterdir())) == 1
    assert "# edited by the admin" in (prefix / "onprem-bot.toml").read_text(encoding="utf-8")

    cli = str(prefix / "bin" / "onprem-bot")
    env = clean_env()
    ingest = offline([cli, "ingest", str(current / "app" / "corpus" / "최저임금법"), "--json"], env=env, timeout=900)
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    stats = json.loads(ingest.stdout.strip().splitlines()[-1])
    assert stats["documents"] >= 1 and stats["chunks"] > 10
    ask = offline([cli, "ask", "최저임금은 어떤 기준으로 결정하나요?", "--json"], env=env, timeout=600)
    assert ask.returncode == 0, ask.stderr[-2000:]
    answer = json.loads(ask.stdout.strip().splitlines()[-1])
    assert answer["route"] in ("rag", "extractive"), answer
    assert answer["answer"].strip() and answer["citations"]
    assert any(c["doc_title"] == "최저임금법" for c in answer["citations"]), answer["citations"]
    print(f"ingest: {stats['chunks']} chunks in {stats['seconds']:.0f} s; ask: route {answer['route']}")


@needs_root
def test_tampered_file_is_named_and_nothing_is_installed(bundle: Path, tmp_path: Path) -> None:
    victim = bundle / "app" / "faq" / "seed.csv"
    original = victim.read_bytes()
    try:
        victim.write_bytes(original.replace("연차".encode(), "연자".encode(), 1))
        proc = install(bundle, tmp_path / "opt")
    finally:
        victim.write_bytes(original)
    assert proc.returncode == 4
    assert "app/faq/seed.csv" in proc.stderr and "checksum mismatch" in proc.stderr
    assert not (tmp_path / "opt" / "releases").exists() or not any((tmp_path / "opt" / "releases").iterdir())
    assert not (tmp_path / "opt" / "current").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("python", "3.12", "wrong Python"), ("machine", "aarch64", "wrong platform")],
)
@needs_root
def test_wrong_python_or_platform_stops_before_installing(
    bundle: Path, tmp_path: Path, field: str, value: str, message: str
) -> None:
    info_file = bundle / "bundle.json"
    original = info_file.read_bytes()
    info = json.loads(original)
    try:
        info[field] = value
        info_file.write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        proc = install(bundle, tmp_path / "opt")
    finally:
        info_file.write_bytes(original)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert message in proc.stderr and "nothing installed" in proc.stderr
    assert "체크섬" not in proc.stdout  # stopped before even the checksums
    assert not (tmp_path / "opt").exists()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 320 MiB tmpfs: room for the release's app folder, not for its virtual environment."""
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=320m", "tmpfs", str(mount)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@needs_root
def test_full_disk_during_install_leaves_nothing_half_written(bundle: Path, small_disk: Path) -> None:
    prefix = small_disk / "opt"
    refused = install(bundle, prefix)
    assert refused.returncode == 5 and "not enough disk space" in refused.stderr
    assert not any((prefix / "releases").iterdir())

    # past the space check, pip itself hits ENOSPC: the partial release is removed
    failed = install(bundle, prefix, ONPREM_BOT_INSTALL_SKIP_SPACE_CHECK="1")
    assert failed.returncode != 0
    assert "partial release removed" in failed.stderr, failed.stderr[-2000:]
    assert not any((prefix / "releases").iterdir())
    assert not (prefix / "current").exists()
