"""Table rows in sources: which row and which column a value belongs to. Pure functions.

Tables reach the checker as the rendered rows of :func:`onprem_bot.ingest.tables.row_texts`, one
line a row::

    [별표 1] 여비 지급 기준 | 구분: 직원 | 일비: 20,000원 | 숙박비: 70,000원

(caption optional; ``header: value`` cells joined by ``" | "``; the first cell is the row label).
A value that the sources state only inside such rows is supported by an answer sentence when:

- the sentence names a row label of that table (the label nearest the value, before it or
  else after it; a sentence naming none falls back to the labels the question names) and that
  row holds the value, in the column the sentence names (nearest header, else the question's;
  none named: any column); or
- neither sentence nor question names any row of any table holding the value: a value true of
  *some* row is not contradicted, so it passes (a column named must still hold it).

Otherwise it is unsupported; the suggestion is the named row's value in the named column (or in
the column where the value sits), when there is exactly one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from onprem_bot.checker.facts import Fact, extract_facts, same_value
from onprem_bot.ingest.tables import LABEL_SEPARATOR, ROW_SEPARATOR

MAX_HEADER_CHARS = 40
"""A ``x: y`` part with a longer ``x`` is prose with a colon, not a header cell."""
_CAPTION_CUE = re.compile(r"^\s*[\[<(【]|별표|별지|서식")
_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|<[^>]*>")
_HANGUL = re.compile(r"[가-힣]")


@dataclass(frozen=True)
class Cell:
    """One ``header: value`` cell of a row (``header`` is ``""`` for a bare value)."""

    header: str
    value: str
    facts: tuple[Fact, ...]


@dataclass(frozen=True)
class Row:
    """One rendered table row: its table, caption, label and value cells."""

    table: str
    """The table's key: its caption, else its column headers (rows of one table cut into several
    chunks share it)."""
    caption: str
    label: str
    cells: tuple[Cell, ...]
    line: str
    start: int
    """Offset of the line in the source text."""

    def holding(self, fact: Fact, headers: frozenset[str] | None = None) -> Cell | None:
        """The cell stating ``fact``'s value (in one of ``headers`` when given)."""
        for cell in self.cells:
            if (headers is None or cell.header in headers) and any(same_value(fact, g) for g in cell.facts):
                return cell
        return None


@dataclass(frozen=True)
class RowVerdict:
    """The rule's answer for one value: supported or not, the row behind it, a replacement."""

    supported: bool
    row: Row | None
    suggestion: Fact | None = None
    reason: str = "table_row"


def _split(line: str) -> tuple[list[str], int] | None:
    """The parts of a row line and the index of its first ``header: value`` part (None: no row)."""
    if ROW_SEPARATOR not in line:
        return None
    parts = [p.strip() for p in line.split(ROW_SEPARATOR)]
    for i, part in enumerate(parts):
        head, sep, value = part.partition(LABEL_SEPARATOR)
        if sep and value.strip() and 0 < len(head.strip()) <= MAX_HEADER_CHARS:
            return parts, i
    return None


def _cell(part: str) -> Cell:
    head, sep, value = part.partition(LABEL_SEPARATOR)
    if not sep or len(head.strip()) > MAX_HEADER_CHARS:
        head, value = "", part
    return Cell(head.strip(), value.strip(), tuple(extract_facts(value.strip())))


@lru_cache(maxsize=2048)
def parse_rows(text: str) -> tuple[Row, ...]:
    """Every rendered table row in ``text``; consecutive rows with one caption are one table.

    A row whose first part is bare and whose next part is ``header: value`` is ambiguous: the
    bare part is the caption when it looks like one (``[별표 1] …``, ``… 지급표``) or when the
    neighbouring rows repeat it, else it is the row label (a table with an empty top-left cell).
    """
    lines: list[tuple[int, str, list[str], int]] = []
    pos = 0
    for line in text.split("\n"):
        split = _split(line)
        if split is not None:
            lines.append((pos, line, *split))
        else:
            lines.append((pos, line, [], -1))
        pos += len(line) + 1
    rows: list[Row] = []
    group, previous = 0, ("", -1)
    for idx, (start, line, parts, k) in enumerate(lines):
        if k < 0:
            previous = ("", -1)
            continue
        if k == 0:
            caption, label_part, rest = "", parts[0], parts[1:]
        elif k >= 2:
            caption, label_part, rest = ROW_SEPARATOR.join(parts[: k - 1]), parts[k - 1], parts[k:]
        elif _is_caption(parts[0], lines, idx):
            caption, label_part, rest = parts[0], parts[1], parts[2:]
        else:
            caption, label_part, rest = "", parts[0], parts[1:]
        label = _cell(label_part).value
        if (caption, idx - 1) != previous:
            group += 1
        previous = (caption, idx)
        header = _cell(label_part).header  # carried as an empty cell so the table key names it; dropped below
        rows.append(Row(str(group), caption, label, (Cell(header, "", ()), *(_cell(p) for p in rest)), line, start))
    return tuple(_keyed(rows))


@lru_cache(maxsize=2048)
def prose_facts(text: str) -> tuple[Fact, ...]:
    """The facts of ``text`` outside its table rows (row lines blanked, offsets kept)."""
    rows = parse_rows(text)
    if not rows:
        return tuple(extract_facts(text))
    chars = list(text)
    for r in rows:
        chars[r.start : r.start + len(r.line)] = " " * len(r.line)
    return tuple(extract_facts("".join(chars)))


def _keyed(rows: list[Row]) -> list[Row]:
    """Rows with their table key (see :attr:`Row.table`) instead of their group number."""
    headers: dict[str, set[str]] = {}
    for r in rows:
        headers.setdefault(r.table, set()).update(c.header for c in r.cells if c.header)
    out = []
    for r in rows:
        key = r.caption or "\x00".join(sorted(headers[r.table]))
        out.append(Row(key, r.caption, r.label, tuple(c for c in r.cells if c.value), r.line, r.start))
    return out


def _is_caption(first: str, lines: Sequence[tuple[int, str, list[str], int]], idx: int) -> bool:
    if _CAPTION_CUE.search(first):
        return True
    near = [lines[j] for j in (idx - 1, idx + 1) if 0 <= j < len(lines) and lines[j][3] >= 0]
    return any(parts and parts[0] == first for _, _, parts, _ in near)


def _pattern(name: str) -> re.Pattern[str] | None:
    compact = re.sub(r"\s+", "", name)
    if len(compact) < 2 and not _HANGUL.search(compact):
        return None
    return re.compile(r"\s*".join(map(re.escape, compact)))


def mentions(text: str, names: Sequence[str], guard: bool = False) -> list[tuple[int, str]]:
    """``(position, name)`` for every mention of ``names`` in ``text``, longest names first, a span
    never counted twice (``계약직원`` is not also ``직원``). ``guard``: a mention right after another
    Hangul syllable does not count (``임직원`` does not name ``직원``)."""
    taken: list[tuple[int, int]] = []
    out: list[tuple[int, str]] = []
    for name in sorted(set(names), key=lambda n: -len(n)):
        pattern = _pattern(name)
        if pattern is None:
            continue
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            if guard and m.start() > 0 and _HANGUL.match(text[m.start() - 1]):
                continue
            taken.append((m.start(), m.end()))
            out.append((m.start(), name))
    return sorted(out)


def header_names(header: str) -> list[str]:
    """The words that name a column: the header without its brackets, and its last word
    (``숙박비(1박 상한)`` → ``숙박비``; ``교통비 철도`` → ``교통비 철도``, ``철도``)."""
    core = " ".join(_BRACKETED.sub(" ", header).split())
    words = core.split()
    out = [core] if core else []
    if len(words) > 1 and len(words[-1]) >= 2:
        out.append(words[-1])
    return out


def nearest(found: list[tuple[int, str]], at: int) -> set[str]:
    """The names mentioned nearest before ``at``, else nearest after it (empty when none)."""
    before = [p for p, _ in found if p < at]
    if before:
        return {n for p, n in found if p == max(before)}
    after = [p for p, _ in found if p >= at]
    return {n for p, n in found if after and p == min(after)}


def named_rows(rows: Sequence[Row], sentence: str, at: int, question: str) -> set[str]:
    """The row labels of ``rows`` the sentence names for the value at ``at`` (else the question's)."""
    labels = [r.label for r in rows if r.label]
    picked = nearest(mentions(sentence, labels, guard=True), at)
    return picked or {n for _, n in mentions(question, labels, guard=True)}


def named_columns(rows: Sequence[Row], sentence: str, at: int, question: str) -> frozenset[str] | None:
    """The column headers the sentence names near the value (else the question's); None: none."""
    by_name: dict[str, set[str]] = {}
    for r in rows:
        for c in r.cells:
            for name in header_names(c.header):
                by_name.setdefault(name, set()).add(c.header)
    names = list(by_name)
    picked = nearest(mentions(sentence, names), at) or {n for _, n in mentions(question, names)}
    headers = {h for n in picked for h in by_name[n]}
    return frozenset(headers) if headers else None


def judge(fact: Fact, rows: Sequence[Row], sentence: str, at: int, question: str = "") -> RowVerdict | None:
    """The rule of the module docstring for ``fact`` (at offset ``at`` of ``sentence``) against
    the table ``rows`` of its sources; None when no row holds the value (not this rule's case)."""
    holding = [r for r in rows if r.holding(fact) is not None]
    if not holding:
        return None
    tables = sorted({r.table for r in holding})
    verdicts = [_judge_table(fact, [r for r in rows if r.table == t], sentence, at, question) for t in tables]
    named = [v for v, was_named in verdicts if was_named]
    considered = named or [v for v, _ in verdicts]
    return next((v for v in considered if v.supported), considered[0])


def _judge_table(fact: Fact, rows: list[Row], sentence: str, at: int, question: str) -> tuple[RowVerdict, bool]:
    """(the verdict against one table, whether a row of it was named)."""
    labels = named_rows(rows, sentence, at, question)
    columns = named_columns(rows, sentence, at, question)
    chosen = [r for r in rows if r.label in labels] if labels else rows
    for r in chosen:
        if r.holding(fact, columns) is not None:
            return RowVerdict(True, r, reason="table_row" if labels else "table_any_row"), bool(labels)
    # where the value sits: its column(s), unless the sentence names the column itself
    wanted = columns or frozenset(c.header for r in rows for c in r.cells if r.holding(fact, frozenset({c.header})))
    candidates: dict[tuple[object, ...], tuple[Fact, Row]] = {}
    for r in chosen:
        for c in r.cells:
            if c.header in wanted:
                for g in c.facts:
                    if g.dim == fact.dim and not same_value(fact, g):
                        candidates.setdefault(g.key[:2], (g, r))
    reason = "table_row" if labels else "table_column"
    if len(candidates) == 1:
        g, r = next(iter(candidates.values()))
        return RowVerdict(False, r, g, reason), True
    evidence = chosen[0] if chosen else None
    return RowVerdict(False, evidence, None, reason), bool(labels)
