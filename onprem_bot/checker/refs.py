"""Legal references in Korean text: ``제60조``, ``제6조의3``, ``제1항``, ``제2호``, ``같은 조``, ``같은 법``,
``「근로기준법」 제26조``, ``근로기준법 60조``. Pure functions.

A reference names a law (or none: the document it sits in), an article, a paragraph (항) and an
item (호); ``같은 법`` and ``같은 조`` are resolved to the last law/article named before them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from onprem_bot.korean.query import ABBREVIATIONS

_CHAIN = re.compile(
    r"(?:(?P<same_art>같은\s?조|동조)"
    r"|제\s?(?P<art>\d+)\s?조(?:의(?P<br>\d+)|\s?의\s?(?P<br2>\d+)(?=$|[\s,.)」\]·ㆍ]|[에의을를은는이가와과및제부]))?"
    r"|(?P<bare>(?<![\d.,])\d+)\s?조(?:의(?P<bbr>\d+))?(?!\s?(?:원|억|만|천|\d)))?"
    r"(?:\s?(?:(?P<same_para>같은\s?항|동항)|제\s?(?P<para>\d+)\s?항))?"
    r"(?:\s?제\s?(?P<item>\d+)\s?호)?"
    r"(?:\s?(?P<mok>[가-하])\s?목)?"
)
_START = re.compile(r"제\s?\d|같은\s?[조항]|동[조항]|(?<![\d.,])\d+\s?조")
_LAW_BEFORE = re.compile(
    r"(?:「(?P<br>[^」]{1,80})」|『(?P<br2>[^』]{1,80})』"
    r"|(?P<same>같은\s?법|동법)(?P<same_sub>\s?시행령|\s?시행규칙)?"
    r"|(?P<this>이\s?(?:법|영|규정|규칙|지침|정관))|(?<![가-힣])(?P<parent>법)"
    r"|(?<![가-힣])(?P<run>[가-힣ㆍ·]{1,30}(?:법률|법|령|규칙|규정|지침|정관)(?:\s?시행령|\s?시행규칙)?))\s?$"
)
_NOT_LAWS = frozenset(
    {"방법", "위법", "불법", "편법", "용법", "문법", "적법", "합법", "입법", "사법", "해법", "기법", "수법", "어법",
     "법", "법률", "명령", "지령", "규정", "규칙", "지침", "본법", "해당법", "관계법", "관련법"}
)  # fmt: skip
_BRACKETED_LAW = re.compile(r"「(?P<law>[^」]{1,80})」")
# Between two references of one list (「상법」 제382조의3(이사의 충실의무), 제382조의4 및 제399조): the later ones
# are of the same law.
_LISTED = re.compile(r"\s*(?:\([^()]{0,40}\))?\s*(?:[,·ㆍ~]|및|또는|내지|부터|와|과)\s*(?:및|또는)?\s*")
_CLAIM = re.compile(r"\s?(?:에\s?따르면|에\s?의하면|에서는)")
_COMPACT = str.maketrans("", "", " 「」『』·ㆍ")


@dataclass(frozen=True)
class Ref:
    """One legal reference. ``law`` None: the document it appears in (or, in an answer, any cited source)."""

    law: str | None = None
    article: str | None = None
    paragraph: int | None = None
    item: int | None = None
    law_rel: str = ""
    """``same`` (같은 법/동법: the last law named), ``this`` (이 법: the host document), ``parent`` (a decree's
    ``법``: the act it belongs to), or empty."""
    article_rel: str = ""
    """``same`` (같은 조/동조) or empty."""
    paragraph_rel: str = ""
    """``same`` (같은 항/동항: the paragraph of the reference before) or empty."""
    claim: bool = False
    """Written as the answer's own source (``제60조에 따르면``, ``(근로기준법 제60조)``), not a mention."""
    art_start: int = -1
    art_end: int = -1
    """Where the article number (``제61조``) is in the text: the part a correction rewrites."""

    @property
    def level(self) -> str:
        """``law``, ``article``, ``paragraph`` or ``item``: the most general part the reference names."""
        if self.article:
            return "article"
        if self.paragraph is not None:
            return "paragraph"
        if self.item is not None:
            return "item"
        return "law"

    def label(self) -> str:
        """``근로기준법 제60조 제1항 제2호`` (the parts present)."""
        parts = [self.law or "", self.article or "", f"제{self.paragraph}항" if self.paragraph else ""]
        parts.append(f"제{self.item}호" if self.item else "")
        return " ".join(p for p in parts if p)


def compact_law(name: str) -> str:
    """A law title for comparison: no spaces or brackets, abbreviations expanded (근기법 → 근로기준법)."""
    key = name.translate(_COMPACT)
    return ABBREVIATIONS.get(key, key)


def law_matches(law: str | None, title: str) -> bool:
    """Whether reference law ``law`` names the document titled ``title`` (None matches any document; a
    document without a title, such as a pasted snippet, may be any law)."""
    if law is None or not title:
        return True
    a, b = compact_law(law), compact_law(title)
    if not a or not b:
        return False
    if a == b or (a in ("시행령", "시행규칙") and b.endswith(a)):
        return True
    # a title written with spaces is read from its last word (상가건물 임대차보호법 → 임대차보호법)
    short, long_ = sorted((a, b), key=len)
    decree = ("시행령", "시행규칙")
    return len(short) >= 3 and long_.endswith(short) and short.endswith(decree) == long_.endswith(decree)


def _law_before(text: str, start: int) -> tuple[str | None, str]:
    """The law named right before ``start`` and its relation (``same``/``this``/empty)."""
    m = _LAW_BEFORE.search(text, max(0, start - 90), start)
    if m is None:
        return None, ""
    if m.group("br") or m.group("br2"):
        return (m.group("br") or m.group("br2")).strip(), ""
    if m.group("same"):
        sub = (m.group("same_sub") or "").strip()
        return sub or None, "same"
    if m.group("this"):
        return None, "this"
    if m.group("parent"):  # 시행령's "법 제2조": the act the decree belongs to
        return None, "parent"
    run = m.group("run")
    if run in _NOT_LAWS:
        return None, ""
    if run in ("시행령", "시행규칙"):
        return run, ""
    return run, ""


def find_refs(text: str) -> list[tuple[Ref, int, int]]:
    """Every reference in ``text`` with its span (law name included), unresolved, in order."""
    out: list[tuple[Ref, int, int]] = []
    pos = 0
    prev: tuple[int, str | None, str] | None = None  # (end, law, relation) of the reference before
    while True:
        s = _START.search(text, pos)
        if s is None:
            break
        m = _CHAIN.match(text, s.start())
        if m is None or m.end() == m.start():
            pos = s.end()
            continue
        g = m.groupdict()
        law, law_rel = _law_before(text, m.start())
        listed = prev is not None and _LISTED.fullmatch(text, prev[0], m.start()) is not None
        inherited = listed and law is None and law_rel == "" and prev is not None
        if inherited and prev is not None:
            law, law_rel = prev[1], prev[2]
        if g["bare"] and law is None and law_rel == "":
            pos = m.end()  # 3조 without a law: not a reference we can read
            continue
        art_num = g["art"] or g["bare"]
        article = None
        if art_num:
            branch = g["br"] or g["br2"] or g["bbr"]
            article = f"제{int(art_num)}조" + (f"의{int(branch)}" if branch else "")
        if article is None and not (g["para"] or g["item"]):
            pos = m.end()
            continue
        span_start = m.start()
        if (law is not None or law_rel) and not inherited:
            lm = _LAW_BEFORE.search(text, max(0, m.start() - 90), m.start())
            if lm is not None:
                span_start = lm.start()
        art_end = -1
        if art_num:
            branch_group = next((k for k in ("br", "br2", "bbr") if g[k]), None)
            number_end = m.end("art") if g["art"] else m.end("bare")
            art_end = m.end(branch_group) if branch_group else text.index("조", number_end) + 1
        ref = Ref(
            law=law,
            article=article,
            paragraph=int(g["para"]) if g["para"] else None,
            item=int(g["item"]) if g["item"] else None,
            law_rel=law_rel,
            article_rel="same" if (g["same_art"] or (g["same_para"] and not article)) else "",
            paragraph_rel="same" if g["same_para"] else "",
            claim=_CLAIM.match(text, m.end()) is not None or _bracketed(text, span_start, m.end()),
            art_start=m.start() if art_num else -1,
            art_end=art_end if art_num else -1,
        )
        out.append((ref, span_start, m.end()))
        prev = (m.end(), law, law_rel)
        pos = m.end()
    return out


def _bracketed(text: str, start: int, end: int) -> bool:
    """Whether the reference at ``text[start:end]`` closes a bracketed citation: ``(근로기준법 제60조)``,
    ``(한국인터넷진흥원 정관 제9조)``."""
    if text[end : end + 1] != ")":
        return False
    opening = text.rfind("(", max(0, start - 40), start + 1)
    return opening >= 0 and ")" not in text[opening:start]


def find_law_mentions(text: str) -> list[tuple[str, int, int]]:
    """Bracketed law titles (``「근로기준법」``) with their spans."""
    return [(m.group("law").strip(), m.start(), m.end()) for m in _BRACKETED_LAW.finditer(text)]


def resolve(refs: list[Ref], host_law: str | None) -> list[Ref]:
    """Fill ``같은 법``/``이 법``/``같은 조`` from the references before; a bare reference keeps law None
    in an answer (``host_law`` None) and gets the host document's title in a source."""
    out: list[Ref] = []
    last_law: str | None = None
    last_article: str | None = None
    article_law: str | None = None
    for r in refs:
        law = r.law
        if r.law_rel == "same":
            law = (last_law + " " + law) if (last_law and law) else last_law
        elif r.law_rel == "parent":
            law = re.sub(r"\s?시행(?:령|규칙)$", "", host_law) if host_law else None
        elif r.law_rel == "this" or law is None:
            law = host_law
        elif r.law_rel == "":
            last_law = law
        article, paragraph = r.article, r.paragraph
        if r.paragraph_rel == "same" and out:  # 같은 항: the paragraph (and article) of the reference before
            before = out[-1]
            paragraph = before.paragraph
            if r.article is None:
                article, law = before.article, before.law
        elif r.article_rel == "same":
            article, law = last_article, article_law
        elif article is not None:
            last_article, article_law = article, law
        out.append(replace(r, law=law, article=article, paragraph=paragraph))
    return out


_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def has_paragraph(text: str, location: str, n: int) -> bool:
    """Whether a source (its text or its location label) has paragraph 제n항."""
    if 1 <= n <= len(_CIRCLED) and _CIRCLED[n - 1] in text:
        return True
    if f"제{n}항" in location:
        return True
    m = re.search(r"제(\d+)항~제(\d+)항", location)
    return bool(m and int(m.group(1)) <= n <= int(m.group(2)))


def has_item(text: str, n: int) -> bool:
    """Whether a source has item 제n호 (a line or clause starting ``n.``)."""
    return re.search(rf"(?:^|\s){n}\.\s", text) is not None
