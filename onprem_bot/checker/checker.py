"""The hallucination checker: every number, amount, ratio, date, time and legal reference of an answer
against the sources it cites.

Verdicts: ``pass`` (everything checkable is supported, or there is nothing to check), ``corrected``
(each unsupported value had exactly one plausible source value in the same context and was
replaced; the findings record old → new) and ``flagged`` (anything else unsupported). A value
that looks computed (``총 16일``) and matches no simple sum or difference is *unverifiable*
(``supported: None``) and does not fail the answer. The optional second opinion (the local model
asked whether a flagged sentence is supported) is recorded on the findings and never changes a
verdict on its own.

A value the sources state only inside table rows (``구분: 직원 | 숙박비: 70,000원``) is judged by
:mod:`onprem_bot.checker.table_rows`: the row and column the sentence (or the question) names must
hold it; that verdict replaces the sentence-level one.

Beyond values, every answer sentence must be supported by a cited source sentence (morpheme
overlap, and the embedder's cosine when one is given) without a flipped negation or a dropped
condition, and the answer must address the question (``unsupported`` and ``off_topic`` findings:
:mod:`onprem_bot.checker.grounding`), under bars fitted per embedder (:mod:`onprem_bot.checker.bars`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from onprem_bot.checker.bars import GroundingBars, load_bars
from onprem_bot.checker.facts import Fact, same_value
from onprem_bot.checker.grounding import Grounding, ground
from onprem_bot.checker.pairs import check_pairs, check_slots
from onprem_bot.checker.prepare import Prepared, Sentence, Source, SourceCache, prepare_answer
from onprem_bot.checker.support import Vectors
from onprem_bot.checker.table_rows import judge, parse_rows, prose_facts
from onprem_bot.checker.verify import Outcome, check_quantity, check_reference, pool_for
from onprem_bot.types import Check

SecondOpinion = Callable[[str, str], "bool | None"]
MARK_OPEN, MARK_CLOSE = "⟦", "⟧"


@dataclass(frozen=True)
class CheckResult:
    """The checker's verdict, findings, the answer after corrections and the answer with problems marked."""

    verdict: str
    findings: tuple[dict[str, object], ...]
    text: str
    highlighted: str
    elapsed_ms: float = 0.0
    grounding: Grounding = field(default_factory=Grounding, compare=False, repr=False)
    """The sentence judgement's features (for calibration: ``python -m onprem_bot.eval.adversarial``)."""

    def as_check(self) -> Check:
        """The :class:`onprem_bot.types.Check` carried by every answer."""
        return Check(self.verdict, self.findings)

    def as_json(self) -> dict[str, object]:
        """The ``check --json`` contract."""
        return {"verdict": self.verdict, "findings": list(self.findings)}


class Checker:
    """Checks answers against numbered sources; see the module docstring for the rules."""

    def __init__(
        self,
        analyzer: Any,
        second_opinion: SecondOpinion | None = None,
        embedder: Any = None,
        bars: GroundingBars | None = None,
    ) -> None:
        """``analyzer`` must have ``tokens(text) -> list[str]`` (the Mecab :class:`KoreanAnalyzer`);
        ``embedder`` (optional, the configured one) adds the cosine to the sentence judgement;
        ``bars`` default to those fitted for the embedder (:func:`load_bars`)."""
        if analyzer is None or not callable(getattr(analyzer, "tokens", None)):
            raise TypeError("Checker needs an analyzer with a tokens(text) method (KoreanAnalyzer)")
        if second_opinion is not None and not callable(second_opinion):
            raise TypeError("second_opinion must be a callable (sentence, source_text) -> bool | None")
        self.analyzer = analyzer
        self.second_opinion = second_opinion
        self._cache = SourceCache(analyzer.tokens)
        self.embedder = embedder
        self.bars = bars if bars is not None else load_bars(getattr(embedder, "name", None) if embedder else None)
        self._vectors = Vectors(embedder) if embedder is not None else None

    def clear_cache(self) -> None:
        """Forget the analysed sources (the next answer analyses its sources afresh)."""
        self._cache = SourceCache(self.analyzer.tokens)

    def warm_up(self) -> None:
        """Load Mecab and compile everything once, so the first real answer is not slow."""
        self.run(
            "근로자에게 15일의 유급휴가를 주어야 합니다 [1].", [Source(1, "사용자는 15일의 유급휴가를 주어야 한다.")]
        )

    def run(self, answer: str, sources: Sequence[Source], question: str = "", measure: bool = False) -> CheckResult:
        """Check ``answer`` (citing ``[n]``) against ``sources``; ``question`` (optional) names the
        table row an answer sentence that names none is about and is what the answer must address;
        ``measure`` computes every feature (the cosine too) for calibration."""
        if not isinstance(answer, str):
            raise TypeError("answer must be a string")
        started = time.perf_counter()
        if not answer.strip():
            return CheckResult("pass", (), answer, answer, 0.0)
        prepared = self._cache.get([s for s in sources if isinstance(s, Source)])
        sentences = prepare_answer(self.analyzer.tokens, answer)
        findings: list[dict[str, object]] = []
        edits: list[tuple[int, int, str | None]] = []  # (start, end, replacement or None for a mark)
        flagged: set[int] = set()
        question = question if isinstance(question, str) else ""
        for k, sentence in enumerate(sentences):
            if not sentence.facts:
                continue
            cited_pool, all_pool = pool_for(sentence, prepared)
            outcomes = [self._one(sentence, i, prepared, cited_pool, all_pool) for i in range(len(sentence.facts))]
            check_pairs(sentence, outcomes, cited_pool)
            check_slots(sentence, outcomes, cited_pool)
            check_table_rows(sentence, outcomes, prepared, cited_pool, question)
            opinion = self._opinion(sentence, outcomes, prepared, cited_pool)
            for f, o in zip(sentence.facts, outcomes, strict=True):
                findings.append(_finding(f, o, sentence, prepared, opinion))
                if o.supported is False:
                    span = (sentence.start + f.start, sentence.start + f.end)
                    edits.append((*span, o.new_text))
                    flagged.add(k)
        g = Grounding()
        if self.bars.checks or measure:  # no judgement switched on: the value checks alone
            g = ground(answer, sentences, prepared, self.analyzer, question, self._vectors, self.bars, flagged, measure)
        findings.extend(g.findings)
        edits.extend(g.edits)
        verdict = _verdict(findings)
        text, highlighted = _apply(answer, edits)
        elapsed = round(1000 * (time.perf_counter() - started), 2)
        return CheckResult(verdict, tuple(findings), text, highlighted, elapsed, g)

    @staticmethod
    def _one(s: Sentence, i: int, prepared: list[Prepared], cited: list[Sentence], every: list[Sentence]) -> Outcome:
        if s.facts[i].kind == "reference":  # a reference must hold in the sources the sentence cites
            return check_reference(s, i, prepared, cited)
        return check_quantity(s, i, cited, every)

    def _opinion(
        self, sentence: Sentence, outcomes: list[Outcome], prepared: list[Prepared], pool: list[Sentence]
    ) -> bool | None:
        if self.second_opinion is None or not any(o.supported is False and o.new_text is None for o in outcomes):
            return None
        wanted = {s.source for s in pool}
        source_text = "\n".join(p.source.text for k, p in enumerate(prepared) if k in wanted)
        try:
            result = self.second_opinion(sentence.text, source_text)
        except Exception:  # the model is an extra signal: its failure never fails the check
            return None
        return result if isinstance(result, bool) else None


def check_table_rows(
    sentence: Sentence, outcomes: list[Outcome], prepared: list[Prepared], pool: list[Sentence], question: str
) -> None:
    """Replace the outcome of each value found in the sources only inside table rows with the
    row rule's (``outcomes`` is updated in place): the cited sources first, else all sources."""
    cited = sorted({s.source for s in pool})
    for i, f in enumerate(sentence.facts):
        if f.kind == "reference":
            continue
        every = [(k, r) for k in range(len(prepared)) for r in parse_rows(prepared[k].source.text)]
        for scope in (set(cited), set(range(len(prepared)))):
            tables = {r.table for k, r in every if k in scope and r.holding(f)}
            if not tables:
                continue
            if any(same_value(f, g) for k in scope for g in prose_facts(prepared[k].source.text)):
                break  # stated in prose too: the sentence-level check stands
            rows = [(k, r) for k, r in every if r.table in tables]  # a table cut into chunks is one table
            verdict = judge(f, [r for _, r in rows], sentence.text, f.start, question)
            if verdict is not None:
                where = {id(r): k for k, r in rows}
                row = verdict.row
                evidence = (
                    None
                    if row is None
                    else Sentence(row.line, row.start, [], [], [], frozenset(), source=where[id(row)])
                )
                g = verdict.suggestion
                outcomes[i] = Outcome(verdict.supported, evidence, g, verdict.reason, g.surface if g else None)
            break


def _finding(
    f: Fact, o: Outcome, sentence: Sentence, prepared: list[Prepared], opinion: bool | None
) -> dict[str, object]:
    evidence = o.evidence
    src = prepared[evidence.source].source if evidence is not None and evidence.source >= 0 else None
    finding: dict[str, object] = {
        "kind": f.kind,
        "value": f.value,
        "surface": f.surface,
        "unit": f.unit,
        "supported": o.supported,
        "evidence": evidence.text if evidence is not None else None,
        "suggestion": o.new_text,
        "reason": o.reason,
        "n": src.n if src is not None else None,
        "source": " ".join(x for x in (src.doc_title, src.location or src.article or "") if x) if src else None,
        "start": sentence.start + f.start,
        "end": sentence.start + f.end,
        "context": f.context,
        "second_opinion": opinion if o.supported is False and o.new_text is None else None,
    }
    if o.supported is False and o.new_text is not None:
        finding["old"] = f.surface
        finding["new"] = o.new_text
    return finding


def _verdict(findings: list[dict[str, object]]) -> str:
    if any(f["supported"] is False and f["suggestion"] is None for f in findings):
        return "flagged"
    if any(f["supported"] is False for f in findings):
        return "corrected"
    return "pass"


def _apply(answer: str, edits: list[tuple[int, int, str | None]]) -> tuple[str, str]:
    """(the answer with the suggestions applied, the same with the unsupported values marked ⟦…⟧)."""
    text: list[str] = []
    marked: list[str] = []
    pos = 0
    for start, end, new in sorted(edits):
        if start < pos:
            continue
        text.append(answer[pos:start])
        marked.append(answer[pos:start])
        if new is None:
            text.append(answer[start:end])
            marked.append(MARK_OPEN + answer[start:end] + MARK_CLOSE)
        else:
            text.append(new)
            marked.append(new)
        pos = end
    text.append(answer[pos:])
    marked.append(answer[pos:])
    return "".join(text), "".join(marked)
