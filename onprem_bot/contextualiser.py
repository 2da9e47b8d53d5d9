"""Follow-up questions made standalone: "차 지원받으면요?" after "시내 출장비는 하루에 얼마예요?".

A :class:`Contextualiser` turns the latest question and the conversation before it into the question
that retrieval should search (:class:`Standalone`). The history is context for *understanding* the
question, never a source of facts: only the rewritten question goes on to retrieval, the prompt and
the checker; the earlier answers' text is never put in front of the model.

:class:`RuleContextualiser` (always available, the default) decides whether a question is elliptical
and, if so, carries the previous turn's topic words into it; a question that stands on its own comes
back unchanged. The model-based rewrite lives in :mod:`onprem_bot.contextualiser_llm`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from onprem_bot.types import Turn

MAX_TURNS = 3
"""Only the last this many turns are read (a 200-turn history costs the same as a 3-turn one)."""
MAX_CARRIED = 6
"""At most this many topic words are carried over from the previous turn."""
SHORT_CHARS = 15
"""A question of at most this many characters (no spaces) needs a topic noun of its own to stand alone.
Development data: 19 of the 20 follow-ups of conversations_dev are ≤ 15; the standalone turns are 15–36."""
POINTING_CHARS = 20
"""A question of at most this many characters that says 그거/그 경우… points back at the previous turn; a
longer one points at its own content ("…조항이 있는데 그거 유효함?", statutes_dev)."""
SPECIFIC_SHARE = 0.2
"""A noun found in fewer than this share of the indexed chunks is a topic of its own ("연차휴가");
one found in more ("직원", "경우") or in none ("아빠") is not. Measured on conversations_dev: see
the README's follow-up figures."""

# 그건/그거/그 경우…: a pronoun or demonstrative that points back at the previous turn.
_DEICTIC = re.compile(
    r"(?:^|[\s,])(?:그건|그거|그게|그걸|그것|그거는|그때|거기|거긴|그\s*경우|이\s*경우|그\s*사람|그\s*분|그\s*기간|"
    r"그\s*금액|그\s*돈|그\s*날|그쪽|그렇게|그러면|그렇다면)"
)
# …면? / …면요?: a condition with no question of its own ("3급이면요?", "친척 집에서 자면?").
_CONDITION_END = re.compile(r"면\s*요?\s*[?？.!]*$")
_CLOSING_TAGS = frozenset({"SF", "SE", "SS", "SP", "SW"})
_LEAD = re.compile(r"^(?:그럼|그러면|그렇다면|그리고|아|그래서|근데|그런데|또|혹시)(?:\s*[,.]\s*|\s+|$)")


@dataclass(frozen=True)
class Standalone:
    """The question retrieval should search, and why.

    ``question``: the standalone question (the original when nothing was rewritten); ``original``: as
    asked; ``how``: ``none`` (it stands alone, or there is no history), ``rules`` or ``model``;
    ``prefer_documents``: titles of the documents the previous answer cited, favoured by retrieval
    when the question is a follow-up (a boost, not a filter); ``notices``: what the user should know.
    """

    question: str
    original: str
    how: str = "none"
    prefer_documents: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()

    @property
    def rewritten(self) -> bool:
        """Whether retrieval searches something other than what was asked."""
        return self.question != self.original


class Contextualiser(ABC):
    """Makes the latest question standalone given the earlier turns (oldest first)."""

    name = "base"

    @abstractmethod
    def rewrite(self, question: str, history: Sequence[Turn]) -> Standalone:
        """The standalone form of ``question`` after ``history`` (never raises on odd history)."""

    def run(self, question: str, history: Sequence[Turn] = ()) -> Standalone:
        """:meth:`rewrite` over the last :data:`MAX_TURNS` turns; no history → the question unchanged."""
        question = question.strip()
        if not history:
            return Standalone(question, question)
        notices: tuple[str, ...] = ()
        if len(history) > MAX_TURNS:
            notices = (f"앞선 대화 중 최근 {MAX_TURNS}개만 참고했습니다 (only the last {MAX_TURNS} turns were read).",)
        found = self.rewrite(question, list(history)[-MAX_TURNS:])
        return Standalone(found.question, question, found.how, found.prefer_documents, found.notices + notices)


def cited_documents(turn: Turn) -> tuple[str, ...]:
    """The document titles a turn's answer cited, in order, without repeats (FAQ citations excluded)."""
    titles: list[str] = []
    for c in turn.citations:
        if c.doc_title and not c.chunk_id.startswith("faq:") and c.doc_title not in titles:
            titles.append(c.doc_title)
    return tuple(titles)


def named_titles(phrases: Sequence[str], titles: Sequence[str]) -> list[str]:
    """The document ``titles`` that ``phrases`` name, in whole (``급여규정상`` → 급여규정) or by the first
    word of a title (``주택`` → 주택임대차보호법, ``상가`` → 상가건물 임대차보호법); spaces ignored (pure)."""
    out: list[str] = []
    for phrase in phrases:
        p = "".join(phrase.split())
        if len(p) < 2:
            continue
        for title in titles:
            t = "".join(title.split())
            first = title.split()[0] if title.split() else ""
            if (t in p or (len(p) >= 2 and (t.startswith(p) or first.startswith(p)))) and title not in out:
                out.append(title)
    return out


def strip_markers(text: str) -> str:
    """``text`` without citation markers (``[1]``, ``[자료 1]``) and with spaces collapsed."""
    return " ".join(re.sub(r"\[\s*(?:자료\s*)?\d+(?:\s*,\s*\d+)*\s*\]", " ", text).split())


class RuleContextualiser(Contextualiser):
    """Rules over Mecab nouns: elliptical questions get the previous turn's topic words.

    ``nouns(text)`` gives a text's nouns in order (:meth:`KoreanAnalyzer.noun_phrases`);
    ``share(words)`` gives, for each word, the share of indexed chunks containing it (0 when unknown),
    so "a topic of its own" is read off the documents actually indexed, not a word list.
    """

    name = "rules"

    def __init__(
        self,
        nouns: Callable[[str], list[str]],
        share: Callable[[Sequence[str]], list[float]] | None = None,
        titles: Callable[[], Sequence[str]] | None = None,
        morphemes: Callable[[str], list[tuple[str, str]]] | None = None,
    ) -> None:
        self.nouns = nouns
        self.share = share
        self.titles = titles
        self.morphemes = morphemes

    def is_elliptical(self, question: str) -> bool:
        """True when ``question`` cannot be understood alone:

        - it ends on a bare topic or condition, with no question of its own ("광역시는요?", "3급이면요?",
          "근로기준법에서는요?": a particle or a -면 ending last);
        - it is short and points back ("그거 언제까지 써야 돼요?", "그 경우 예외는 없어요?");
        - it is short and has no noun that few indexed chunks hold ("아빠도 돼요?", "그럼?").
        A long question that says "그거" about its own content stands alone. Lengths are Hangul
        characters without spaces, from the development sets (:data:`SHORT_CHARS`, :data:`POINTING_CHARS`).
        """
        body = _LEAD.sub("", question.strip())
        length = len("".join(question.split()))
        if self.ends_open(body):
            return True
        if _DEICTIC.search(question) and length <= POINTING_CHARS:
            return True
        own = self.nouns(body)
        if length > SHORT_CHARS:
            return False
        if not own:
            return True
        if self.share is None:
            return False
        return not any(0 < s < SPECIFIC_SHARE for s in self.share(own))

    def ends_open(self, text: str) -> bool:
        """Whether ``text`` ends on a particle ("…는요?", "…에서는?") or a -면 condition."""
        if _CONDITION_END.search(text):
            return True
        if self.morphemes is None:
            return False
        tail = [m for m in self.morphemes(text) if m[1] not in _CLOSING_TAGS]
        if tail and tail[-1] == ("요", "JX"):
            tail.pop()
        return bool(tail) and tail[-1][1].startswith("J")

    def rewrite(self, question: str, history: Sequence[Turn]) -> Standalone:
        """Carry the previous turn's topic into ``question`` when it is elliptical."""
        if not self.is_elliptical(question):
            return Standalone(question, question)
        named = named_titles(self.nouns(question), self.titles() if self.titles is not None else ())
        previous = history[-1]
        topic_source = previous.standalone_question
        if topic_source is None:  # a history without rewrites (the CLI's file): resolve it the same way
            topic_source = (
                self.rewrite(previous.question, history[:-1]).question if len(history) > 1 else previous.question
            )
        topic_source = strip_markers(topic_source)
        own = set(self.nouns(question))
        titles = self.titles() if self.titles is not None else ()
        carried: list[str] = []
        for word in self.nouns(topic_source):
            if word in own or word in carried or (named and named_titles([word], titles)):
                continue  # the follow-up names another document ("주택이면요?"): the old one's name stays behind
            carried.append(word)
        carried = carried[:MAX_CARRIED]
        prefer = tuple(named) or cited_documents(previous)
        if not carried:
            return Standalone(question, question, prefer_documents=prefer)
        asked = _LEAD.sub("", question).strip() or question
        rewritten = f"{' '.join(carried)} {asked}".strip()
        return Standalone(rewritten, question, self.name, prefer)


def chunk_shares(
    analyzer: Any, document_frequency: Callable[[Sequence[str]], Any], synonyms: Any = None
) -> Callable[[Sequence[str]], list[float]]:
    """``share(phrases)`` for :class:`RuleContextualiser`: per phrase, the share of indexed chunks holding
    its rarest token (0 when a token is unknown); a colloquial word the documents lack counts through
    its legal synonyms (알바 → 단시간근로자). ``document_frequency`` and ``synonyms`` are the retriever's."""

    def rarest_share(tokens: Sequence[str]) -> float:
        if not tokens:
            return 0.0
        df, n = document_frequency(tokens)
        rarest = min(int(x) for x in df)
        return rarest / n if n and rarest else 0.0

    def share(phrases: Sequence[str]) -> list[float]:
        out: list[float] = []
        for phrase in phrases:
            tokens = analyzer.tokens(phrase)
            found = rarest_share(tokens)
            if not found and tokens and synonyms is not None:
                extra = [t for t in synonyms.expand(list(tokens), analyzer)[len(tokens) :] if t not in tokens]
                found = max((rarest_share([t]) for t in extra), default=0.0)
            out.append(found)
        return out

    return share


def make_contextualiser(mode: str, analyzer: Any, retriever: Any, llm: Any = None) -> Contextualiser | None:
    """The contextualiser ``[answer] followup`` asks for (``off``: None); see :data:`FOLLOWUP_MODES`."""
    if mode == "off":
        return None
    rules = RuleContextualiser(
        analyzer.noun_phrases,
        chunk_shares(analyzer, retriever.document_frequency, getattr(retriever, "synonyms", None)),
        retriever.titles,
        analyzer.morphemes,
    )
    if mode == "rules" or llm is None:
        return rules
    try:
        from onprem_bot.contextualiser_llm import model_contextualiser
    except ImportError:  # the model-based rewrite is optional
        return rules
    return model_contextualiser(mode, llm, rules) or rules
