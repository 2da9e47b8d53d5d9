"""Values that are each right but attached to the wrong thing ("4시간이면 1시간") or swapped.

Two values in one segment of an answer belong together. When one source sentence states both,
some segment of a source must hold both as well (in the same order when they are of one
dimension, and with the same condition/result roles); otherwise the later value is re-attached
("4시간이면 1시간" where the source says "4시간인 경우에는 30분 이상, 8시간인 경우에는 1시간") or
the two are swapped.
"""

from __future__ import annotations

import re

from onprem_bot.checker.facts import Fact, same_value
from onprem_bot.checker.prepare import Sentence
from onprem_bot.checker.text import coordinated
from onprem_bot.checker.verify import Outcome


def _where(s: Sentence, f: Fact) -> list[int]:
    return [k for k, g in enumerate(s.facts) if same_value(f, g)]


def _judge(sentence: Sentence, i: int, j: int, pool: list[Sentence]) -> tuple[str, Sentence | None]:
    """``ok``, ``unknown`` (no source sentence states both), ``reattached`` or ``swapped``."""
    a, b = sentence.facts[i], sentence.facts[j]
    roles = (sentence.cond[i], sentence.cond[j])
    verdict, evidence = "unknown", None
    for s in pool:
        xs, ys = _where(s, a), _where(s, b)
        if not xs or not ys:
            continue
        for x in xs:
            for y in ys:
                if s.seg[x] != s.seg[y]:
                    continue
                if a.dim == b.dim and x > y:
                    verdict, evidence = ("swapped", s) if verdict != "ok" else (verdict, evidence)
                    continue
                if roles[0] != roles[1] and (s.cond[y], s.cond[x]) == roles:
                    verdict, evidence = ("swapped", s) if verdict != "ok" else (verdict, evidence)
                    continue
                return "ok", s
        if verdict == "unknown":
            verdict, evidence = "reattached", s
    return verdict, evidence


def _anchored_value(s: Sentence, anchor: Fact, suspect: Fact) -> Fact | None:
    """The one value of ``suspect``'s dimension that shares a segment with ``anchor`` in ``s``."""
    found: dict[tuple[object, ...], Fact] = {}
    for x in _where(s, anchor):
        for k, g in enumerate(s.facts):
            same_place = s.seg[k] == s.seg[x] and k != x and g.dim == suspect.dim
            if same_place and not same_value(anchor, g) and not same_value(suspect, g):
                found.setdefault(g.key[:2], g)
    return next(iter(found.values())) if len(found) == 1 else None


def _context(text: str, f: Fact, right: bool) -> str:
    """Up to 20 characters right after (or before) a value, spaces removed, cut at a digit."""
    raw = text[f.end : f.end + 30] if right else text[max(0, f.start - 30) : f.start]
    raw = re.sub(r"\s+", "", raw)
    return re.split(r"\d", raw)[0][:20] if right else re.split(r"\d", raw)[-1][-20:]


def _shared(a: str, b: str, right: bool) -> int:
    """How many characters two contexts share next to their values (common prefix, or suffix on the left)."""
    n = 0
    for x, y in zip(a, b, strict=False) if right else zip(reversed(a), reversed(b), strict=False):
        if x != y:
            break
        n += 1
    part = a[:n] if right else a[len(a) - n :]
    return n if len(re.findall(r"[가-힣]", part)) >= 3 else 0


def check_slots(sentence: Sentence, outcomes: list[Outcome], pool: list[Sentence]) -> None:
    """A value sitting in the wording that the source gives another value of its kind
    (``8시간의 근로시간은 … 1일을 초과할 수 없다`` for ``1일의 근로시간은 … 8시간을 초과할 수 없다``):
    its context is much closer to that value's than to any of its own occurrences'."""
    for i, f in enumerate(sentence.facts):
        o = outcomes[i]
        if not o.supported or o.evidence is None or f.kind == "reference" or o.reason == "computed":
            continue
        for right in (True, False):
            mine = _context(sentence.text, f, right)
            own = max(
                (_shared(mine, _context(p.text, g, right), right) for p in pool for g in p.facts if same_value(f, g)),
                default=0,
            )
            best, where = 0, None
            for p in pool:
                for g in p.facts:
                    if g.kind == f.kind and not same_value(f, g):
                        n = _shared(mine, _context(p.text, g, right), right)
                        if n > best:
                            best, where = n, (g, p)
            # the value's own wording in the source must match clearly worse (boilerplate such as
            # "이하의 벌금에 처하거나" follows many values)
            if where is not None and best >= 5 and best > max(own + 2, 2 * own):
                g, p = where
                outcomes[i] = Outcome(False, p, g, "swapped", g.surface)
                break


def check_pairs(sentence: Sentence, outcomes: list[Outcome], pool: list[Sentence]) -> None:
    """Mark re-attached and swapped values of one answer sentence (``outcomes`` is updated in place).

    A result is checked against the condition it is bound to; two values of one dimension in one
    segment are checked for order."""
    facts = sentence.facts
    for j in range(len(facts)):
        # a result is bound to the nearest condition before it in its segment (4시간이면 → 30분)
        conds = [i for i in range(j) if sentence.seg[i] == sentence.seg[j] and sentence.cond[i]]
        anchor = conds[-1] if conds and not sentence.cond[j] else -1
        for i in range(j):
            if sentence.seg[i] != sentence.seg[j]:
                continue
            a, b = facts[i], facts[j]
            if a.kind == "reference" or b.kind == "reference" or same_value(a, b):
                continue
            if i != anchor and a.dim != b.dim:
                continue
            if not (outcomes[i].supported and outcomes[j].supported):
                continue
            if coordinated(sentence.text, a, b):
                continue
            verdict, evidence = _judge(sentence, i, j, pool)
            if verdict == "reattached" and i == anchor:
                fix = None
                for s in pool:
                    fix = _anchored_value(s, a, b)
                    if fix is not None:
                        evidence = s
                        break
                outcomes[j] = Outcome(False, evidence, fix, "reattached", fix.surface if fix else None)
            elif verdict == "swapped":
                outcomes[i] = Outcome(False, evidence, b, "swapped", b.surface)
                outcomes[j] = Outcome(False, evidence, a, "swapped", a.surface)
