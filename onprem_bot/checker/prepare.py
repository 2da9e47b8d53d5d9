"""Sources and answers cut into sentences with their facts, segments and content morphemes."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from onprem_bot.checker.facts import Fact, extract_facts
from onprem_bot.checker.refs import resolve
from onprem_bot.checker.text import CLAUSE_BREAK, answer_sentences, cited, segments, source_sentences

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
Tokenize = Callable[[str], list[str]]


@dataclass(frozen=True)
class Source:
    """A numbered source of an answer (a retrieved chunk): ``[n]`` in the answer points at it."""

    n: int
    text: str
    doc_title: str = ""
    article: str | None = None
    location: str = ""


@dataclass
class Sentence:
    """One sentence with its facts (offsets relative to the sentence), their segments and its morphemes."""

    text: str
    start: int
    facts: list[Fact]
    seg: list[int]
    cond: list[bool]
    tokens: frozenset[str]
    seg_tokens: dict[int, frozenset[str]] = field(default_factory=dict)
    para: int | None = None
    """The paragraph (항) a source sentence belongs to; for an answer sentence, the one it claims."""
    article: str | None = None
    """The article (제60조) a source sentence belongs to; for an answer sentence, the one it claims."""
    law: str = ""
    """The source's document title; for an answer sentence, the law of the article it claims."""
    cites: tuple[int, ...] = ()
    source: int = -1
    """Index of the source in the list given to the checker (-1: an answer sentence)."""


@dataclass
class Prepared:
    """A source, analysed once (cached by content)."""

    source: Source
    sentences: list[Sentence]


# Words about the number rather than the subject (이상, 최대…) and verbs of giving: no context.
_NOT_CONTEXT = frozenset(
    {
        "이상",
        "이하",
        "미만",
        "초과",
        "이내",
        "최대",
        "최소",
        "한도",
        "까지",
        "매",
        "각각",
        "총",
        "주",
        "받",
        "주어지",
        "해야",
    }
)


def content_tokens(tokenize: Tokenize, text: str) -> frozenset[str]:
    """The content morphemes of ``text`` without numbers and references (those are the facts themselves)."""
    return frozenset(t for t in tokenize(text) if t not in _NOT_CONTEXT and not any(c.isdigit() for c in t))


def without_refs(text: str, facts: Sequence[Fact]) -> str:
    """``text`` with its references blanked (same offsets): a law's name is no context for a value."""
    refs = [f for f in facts if f.kind == "reference"]
    if not refs:
        return text
    chars = list(text)
    for f in refs:
        chars[f.start : f.end] = " " * (f.end - f.start)
    return "".join(chars)


def _sentences(text: str, spans: list[tuple[int, int]], facts: list[Fact]) -> list[tuple[int, int, list[Fact]]]:
    out: list[tuple[int, int, list[Fact]]] = []
    i = 0
    for start, end in spans:
        inside: list[Fact] = []
        while i < len(facts) and facts[i].start < end:
            f = facts[i]
            if f.start >= start:
                ref = f.ref
                if ref is not None and ref.art_start >= 0:
                    ref = replace(ref, art_start=ref.art_start - start, art_end=ref.art_end - start)
                inside.append(replace(f, start=f.start - start, end=min(f.end, end) - start, ref=ref))
            i += 1
        out.append((start, end, inside))
    return out


def _resolved(facts: list[Fact], host_law: str | None) -> list[Fact]:
    """``facts`` with their references' 같은 법 / 같은 조 / 이 법 filled in, in document order."""
    with_refs = [f for f in facts if f.ref is not None]
    if not with_refs:
        return facts
    refs = resolve([f.ref for f in with_refs if f.ref is not None], host_law)
    fixed = {id(f): r for f, r in zip(with_refs, refs, strict=True)}
    out = []
    for f in facts:
        r = fixed.get(id(f))
        if r is not None:
            f = replace(f, ref=r, value=r.label() or f.value, key=("ref", r.level, r.label()))
        out.append(f)
    return out


def _segment_tokens(tokenize: Tokenize, text: str, facts: list[Fact], seg: list[int]) -> dict[int, frozenset[str]]:
    """For each segment: the morphemes from the fact before its first value to the fact after its last."""
    out: dict[int, frozenset[str]] = {}
    for k in dict.fromkeys(seg):
        idx = [j for j, s in enumerate(seg) if s == k]
        start = facts[idx[0] - 1].end if idx[0] > 0 else 0
        end = facts[idx[-1] + 1].start if idx[-1] + 1 < len(facts) else len(text)
        first, last = facts[idx[0]], facts[idx[-1]]
        breaks = [m.end() for m in CLAUSE_BREAK.finditer(text, start, first.start)]
        start = breaks[-1] if breaks else start
        after = CLAUSE_BREAK.search(text, last.end, end)
        end = after.start() if after else end
        out[k] = content_tokens(tokenize, text[start:end])
    return out


def prepare_answer(tokenize: Tokenize, answer: str) -> list[Sentence]:
    """The answer's sentences, each with the sources it cites, its facts, segments and morphemes."""
    facts = _resolved(extract_facts(answer), None)
    out: list[Sentence] = []
    for start, end, inside in _sentences(answer, answer_sentences(answer), facts):
        text = answer[start:end]
        plain = without_refs(text, inside)
        seg, cond = segments(text, inside)
        claims = [f.ref for f in inside if f.ref is not None and f.ref.claim]
        sentence = Sentence(text, start, inside, seg, cond, content_tokens(tokenize, plain), cites=cited(text))
        sentence.para = next((r.paragraph for r in claims if r.paragraph), None)
        claimed = next((r for r in claims if r.article), None)
        if claimed is not None:
            sentence.article, sentence.law = claimed.article, claimed.law or ""
        sentence.seg_tokens = _segment_tokens(tokenize, plain, inside, seg)
        out.append(sentence)
    _inherit_citations(out)
    return out


def _inherit_citations(sentences: list[Sentence]) -> None:
    """A sentence without a marker is covered by the next marker (``A. B [1].``), else by the previous one."""
    following: tuple[int, ...] = ()
    for s in reversed(sentences):
        if s.cites:
            following = s.cites
        elif following:
            s.cites = following
    previous: tuple[int, ...] = ()
    for s in sentences:
        if s.cites:
            previous = s.cites
        elif previous:
            s.cites = previous


class SourceCache:
    """Analysed sources by content (chunks come back question after question)."""

    def __init__(self, tokenize: Tokenize, size: int = 512) -> None:
        self.tokenize = tokenize
        self.size = size
        self._items: OrderedDict[tuple[str, str, str | None, str], list[Sentence]] = OrderedDict()

    def get(self, sources: Sequence[Source]) -> list[Prepared]:
        """The sources analysed, each sentence tagged with the index of its source."""
        out = []
        for i, src in enumerate(sources):
            key = (src.text, src.doc_title, src.article, src.location)
            sentences = self._items.get(key)
            if sentences is None:
                sentences = self._analyse(src)
                self._items[key] = sentences
                if len(self._items) > self.size:
                    self._items.popitem(last=False)
            else:
                self._items.move_to_end(key)
            out.append(Prepared(src, [replace(s, source=i) for s in sentences]))
        return out

    def _analyse(self, src: Source) -> list[Sentence]:
        text = src.text or ""
        facts = _resolved(extract_facts(text), src.doc_title or None)
        out: list[Sentence] = []
        para: int | None = None
        for start, end, inside in _sentences(text, source_sentences(text), facts):
            body = text[start:end]
            if body[:1] in _CIRCLED:
                para = _CIRCLED.index(body[0]) + 1
            seg, cond = segments(body, inside)
            tokens = content_tokens(self.tokenize, without_refs(body, inside))
            out.append(
                Sentence(body, start, inside, seg, cond, tokens, para=para, article=src.article, law=src.doc_title)
            )
        return out
