"""The run-time offline guarantee, tested for real.

`ingest`, `ask` (real embedder, real GGUF) and the web UI's health check run inside a network
namespace with no network (`unshare -n`, loopback only) while an audit hook (sitecustomize.py on
PYTHONPATH, inherited by the Streamlit server) records every attempted non-loopback connection or
name lookup; the test fails on any. A positive control proves the hook sees an attempt.
Also: the package sets the offline variables itself, and a full disk during ingest leaves the
previous state intact.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from onprem_bot.offline import OFFLINE_ENV

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent

AUDIT_HOOK = """
import os, socket, sys

_LOG = os.environ.get("ONPREM_NET_AUDIT_LOG")
_LOCAL = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "::", "", None}
try:
    _LOCAL.add(socket.gethostname())
except Exception:
    pass


def _local(host):
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    return host in _LOCAL or str(host).startswith("127.")


def _record(kind, detail):
    with open(_LOG, "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()} {kind} {detail!r} {sys.argv[:3]!r}\\n")


def _hook(event, args):
    try:
        if event == "socket.connect":
            sock, address = args
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
                _record("connect", address)
        elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
            if not _local(args[0]):
                _record(event, args[0])
    except Exception as exc:  # never break the program under test
        _record("hook-error", exc)


if _LOG:
    sys.addaudithook(_hook)
"""


def _can_unshare() -> bool:
    if os.geteuid() != 0:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


needs_unshare = pytest.mark.skipif(not _can_unshare(), reason="needs root and `unshare -n` (CI runs as root)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_package_sets_the_offline_variables_itself(monkeypatch: pytest.MonkeyPatch, settings: object) -> None:
    from onprem_bot.app import build_app

    for key in OFFLINE_ENV:
        monkeypatch.delenv(key, raising=False)
    app = build_app(settings)  # type: ignore[arg-type]
    app.db.dispose()
    assert {k: os.environ.get(k) for k in OFFLINE_ENV} == OFFLINE_ENV
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert os.environ["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"


@pytest.fixture
def audited(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose Python processes log attempted outbound connections to a file."""
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(AUDIT_HOOK, encoding="utf-8")
    log = tmp_path / "net-attempts.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONPREM_BOT_")}
    env.update(
        PYTHONPATH=str(hook_dir),
        ONPREM_NET_AUDIT_LOG=str(log),
        ONPREM_BOT_HOME=str(tmp_path / "home"),
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    return env, log


@needs_unshare
@pytest.mark.slow
@pytest.mark.integration
def test_ingest_ask_and_ui_inside_a_namespace_without_network(
    tmp_path: Path, audited: tuple[dict[str, str], Path]
) -> None:
    env, log = audited
    port = free_port()
    script = tmp_path / "offline.sh"
    script.write_text(
        textwrap.dedent(
            f"""\
            set -u
            ip link set lo up
            # positive control: the hook must see this attempt (it fails: there is no network)
            python -c "import urllib.request; urllib.request.urlopen('http://pypi.org/simple/', timeout=3)" >/dev/null 2>&1
            mv "$ONPREM_NET_AUDIT_LOG" "$ONPREM_NET_AUDIT_LOG.control" 2>/dev/null
            onprem-bot ingest {REPO / "corpus" / "최저임금법"} --json > {tmp_path / "ingest.json"} || exit 11
            onprem-bot ask "최저임금은 어떤 기준으로 결정하나요?" --json > {tmp_path / "ask.json"} || exit 12
            onprem-bot ui --port {port} > {tmp_path / "ui.log"} 2>&1 &
            UI=$!
            python - <<'EOF' > {tmp_path / "health.txt"}
            import time, urllib.request
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen("http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                        print(r.read().decode())
                        break
                except OSError:
                    time.sleep(0.5)
            with urllib.request.urlopen("http://127.0.0.1:{port}/", timeout=10) as r:
                print("root", r.status)
            time.sleep(3)  # give the server time for anything it would phone home for
            EOF
            rc=$?
            kill $UI; wait $UI 2>/dev/null
            exit $rc
            """
        ),
        encoding="utf-8",
    )
    proc = subprocess.run(
        ["unshare", "-n", "bash", str(script)], env=env, capture_output=True, text=True, timeout=900, cwd=tmp_path
    )
    ui_log = (
        (tmp_path / "ui.log").read_text(encoding="utf-8", errors="replace") if (tmp_path / "ui.log").exists() else ""
    )
    assert proc.returncode == 0, f"{proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}\n{ui_log[-2000:]}"

    control = Path(f"{log}.control")
    assert control.is_file() and "pypi.org" in control.read_text(encoding="utf-8"), "the audit hook saw nothing"
    attempts = log.read_text(encoding="utf-8") if log.exists() else ""
    assert attempts == "", f"outbound connection attempts:\n{attempts}"

    ingest = json.loads((tmp_path / "ingest.json").read_text(encoding="utf-8"))
    assert ingest["documents"] == 1 and ingest["chunks"] > 10
    answer = json.loads((tmp_path / "ask.json").read_text(encoding="utf-8"))
    assert answer["route"] in ("rag", "extractive") and answer["citations"]
    health = (tmp_path / "health.txt").read_text(encoding="utf-8").split()
    assert health[:3] == ["ok", "root", "200"], health


@pytest.fixture
def tiny_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    mount = tmp_path / "tiny"
    mount.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)], capture_output=True
        ).returncode
    ):
        pytest.skip("needs root to mount a small tmpfs")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.integration
def test_full_disk_during_ingest_keeps_the_previous_state(tiny_disk: Path, tmp_path: Path) -> None:
    """Home on a 6 MiB tmpfs: the first statute fits, a big one does not; the failure is one line
    and the database and index still hold exactly the first statute."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONPREM_BOT_")}
    env.update(ONPREM_BOT_HOME=str(tiny_disk / "home"), ONPREM_BOT_EMBEDDER__BACKEND="hash")
    cli = [sys.executable, "-c", "from onprem_bot.cli import main; main()"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *args], env=env, capture_output=True, text=True, timeout=600)

    first = run("ingest", str(REPO / "corpus" / "최저임금법"), "--json")
    assert first.returncode == 0, first.stderr
    before = run("search", "최저임금", "-k", "3", "--json")
    assert before.returncode == 0 and "최저임금법" in before.stdout
    titles_before = {d["title"] for d in json.loads(run("documents", "--json").stdout)["documents"]}
    big = tmp_path / "big"
    big.mkdir()
    for name in ("민법", "도로교통법", "국가공무원법", "저작권법", "근로기준법"):
        for f in (REPO / "corpus" / name).iterdir():
            (big / f"{name}-{f.name}").write_bytes(f.read_bytes())
    full = run("ingest", str(big), "--json")
    assert full.returncode != 0, "expected the ingest to run out of space"
    assert "Traceback" not in full.stderr and full.stderr.strip(), full.stderr
    after = run("documents", "--json")
    assert after.returncode == 0, after.stderr
    docs = json.loads(after.stdout)["documents"]
    assert titles_before <= {d["title"] for d in docs}  # what was stored is still there
    assert all(d["chunk_count"] > 0 for d in docs)  # and no document is half-written
    search = run("search", "최저임금", "-k", "3", "--json")
    assert search.returncode == 0, search.stderr
    assert json.loads(search.stdout)["hits"][0]["doc_title"] == json.loads(before.stdout)["hits"][0]["doc_title"]
