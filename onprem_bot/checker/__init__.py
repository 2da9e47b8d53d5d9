"""The hallucination checker: numbers, amounts, ratios, dates, times and legal references of an answer
checked against the sources it cites (pass / corrected / flagged)."""

from __future__ import annotations

from onprem_bot.checker.checker import Checker, CheckResult
from onprem_bot.checker.facts import Fact, extract_facts
from onprem_bot.checker.prepare import Source

__all__ = ["CheckResult", "Checker", "Fact", "Source", "extract_facts"]
