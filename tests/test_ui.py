"""The Streamlit app: AppTest on the page, and the real server started by `onprem-bot ui`."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from onprem_bot.cli import main
from tests.statute_sample import STATUTE_MD

REPO = Path(__file__).resolve().parents[1]


def test_start_page_shows_the_stored_documents(tmp_path: Path) -> None:
    law = tmp_path / "시험근로법.md"
    law.write_text(STATUTE_MD, encoding="utf-8")
    main(["ingest", str(law), "--json"])
    st.cache_resource.clear()
    at = AppTest.from_file(str(REPO / "ui" / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "onprem-bot · 사내 문서 챗봇"
    assert not at.markdown  # nothing stray on the page (a bare string in ui/app.py would be drawn)
    assert [m.value for m in at.metric] == ["1", "6"]
    assert at.dataframe[0].value["제목"].tolist() == ["시험근로법"]


def test_empty_home_explains_how_to_add_documents() -> None:
    st.cache_resource.clear()
    at = AppTest.from_file(str(REPO / "ui" / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert "onprem-bot ingest" in at.info[0].value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_ui_command_serves_the_app_offline(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from onprem_bot.cli import main; main()",
            "--home",
            str(tmp_path / "home"),
            "ui",
            "--port",
            str(port),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        body = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert body == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            page = r.read().decode()
        assert 'id="root"' in page
        assert "fonts.googleapis" not in page and "cdn." not in page
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "gatherUsageStats" not in out  # no telemetry notice: stats are off
