"""A real browser against the real server: `onprem-bot ui` on a free port, Debian's headless Chromium.

The server gets a temporary home with the sample statute ingested, the hash embedder and the
scripted LLM. Chromium starts with every background-network feature off and a fresh profile;
its network log must show requests to the app's own address only. A screenshot is kept in the
test's temp dir (CI artefact).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.statute_sample import STATUTE_MD

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1600",
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(port: int, proc: subprocess.Popen[str], seconds: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if proc.poll() is not None:
            raise AssertionError(f"the UI server exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read().decode() == "ok":
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"/_stcore/health did not answer ok within {seconds} s")


@pytest.fixture
def server(tmp_path: Path) -> tuple[int, Path]:
    home = tmp_path / "home"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ONPREM_BOT_")},
        "ONPREM_BOT_EMBEDDER__BACKEND": "hash",
        "ONPREM_BOT_LLM__BACKEND": "scripted",
    }
    law = tmp_path / "시험근로법.md"
    law.write_text(STATUTE_MD, encoding="utf-8")
    cli = [sys.executable, "-c", "from onprem_bot.cli import main; main()", "--home", str(home)]
    subprocess.run(
        [*cli, "ingest", str(law), "--json"], env=env, cwd=REPO, check=True, capture_output=True, timeout=300
    )
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [*cli, "ui", "--port", str(port)], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_healthy(port, proc)
        yield port, tmp_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def make_driver(profile: Path) -> object:
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip(
            f"Chromium is not installed ({CHROMIUM}, {CHROMEDRIVER}): apt-get install -y chromium chromium-driver"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the dev extra)")
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never try to download a driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))


def test_ask_in_a_real_browser_and_read_the_answer_and_a_citation(server: tuple[int, Path]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    port, tmp = server
    driver = make_driver(tmp / "chromium-profile")
    try:
        driver.get(f"http://127.0.0.1:{port}/")
        wait = WebDriverWait(driver, 90)
        box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInput'] textarea")))
        box.send_keys("근로자의 정의는 무엇인가요?")
        box.send_keys(Keys.ENTER)
        wait.until(
            lambda d: (
                "시험근로법" in d.find_element(By.TAG_NAME, "body").text
                and "문서 기반" in d.find_element(By.TAG_NAME, "body").text
            )
        )
        messages = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stChatMessage']")
        assert len(messages) >= 2
        answer = messages[-1].text
        assert "[1]" in answer and "문서 기반" in answer
        citation = next(
            e
            for e in driver.find_elements(By.CSS_SELECTOR, "[data-testid='stExpander'] summary")
            if "시험근로법" in e.text
        )
        assert "제2조" in citation.text
        citation.click()
        wait.until(lambda d: "임금을 목적으로" in d.find_element(By.TAG_NAME, "body").text)
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "임금을 목적으로 근로를 제공하는 사람" in body
        driver.save_screenshot(str(tmp / "chat.png"))
        assert (tmp / "chat.png").stat().st_size > 10_000
        # nothing but the app itself was requested
        urls = []
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                urls.append(message["params"]["request"]["url"])
        own = (f"http://127.0.0.1:{port}/", f"ws://127.0.0.1:{port}/")
        network = [u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:"))]  # not chrome://, data:
        outside = [u for u in network if not u.startswith(own)]
        assert network and not outside, outside
    finally:
        driver.quit()


def test_a_follow_up_in_a_real_browser_shows_what_was_searched_with_material_icons(server: tuple[int, Path]) -> None:
    """Two turns: the follow-up's caption, the conversation in the sidebar list, and the icons drawn
    with Streamlit's bundled Material Symbols font (its woff2 served by the app, not fetched)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    port, tmp = server
    driver = make_driver(tmp / "chromium-profile-followup")
    try:
        driver.get(f"http://127.0.0.1:{port}/")
        wait = WebDriverWait(driver, 90)
        messages = (By.CSS_SELECTOR, "[data-testid='stChatMessage']")
        for question, count in (("연차 유급휴가는 며칠이에요?", 2), ("1년 미만이면요?", 4)):
            box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInput'] textarea")))
            box.send_keys(question)
            box.send_keys(Keys.ENTER)
            wait.until(
                lambda d, n=count: (
                    len(d.find_elements(*messages)) >= n and "도움됨" in d.find_elements(*messages)[-1].text
                )
            )
        answers = driver.find_elements(*messages)
        assert "검색한 질문:" not in answers[1].text
        assert "검색한 질문: 연차" in answers[3].text and "1년 미만" in answers[3].text
        sidebar = driver.find_element(By.CSS_SELECTOR, "[data-testid='stSidebar']").text
        assert "연차 유급휴가는 며칠이에요? · 2" in sidebar
        icons = {e.text for e in driver.find_elements(By.CSS_SELECTOR, "[data-testid='stIconMaterial']")}
        assert {"add", "chat", "thumb_up", "thumb_down"} <= icons
        wait.until(lambda d: d.execute_script("return document.fonts.check('24px \"Material Symbols Rounded\"')"))
        driver.save_screenshot(str(tmp / "followup.png"))
        urls = [
            json.loads(e["message"])["message"]["params"]["request"]["url"]
            for e in driver.get_log("performance")
            if json.loads(e["message"])["message"].get("method") == "Network.requestWillBeSent"
        ]
        network = [u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:"))]
        own = (f"http://127.0.0.1:{port}/", f"ws://127.0.0.1:{port}/")
        assert any("MaterialSymbols" in u for u in network)
        assert not [u for u in network if not u.startswith(own)]
    finally:
        driver.quit()
