"""The chat log-in in a real browser: `onprem-bot ui` with ``auth.chat = "login"``, Debian's headless Chromium.

Before log-in the page holds the log-in form and nothing of any document; an employee created on the
command line (``admin create-user NAME --role user --groups 인사팀 --password-stdin``) logs in and asks,
and the answer cites only documents of their groups or for everyone (a document for 임원 that matches
the question just as well is never named)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.statute_sample import REGULATION_TEXT, STATUTE_MD
from tests.test_browser_smoke import free_port, make_driver, wait_healthy

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse 1"
EXECUTIVE_PAY = """임원보수규정
제1장 총칙
제1조(목적) 이 규정은 임원의 급여에 관한 사항을 정함을 목적으로 한다.
제2조(지급일) 임원의 급여는 매월 25일에 지급한다.
제3조(급여의 구성) 임원의 급여는 연봉과 성과급으로 한다.
"""
QUESTION = "임원의 급여 지급일은 언제인가요?"
"""Answered from 임원보수규정 제2조 for a reader who sees everything; kim (인사팀) must not get it."""
TITLES = {"시험근로법": "", "급여규정": "인사팀", "임원보수규정": "임원"}

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ONPREM_BOT_")},
        "ONPREM_BOT_EMBEDDER__BACKEND": "hash",
        "ONPREM_BOT_LLM__BACKEND": "scripted",
        "ONPREM_BOT_AUTH__CHAT": "login",
    }

    def run(*args: str, stdin: str | None = None) -> None:
        subprocess.run(
            [*cli(tmp_path), *args],
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
            timeout=300,
            input=stdin,
            text=True,
        )

    texts = {
        "시험근로법": (".md", STATUTE_MD),
        "급여규정": (".txt", REGULATION_TEXT),
        "임원보수규정": (".txt", EXECUTIVE_PAY),
    }
    for title, groups in TITLES.items():
        suffix, text = texts[title]
        path = tmp_path / f"{title}{suffix}"
        path.write_text(text, encoding="utf-8")
        run("ingest", str(path), *(["--groups", groups] if groups else []), "--json")
    run(
        "admin", "create-user", "kim", "--role", "user", "--groups", "인사팀", "--password-stdin", stdin=PASSWORD + "\n"
    )
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [*cli(tmp_path), "ui", "--port", str(port)], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, text=True
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


def cli(tmp: Path) -> list[str]:
    return [sys.executable, "-c", "from onprem_bot.cli import main; main()", "--home", str(tmp / "home")]


def audit(tmp: Path, actor: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONPREM_BOT_")}
    args = [*cli(tmp), "admin", "audit", "--actor", actor, "--format", "jsonl"]
    done = subprocess.run(
        args,
        env={**env, "ONPREM_BOT_EMBEDDER__BACKEND": "hash"},
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout


def test_log_in_then_ask_and_read_only_allowed_documents(server: tuple[int, Path]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    port, tmp = server
    driver: Any = make_driver(tmp / "chromium-profile-login")
    try:
        driver.get(f"http://127.0.0.1:{port}/")
        wait = WebDriverWait(driver, 90)
        name = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "input[aria-label='아이디']")))
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "비밀번호" in body
        assert not [t for t in TITLES if t in body]  # no document title before log-in
        assert not driver.find_elements(By.CSS_SELECTOR, "[data-testid='stChatInput']")
        driver.save_screenshot(str(tmp / "login.png"))
        name.send_keys("kim")
        driver.find_element(By.CSS_SELECTOR, "input[aria-label='비밀번호']").send_keys(PASSWORD)
        next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == "로그인").click()
        box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInput'] textarea")))
        sidebar = driver.find_element(By.CSS_SELECTOR, "[data-testid='stSidebar']").text
        assert "kim (사용자)" in sidebar and "로그아웃" in sidebar
        metrics = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "[data-testid='stMetric']")]
        assert metrics and metrics[0].split() == ["문서", "2"], metrics  # 3 stored, 2 readable by kim
        box.send_keys(QUESTION)
        box.send_keys(Keys.ENTER)
        messages = (By.CSS_SELECTOR, "[data-testid='stChatMessage']")
        wait.until(lambda d: len(d.find_elements(*messages)) >= 2 and "도움됨" in d.find_elements(*messages)[-1].text)
        answer = driver.find_elements(*messages)[-1]
        summaries = [e.text for e in answer.find_elements(By.CSS_SELECTOR, "[data-testid='stExpander'] summary")]
        cited = [line for s in summaries for line in s.splitlines() if re.match(r"\[\d+\] ", line)]  # not 검증 결과
        driver.save_screenshot(str(tmp / "answer.png"))
        assert cited, answer.text
        assert all(c.split()[1] in ("급여규정", "시험근로법", "FAQ") for c in cited), cited
        assert any("급여규정" in c for c in cited)  # the document of kim's group answers
        assert "임원보수규정" not in driver.find_element(By.TAG_NAME, "body").text
    finally:
        driver.quit()
    # the server's audit log: kim's question, nothing of the 임원 document retrieved or cited
    rows = [json.loads(line) for line in audit(tmp, "kim").splitlines()]
    [asked] = [r for r in rows if r["action"] == "ask"]
    assert asked["detail"]["cited"] and "임원보수규정" not in json.dumps(asked["detail"], ensure_ascii=False)
