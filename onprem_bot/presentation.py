"""How answers are shown: route and verdict labels, safe Markdown, the highlighted source sentence.

Everything that came from a user, a document, the FAQ or the model is escaped here before the
UI renders it as Markdown, so HTML, scripts, images and Markdown in it appear as plain text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from onprem_bot.types import Answer, Citation

ROUTE_LABELS = {
    "faq": ("FAQ", "blue"),
    "rag": ("문서 기반", "green"),
    "extractive": ("원문 인용", "orange"),
    "refused": ("답변 불가", "gray"),
}
VERDICT_LABELS = {
    "pass": ("검증 통과", "green"),
    "corrected": ("수치 수정됨", "orange"),
    "flagged": ("확인 필요", "red"),
}
HIGHLIGHT_COLOR = "orange"
_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&\"'=^%@,;?/])")
_SPACE = re.compile(r"\s+")


def escape_markdown(text: str) -> str:
    """``text`` as Markdown that renders literally (every ASCII punctuation backslash-escaped,
    line breaks kept, leading spaces kept without turning into code blocks)."""
    lines = []
    for line in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        stripped = line.lstrip(" \t")
        indent = "\u00a0" * (len(line) - len(stripped))
        lines.append(indent + _PUNCT.sub(r"\\\1", stripped))
    return "  \n".join(lines)


def badge(label: str, color: str) -> str:
    """A Streamlit Markdown badge for one of this module's fixed labels."""
    return f":{color}-badge[{label}]"


def route_badge(route: str) -> str:
    """The badge for an answer's route (FAQ / 문서 기반 / 원문 인용 / 답변 불가)."""
    label, color = ROUTE_LABELS.get(route, (route, "gray"))
    return badge(escape_markdown(label), color)


def verdict_badge(answer: Answer) -> str | None:
    """The checker's verdict badge, or None where nothing was checked (FAQ, refusals, verbatim quotes)."""
    if answer.route in ("faq", "refused", "extractive") and not answer.check.findings:
        return None
    if not answer.check.findings and answer.check.verdict == "pass":
        return badge("검증할 수치 없음", "gray")
    label, color = VERDICT_LABELS.get(answer.check.verdict, (answer.check.verdict, "gray"))
    return badge(label, color)


def answer_badges(answer: Answer) -> str:
    """Route and verdict badges on one line."""
    return " ".join(b for b in (route_badge(answer.route), verdict_badge(answer)) if b)


def finding_line(finding: Mapping[str, Any]) -> str:
    """One checker finding as plain Korean text (its icon: :func:`finding_icon`)."""
    surface = str(finding.get("surface") or finding.get("value") or "")
    source = f" — {finding['source']}" if finding.get("source") else ""
    supported = finding.get("supported")
    if supported is True:
        return f"확인됨: {surface}{source}"
    if supported is False and finding.get("suggestion") is not None:
        return f"수정됨: {finding.get('old', surface)} → {finding.get('new', finding.get('suggestion'))}{source}"
    if supported is False:
        return f"출처에서 확인되지 않음: {surface}{source}"
    return f"검증 불가 (계산된 값일 수 있음): {surface}{source}"


def finding_icon(finding: Mapping[str, Any]) -> str:
    """The Material icon shown before a finding (Streamlit bundles the font: no emoji font needed)."""
    supported = finding.get("supported")
    if supported is True:
        return icon("check_circle", "green")
    if supported is False and finding.get("suggestion") is not None:
        return icon("edit", "orange")
    if supported is False:
        return icon("warning", "red")
    return icon("help", "gray")


def icon(name: str, color: str | None = None) -> str:
    """``:material/name:`` Markdown (optionally coloured), for fixed icon names only."""
    shown = f":material/{name}:"
    return f":{color}[{shown}]" if color else shown


def problem_findings(findings: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The findings that are not plainly supported (corrected, unsupported, unverifiable)."""
    return [f for f in findings if f.get("supported") is not True]


def citation_title(c: Citation) -> str:
    """``[1] 근로기준법 제60조 제1항 p.3`` (plain text)."""
    where = c.location or c.article or ""
    if c.page is not None and f"p.{c.page}" not in where:
        where = f"{where} p.{c.page}".strip()
    return f"[{c.n}] {c.doc_title} {where}".strip()


SUGGESTIONS_TITLE = "이 질문을 찾으셨나요?"
"""The heading of the 관련 FAQ buttons under an answer the FAQ did not give directly."""


def suggestion_label(suggestion: Any) -> str:
    """``FAQ #12 · 비밀번호를 잊어버렸어요`` (plain text; escape before rendering)."""
    return f"FAQ #{suggestion.id} · {suggestion.question}"


def offered_suggestions(answer: Answer) -> tuple[Any, ...]:
    """The 관련 FAQ to show under ``answer`` (none under an FAQ answer)."""
    return () if answer.route == "faq" else tuple(answer.faq_suggestions)


SEARCHED_PREFIX = "검색한 질문: "
CONVERSATION_TITLE_CHARS = 30


def searched_caption(answer: Answer) -> str | None:
    """``검색한 질문: …`` (escaped Markdown) under an answer to a rewritten follow-up, else None."""
    searched = (answer.standalone_question or "").strip()
    return SEARCHED_PREFIX + escape_markdown(searched) if searched else None


def conversation_label(title: str, messages: int, limit: int = CONVERSATION_TITLE_CHARS) -> str:
    """A conversation in the sidebar list: its first question on one line, cut to ``limit``
    characters, and its message count (plain text; escape before rendering)."""
    line = _SPACE.sub(" ", title or "").strip() or "(질문 없음)"
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return f"{line} · {messages}"


def highlight_segments(text: str, sentence: str) -> list[tuple[str, bool]]:
    """``text`` cut into (segment, is_the_supporting_sentence) pieces; the sentence is found
    exactly, else ignoring differences in white space; not found: one plain segment."""
    sentence = (sentence or "").strip()
    if not text or not sentence:
        return [(text, False)]
    start = text.find(sentence)
    if start >= 0:
        end = start + len(sentence)
    else:
        span = _find_loose(text, sentence)
        if span is None:
            return [(text, False)]
        start, end = span
    return [(seg, mark) for seg, mark in ((text[:start], False), (text[start:end], True), (text[end:], False)) if seg]


def highlighted_markdown(text: str, sentence: str) -> str:
    """Escaped Markdown of ``text`` with the supporting ``sentence`` highlighted."""
    out = []
    for segment, marked in highlight_segments(text, sentence):
        escaped = escape_markdown(segment)
        if marked:
            # a highlight cannot span line breaks: mark each line of the sentence
            escaped = "  \n".join(
                f":{HIGHLIGHT_COLOR}-background[{part}]" if part.strip() else part for part in escaped.split("  \n")
            )
        out.append(escaped)
    return "".join(out)


def _find_loose(text: str, sentence: str) -> tuple[int, int] | None:
    """Where ``sentence`` occurs in ``text`` when runs of white space are treated as equal."""
    words = [re.escape(w) for w in _SPACE.split(sentence) if w]
    if not words:
        return None
    m = re.search(r"\s*".join(words), text)
    return (m.start(), m.end()) if m else None
