"""Does an answer address its question? The thing asked and the question's subject. Pure functions.

The thing asked is read off the question's wording: ``얼마`` (an amount), ``며칠``/``몇 일`` (a number
of days or another duration), ``언제까지`` (a date or deadline), ``할 수 있나요``/``돼요?`` (a yes or
no). An answer addresses it when it states a value (for the first three), a deadline word
(``까지``, ``이내``, ``지체 없이``) for a deadline, or a predicate that says yes or no
(``할 수 있다/없다``, ``가능/불가``, ``됩니다``, ``안 됩니다``, ``네``/``아니요``) for a yes/no question.

The subject is the question's topic nouns (:meth:`KoreanAnalyzer.noun_phrases`) that the sources
use at all (a word the sources never use is the asker's own wording): each must be in the answer or
in a source sentence that supports it. The share found is compared with the calibrated bar.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from onprem_bot.checker.facts import Fact

AMOUNT, DURATION, DEADLINE, YESNO = "amount", "duration", "deadline", "yesno"
_ASKED: tuple[tuple[str, re.Pattern[str]], ...] = (
    (DEADLINE, re.compile(r"언제\s?까지|기한|마감|며칠\s?(?:전|이내|안에|까지)|언제")),
    (DURATION, re.compile(r"며칠|몇\s?일|몇\s?(?:개월|달|주|년|시간|분|회|번|명|살|세)|기간은|얼마\s?동안")),
    (AMOUNT, re.compile(r"얼마|금액|몇\s?(?:원|퍼센트|%|프로|배)|비율|한도는|상한|하한")),
    (
        YESNO,
        re.compile(
            r"(?:수\s?(?:있|없)(?:나요|어요|을까요|습니까|는지요?|나|을까|니)|되나요|돼요|될까요|되는지|됩니까|되니|"
            r"가능(?:한가요|할까요|해요|합니까|한지|하나요)?|괜찮(?:나요|을까요|아요|습니까)|해도\s?(?:되|돼)|"
            r"받(?:나요|을까요|습니까)|인가요|[가-힣]나요)\s?\??\s*$"
        ),
    ),
)
_YESNO_ANSWER = re.compile(
    r"수\s?(?:있|없)|가능|불가|(?:안|못)\s?[되돼된]|[되돼](?:ㅂ니다|요|며|고|지|는|어)|됩니다|된다|돼요|"
    r"^\s*(?:네|예|아니요|아니오|아닙니다)\b|허용|금지|제외|해당(?:합|하|됩|되|하지|되지)|않|없습니다|없어요|없다|"
    r"있습니다|있어요|있다|해야|하여야|필요"
)
_DEADLINE_ANSWER = re.compile(r"까지|이내|안에|내에|전에|전까지|지체\s?없이|즉시|기한|부터|후에|경과")
GENERIC = frozenset(
    {"얼마", "며칠", "언제", "몇", "무엇", "뭐", "어디", "누구", "경우", "때", "수", "것", "등", "정도", "여부",
     "방법", "가능", "이상", "이하", "기간", "금액", "어떻게", "어떤", "왜", "제", "저", "우리", "회사", "질문"}
)  # fmt: skip


def asked(question: str) -> str | None:
    """What ``question`` asks for (:data:`AMOUNT`, :data:`DURATION`, :data:`DEADLINE`, :data:`YESNO`) or None."""
    q = question.strip()
    for kind, pattern in _ASKED:
        if pattern.search(q):
            return kind
    return None


def addressed(kind: str | None, answer: str, facts: Sequence[Fact]) -> bool:
    """Whether ``answer`` (with its ``facts``) gives the kind of thing asked."""
    values = [f for f in facts if f.kind != "reference"]
    if kind is None:
        return True
    if kind in (AMOUNT, DURATION):
        return bool(values)
    if kind == DEADLINE:
        return any(f.kind in ("date", "time", "year") for f in values) or (
            bool(values) and _DEADLINE_ANSWER.search(answer) is not None
        )
    return _YESNO_ANSWER.search(answer) is not None


def topic_coverage(
    phrases: Iterable[frozenset[str]], in_sources: frozenset[str], covered: frozenset[str]
) -> tuple[float, list[frozenset[str]]]:
    """(share of the question's topic phrases, as morpheme sets, that the sources use and ``covered``
    holds; the missing ones). 1.0 when no phrase counts."""
    wanted = [p for p in phrases if p and p <= in_sources]
    if not wanted:
        return 1.0, []
    missing = [p for p in wanted if not p <= covered]
    return 1 - len(missing) / len(wanted), missing
