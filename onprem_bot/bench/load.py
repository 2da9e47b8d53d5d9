"""`onprem-bot bench load`: many simulated employees asking at once, against the real product.

Closed loop: each simulated user opens its own conversation and asks a question from the
questions file, reads the whole answer (:meth:`ChatService.stream` to its logged message), then
asks the next one, until its share is done (``per_user`` questions, or until ``duration_s``
seconds have passed). Levels (``users``) run one after another against each *target*, a way of
answering with the language model; everything else (retrieval, FAQ, checker, conversation log)
is the one :class:`~onprem_bot.app.App` built from the settings:

- ``baseline``: today's lock-only path — one in-process :class:`LlamaCppLLM` built directly
  (no admission queue), every request waiting on its lock;
- ``in_process``: the model as :func:`~onprem_bot.llm.make_llm` builds it for ``backend =
  "llama-cpp"`` (behind the admission queue once it exists);
- ``remote``: ``backend = "remote"`` against real llama.cpp servers on 127.0.0.1
  (:mod:`onprem_bot.bench.llama_servers`).

Per level: time to first token (TTFT, seconds: the first text piece; an answer that streams no
text — quoted, refused, FAQ — counts when its whole answer arrives) p50/p95, total time p50/p95,
answers per minute (answers / the level's wall-clock seconds × 60), errors (exceptions out of the
chat service), lost answers (asked, neither answered nor failed), the answers that fell back to
quoting and why, and the queue's dropped/rejected/timed-out counters when the model has a queue.
Every request goes to this process or to 127.0.0.1; the number of questions is bounded
(``users × per_user``) and so is the time (``max_s``: no question starts after it).
The benchmark's conversations are logged (session key ``bench-load:…``) like any other.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onprem_bot.answer_guards import QUOTED_NOTICE
from onprem_bot.bench.retrieval import percentile as bench_percentile
from onprem_bot.errors import ConfigError

Progress = Callable[[str], None]
MAX_USERS = 64
"""The largest level accepted (simulated users at once)."""
MAX_PER_USER = 100
"""The most questions one simulated user asks in a level."""
JOIN_GRACE_S = 300.0
"""Seconds a level waits, after ``max_s``, for the answers still being written before calling them lost."""
QUEUE_COUNTERS = ("served", "dropped", "timed_out", "rejected")


@dataclass
class Outcome:
    """One question asked by one simulated user (times in seconds from the call)."""

    user: int
    question: str
    ttft_s: float | None = None
    total_s: float | None = None
    streamed: bool = False
    """True when the answer's text came in pieces (the model wrote it)."""
    route: str | None = None
    fallback: str | None = None
    """Why the answer quotes the sources instead of the model's text (None: it does not)."""
    error: str | None = None
    first_wait_s: float | None = None
    """When the first "waiting: N ahead" notice came (None: the request never waited)."""


@dataclass
class Target:
    """A way of answering: ``enter()`` is a context manager yielding the LLM to install (and its notes)."""

    name: str
    enter: Callable[[], AbstractContextManager[tuple[Any, dict[str, Any]]]]


def load_questions(path: Path) -> list[str]:
    """The ``"question"`` of every JSON line of ``path`` (blank lines skipped); ConfigError when none."""
    questions = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"질문 파일을 읽을 수 없습니다 (cannot read questions): {path}: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise ConfigError(f"{path}:{number}: JSON이 아닙니다 (not JSON)") from None
        question = row.get("question") if isinstance(row, dict) else None
        if not isinstance(question, str) or not question.strip():
            raise ConfigError(f'{path}:{number}: "question"이 없습니다 (no "question")')
        questions.append(question.strip())
    if not questions:
        raise ConfigError(f"질문이 없습니다 (no questions): {path}")
    return questions


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100, linear interpolation as numpy's) of ``values``; None when empty."""
    return bench_percentile(values, q) if values else None


def fallback_kind(answer: Any) -> str | None:
    """Why an answer quotes the sources (route ``extractive``): the guard's reason when the answer has it
    (``loop``, ``empty``, …; ``guard`` when only its notice survived the conversation log), ``flagged``
    (the checker), ``queue`` (full or waited too long), ``model_unavailable``, ``other (first notice)``;
    None otherwise."""
    if getattr(answer, "route", None) != "extractive":
        return None
    if getattr(answer, "fallback_reason", None):
        return str(answer.fallback_reason)
    notices = " ".join(getattr(answer, "notices", ()) or ())
    if "잠시 후" in notices or "대기" in notices:
        return "queue"
    if "언어 모델을 사용할 수 없어" in notices:
        return "model_unavailable"
    if QUOTED_NOTICE in notices:  # the logged answer keeps the notice, not the guard's reason
        return "guard"
    if getattr(getattr(answer, "check", None), "verdict", None) == "flagged":
        return "flagged"
    return f"other ({notices[:40]})" if notices else "other"


def ask_through_chat(chat: Any, conversation_id: str, question: str, user: int) -> Outcome:
    """Ask ``question`` in ``conversation_id`` through the chat service and time it (never raises)."""
    from onprem_bot.storage.conversations import StoredMessage

    out = Outcome(user, question)
    started = time.perf_counter()

    def waited(_notice: Any = None) -> None:
        if out.first_wait_s is None:
            out.first_wait_s = time.perf_counter() - started

    try:
        options = {"on_wait": waited} if "on_wait" in inspect.signature(chat.stream).parameters else {}
        message = None
        for item in chat.stream(conversation_id, question, **options):
            if isinstance(item, str):
                if item and out.ttft_s is None:
                    out.ttft_s = time.perf_counter() - started
                    out.streamed = True
            elif isinstance(item, StoredMessage):
                message = item
            elif hasattr(item, "ahead"):  # a "대기 중: 앞에 N명" notice
                waited(item)
        out.total_s = time.perf_counter() - started
        if message is None:
            out.error = "NoAnswer: the stream ended without a logged answer"
            return out
        if out.ttft_s is None:
            out.ttft_s = out.total_s
        out.route = message.answer.route
        out.fallback = fallback_kind(message.answer)
    except Exception as exc:  # an error is a result of the benchmark, not the end of it
        out.total_s = time.perf_counter() - started
        out.error = f"{type(exc).__name__}: {str(exc)[:200]}"
    return out


def run_users(
    ask: Callable[[int, str], Outcome],
    questions: Sequence[str],
    users: int,
    *,
    per_user: int | None = None,
    duration_s: float | None = None,
    deadline: float | None = None,
    grace_s: float = JOIN_GRACE_S,
) -> tuple[list[Outcome], int, float]:
    """``users`` closed-loop users calling ``ask(user, question)``; (outcomes, questions asked, wall seconds).

    User ``u``'s ``k``-th question is ``questions[(u + k × users) mod n]`` (different users ask different
    questions). A user stops after ``per_user`` questions, or once ``duration_s`` seconds have passed,
    and never starts a question after ``deadline`` (a :func:`time.monotonic` value). Users still
    answering ``grace_s`` seconds after the deadline are left (their question counts as lost).
    """
    if (per_user is None) == (duration_s is None):
        raise ConfigError("per_user 또는 duration_s 중 하나만 주세요 (give exactly one)")
    outcomes: list[Outcome] = []
    asked = [0]
    lock = threading.Lock()
    start = time.monotonic()
    stop_at = start + duration_s if duration_s is not None else None
    limits = [x for x in (stop_at, deadline) if x is not None]
    limit = min(limits) if limits else None

    def user_loop(u: int) -> None:
        k = 0
        while per_user is None or k < per_user:
            if limit is not None and time.monotonic() >= limit:
                return
            question = questions[(u + k * users) % len(questions)]
            with lock:
                asked[0] += 1
            result = ask(u, question)
            with lock:
                outcomes.append(result)
            k += 1

    threads = [threading.Thread(target=user_loop, args=(u,), daemon=True, name=f"bench-user-{u}") for u in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic()) + grace_s
        thread.join(remaining)
    wall = time.monotonic() - start
    with lock:
        return list(outcomes), asked[0], wall


def summarise(
    outcomes: Sequence[Outcome], asked: int, wall_s: float, users: int, queue: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One level's figures (seconds, answers per minute, counts); ``queue``: the queue counters' change."""
    answered = [o for o in outcomes if o.error is None]
    ttft = [o.ttft_s for o in answered if o.ttft_s is not None]
    total = [o.total_s for o in answered if o.total_s is not None]
    waits = [o.first_wait_s for o in outcomes if o.first_wait_s is not None]

    def r(value: float | None, digits: int = 3) -> float | None:
        return None if value is None else round(value, digits)

    return {
        "users": users,
        "requests": asked,
        "answers": len(answered),
        "errors": len(outcomes) - len(answered),
        "lost": asked - len(outcomes),
        "wall_s": r(wall_s, 2),
        "answers_per_min": r(60 * len(answered) / wall_s if wall_s > 0 else None, 2),
        "ttft_p50_s": r(percentile(ttft, 50)),
        "ttft_p95_s": r(percentile(ttft, 95)),
        "ttft_p50_ms": r(_ms(percentile(ttft, 50)), 1),  # DESIGN.md's bench load keys
        "ttft_p95_ms": r(_ms(percentile(ttft, 95)), 1),
        "dropped": (queue or {}).get("dropped", 0),
        "total_p50_s": r(percentile(total, 50)),
        "total_p95_s": r(percentile(total, 95)),
        "streamed": sum(o.streamed for o in answered),
        "routes": dict(Counter(o.route for o in answered if o.route)),
        "fallbacks": dict(Counter(o.fallback for o in answered if o.fallback)),
        "error_kinds": dict(Counter((o.error or "").split(":")[0] for o in outcomes if o.error)),
        "waited": len(waits),
        "first_wait_p95_s": r(percentile(waits, 95)),
        "queue": queue,
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else 1000 * seconds


def queue_counters(llm: Any) -> dict[str, Any] | None:
    """The admission queue's status (``llm.queue.status()``) when the model has one, else None."""
    queue = getattr(llm, "queue", None)
    status = getattr(queue, "status", None)
    if status is None:
        return None
    try:
        return dict(status())
    except Exception:  # a status that fails must not end the benchmark
        return None


def queue_delta(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any] | None:
    """The change of the queue's cumulative counters over a level (plus ``slots`` as it is)."""
    if before is None or after is None:
        return None
    out = {k: int(after.get(k, 0)) - int(before.get(k, 0)) for k in QUEUE_COUNTERS if k in after}
    if "slots" in after:
        out["slots"] = after["slots"]
    return out


def install_llm(app: Any, llm: Any) -> Any:
    """Point every service of ``app`` that holds the pipeline's model (pipeline, contextualiser, checker,
    chat) at ``llm`` instead; returns the model it replaced."""
    old = app.pipeline.llm
    if old is None or llm is None:
        raise ConfigError("bench load: 언어 모델이 있는 앱이 필요합니다 (needs an app with a model: llm.backend)")
    seen: set[int] = set()

    def walk(obj: Any, depth: int) -> None:
        if obj is None or id(obj) in seen or depth > 3:
            return
        seen.add(id(obj))
        for name, value in list(getattr(obj, "__dict__", {}).items()):
            if value is old:
                object.__setattr__(obj, name, llm)
            elif type(value).__module__.startswith("onprem_bot."):
                walk(value, depth + 1)

    for service in (app.pipeline, getattr(app, "checker", None), getattr(app, "chat", None)):
        walk(service, 0)
    return old


@dataclass
class LoadRun:
    """What one call of :func:`run_load` needs besides the targets."""

    questions: list[str]
    levels: list[int]
    per_user: int | None = None
    duration_s: float | None = None
    max_s: float = 1800.0
    say: Progress = field(default=lambda _m: None)


def run_target(app: Any, target: Target, run: LoadRun, deadline: float) -> dict[str, Any]:
    """Every level of ``run`` against one target (its model installed in ``app`` meanwhile)."""
    result: dict[str, Any] = {"levels": []}
    with target.enter() as (llm, notes):
        result.update(notes, llm=type(llm).__name__)
        previous = install_llm(app, llm)
        try:
            llm.warm_up()
            warm = app.chat.start(f"bench-load:{target.name}:warm-up")
            ask_through_chat(app.chat, warm, run.questions[0], -1)  # loads the embedder, fills caches
            for users in run.levels:
                if time.monotonic() >= deadline:
                    result["levels"].append({"users": users, "skipped": "max_s"})
                    continue
                run.say(f"{target.name}: {users}명 (users) …")
                conversations = [app.chat.start(f"bench-load:{target.name}:{users}:{u}") for u in range(users)]

                def ask(u: int, question: str, conversations: list[str] = conversations) -> Outcome:
                    return ask_through_chat(app.chat, conversations[u], question, u)

                before = queue_counters(llm)
                outcomes, asked, wall = run_users(
                    ask, run.questions, users, per_user=run.per_user, duration_s=run.duration_s, deadline=deadline
                )
                level = summarise(outcomes, asked, wall, users, queue_delta(before, queue_counters(llm)))
                run.say(
                    f"  {level['answers']}/{level['requests']} answers, {level['errors']} errors, "
                    f"{level['answers_per_min']}/min, TTFT p95 {level['ttft_p95_s']} s"
                )
                result["levels"].append(level)
        finally:
            install_llm(app, previous)
    return result


def run_load(app: Any, targets: Sequence[Target], run: LoadRun) -> dict[str, Any]:
    """Run every target in order (the first is the baseline of the ratios); the whole report."""
    for level in run.levels:
        if not 1 <= level <= MAX_USERS:
            raise ConfigError(f"users={level}: 1..{MAX_USERS}")
    if run.per_user is not None and not 1 <= run.per_user <= MAX_PER_USER:
        raise ConfigError(f"per_user={run.per_user}: 1..{MAX_PER_USER}")
    started = time.monotonic()
    deadline = started + run.max_s
    report: dict[str, Any] = {
        "users": list(run.levels),
        "per_user": run.per_user,
        "duration_s": run.duration_s,
        "max_s": run.max_s,
        "questions": len(run.questions),
        "cpus": os.cpu_count(),
        "targets": {},
    }
    for target in targets:
        try:
            report["targets"][target.name] = run_target(app, target, run, deadline)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # e.g. the servers did not start: the other targets still count
            run.say(f"{target.name}: 실패 (failed): {exc}")
            report["targets"][target.name] = {"failed": f"{type(exc).__name__}: {exc}", "levels": []}
    report["ratios"] = ratios(report["targets"], targets[0].name if targets else "")
    # DESIGN.md's contract: the product as configured (make_llm) and today's lock-only path
    report["levels"] = report["targets"].get("in_process", {}).get("levels", [])
    report["baseline"] = report["targets"].get("baseline", {})
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    return report


def _level(target: dict[str, Any], users: int) -> dict[str, Any] | None:
    return next((lv for lv in target.get("levels", []) if lv.get("users") == users and "answers" in lv), None)


def ratios(targets: dict[str, dict[str, Any]], baseline: str) -> dict[str, Any]:
    """Per target: answers/min at the most users over the baseline's in the same run, and p95 TTFT at the
    most users over p95 TTFT at the fewest (None where a figure is missing)."""
    out: dict[str, Any] = {}
    base = targets.get(baseline, {})
    for name, target in targets.items():
        users = [lv["users"] for lv in target.get("levels", []) if "answers" in lv]
        if not users:
            continue
        low, high = _level(target, min(users)), _level(target, max(users))
        base_high = _level(base, max(users))
        entry: dict[str, Any] = {"at_users": max(users), "vs_users": min(users)}
        a, b = (high or {}).get("answers_per_min"), (base_high or {}).get("answers_per_min")
        entry["answers_per_min_vs_baseline"] = round(a / b, 3) if a and b else None
        t_high, t_low = (high or {}).get("ttft_p95_s"), (low or {}).get("ttft_p95_s")
        entry["ttft_p95_ratio_most_to_fewest_users"] = round(t_high / t_low, 2) if t_high and t_low else None
        out[name] = entry
    return out


# --- the product's targets --------------------------------------------------------------------------


def product_targets(
    settings: Any,
    model: Path,
    servers: int,
    say: Progress,
    server_bin: Path | None = None,
    slots: int = 1,
    server_args: Sequence[str] = (),
) -> list[Target]:
    """``baseline`` (lock-only in-process model), ``in_process`` (as ``make_llm`` builds it) and, when
    ``servers`` > 0, ``remote`` (that many llama.cpp servers on 127.0.0.1, ``cores // servers`` threads each;
    with ``server_bin``, llama-server with ``slots`` parallel slots each, ``llm.server_slots = slots``)."""
    from onprem_bot.app import ROOT
    from onprem_bot.bench.llama_servers import llama_servers
    from onprem_bot.llm import make_llm
    from onprem_bot.llm.llama import LlamaCppLLM

    cfg = dataclasses.replace(settings.llm, backend="llama-cpp", model_path=model)

    @contextmanager
    def baseline() -> Iterator[tuple[Any, dict[str, Any]]]:
        llm = LlamaCppLLM(
            model,
            n_ctx=cfg.n_ctx,
            n_gpu_layers=cfg.n_gpu_layers,
            n_threads=cfg.n_threads,
            temperature=cfg.temperature,
            prompt_format=cfg.prompt_format,
            thinking=cfg.thinking,
            think_tokens=cfg.think_tokens,
        )
        yield llm, {"path": "in-process LlamaCppLLM behind its lock, no admission queue", "n_threads": llm.n_threads}

    @contextmanager
    def in_process() -> Iterator[tuple[Any, dict[str, Any]]]:
        llm = make_llm(cfg, ROOT)
        yield llm, {"path": "make_llm(backend=llama-cpp)", "n_threads": cfg.n_threads or os.cpu_count()}

    @contextmanager
    def remote() -> Iterator[tuple[Any, dict[str, Any]]]:
        with llama_servers(
            model,
            servers,
            n_ctx=cfg.n_ctx,
            n_gpu_layers=cfg.n_gpu_layers,
            say=say,
            server_bin=server_bin,
            slots=slots,
            extra_args=server_args,
        ) as started:
            remote_cfg = dataclasses.replace(
                cfg, backend="remote", servers=",".join(s.url for s in started), server_slots=slots
            )
            kind = f"{server_bin.name} -np {slots}" if server_bin else "python -m llama_cpp.server"
            notes = {
                "path": f"make_llm(backend=remote), {servers} × {kind} on 127.0.0.1",
                "servers": servers,
                "slots_each": slots,
                "n_threads_each": started[0].n_threads,
            }
            yield make_llm(remote_cfg, ROOT), notes

    targets = [Target("baseline", baseline), Target("in_process", in_process)]
    if servers > 0:
        targets.append(Target("remote", remote))
    return targets


def markdown_table(report: dict[str, Any]) -> str:
    """The report as a Markdown table (one row per target and level) followed by the ratios."""
    head = (
        "| target | users | answers/requests | errors | lost | TTFT p50 s | TTFT p95 s | total p95 s "
        "| answers/min | routes | quoted (why) | queue dropped/rejected/timed-out |"
    )
    rows = [head, "|" + "---|" * 12]
    for name, target in report.get("targets", {}).items():
        if target.get("failed"):
            rows.append(f"| {name} | — | failed: {target['failed']} |" + " |" * 9)
        for lv in target.get("levels", []):
            if "answers" not in lv:
                rows.append(f"| {name} | {lv.get('users')} | skipped ({lv.get('skipped')}) |" + " |" * 9)
                continue
            routes = ", ".join(f"{k} {v}" for k, v in sorted(lv["routes"].items()))
            quoted = ", ".join(f"{k} {v}" for k, v in sorted(lv["fallbacks"].items())) or "0"
            q = lv.get("queue")
            queue = f"{q.get('dropped', 0)}/{q.get('rejected', 0)}/{q.get('timed_out', 0)}" if q else "no queue"
            rows.append(
                f"| {name} | {lv['users']} | {lv['answers']}/{lv['requests']} | {lv['errors']} | {lv['lost']} "
                f"| {lv['ttft_p50_s']} | {lv['ttft_p95_s']} | {lv['total_p95_s']} | {lv['answers_per_min']} "
                f"| {routes} | {quoted} | {queue} |"
            )
    lines = ["\n".join(rows), ""]
    for name, r in report.get("ratios", {}).items():
        lines.append(
            f"- {name}: answers/min at {r['at_users']} users vs baseline **{r['answers_per_min_vs_baseline']}**; "
            f"p95 TTFT at {r['at_users']} users / at {r['vs_users']} **{r['ttft_p95_ratio_most_to_fewest_users']}**"
        )
    return "\n".join(lines)
