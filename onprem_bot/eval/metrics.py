"""Retrieval metrics as pure functions: relevance of a hit, hit@k, MRR@k."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from onprem_bot.eval.text_metrics import hit_at_k, mean, reciprocal_rank
from onprem_bot.types import Chunk


def _squash(text: str) -> str:
    return "".join(text.split())


def is_relevant(chunk: Chunk, gold: Mapping[str, str]) -> bool:
    """Does ``chunk`` satisfy a gold row ``{doc_title?, article?, chunk_text_contains?}``?

    Titles compare with spaces ignored (``개인정보보호법`` = ``개인정보 보호법``); an article
    label must match exactly (any piece of a split article counts). A row that also names the
    ``page`` of a PDF accepts a chunk of that document covering that page (the right article or page).
    """
    title = gold.get("doc_title")
    if title and _squash(title) != _squash(chunk.doc_title):
        return False
    article = gold.get("article")
    if article and not same_article(chunk.article, article) and not covers_page(chunk, gold.get("page")):
        return False
    needle = gold.get("chunk_text_contains")
    if needle and _squash(needle) not in _squash(chunk.text):
        return False
    return bool(title or article or needle)


def same_article(label: object, article: str) -> bool:
    """Does a chunk's or citation's ``label`` name the gold ``article``? A gold ``부칙`` accepts any
    labelled 부칙 (``부칙 <2024. 1. 1.> 제1조``); labels compare with spaces ignored."""
    label, gold = _squash(str(label or "")), _squash(article)
    return bool(label) and (label == gold or (gold == "부칙" and label.startswith("부칙")))


_PAGES = re.compile(r"p\.(\d+)(?:-(\d+))?")


def _cites_page(citation: Mapping[str, object], page: object) -> bool:
    """Whether a citation (its ``location`` ``… p.15-16`` or its ``page``) covers gold ``page``."""
    if page in (None, ""):
        return False
    wanted = int(str(page))
    m = _PAGES.search(str(citation.get("location") or ""))
    if m:
        return int(m.group(1)) <= wanted <= int(m.group(2) or m.group(1))
    return citation.get("page") not in (None, "") and int(str(citation.get("page"))) == wanted


def covers_page(chunk: Chunk, page: object) -> bool:
    """Whether ``chunk`` covers PDF page ``page`` (1-based; None, ``""`` or a chunk without pages: False)."""
    if page in (None, "") or chunk.page is None:
        return False
    return chunk.page <= int(str(page)) <= (chunk.page_end or chunk.page)


def first_relevant_rank(chunks: Sequence[Chunk], gold: Mapping[str, str]) -> int | None:
    """1-based rank of the first relevant chunk, or None."""
    for rank, chunk in enumerate(chunks, start=1):
        if is_relevant(chunk, gold):
            return rank
    return None


def hit_at(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions with a relevant chunk in the top ``k``."""
    return mean(hit_at_k(r, k) for r in ranks) or 0.0


def mrr_at(ranks: Sequence[int | None], k: int = 10) -> float:
    """Mean reciprocal rank, counting only ranks within ``k``."""
    return mean(reciprocal_rank(r, k) for r in ranks) or 0.0


def keyword_score(answer: str, keywords: Sequence[str], scale: float = 5.0) -> float:
    """The seed teams' keyword score: ``m/n × scale`` for m of n keywords in the answer (spaces ignored)."""
    if not keywords:
        return 0.0
    text = _squash(answer)
    return scale * sum(1 for k in keywords if _squash(k) in text) / len(keywords)


def cites_gold(citations: Sequence[Mapping[str, object]], gold: Mapping[str, str]) -> bool:
    """Is the gold document (and article, when given) among an answer's citations?

    As for retrieval (:func:`is_relevant`), a gold ``page`` also accepts a citation of that document
    covering the page, and a gold ``부칙`` any labelled 부칙."""
    title, article = gold.get("doc_title"), gold.get("article")
    for c in citations:
        if title and _squash(title) != _squash(str(c.get("doc_title") or "")):
            continue
        if article and not same_article(c.get("article"), article) and not _cites_page(c, gold.get("page")):
            continue
        return bool(title or article)
    return False
