"""BM25 index tokens for Korean text: Mecab content morphemes, numbers with units, legal references."""

from __future__ import annotations

from collections.abc import Iterable

from onprem_bot.korean.mecab import _lock, mecab
from onprem_bot.korean.normalize import normalize, normalize_spacing_for_refs

# One morpheme: (start, end, surface, first tag, expression or None). Offsets are characters.
Morph = tuple[int, int, str, str, str | None]

DEFAULT_STOPWORDS: frozenset[str] = frozenset(
    {
        # function nouns, pronouns, question words
        "것", "수", "등", "및", "또는", "이", "그", "저", "때", "경우", "바", "데", "뿐", "점", "중", "외",
        "밖", "각", "다음", "해당", "만", "거", "건", "게", "나", "너", "우리", "저희", "당신", "여기", "거기",
        "무엇", "뭐", "왜", "어디", "언제", "누구", "좀", "더", "요",
        # verb and adjective stems that carry no topic
        "하", "되", "있", "없", "않", "같", "이르", "위하", "대하", "관하", "의하", "따르", "통하", "말하",
        "정하", "알", "싶", "어떻", "그렇", "이렇", "보",
        # English
        "a", "an", "the", "of", "and", "or", "to", "in", "on", "at", "for", "by", "with", "from", "is",
        "are", "was", "be", "it", "this", "that", "as",
    }
)  # fmt: skip

_CONTENT_TAGS = frozenset({"NNG", "NNP", "NR", "XR", "VV", "VA", "SH", "SL"})
_NOUN_TAGS = frozenset({"NNG", "NNP", "XR"})
_FAQ_NOUN_TAGS = frozenset({"NNG", "NNP", "XR", "SL", "SH", "NR"})
_PHRASE_TAGS = frozenset({"NNG", "NNP", "XR", "SL", "SH", "NR", "SN", "NNBC", "XSN"})
_REF_UNITS = frozenset({"조", "항", "호", "목", "장", "절", "관", "편"})
_BARE_REF_UNITS = frozenset({"조", "항", "호"})  # 60조 → 제60조 even without 제
# Units that Mecab does not always tag NNBC (배 and 시간 come out as NNG, 인 as NNG, 일 as NR).
_UNIT_WORDS = frozenset(
    {"일", "년", "월", "주", "개월", "시", "분", "초", "시간", "명", "인", "원", "세", "배", "회", "차", "개", "건",
     "번", "층", "평", "살", "달", "자", "장", "퍼센트", "프로", "%",
     "조원"}  # Mecab reads 3조원 alone as 3 + 조원 (a team member)
)  # fmt: skip
_UNIT_CANON = {"퍼센트": "%", "프로": "%"}
_MONEY_AFTER_JO = frozenset({"원", "억", "만", "천억", "천만", "백억", "십억"})
_NO_ATTACH_SUFFIXES = frozenset({"들"})


def _analyse(text: str) -> list[Morph]:
    """Mecab morphemes of ``text`` with character offsets (one Mecab call).

    ``text`` must be normalised: the offsets assume that whitespace is single ASCII spaces.
    """
    tagger = mecab()
    out: list[Morph] = []
    with _lock:
        inner = getattr(tagger, "_tagger", None)
        if inner is not None:
            # Fast path: walk the lattice's node list. Iterating the lattice (what MeCab.parse and .pos do)
            # recomputes character spans from the start for every node, which is quadratic in the text length.
            from mecab.utils import create_lattice

            lattice = create_lattice(text)
            if inner.parse(lattice):
                pos = 0
                node = lattice.bos_node().next
                while node is not None and node.stat != 3:  # 3: EOS
                    surface: str = node.surface
                    start = pos + node.rlength - node.length  # the skipped whitespace, in bytes = characters
                    pos = start + len(surface)
                    feature: str = node.feature
                    tag = feature[: feature.find(",")]
                    if "+" in tag:
                        expr = feature[feature.rfind(",") + 1 :]
                        out.append((start, pos, surface, tag[: tag.find("+")], None if expr == "*" else expr))
                    else:
                        out.append((start, pos, surface, tag, None))
                    node = node.next
                return out
        for m in tagger.parse(text):
            pos_tag: str = m.feature.pos
            expression: str | None = m.feature.expression if "+" in pos_tag else None
            out.append((m.span.start, m.span.end, m.surface, pos_tag.split("+", 1)[0], expression))
    return out


def _read_number(ms: list[Morph], i: int) -> tuple[str, int]:
    """The number starting at ``ms[i]`` (an SN): digits with ``,`` thousands removed and a ``.`` decimal kept.

    Returns the number and the index after it.
    """
    n = len(ms)
    digits = ms[i][2]
    end = ms[i][1]
    j = i + 1
    while j + 1 < n and ms[j][0] == end and ms[j + 1][3] == "SN" and ms[j + 1][0] == ms[j][1]:
        sep = ms[j][2]
        nxt = ms[j + 1][2]
        if sep == "," and len(nxt) == 3:
            digits += nxt
        elif sep == "." and "." not in digits:
            digits += "." + nxt
        else:
            break
        end = ms[j + 1][1]
        j += 2
    return digits, j


def _is_multiplier(ms: list[Morph], j: int) -> bool:
    """Whether the NR ``ms[j]`` after a number multiplies it (3만, 5천억) rather than being a unit or article."""
    surf = ms[j][2]
    if surf == "일":  # 3일분: a day, not "one"
        return False
    if surf == "조":  # 3조원 is money, 제3조 / 60조 an article
        return j + 1 < len(ms) and ms[j + 1][0] == ms[j][1] and ms[j + 1][2] in _MONEY_AFTER_JO
    return True


class KoreanAnalyzer:
    """Turns Korean (and some English) text into BM25 index tokens.

    Content morphemes (nouns, roots, verb and adjective stems, Latin words lower-cased, Hanja) are kept;
    particles, endings, punctuation and stopwords are dropped. Numbers keep their unit (``30일``,
    ``80%``, ``100분의50``, ``1000억원``) and legal references are single tokens (``제60조``, ``제6조의3``,
    ``제1항``; ``60조`` becomes ``제60조``). A noun followed by a suffix gives both forms (``사용자`` →
    ``사용``, ``사용자``).
    """

    def __init__(self, stopwords: Iterable[str] | None = None) -> None:
        """Use ``stopwords`` instead of :data:`DEFAULT_STOPWORDS` when given."""
        self.stopwords: frozenset[str] = DEFAULT_STOPWORDS if stopwords is None else frozenset(stopwords)

    def tokens(self, text: str) -> list[str]:
        """The BM25 tokens of ``text``, in order."""
        text = normalize_spacing_for_refs(normalize(text))
        if not text:
            return []
        return self._tokens_of(_analyse(text))

    def tokens_and_nouns(self, text: str) -> tuple[list[str], frozenset[str]]:
        """:meth:`tokens` of ``text`` and, from the same Mecab pass, its nouns (common, proper, roots,
        Latin words, Hanja, numerals): the words whose difference changes what a question asks."""
        text = normalize_spacing_for_refs(normalize(text))
        if not text:
            return [], frozenset()
        ms = _analyse(text)
        nouns = frozenset(m[2].lower() if m[3] == "SL" else m[2] for m in ms if m[3] in _FAQ_NOUN_TAGS)
        return self._tokens_of(ms), nouns - self.stopwords

    def morphemes(self, text: str) -> list[tuple[str, str]]:
        """``(surface, tag)`` of each Mecab morpheme of ``text`` (Sejong tags: NNG, JX, EC, SF …)."""
        text = normalize_spacing_for_refs(normalize(text))
        return [(m[2], m[3]) for m in _analyse(text)] if text else []

    def noun_phrases(self, text: str) -> list[str]:
        """The topic words of ``text`` in order, without repeats, as written: runs of adjacent nominal
        morphemes joined (``근로기준법``, ``3급``, ``출장비``), without particles; stopwords dropped."""
        text = normalize_spacing_for_refs(normalize(text))
        out: list[str] = []
        run: list[Morph] = []

        def flush() -> None:
            if run and any(m[3] in _FAQ_NOUN_TAGS for m in run):
                phrase = text[run[0][0] : run[-1][1]]
                if phrase not in out and phrase not in self.stopwords:
                    out.append(phrase)
            run.clear()

        for m in _analyse(text) if text else []:
            joinable = m[3] in _PHRASE_TAGS and not (m[3] == "XSN" and m[2] in _NO_ATTACH_SUFFIXES)
            if joinable and (not run or run[-1][1] == m[0]):
                run.append(m)
                continue
            flush()
            if joinable:
                run.append(m)
        flush()
        return out

    def tokens_many(self, texts: Iterable[str]) -> list[list[str]]:
        """:meth:`tokens` for each of ``texts``."""
        return [self.tokens(t) for t in texts]

    def _tokens_of(self, ms: list[Morph]) -> list[str]:
        stop = self.stopwords
        out: list[str] = []
        n = len(ms)
        noun_end = -1  # end offset of the last kept noun (for suffix attachment)
        i = 0
        while i < n:
            start, end, surf, tag, expr = ms[i]
            if tag == "SN" or (tag == "XPN" and surf == "제" and i + 1 < n and ms[i + 1][3] == "SN"):
                i = self._number(ms, i, out)
                noun_end = -1
                continue
            if tag == "XSN":
                if start == noun_end and surf not in _NO_ATTACH_SUFFIXES and out:
                    out.append(out[-1] + surf)
                    noun_end = end
                i += 1
                continue
            i += 1
            if tag not in _CONTENT_TAGS:
                continue
            if expr is not None:  # inflected or pre-analysed form: take the content parts of its expression
                for part in expr.split("+"):
                    pieces = part.split("/")
                    if len(pieces) > 1 and pieces[1] in _CONTENT_TAGS and pieces[0] not in stop:
                        out.append(pieces[0])
                noun_end = -1
                continue
            if tag == "SL":
                surf = surf.lower()
            elif (surf == "오후" or surf == "오전") and i < n and ms[i][3] == "SN":
                continue
            if surf in stop:
                noun_end = -1
                continue
            out.append(surf)
            noun_end = end if tag in _NOUN_TAGS else -1
        return out

    @staticmethod
    def _number(ms: list[Morph], i: int, out: list[str]) -> int:
        """Append the token of the number (or legal reference) starting at ``ms[i]``; return the next index."""
        n = len(ms)
        prefix = ""
        if ms[i][3] == "XPN":  # 제 + number
            if ms[i + 1][0] == ms[i][1]:
                prefix = "제"
            i += 1
        number, j = _read_number(ms, i)
        end = ms[j - 1][1]
        # an NR multiplier right after the digits: 3만, 1000억, 5천억 (but 조 is usually an article)
        if j < n and ms[j][0] == end and ms[j][3] == "NR" and _is_multiplier(ms, j):
            number += ms[j][2]
            end = ms[j][1]
            j += 1
        if j >= n or ms[j][0] != end:
            out.append(number)
            return j
        surf, tag = ms[j][2], ms[j][3]
        if (surf in _REF_UNITS if prefix else surf in _BARE_REF_UNITS) and not (
            surf == "조" and j + 1 < n and ms[j + 1][0] == ms[j][1] and ms[j + 1][2] in _MONEY_AFTER_JO
        ):
            token = "제" + number + surf
            end = ms[j][1]
            j += 1
            # 제6조의3: 의 + number right after
            if j + 1 < n and ms[j][2] == "의" and ms[j][0] == end and ms[j + 1][3] == "SN" and ms[j + 1][0] == ms[j][1]:
                branch, j = _read_number(ms, j + 1)
                token += "의" + branch
            out.append(token)
            return j
        if (  # 100분의 50 (one space before the second number is allowed)
            surf == "분"
            and j + 2 < n
            and ms[j + 1][2] == "의"
            and ms[j + 1][0] == ms[j][1]
            and ms[j + 2][3] == "SN"
            and ms[j + 2][0] - ms[j + 1][1] <= 1
        ):
            second, j = _read_number(ms, j + 2)
            out.append(number + "분의" + second)
            return j
        if tag == "NNBC" or (surf in _UNIT_WORDS and tag[0] in "NS") or (tag == "SL" and len(surf) <= 3):
            unit = _UNIT_CANON.get(surf, surf.lower() if tag == "SL" else surf)
            end = ms[j][1]
            j += 1
            if j < n and ms[j][0] == end and ms[j][2] == "간":  # 1년간 → 1년
                j += 1
            out.append(prefix + number + unit)
            return j
        out.append(number)
        return j
