"""Is a fact of an answer sentence stated by its sources, in the same context?

Context is shared content morphemes: twice those of the fact's segment plus those of its sentence.
A value is supported when a source sentence states it and no source sentence about clearly more
of the same words states a different value of the same dimension instead. An unsupported value
gets a suggestion when the best-matching source sentence offers exactly one plausible value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from onprem_bot.checker.facts import Fact, qualifier_conflict, same_value
from onprem_bot.checker.prepare import Prepared, Sentence
from onprem_bot.checker.refs import has_item, has_paragraph, law_matches

# A competitor sentence must beat the best sentence stating the value by this much (score units).
MARGIN = 3
# A source sentence in the paragraph the answer sentence names (``제60조 제2항에 따르면``) counts this much more.
PARAGRAPH_BONUS = 4
# The same for a source sentence of the article the answer sentence names (``근로기준법 제60조에 따르면``).
ARTICLE_BONUS = 4
_COMPUTE_CUE = re.compile(r"총|합계|합산|합쳐|합하|더하|더해|가산|늘어|빼|차감|남은|계산|산정|모두|누적")


@dataclass
class Outcome:
    """The verdict on one fact of the answer."""

    supported: bool | None
    evidence: Sentence | None = None
    suggestion: Fact | None = None
    reason: str = ""
    new_text: str | None = None
    """The replacement for the fact's surface when a suggestion is applied."""


def pool_for(sentence: Sentence, prepared: list[Prepared]) -> tuple[list[Sentence], list[Sentence]]:
    """(sentences of the sources the answer sentence cites, sentences of all sources)."""
    everything = [s for p in prepared for s in p.sentences]
    wanted = {p_i for p_i, p in enumerate(prepared) if p.source.n in sentence.cites}
    if not wanted:
        return everything, everything
    return [s for s in everything if s.source in wanted], everything


def score(sentence: Sentence, i: int, other: Sentence) -> int:
    """Context overlap between the answer fact ``sentence.facts[i]`` and a source sentence."""
    seg = sentence.seg_tokens.get(sentence.seg[i], frozenset())
    claimed = PARAGRAPH_BONUS if sentence.para is not None and sentence.para == other.para else 0
    if (
        sentence.article is not None
        and sentence.article == other.article
        and law_matches(sentence.law or None, other.law)
    ):
        claimed += ARTICLE_BONUS
    return 2 * len(seg & other.tokens) + len(sentence.tokens & other.tokens) + claimed


def check_quantity(sentence: Sentence, i: int, cited_pool: list[Sentence], all_pool: list[Sentence]) -> Outcome:
    """Numbers, money, percentages, dates, years and times."""
    f = sentence.facts[i]
    out = _find(sentence, i, cited_pool)
    if out.supported:
        return out
    if cited_pool is not all_pool and not _competes(sentence, i, cited_pool):
        other = _find(sentence, i, all_pool)  # a miscited value: stated, in context, by another source
        if other.supported:
            other.reason = "other_source"
            return other
    if (restated := _restated(f, cited_pool)) is not None:
        return Outcome(True, restated, reason="computed")
    if f.weak:  # 한 번, 하루: idioms as often as quantities
        return Outcome(None, out.evidence, reason="unverifiable")
    seg_text = _segment_text(sentence, i)
    cue = _COMPUTE_CUE.search(seg_text) is not None
    if cue and (computed := _computed(f, cited_pool)) is not None:
        return Outcome(True, computed, reason="computed")
    suggestion, evidence = _suggest(sentence, i, cited_pool)
    if suggestion is not None:
        return Outcome(False, evidence, suggestion, out.reason or "not_in_context", suggestion.surface)
    if cue or f.weak:
        return Outcome(None, evidence, reason="unverifiable")
    return Outcome(False, evidence, reason=out.reason or "not_found")


def _find(sentence: Sentence, i: int, pool: list[Sentence]) -> Outcome:
    f = sentence.facts[i]
    best_o, best_o_sent = -1, None
    best_k, seg_o, seg_k = -1, -1, -1
    for s in pool:
        has_value = any(same_value(f, g) and not qualifier_conflict(f.qualifier, g.qualifier) for g in s.facts)
        if has_value:
            sc = score(sentence, i, s)
            if sc > best_o:
                best_o, best_o_sent = sc, s
            seg_o = max(seg_o, _clause_overlap(sentence, i, s))
        elif any(g.dim == f.dim for g in s.facts):
            best_k = max(best_k, score(sentence, i, s))
            seg_k = max(seg_k, _clause_overlap(sentence, i, s))
    if best_o_sent is None:
        return Outcome(False, reason="not_found")
    thin = len(sentence.tokens) <= 2
    if best_o == 0 and not thin:
        return Outcome(False, best_o_sent, reason="not_in_context")
    if best_k > best_o + MARGIN and seg_k > seg_o:
        return Outcome(False, best_o_sent, reason="other_context")
    return Outcome(True, best_o_sent, reason="found")


def _clause_overlap(sentence: Sentence, i: int, other: Sentence) -> int:
    """Words of the clause around the fact ``sentence.facts[i]`` that ``other`` also has."""
    return len(sentence.seg_tokens.get(sentence.seg[i], frozenset()) & other.tokens)


def _competes(sentence: Sentence, i: int, pool: list[Sentence]) -> bool:
    """Whether a source sentence about the same thing states another value of the fact's dimension."""
    f = sentence.facts[i]
    return any(score(sentence, i, s) > 0 and any(g.dim == f.dim for g in s.facts) for s in pool)


def _segment_text(sentence: Sentence, i: int) -> str:
    f = sentence.facts[i]
    return sentence.text[max(0, f.start - 12) : f.end + 4]


def _computed(f: Fact, pool: list[Sentence]) -> Sentence | None:
    """A source sentence whose values of ``f``'s dimension, two at a time, add up to (or differ by) ``f``."""
    target = f.key[1]
    by_source: dict[int, list[tuple[Fact, Sentence]]] = {}
    for s in pool:
        for g in s.facts:
            if g.dim == f.dim and f.kind != "reference":
                by_source.setdefault(s.source, []).append((g, s))
    for items in by_source.values():
        for a in range(len(items)):
            for b in range(a + 1, len(items)):
                x, y = items[a][0].key[1], items[b][0].key[1]
                if target in (x + y, abs(x - y)):
                    return items[a][1]
    return None


def _restated(f: Fact, pool: list[Sentence]) -> Sentence | None:
    """A source ratio restated: ``1.5배`` or ``150%`` for "100분의 50 이상을 가산", ``0.5배`` for 100분의 50."""
    if f.dim not in ("multiple", "ratio"):
        return None
    target = f.key[1]
    for s in pool:
        for g in s.facts:
            if g.dim == "ratio" and g is not f:
                r = g.key[1]
                if (target == 1 + r and "가산" in s.text) or (f.dim == "multiple" and target == r):
                    return s
    return None


def _agree(sentence: Sentence, i: int, other: Sentence) -> int:
    """How many other values of the answer sentence ``other`` states, bounded the same way."""
    return sum(
        any(same_value(g, h) and not qualifier_conflict(g.qualifier, h.qualifier) for h in other.facts)
        for j, g in enumerate(sentence.facts)
        if j != i and g.kind != "reference"
    )


def _best_sentences(sentence: Sentence, i: int, pool: list[Sentence]) -> list[Sentence]:
    """The source sentences closest to the answer fact's context (ties broken by shared values)."""
    scored = [(score(sentence, i, s) + 2 * _agree(sentence, i, s), s) for s in pool if s.facts]
    if not scored:
        return []
    top = max(sc for sc, _ in scored)
    return [s for sc, s in scored if sc == top and sc > 0]


def _suggest(sentence: Sentence, i: int, pool: list[Sentence]) -> tuple[Fact | None, Sentence | None]:
    """The one plausible source value for an unsupported fact, from the best-matching source sentence."""
    f = sentence.facts[i]
    best = _best_sentences(sentence, i, pool)
    if not best:
        return None, None
    used = [g for j, g in enumerate(sentence.facts) if j != i]
    # a unit slip: the same written number with another unit (15개월 → 15일)
    if f.magnitude is not None:
        same_number = {
            g.value: (g, s)
            for s in best
            for g in s.facts
            if g.kind == f.kind and g.magnitude == f.magnitude and g.dim != f.dim
        }
        if len(same_number) == 1:
            g, s = next(iter(same_number.values()))
            return g, s
    candidates: dict[tuple[object, ...], tuple[Fact, Sentence]] = {}
    for s in best:
        for g in s.facts:
            if g.dim != f.dim or same_value(f, g) or any(same_value(u, g) for u in used):
                continue
            if qualifier_conflict(f.qualifier, g.qualifier):  # 8월 5일까지 is no slip for 1월 1일부터
                continue
            candidates.setdefault(_value_key(g), (g, s))
    if len(candidates) == 1:
        g, s = next(iter(candidates.values()))
        return g, s
    return None, best[0]


def _value_key(g: Fact) -> tuple[object, ...]:
    if g.dim == "time" and g.key[2]:
        return ("time", g.key[1] % 720)
    return g.key[:2]


def check_reference(sentence: Sentence, i: int, prepared: list[Prepared], pool: list[Sentence]) -> Outcome:
    """A legal reference: the cited source is that article of that law, or a source sentence about the same
    thing mentions it."""
    f = sentence.facts[i]
    r = f.ref
    assert r is not None
    wanted = {s.source for s in pool}
    candidates = [p for k, p in enumerate(prepared) if k in wanted]
    if r.level == "law":
        for p in candidates:
            if law_matches(r.law, p.source.doc_title) or f"「{r.law}」" in p.source.text:
                return Outcome(True, p.sentences[0] if p.sentences else None, reason="label")
        return Outcome(False, reason="law_not_in_sources")
    for p in candidates:
        src = p.source
        if r.article and (src.article != r.article or not law_matches(r.law, src.doc_title)):
            continue
        if not r.article and r.law and not law_matches(r.law, src.doc_title):
            continue
        if r.paragraph is not None and not has_paragraph(src.text, src.location, r.paragraph):
            continue
        if r.item is not None and not has_item(src.text, r.item):
            continue
        if r.article or not _mentioned(sentence, i, pool, require_context=True):
            return Outcome(True, p.sentences[0] if p.sentences else None, reason="label")
    mention = None if r.claim else _mentioned(sentence, i, pool, require_context=True)
    if mention is not None:
        return Outcome(True, mention, reason="mentioned")
    return _suggest_reference(sentence, i, candidates, pool)


def _ref_matches(a: Fact, g: Fact) -> bool:
    ra, rg = a.ref, g.ref
    if ra is None or rg is None:
        return False
    if ra.article != rg.article and ra.article is not None:
        return False
    if ra.article is None and rg.article is not None and ra.paragraph is None:
        return False
    if ra.law is not None and (rg.law is None or not law_matches(ra.law, rg.law)):
        return False
    return all(x is None or x == y for x, y in ((ra.paragraph, rg.paragraph), (ra.item, rg.item)))


def _mentioned(sentence: Sentence, i: int, pool: list[Sentence], require_context: bool) -> Sentence | None:
    f = sentence.facts[i]
    best, best_sc = None, -1
    for s in pool:
        if any(_ref_matches(f, g) for g in s.facts):
            sc = score(sentence, i, s)
            if sc > best_sc:
                best, best_sc = s, sc
    thin = len(sentence.tokens) <= 3 or (best is not None and len(best.tokens) <= 2)
    if best is None or (require_context and best_sc <= 0 and not thin):
        return None
    return best


def _suggest_reference(sentence: Sentence, i: int, candidates: list[Prepared], pool: list[Sentence]) -> Outcome:
    f = sentence.facts[i]
    r = f.ref
    assert r is not None
    if r.article is None:
        return Outcome(False, reason="not_found")
    used = {g.ref.article for j, g in enumerate(sentence.facts) if j != i and g.ref is not None}
    for s in _best_sentences(sentence, i, pool):
        mentioned = {
            g.ref.article
            for g in s.facts
            if g.ref is not None and g.ref.article and g.ref.article not in used and law_matches(r.law, g.ref.law or "")
        }
        mentioned.discard(r.article)
        if len(mentioned) == 1:
            return _ref_outcome(f, mentioned.pop(), s)
    labels = {
        p.source.article
        for p in candidates
        if p.source.article and p.source.article.startswith("제") and law_matches(r.law, p.source.doc_title)
    }
    labels.discard(r.article)
    labels -= {a for a in used if a}
    if len(labels) == 1:
        article = labels.pop()
        p = next(p for p in candidates if p.source.article == article)
        return _ref_outcome(f, article, p.sentences[0] if p.sentences else None)
    return Outcome(False, reason="not_in_sources")


def _ref_outcome(f: Fact, article: str | None, evidence: Sentence | None) -> Outcome:
    r = f.ref
    assert r is not None and article is not None
    if r.art_start < 0:
        return Outcome(False, evidence, reason="not_in_sources")
    a0, a1 = r.art_start - f.start, r.art_end - f.start
    new_text = f.surface[:a0] + article + f.surface[a1:]
    suggestion = Fact("reference", article, "조", article, -1, -1, ("ref", "article", article))
    return Outcome(False, evidence, suggestion, "not_in_sources", new_text)
