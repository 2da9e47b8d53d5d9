"""Checker evaluation: correct answers built from real source sentences, altered the way a model errs.

Correct answers: a sentence (or two) of a real statute article or regulation chunk, lightly
rephrased (polite endings, ``퍼센트`` → ``%``), introduced by its reference
(``「근로기준법」 제60조에 따르면, …``) and cited ``[1]``; the sources are that chunk as [1] and
its neighbouring chunks as [2]–[4]. Alterations: change one value, swap two values of one kind,
change a unit, shift a date or year, point the reference at the neighbouring article, add a
sentence with a date the sources lack. Reported: recall on altered answers (verdict not
``pass``) per alteration, false alarms on the correct answers (verdict not ``pass``), the
unsupported-fact rate per fact kind, and the same for a naive checker that only asks whether
each number+unit occurs anywhere in the sources.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onprem_bot.checker import Checker, Source
from onprem_bot.checker.text import source_sentences
from onprem_bot.eval.checker_alter import ALTERATIONS, alter, has_fact, naive_unsupported
from onprem_bot.types import Chunk

_ENDINGS = (
    ("하여야 한다", "해야 합니다"),
    ("주어야 한다", "줘야 합니다"),
    ("할 수 있다", "할 수 있습니다"),
    ("아니한다", "않습니다"),
    ("없다", "없습니다"),
    ("있다", "있습니다"),
    ("한다", "합니다"),
    ("된다", "됩니다"),
    ("이다", "입니다"),
    ("본다", "봅니다"),
    ("진다", "집니다"),
    ("난다", "납니다"),
)


@dataclass(frozen=True)
class Case:
    """A correct answer over real sources, and where it came from."""

    answer: str
    sources: tuple[Source, ...]
    origin: str


def load_documents(data: Path, pdfs: bool = True) -> list[list[Chunk]]:
    """The chunks of the statutes under ``data/laws`` (or ``data`` itself: the sample ``corpus/``) and,
    with ``pdfs``, of the regulation PDFs in ``data/docs/pdf_kisa``."""
    from onprem_bot.ingest.chunking import chunk_document
    from onprem_bot.ingest.loaders import load_document

    laws = data / "laws" if (data / "laws").is_dir() else data
    paths = sorted(laws.rglob("*.md"))
    if pdfs:
        paths += sorted((data / "docs" / "pdf_kisa").glob("*.pdf"))
    docs = []
    for path in paths:
        if path.name.startswith("README"):
            continue
        _, chunks = chunk_document(load_document(path), path.stem)
        docs.append(chunks)
    return docs


def _source(n: int, c: Chunk) -> Source:
    return Source(n, c.text, c.doc_title, c.article, c.location)


# Paraphrases a model makes without changing a fact; each is applied with probability 1/2.
_PARAPHRASES = (
    (re.compile(r"퍼센트"), "%"),
    (re.compile(r"하여야"), "해야"),
    (re.compile(r"(?<=\d)년간"), "년 동안"),
    (re.compile(r"아니한"), "않은"),
    (re.compile(r"경우에는"), "때에는"),
    (re.compile(r"\s?\([^()]{0,80}\)"), ""),
    (re.compile(r"(?<![\d,.월 ])1일(?=[의을이은 ])"), "하루"),
    (re.compile(r"(?<![\d,.월 ])2일(?=[의을이은 ])"), "이틀"),
    (re.compile(r"(?<![\d,.])1개월(?=[의을이은 ])"), "한 달"),
    (re.compile(r"100분의 (\d+)"), r"\1%"),
    (re.compile(r"(\d)(만|억)원"), r"\1\2 원"),
    (re.compile(r"사용자는"), "사용자(회사)는"),
)


def rephrase(sentence: str, rng: random.Random) -> str:
    """A rephrasing: paragraph/item markers dropped, polite endings, and some of :data:`_PARAPHRASES`."""
    s = re.sub(r"^(?:[①-⑳]|\d+\.|[가-하]\.)\s*", "", " ".join(sentence.split())).rstrip(".")
    for old, new in _ENDINGS:
        if s.endswith(old):
            s = s[: -len(old)] + new
            break
    s = s.replace("하여야 하고", "해야 하고").replace("하여야 하며", "해야 하며")
    for pattern, replacement in _PARAPHRASES:
        if rng.random() < 0.5:
            s = pattern.sub(replacement, s)
    return s


def build_cases(
    docs: Sequence[Sequence[Chunk]], limit: int, seed: int = 0, wanted: set[tuple[str, str]] | None = None
) -> list[Case]:
    """Up to ``limit`` correct answers; articles in ``wanted`` ((doc_title, article) of dev questions) first."""
    rng = random.Random(seed)
    slots: list[tuple[int, int]] = [(d, i) for d, chunks in enumerate(docs) for i in range(len(chunks))]
    rng.shuffle(slots)
    if wanted:
        slots.sort(key=lambda s: (docs[s[0]][s[1]].doc_title, docs[s[0]][s[1]].article or "") not in wanted)
    cases: list[Case] = []
    for d, i in slots:
        if len(cases) >= limit:
            break
        chunks = docs[d]
        c = chunks[i]
        body = c.text.split("\n", 1)[1] if c.article and "\n" in c.text else c.text
        spans = source_sentences(body)
        usable = [body[a:b] for a, b in spans if 15 <= b - a <= 220 and has_fact(body[a:b])]
        if not usable:
            continue
        picked = usable[: 1 + (rng.random() < 0.4)] if rng.random() < 0.5 else [rng.choice(usable)]
        text = " ".join(rephrase(s, rng) + "." for s in picked)
        if rng.random() < 0.2:
            text += " 자세한 사항은 해당 조문을 확인하시기 바랍니다."
        if c.article and not c.article.startswith("부칙"):
            title = c.doc_title
            label = c.article
            para = "①②③④⑤⑥⑦⑧⑨⑩".find(picked[0][:1])
            if para >= 0 and rng.random() < 0.5:
                label += f" 제{para + 1}항"
            if rng.random() < 0.7:
                law = f"「{title}」" if rng.random() < 0.6 else title
                text = f"{law} {label}에 따르면, " + text
            else:
                text = text[:-1] + f"({title} {c.article})."
        text = text[:-1] + " [1]."
        neighbours = [chunks[k] for k in (i - 1, i + 1, i + 2) if 0 <= k < len(chunks) and k != i]
        sources = (_source(1, c), *(_source(n, x) for n, x in enumerate(neighbours, start=2)))
        cases.append(Case(text, sources, f"{c.doc_title} {c.location}".strip()))
    return cases


def evaluate(
    checker: Checker, cases: Sequence[Case], seed: int = 1, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Recall per alteration and false flags on the correct answers (per answer and per fact kind), for the
    checker and the naive anchor, on the same answers."""
    rng = random.Random(seed)
    stats: dict[str, dict[str, int]] = {k: {"n": 0, "checker": 0, "naive": 0, "corrected_back": 0} for k in ALTERATIONS}
    correct = {"n": 0, "checker": 0, "naive": 0}
    per_kind: dict[str, dict[str, int]] = {}
    times: list[float] = []
    misses: list[dict[str, str]] = []
    false_alarms: list[dict[str, object]] = []
    for k, case in enumerate(cases):
        if progress and k % 100 == 0:
            progress(f"{k}/{len(cases)}")
        t = time.perf_counter()
        result = checker.run(case.answer, case.sources)
        times.append(1000 * (time.perf_counter() - t))
        naive_bad = naive_unsupported(case.answer, case.sources)
        correct["n"] += 1
        correct["checker"] += result.verdict != "pass"
        correct["naive"] += bool(naive_bad)
        for f in result.findings:
            row = per_kind.setdefault(str(f["kind"]), {"facts": 0, "checker": 0, "naive": 0})
            row["facts"] += 1
            row["checker"] += f["supported"] is False
        for g in naive_bad:
            per_kind.setdefault(g.kind, {"facts": 0, "checker": 0, "naive": 0})["naive"] += 1
        if result.verdict != "pass" and len(false_alarms) < 30:
            bad = [f"{f['surface']}:{f['reason']}" for f in result.findings if f["supported"] is False]
            false_alarms.append({"answer": case.answer, "origin": case.origin, "unsupported": bad})
        for kind in ALTERATIONS:
            altered = alter(case.answer, case.sources, kind, rng)
            if altered is None or altered == case.answer:
                continue
            r = checker.run(altered, case.sources)
            stats[kind]["n"] += 1
            stats[kind]["checker"] += r.verdict != "pass"
            stats[kind]["naive"] += bool(naive_unsupported(altered, case.sources))
            stats[kind]["corrected_back"] += r.verdict == "corrected" and r.text == case.answer
            if r.verdict == "pass" and len(misses) < 40:
                misses.append({"kind": kind, "answer": altered, "origin": case.origin})
    report = _report(stats, correct, per_kind, times)
    report["misses"], report["false_alarms"] = misses, false_alarms
    return report


def _rate(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def _report(
    stats: dict[str, dict[str, int]],
    correct: dict[str, int],
    per_kind: dict[str, dict[str, int]],
    times: list[float],
) -> dict[str, Any]:
    altered_n = sum(s["n"] for s in stats.values())
    times = sorted(times)
    recall = {
        k: {
            "n": s["n"],
            "checker": _rate(s["checker"], s["n"]),
            "naive": _rate(s["naive"], s["n"]),
            "corrected_to_original": _rate(s["corrected_back"], s["n"]),
        }
        for k, s in stats.items()
    }
    per_fact = {
        k: {"facts": v["facts"], "checker": _rate(v["checker"], v["facts"]), "naive": _rate(v["naive"], v["facts"])}
        for k, v in sorted(per_kind.items())
    }
    return {
        "correct_answers": correct["n"],
        "altered_answers": altered_n,
        "recall": recall,
        "recall_overall": {
            "checker": _rate(sum(s["checker"] for s in stats.values()), altered_n),
            "naive": _rate(sum(s["naive"] for s in stats.values()), altered_n),
        },
        "false_flag_rate": {
            "checker": _rate(correct["checker"], correct["n"]),
            "naive": _rate(correct["naive"], correct["n"]),
        },
        "false_flag_rate_per_fact_kind": per_fact,
        "targets": {"recall": 0.97, "false_flag_rate": 0.02},
        "check_ms_p50": round(times[len(times) // 2], 2) if times else 0.0,
        "check_ms_p95": round(times[min(len(times) - 1, int(len(times) * 0.95))], 2) if times else 0.0,
    }


def format_report(report: dict[str, Any]) -> str:
    """A small table for the terminal."""
    lines = [
        f"정답 {report['correct_answers']}개, 변조 답변 {report['altered_answers']}개 (correct / altered answers)",
        f"{'alteration':<20}{'n':>6}{'checker':>10}{'naive':>10}{'fixed':>8}",
    ]
    for kind, row in report["recall"].items():
        lines.append(
            f"{kind:<20}{row['n']:>6}{row['checker']:>10.3f}{row['naive']:>10.3f}{row['corrected_to_original']:>8.3f}"
        )
    o, ff = report["recall_overall"], report["false_flag_rate"]
    lines.append(f"{'recall (all)':<20}{report['altered_answers']:>6}{o['checker']:>10.3f}{o['naive']:>10.3f}")
    lines.append(f"{'false flags':<20}{report['correct_answers']:>6}{ff['checker']:>10.3f}{ff['naive']:>10.3f}")
    lines.append("false flags per fact kind (facts in correct answers):")
    for kind, row in report["false_flag_rate_per_fact_kind"].items():
        lines.append(f"  {kind:<18}{row['facts']:>6}{row['checker']:>10.4f}{row['naive']:>10.4f}")
    lines.append(f"check latency p50 {report['check_ms_p50']} ms, p95 {report['check_ms_p95']} ms")
    return "\n".join(lines)


def dev_articles(path: Path) -> set[tuple[str, str]]:
    """(doc_title, article) of the dev questions."""
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if row.get("doc_title") and row.get("article"):
                out.add((row["doc_title"], row["article"]))
    return out
