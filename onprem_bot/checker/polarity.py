"""Negation, conditions and exceptions of one sentence, as pure functions on its text.

- :func:`negative`: whether the sentence's final predicate is negative (``할 수 없다``, ``하지 않는다``,
  ``불가하다``, ``금지된다``, ``안 됩니다``). A modifier (``사용하지 않은 포인트는 소멸한다``) is not the
  predicate: only the end of the sentence counts.
- :func:`conditions`: the condition clauses of a source sentence (``…한 경우``, ``…하면``, ``…할 때``,
  ``… 이상 …한``) and whether the sentence is an exception (``다만``, ``단,``, ``그러하지 아니하다``,
  ``예외``, ``제외``), each with the text of the clause; the checker compares their content morphemes
  with the answer's.
"""

from __future__ import annotations

import re

_MARKERS = re.compile(r"\[\s*\d+(?:\s*[,，]\s*\d+)*\s*\]")
_NEGATIVE_WORD = re.compile(r"없|않|못[하한합해함]|불가|금지|아니|아닙|아님|제외|그러하지")
_NEGATIVE_AUX = re.compile(r"(?:금지|불가|제외)")
_POSITIVE_OVERRIDE = re.compile(
    r"(?:없이|않고|아니하고)\s?[가-힣]{1,6}\s?(?:수\s?있|한다|합니다|된다|됩니다)[가-힣\s]{0,5}$"
)
_CONDITION = re.compile(
    r"(?:[가-힣\d%.]+\s){0,3}?[가-힣\d%.]*?"
    r"(?:경우(?:에는|에도|에|엔)?|(?:하|되|이|있|없|않|넘|오|었|였)(?:으)?면(?=[\s,])|때(?:에는|에|는)?(?=[\s,])|"
    r"\s시(?:에는|에)?(?=[\s,])|이상\s[가-힣]+[한된인](?=\s))"
)
_EXCEPTION = re.compile(r"^\s*(?:[①-⑳]\s*)?(?:다만|단\s?,|단서)|그러하지\s?아니|예외|제외한다|제외된다|적용하지\s?아니")
_ADVICE_END = re.compile(r"(?:세요|십시오|바랍니다|주세요|권합니다|권장합니다|보세요|드립니다|좋습니다|마세요)$")
_CONTACT = re.compile(r"https?://|www\.|@[\w-]+\.|\d{2,4}-\d{3,4}-\d{4}|^\s*문의\s?[:：]")
_LAST_CLAUSE = re.compile(r",\s|(?<=지만)\s|(?<=[고며])\s(?=[^,]{6,}$)|다만\s?,?")
_ADNOMINAL = ("않은", "않는", "없는", "없던", "아니한", "아닌", "못한")
_ASIDE = re.compile(r"\([^()]*\)")
_TRAILING_ASIDE = re.compile(r"\([^()]*\)$")
_PREDICATE = re.compile(r"(?:다|요|죠|니다|음|함|됨|임|까)$")
_PROVISO = re.compile(r"(?<=\.)\s+(?=다만|단\s?,)")
_FINAL_PUNCT = re.compile(r"[\s.?!。,\"'」\]]+$")


def predicate_end(text: str) -> str:
    """The last words of ``text`` without markers, a closing bracketed aside (``(근로기준법 제60조)``) and
    final punctuation: where its predicate is."""
    plain = _FINAL_PUNCT.sub("", _MARKERS.sub("", text))
    plain = _FINAL_PUNCT.sub("", _TRAILING_ASIDE.sub("", plain).rstrip())
    return plain[-16:]


def has_predicate(text: str) -> bool:
    """Whether ``text`` ends in a predicate (``…한다``, ``…합니다``, ``…돼요``), not a bare noun phrase."""
    return _PREDICATE.search(predicate_end(text)) is not None


def negative(text: str) -> bool:
    """Whether the last clause of ``text`` says no: an odd number of negations in it (``없으면 … 없다``
    is ``하여야 … 있다``); a negated modifier (``사용하지 않은 포인트``) before the last word does not count."""
    end = _LAST_CLAUSE.split(_clause_text(text))[-1]
    if _POSITIVE_OVERRIDE.search(end):
        return False
    words = end.split()
    count = 0
    for i, w in enumerate(words):
        last = i == len(words) - 1
        if not last and w.endswith(_ADNOMINAL):
            continue
        if (
            (_NEGATIVE_WORD.search(w) and "없이" not in w)
            or (w in ("아니", "안", "못") and i == len(words) - 2)
            or (_NEGATIVE_AUX.match(w) and i + 1 < len(words) and words[i + 1][:1] in "되돼됩된있입이")
        ):
            count += 1
    return count % 2 == 1


def _clause_text(text: str) -> str:
    plain = _FINAL_PUNCT.sub("", _ASIDE.sub("", _MARKERS.sub("", text)))
    return _FINAL_PUNCT.sub("", _TRAILING_ASIDE.sub("", plain).rstrip())


def polarities(text: str) -> set[bool]:
    """:func:`negative` of each clause of ``text`` (cut at commas and before a ``. 다만`` proviso)."""
    parts = [p for part in _PROVISO.split(text) for p in re.split(r",\s", part)]
    return {negative(part) for part in parts if part.strip()}


def advice(text: str) -> bool:
    """Whether ``text`` advises rather than states (``문의하시기 바랍니다``, ``확인하세요``, a contact line):
    nothing in it is a claim about the sources."""
    plain = _MARKERS.sub("", text)
    return _ADVICE_END.search(predicate_end(plain)) is not None or _CONTACT.search(plain) is not None


def is_exception(text: str) -> bool:
    """Whether ``text`` states an exception (``다만``, ``단,``, ``그러하지 아니하다``, ``제외한다``)."""
    return _EXCEPTION.search(text) is not None


def conditions(text: str) -> list[str]:
    """The condition clauses of ``text`` (``근로시간이 4시간인 경우에는``, ``1년 이상 근무한``)."""
    plain = _ASIDE.sub("", _MARKERS.sub("", text))
    out = []
    for m in _CONDITION.finditer(plain):
        words = m.group(0).split()
        while len(words) > 1 and words[0].endswith(("는", "은")) and not words[0].endswith(("있는", "없는", "하는")):
            words.pop(0)  # the sentence's topic (사용자는), not the condition
        clause = " ".join(words)
        if len(clause) > 2:
            out.append(clause)
    return out
