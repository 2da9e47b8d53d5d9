"""Reasoning models (issue 18 item 4): ``<think>…</think>`` never streamed, returned or checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from onprem_bot.app import App
from onprem_bot.checker import Checker
from onprem_bot.config import AnswerSettings, ConfigError, LlmSettings
from onprem_bot.llm import make_llm
from onprem_bot.llm.fake import ScriptedLLM
from onprem_bot.llm.thinking import (
    NO_THINK,
    ThinkingError,
    ThinkingFilter,
    looks_like_reasoning,
    template_opens_thinking,
)
from onprem_bot.pipeline import Pipeline

LEAVE = "연차휴가는 며칠 받을 수 있나요?"
R1_TEMPLATE = (
    "{% set content = content.split('</think>')[-1] %}{% if add_generation_prompt %}{{'<｜Assistant｜>'}}{% endif %}"
)
OPENING_TEMPLATE = (
    "{{ c.split('</think>')[-1] }}{% if add_generation_prompt %}{{'<｜Assistant｜><think>\\n'}}{% endif %}"
)
QWEN3_TEMPLATE = (
    "{{ '</think>' }}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}"
    "{%- endif %}"
)


def stream(llm: ScriptedLLM, max_tokens: int = 200, stop: tuple[str, ...] = ()) -> list[str]:
    return list(llm.stream("질문", max_tokens, stop))


def feed(chunks: list[str], reasoning: bool = False, opens: bool = False) -> tuple[str, ThinkingFilter]:
    f = ThinkingFilter(reasoning, opens)
    out = "".join(f.feed(c) for c in chunks) + f.end()
    return out, f


def test_think_block_never_streamed_nor_returned() -> None:
    llm = ScriptedLLM(["<think> 휴가 일수를 찾자. 제60조를 보면 15일 이다. </think>\n\n연차휴가는 15일입니다. [1]"])
    pieces = stream(llm)
    assert "".join(pieces) == "연차휴가는 15일입니다. [1]"
    assert not any("think" in p or "찾자" in p for p in pieces)
    stats = llm.last_stats
    assert stats is not None and stats.thinking == "done" and stats.finish == "stop"
    assert stats.thinking_tokens == 9 and stats.thinking_chars > 10 and stats.thinking_s is not None
    assert llm.generate("질문", 200) == "연차휴가는 15일입니다. [1]"


def test_tags_split_across_pieces() -> None:
    text = "<think>생각 중</think>답입니다 [1]"
    for size in (1, 2, 3, 5):
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        assert feed(chunks)[0] == "답입니다 [1]", size
        assert feed(chunks, reasoning=True)[0] == "답입니다 [1]", size
    out, f = feed(["<th", "ought>", "EXAONE 생각", "</tho", "ught>", "답"])
    assert out == "답" and f.closed and f.thinking_chars == len("EXAONE 생각")


def test_closing_tag_without_opening_tag() -> None:
    llm = ScriptedLLM(["질문을 보자. 15일이다. </think> 15일입니다. [1]"], thinking="on")
    assert "".join(stream(llm)) == "15일입니다. [1]"
    assert llm.last_stats is not None and llm.last_stats.thinking == "done"
    llm = ScriptedLLM(["생각</think>답 [1]"], chat_template=R1_TEMPLATE)  # recognised by its template
    assert "".join(stream(llm)) == "답 [1]"


def test_answer_of_a_model_that_does_not_think_passes_unchanged() -> None:
    plain = ScriptedLLM(["연차휴가는 15일입니다 <자료> a < b [1]"])
    assert "".join(stream(plain)) == "연차휴가는 15일입니다 <자료> a < b [1]"
    assert plain.last_stats is not None and plain.last_stats.thinking == ""
    # a reasoning model that did not think: held back, then released whole
    r1 = ScriptedLLM(["15일입니다. [1]"], thinking="on")
    assert "".join(stream(r1)) == "15일입니다. [1]"


def test_unterminated_thinking_is_an_empty_answer() -> None:
    llm = ScriptedLLM(["<think> 계속 생각하고 생각하고 또 따져 보면 아마도 그럴 것이다"], thinking="on", think_tokens=4)
    assert stream(llm, max_tokens=3) == []  # 3 + 4 pieces, all thinking
    stats = llm.last_stats
    assert stats is not None and stats.thinking == "unterminated" and stats.finish == "length"
    assert stats.thinking_tokens == 7
    # the template opened the block: output without any tag is thinking too
    opened = ScriptedLLM(["생각만 하다가 끝났다"], chat_template=OPENING_TEMPLATE)
    assert stream(opened) == [] and opened.last_stats is not None and opened.last_stats.thinking == "unterminated"


def test_stop_strings_apply_to_the_answer_only() -> None:
    llm = ScriptedLLM(["<think>답변: 은 나중에\n\n\n</think>15일 답변: 끝"], thinking="on")
    assert "".join(stream(llm, stop=("답변:", "\n\n\n"))) == "15일 "


def test_thinking_loop_ends_the_stream() -> None:
    llm = ScriptedLLM(["<think>" + " 그러면 제60조를 다시 확인해 보자." * 40 + "</think>답"], thinking="on")
    assert stream(llm, max_tokens=10) == []
    assert llm.last_stats is not None and llm.last_stats.finish == "repetition"


def test_budget_thinking_does_not_count_toward_the_answer() -> None:
    thought = "<think>" + " ".join(f"단계{i}" for i in range(50)) + "</think>"
    answer = " ".join(f"말{i}" for i in range(10))
    llm = ScriptedLLM([thought + answer], thinking="on", think_tokens=60)
    assert "".join(stream(llm, max_tokens=10)) == answer  # 50 thinking pieces are not counted
    assert llm.thinking_budget() == 60
    assert llm.plan("p", 10, ["x"]) == ("p", 70, [])  # stops left to the guard
    short = ScriptedLLM([thought + answer], thinking="on", think_tokens=60)
    assert len("".join(stream(short, max_tokens=4)).split()) == 4  # the answer is still capped
    assert short.last_stats is not None and short.last_stats.finish == "length"
    # within the context: at most half of n_ctx; nothing for a model that does not think
    assert ScriptedLLM(thinking="on", think_tokens=4000, n_ctx=2048).thinking_budget() == 1024
    assert ScriptedLLM(think_tokens=4000).thinking_budget() == 0
    assert ScriptedLLM().plan("p", 10, ["x"]) == ("p", 10, ["x"])


def test_recognising_reasoning_models() -> None:
    for name in (
        "DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf",
        "Qwen3-8B-Q4.gguf",
        "EXAONE-Deep-7.8B.gguf",
        "qwq-32b.gguf",
    ):
        assert looks_like_reasoning(f"llama-cpp:{name}", None), name
    for name in ("gemma-3-270m.gguf", "qwen2.5-coder-1.5b-instruct.gguf", "EXAONE-3.5-7.8B.gguf", "ar1x.gguf"):
        assert not looks_like_reasoning(f"llama-cpp:{name}", None), name
    assert looks_like_reasoning("llama-cpp:model.gguf", R1_TEMPLATE)
    assert template_opens_thinking(OPENING_TEMPLATE)
    assert not template_opens_thinking(R1_TEMPLATE) and not template_opens_thinking(QWEN3_TEMPLATE)


def test_thinking_off_adds_no_think_where_the_template_has_the_switch() -> None:
    messages = [{"role": "system", "content": "규칙"}, {"role": "user", "content": "질문"}]
    qwen = ScriptedLLM(
        ["<think>\n\n</think>\n\n답 [1]"], supports_chat=True, chat_template=QWEN3_TEMPLATE, thinking="off"
    )
    assert "".join(qwen.stream(messages, 50)) == "답 [1]"
    assert qwen.prompts[-1][-1]["content"] == "질문 " + NO_THINK  # type: ignore[index]
    assert messages[-1]["content"] == "질문"  # the caller's list is not changed
    assert qwen.thinking_budget() == 16
    r1 = ScriptedLLM(["x"], supports_chat=True, chat_template=R1_TEMPLATE, thinking="off")  # no switch
    list(r1.stream(messages, 50))
    assert r1.prompts[-1] == messages and r1.thinking_budget() == 1024


def test_settings_are_validated_in_korean() -> None:
    with pytest.raises(ConfigError, match=r"llm\.thinking='maybe'.*알 수 없는.*auto, on, off"):
        LlmSettings(thinking="maybe")
    with pytest.raises(ConfigError, match=r"llm\.think_tokens=-1"):
        LlmSettings(think_tokens=-1)
    with pytest.raises(ThinkingError, match="auto, on, off"):
        ScriptedLLM(thinking="yes")
    llm = make_llm(LlmSettings(backend="scripted", thinking="on", think_tokens=512), Path("."))
    assert llm is not None and llm.reasoning() and llm.thinking_budget() == 512


def pipeline(app: App, reply: str, **llm_options: object) -> tuple[Pipeline, ScriptedLLM]:
    llm = ScriptedLLM([reply], **llm_options)  # type: ignore[arg-type]
    settings = replace(AnswerSettings())
    return Pipeline(None, app.retriever, app.analyzer, llm, Checker(app.analyzer), settings, k=5), llm


def test_pipeline_streams_and_checks_the_answer_only(indexed: App) -> None:
    reply = "<think>제60조에 100일이라고 적혀 있다고 가정하자.</think>1년간 80퍼센트 이상 출근하면 15일의 유급휴가를 받습니다 [1]."
    p, _ = pipeline(indexed, reply, thinking="on")
    items = list(p.stream(LEAVE))
    streamed = "".join(i for i in items if isinstance(i, str))
    answer = items[-1]
    assert "100일" not in streamed and "think" not in streamed and streamed.startswith("1년간")
    assert "100일" not in answer.answer and answer.check is not None  # type: ignore[union-attr]
    assert not any("100" in str(f.get("value")) for f in answer.check.findings)  # type: ignore[union-attr]
    assert answer.timings["thinking_tokens"] > 0  # type: ignore[union-attr]
    assert json.dumps(answer.as_json(), ensure_ascii=False).count("100일") == 0  # type: ignore[union-attr]


def test_pipeline_quotes_the_sources_when_thinking_never_ends(indexed: App) -> None:
    p, llm = pipeline(indexed, "<think> 어디 보자 " + " ".join(f"고민{i}" for i in range(400)), thinking="on")
    answer = p.ask(LEAVE)
    assert answer.route == "extractive" and "고민" not in answer.answer and "15일" in answer.answer
    assert llm.last_stats is not None and llm.last_stats.thinking == "unterminated"


def test_pipeline_leaves_room_in_the_context_for_thinking(indexed: App) -> None:
    p, llm = pipeline(indexed, "<think>x</think>15일입니다 [1].", thinking="on", think_tokens=1500, n_ctx=3000)
    p.ask(LEAVE)
    prompt = llm.prompts[0]
    assert isinstance(prompt, str) and llm.count_tokens(prompt) <= 3000 - 1500


# -- the real model (slow; skipped without the GGUF, never in CI) ---------------------------------

R1_GGUF = Path(os.environ.get("ONPREM_BOT_R1_GGUF", "models/deepseek-r1-distill-qwen-7b.gguf"))
R1_HOME = os.environ.get("ONPREM_BOT_R1_HOME", "")
R1_QUESTIONS = (
    ("연차휴가는 며칠 받을 수 있나요?", "제60조"),
    ("연장근로를 하면 임금을 얼마나 더 받나요?", "제56조"),
    ("개인정보를 수집할 때 정보주체의 동의를 받아야 하나요?", "제15조"),
)


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.skipif(
    bool(os.environ.get("CI")) or not R1_GGUF.is_file() or R1_GGUF.stat().st_size < 3e9 or not R1_HOME,
    reason="no complete DeepSeek-R1-Distill-Qwen-7B GGUF (ONPREM_BOT_R1_GGUF) or ONPREM_BOT_R1_HOME (README)",
)
@pytest.mark.parametrize(("question", "article"), R1_QUESTIONS)
def test_real_reasoning_model_answers_without_leaking_its_thinking(question: str, article: str) -> None:
    env = {**os.environ, "ONPREM_BOT_HOME": R1_HOME, "ONPREM_BOT_LLM__MODEL_PATH": str(R1_GGUF.resolve())}
    started = time.perf_counter()
    run = subprocess.run(
        [str(Path(sys.executable).with_name("onprem-bot")), "ask", question, "--json"],
        env=env, capture_output=True, text=True, timeout=1800, check=True,
    )  # fmt: skip
    result = json.loads(run.stdout)
    seconds = time.perf_counter() - started
    cited = any(article in json.dumps(c, ensure_ascii=False) for c in result.get("citations", []))
    print(
        f"\n{question} → {result.get('route')} {seconds:.0f}s cited {article}: {cited} timings {result.get('timings')}"
    )
    assert "<think>" not in run.stdout and "</think>" not in run.stdout
    assert result.get("answer")
