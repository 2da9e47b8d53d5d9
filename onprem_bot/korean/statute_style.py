"""Questions rewritten in the statutes' own style before BM25 (``일주일`` → ``1주``, ``언제까지`` → ``기일 이내``).

People ask "일주일에 몇 시간", "하루에 몇 시간", "한 달에 한 번", "언제까지 줘야 해요?"; statutes say
``1주``, ``1일``, ``1개월``, ``1회`` and "14일 이내에", "지급기일". The analyser turns ``1주`` into one
token, but ``일주일`` into the numeral ``일`` (which then matches every ``일``, work) and nothing for
the week, and ``언제까지`` into nothing at all (``언제`` is a stopword), so a question and the article
that answers it share no token for exactly the part the question asks about. :func:`statute_style`
rewrites a question's native-Korean and Sino-Korean counts of days, weeks, months, years, hours,
times, people and ages into digits and statute units, and a deadline question into the words statutes
use for deadlines. Only the BM25 query is rewritten; the dense query keeps the user's words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Native-Korean day counts (하루 … 보름): one word each.
_DAY_WORDS: dict[str, str] = {
    "하루": "1일",
    "이틀": "2일",
    "사흘": "3일",
    "나흘": "4일",
    "닷새": "5일",
    "엿새": "6일",
    "이레": "7일",
    "열흘": "10일",
    "보름": "15일",
}
# Native-Korean numerals as determiners before a counter (한 시간, 두 달, 세 번).
_NATIVE: dict[str, int] = {
    "한": 1,
    "두": 2,
    "세": 3,
    "석": 3,
    "네": 4,
    "넉": 4,
    "다섯": 5,
    "여섯": 6,
    "일곱": 7,
    "여덟": 8,
    "아홉": 9,
    "열": 10,
}
# Sino-Korean numerals spelt out before 년 / 개월 / 주일 (일 년, 삼 개월); not before a bare 주 (이 주: this week).
_SINO: dict[str, int] = {"일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "칠": 7, "팔": 8, "구": 9, "십": 10}
# Counter after a native numeral → the statute's unit.
_NATIVE_UNITS: dict[str, str] = {
    "시간": "시간",
    "번": "회",
    "차례": "회",
    "달": "개월",
    "개월": "개월",
    "주": "주",
    "주일": "주",
    "해": "년",
    "명": "명",
    "사람": "명",
    "살": "세",
}
_SINO_UNITS: dict[str, str] = {"년": "년", "개월": "개월", "주일": "주"}
# Halves (반년 → 6개월). 매달/매월 stay: Mecab drops the adverb 매월 that statutes write.
_FREQUENCY: dict[str, str] = {"반년": "6개월"}

# A quantity word must stand alone: no Hangul before it, and after it the end of the word or a particle.
_BEFORE = r"(?<![가-힣])"
_PARTICLES = (
    "에|에는|에도|의|은|는|이|가|을|를|도|만|씩|간|동안|마다|까지|부터|이내|안에|내|정도|쯤|이상|이하|미만|넘게"
)
_AFTER = rf"(?=$|[^가-힣]|(?:{_PARTICLES})(?:$|[^가-힣]))"


def _alternation(words: Iterable[str]) -> str:
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


_RE_DAYS = re.compile(_BEFORE + f"({_alternation(_DAY_WORDS)})" + _AFTER)
_RE_FREQUENCY = re.compile(_BEFORE + f"({_alternation(_FREQUENCY)})" + _AFTER)
# 일주일 / 이주일 / 1주일 (one word) and 1 주일.
_RE_WEEKS = re.compile(_BEFORE + r"(\d+|[일이삼사오])\s?주일" + _AFTER)
_RE_NATIVE = re.compile(_BEFORE + f"({_alternation(_NATIVE)})\\s?({_alternation(_NATIVE_UNITS)})" + _AFTER)
_RE_SINO = re.compile(_BEFORE + f"({_alternation(_SINO)})\\s?({_alternation(_SINO_UNITS)})" + _AFTER)
# 3달 → 3개월 (digits with the native counter).
_RE_DIGIT_MONTHS = re.compile(r"(?<![\d.,])(\d+)\s?달" + _AFTER)
# A question about a deadline. Statutes state one as "N일 이내에" or by its 기일 (지급기일, 기일을 연장);
# 기한 is left out on purpose: in 민법 it is the term of art for a time condition (기한의 도래).
_RE_DEADLINE = re.compile(_BEFORE + r"(?:언제까지|(?:며칠|몇\s?일)\s?(?:안에|이내에?|내에|내로))" + _AFTER)
DEADLINE_TERMS = "기일 이내에"  # as statutes write it: Mecab reads a bare 이내 before a verb as an adverb


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _SINO[word]


def _native(m: re.Match[str]) -> str:
    if m.group(0) == "한번":  # the adverb (한번 해 보세요), not a count
        return m.group(0)
    return f"{_NATIVE[m.group(1)]}{_NATIVE_UNITS[m.group(2)]}"


def statute_style(text: str) -> str:
    """``text`` with its colloquial quantities (:func:`statute_quantities`) and deadline questions in statute form.

    ``언제까지`` and ``며칠 안에`` become ``기일 이내에``: "퇴사하면 밀린 월급은 언제까지 줘야 해요?" then
    shares ``이내`` and ``기일`` with "14일 이내에 … 지급하여야 한다. 다만, … 기일을 연장할 수 있다".
    """
    return _RE_DEADLINE.sub(DEADLINE_TERMS, statute_quantities(text))


def statute_quantities(text: str) -> str:
    """``text`` with colloquial quantities in statute form.

    ``일주일``/``한 주`` → ``1주``, ``하루``/``이틀``/``보름`` → ``1일``/``2일``/``15일``, ``한 달``/``두 달``
    → ``1개월``/``2개월``, ``일 년``/``한 해`` → ``1년``, ``한 번``/``세 차례`` → ``1회``/``3회``,
    ``두 시간`` → ``2시간``, ``반년`` → ``6개월``. A word is rewritten only where it stands alone and is
    followed by nothing or a particle (``하루하루``, ``세금``, ``두고`` and the ordinal ``두 번째`` are
    left as they are).
    """
    if not text:
        return text
    text = _RE_DAYS.sub(lambda m: _DAY_WORDS[m.group(1)], text)
    text = _RE_FREQUENCY.sub(lambda m: _FREQUENCY[m.group(1)], text)
    text = _RE_WEEKS.sub(lambda m: f"{_number(m.group(1))}주", text)
    text = _RE_NATIVE.sub(_native, text)
    text = _RE_SINO.sub(lambda m: f"{_SINO[m.group(1)]}{_SINO_UNITS[m.group(2)]}", text)
    return _RE_DIGIT_MONTHS.sub(lambda m: f"{m.group(1)}개월", text)
