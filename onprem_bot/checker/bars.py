"""The grounding bars: how much an answer sentence must share with its best source sentence(s).

Fitted per embedder on the adversarial dev set by ``python -m onprem_bot.eval.adversarial FILE --fit
--write`` (the most recall on the wrong answers at <= 3% false flags on the correct ones) and kept
in ``onprem_bot/data/grounding_bars.json``, one entry per embedder, like the embedder profiles and
the refusal model; an administrator's fit goes to ``<home>/grounding_bars.json`` (read too, wins).
The entry ``none`` is for a checker without an embedder (morpheme overlap only). An embedder
without an entry gets the ``none`` bars (its cosine is not used).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

BARS_FILE = Path(__file__).resolve().parents[1] / "data" / "grounding_bars.json"
HOME_BARS_FILE = "grounding_bars.json"
NO_EMBEDDER = "none"


@dataclass(frozen=True)
class GroundingBars:
    """The calibrated bars of one embedder (``none``: overlap only)."""

    embedder: str = NO_EMBEDDER
    overlap: float = 0.4
    """Share of an answer sentence's content morphemes found in its best one or two source sentences."""
    cosine: float | None = None
    """Cosine (answer sentence as query, source sentence as passage) that supports a sentence below
    the overlap bar; None: the embedding is not used."""
    topic: float = 1.0
    """Share of the question's topic nouns (those the sources use) the answer or its support must hold."""
    judged: float = 0.34
    """An answer sentence must share at least this much with a source sentence for its negation and
    conditions to be compared with that sentence's."""
    value_gap: float = 0.5
    """A value whose segment's words match another source sentence by this much more (share) than any
    sentence stating the value is in the wrong sentence."""
    checks: tuple[str, ...] = ("support", "negation", "condition", "value", "asked", "topic")
    """The judgements switched on (the fit may switch off one that only adds false flags)."""
    rows: int = 0
    recall: float | None = None
    false_flags: float | None = None
    source: str = "default (not fitted)"

    def on(self, check: str) -> bool:
        """Whether judgement ``check`` is switched on."""
        return check in self.checks


def load_bars(embedder: str | None, files: tuple[Path, ...] = ()) -> GroundingBars:
    """The bars for ``embedder`` (None: no embedder) from the shipped file and ``files`` (later win)."""
    found: dict[str, GroundingBars] = {}
    for path in (BARS_FILE, *files):
        if not Path(path).is_file():
            continue
        try:
            for row in json.loads(Path(path).read_text(encoding="utf-8"))["bars"]:
                found[row["embedder"]] = GroundingBars(**{**row, "checks": tuple(row.get("checks", ()))})
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"근거 기준 파일 오류 (bad grounding bars file) {path}: {exc}") from exc
    base = found.get(NO_EMBEDDER, GroundingBars())
    if embedder is None:
        return base
    return found.get(embedder, replace(base, embedder=embedder, cosine=None))


def write_bars(path: Path, bars: GroundingBars) -> None:
    """Add or replace the entry of ``bars.embedder`` in ``path`` (others kept); atomic."""
    rows = []
    if path.is_file():
        rows = [r for r in json.loads(path.read_text(encoding="utf-8"))["bars"] if r["embedder"] != bars.embedder]
    rows.append({**asdict(bars), "checks": list(bars.checks)})
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps({"bars": sorted(rows, key=lambda r: r["embedder"])}, ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )
    tmp.replace(path)
