"""Citations: ``[n]`` markers in an answer mapped to its sources; extractive quoting.

A marker that points at no source is dropped from the text. Each citation's snippet is the
source sentence that best supports the answer sentences citing it (most shared content
morphemes), which is what the UI highlights. Quoting a table (rendered rows, see
:mod:`onprem_bot.ingest.tables`) quotes the row whose label the question names, preferring the
one holding the column the question names; never the header or another row.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from onprem_bot.checker.table_rows import mentions, named_columns, parse_rows
from onprem_bot.ingest.chunking.base import split_sentences
from onprem_bot.korean.quantities import band_keys
from onprem_bot.types import Citation, Hit

_MARKERS = re.compile(r"\[\s*(\d+(?:\s*[,，]\s*\d+)*)\s*\]")
SNIPPET_CHARS = 300


def chunk_citation(n: int, hit: Hit, snippet: str | None = None) -> Citation:
    """A retrieved chunk as citation ``[n]``."""
    c = hit.chunk
    return Citation(n, c.doc_title, c.article, c.location, c.page, c.id, (snippet or c.text)[:SNIPPET_CHARS])


def cited_numbers(text: str) -> list[int]:
    """Every number cited in ``text`` (``[1]``, ``[1, 2]``), in order of first appearance."""
    seen: dict[int, None] = {}
    for m in _MARKERS.finditer(text):
        for part in re.split(r"[,，]", m.group(1)):
            seen.setdefault(int(part), None)
    return list(seen)


def drop_invalid_markers(text: str, valid: int) -> str:
    """``text`` without markers (or numbers inside one) that point outside ``1..valid``."""

    def fix(m: re.Match[str]) -> str:
        keep = [p.strip() for p in re.split(r"[,，]", m.group(1)) if 1 <= int(p) <= valid]
        return f"[{', '.join(keep)}]" if keep else ""

    return re.sub(r"\s+([.。])", r"\1", _MARKERS.sub(fix, text)).strip()


def map_citations(answer: str, sources: Sequence[Hit], texts: Sequence[str], analyzer: Any) -> tuple[Citation, ...]:
    """A :class:`Citation` for every source the answer cites, with its best supporting sentence."""
    sentences = split_sentences(answer) or [answer]
    out = []
    for n in cited_numbers(answer):
        if not 1 <= n <= len(sources):
            continue
        citing = " ".join(s for s in sentences if n in cited_numbers(s)) or answer
        out.append(chunk_citation(n, sources[n - 1], best_sentence(citing, texts[n - 1], analyzer)))
    return tuple(out)


def attribute(answer: str, texts: Sequence[str], analyzer: Any, min_overlap: float = 0.6) -> str | None:
    """``answer`` with ``[n]`` after each sentence, when every sentence clearly comes from one source.

    A sentence is attributed to the source sharing the largest part of its content morphemes;
    when that part is below ``min_overlap`` for any sentence, nothing is attributed (None).
    Small base models rarely write markers themselves; what they copy can still be cited.
    """
    sources = [set(analyzer.tokens(t)) for t in texts]
    out = []
    for sentence in split_sentences(answer):
        wanted = set(analyzer.tokens(_MARKERS.sub(" ", sentence)))
        if not wanted or not sources:
            return None
        shares = [len(wanted & s) / len(wanted) for s in sources]
        best = max(range(len(shares)), key=lambda i: (shares[i], -i))
        if shares[best] < min_overlap:
            return None
        out.append(f"{sentence.rstrip()} [{best + 1}]" if not cited_numbers(sentence) else sentence)
    return " ".join(out) if out else None


def best_sentence(query: str, text: str, analyzer: Any) -> str:
    """The sentence of ``text`` sharing the most content morphemes with ``query``."""
    candidates = [s for s in split_sentences(text) if len(s) > 3] or [text]
    wanted = set(analyzer.tokens(_MARKERS.sub(" ", query)))
    scored = [(len(wanted & set(analyzer.tokens(s))), -i, s) for i, s in enumerate(candidates)]
    return max(scored)[2]


_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def paragraph_of(text: str, sentence: str) -> str | None:
    """``제N항`` of the paragraph (①…⑳) of ``text`` that holds ``sentence``, or None (pure)."""
    at = text.find(sentence)
    if at < 0:
        return None
    for line in reversed(text[: at + 1].splitlines()):
        stripped = line.strip()
        if stripped[:1] and stripped[0] in _CIRCLED:
            return f"제{_CIRCLED.index(stripped[0]) + 1}항"
    return None


def lead(hit: Hit, sentence: str) -> str:
    """``근로기준법 제56조 제3항에 따르면``: the source of a quote, named as a person would (pure)."""
    c = hit.chunk
    if c.article and c.kind == "appendix":
        where = f"{c.article} ({c.article_title})" if c.article_title else c.article
    elif c.article:
        where = " ".join(x for x in (c.article, paragraph_of(c.text, sentence) or c.paragraph) if x)
    else:
        where = c.heading_path[-1] if c.heading_path else ""
    return f"{c.doc_title} {where}".strip() + "에 따르면"


def extractive_answer(
    question: str, hits: Sequence[Hit], analyzer: Any, max_chars: int = 300, max_sources: int = 3
) -> tuple[str, tuple[Citation, ...]]:
    """The quoted answer: for each of the best sources, the sentences or table rows that share most
    of ``question``'s words, after a lead naming the source (``근로기준법 제56조 제3항에 따르면, "…" [1]``);
    two from the first source, one from each further source that shares any of the question's words,
    until ``max_chars``. Table rows the question names come first."""
    wanted = set(analyzer.tokens(question))
    parts: list[str] = []
    citations: list[Citation] = []
    quoted = ""
    top = list(hits[:max_sources])
    top.sort(key=lambda h: not question_rows(question, h.chunk.text))  # a table row the question names first
    for hit in top:
        body = hit.chunk.text.split("\n", 1)[-1] if hit.chunk.article and "\n" in hit.chunk.text else hit.chunk.text
        sentences = [s for s in split_sentences(body) if len(s) > 3]
        if not sentences:
            continue
        candidates = [set(analyzer.tokens(x)) | band_keys(question, x) for x in sentences]  # '70일째' in '61일 이상'
        asked = wanted | {key for c in candidates for key in c if key.startswith("§")}
        table = len(parse_rows(body)) >= 2
        scores = overlap_scores(asked, candidates, table)
        ranked = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
        if quoted and scores[ranked[0]] <= 0:
            continue  # a further source sharing none of the question's words adds nothing
        named = set(question_rows(question, body, limit=len(sentences)))
        pool = [i for i in ranked if sentences[i] in named] or ranked  # rows the question names, best first
        chosen = sorted(pool[:2]) if not quoted else pool[:1]
        quote = " ".join(sentences[i] for i in chosen)
        n = len(citations) + 1
        citations.append(chunk_citation(n, hit, quote))
        parts.append(f'{lead(hit, sentences[chosen[0]])}, "{quote}" [{n}]')
        quoted += " " + quote
        if len(quoted) >= max_chars:
            break
    return "\n".join(parts), tuple(citations)


def overlap_scores(wanted: set[str], candidates: Sequence[set[str]], distinctive: bool) -> list[float]:
    """How well each candidate (a sentence's or a table row's morphemes) matches ``wanted`` (pure).

    Plain: the number of shared morphemes. ``distinctive`` (the rows of one table, which all repeat
    the caption and column headers): each shared morpheme weighs ``log((n + 1) / df)``, ``df`` being
    how many of the ``n`` rows hold it, so "셋째" picks the 셋째 row and the headers every row
    repeats weigh little (the idf of BM25, within one chunk)."""
    if not distinctive:
        return [float(len(wanted & c)) for c in candidates]
    n = len(candidates)
    df: dict[str, int] = {}
    for c in candidates:
        for token in c & wanted:
            df[token] = df.get(token, 0) + 1
    return [sum(math.log((n + 1) / df[t]) for t in c & wanted) for c in candidates]


def question_rows(question: str, text: str, limit: int = 2) -> list[str]:
    """The table-row lines of ``text`` whose row label ``question`` names, those holding a column
    the question names first (only those when any does); ``[]`` when it names no row label."""
    rows = parse_rows(text)
    labels = {name for _, name in mentions(question, [r.label for r in rows if r.label], guard=True)}
    chosen = [r for r in rows if r.label in labels]
    columns = named_columns(chosen, "", 0, question)
    if columns is not None:
        chosen = [r for r in chosen if any(c.header in columns for c in r.cells)] or chosen
    return [r.line for r in chosen[:limit]]
