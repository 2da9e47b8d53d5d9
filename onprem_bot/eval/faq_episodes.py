"""Small-FAQ episodes for calibrating and measuring the FAQ decision (``faq calibrate``, ``faq episodes``).

An organisation's FAQ has 10 to 500 entries, not the 4,013 of the calibration set
(:mod:`onprem_bot.eval.faq_data`), so the decision is tuned and measured on *episodes*: FAQs of
20, 50 and 200 entries drawn from one source of the calibration set (paraKQC, Question_pair, the
국립국어원 FAQ), each with

* its entries' paraphrase probes (they must be answered directly, or at least suggested),
* near-miss probes whose nearest entry (character n-gram cosine over the whole source) is in the
  episode: the episode is built around them, so a near-miss always has the entry it resembles
  (``네이버 쪽지 저장 기간`` in an FAQ that has ``네이버 메일 저장 기간``),
* off-topic chit-chat (ChatbotData).

Episodes are split **by entry**: every entry belongs to the tune or the held-out side (the
calibration set's split), a near-miss to the side of the entry it resembles, and a tune episode
only holds tune entries and probes, a held-out episode only held-out ones. The decision is fitted
on tune episodes only and reported per size on the held-out ones. :func:`mcfaq_episode` is the
whole 국립국어원 FAQ as one FAQ with the held-out probes. paraKQC's placeholder answers are
dropped (a real FAQ's answers are text about the question; these are not).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from onprem_bot.eval.faq_data import SPLITS, CalibrationSet, FaqItem, Probe
from onprem_bot.faq.chargrams import CharNgramIndex

SIZES = (20, 50, 200)
EPISODES = {20: 12, 50: 6, 200: 2}
"""Episodes per (split, source) for each size."""
SOURCES = ("parakqc", "question_pair", "mcfaq")
NEAR_SHARE = 0.3
"""Near-miss probes per entry of an episode (as far as the source has them)."""
OFF_SHARE = 0.3
"""Off-topic probes per entry of an episode."""


@dataclass(frozen=True)
class Episode:
    """One small FAQ and its labelled questions."""

    name: str
    split: str
    source: str
    faq: tuple[FaqItem, ...]
    probes: tuple[Probe, ...]
    nominal: int = 0
    """The size class it was drawn for (a source short of entries gives a smaller FAQ); 0: its size."""

    @property
    def size(self) -> int:
        """The size class of the FAQ (see :attr:`nominal`)."""
        return self.nominal or len(self.faq)


def entry_splits(cal: CalibrationSet) -> dict[str, str]:
    """Each entry's side: that of its paraphrase probes; an entry without any by a seeded coin."""
    out: dict[str, str] = {}
    for split, probes in zip(SPLITS, (cal.tune, cal.heldout), strict=True):
        for p in probes:
            if p.gold is not None:
                out[p.gold] = split
    for e in cal.faq:
        if e.id not in out:
            out[e.id] = SPLITS[random.Random(f"split:{e.id}").random() < 0.5]
    return out


def _source_of(probe_source: str) -> str:
    return "mcfaq" if probe_source.startswith("mcfaq") else probe_source


def _clean_entry(e: FaqItem) -> FaqItem:
    return replace(e, answer="") if e.source == "parakqc" else e


def nearest_entries(cal: CalibrationSet) -> dict[str, str]:
    """For every near-miss probe (by text), the entry of its source whose key is the most similar
    (character 2/3-gram TF-IDF cosine over all the source's keys)."""
    near = [p for p in (*cal.tune, *cal.heldout) if p.kind == "near_miss"]
    out: dict[str, str] = {}
    for source in SOURCES:
        keys = [(e.id, k) for e in cal.faq if e.source == source for k in (e.question, *e.alternatives)]
        probes = [p for p in near if _source_of(p.source) == source]
        if not keys or not probes:
            continue
        index = CharNgramIndex()
        index.build([k for _, k in keys])
        for p in probes:
            out[p.text] = keys[int(np.argmax(index.scores(p.text)))][0]
    return out


def build_episodes(
    cal: CalibrationSet,
    seed: int = 0,
    sizes: Sequence[int] = SIZES,
    counts: dict[int, int] | None = None,
    sources: Sequence[str] = SOURCES,
) -> dict[str, list[Episode]]:
    """Tune and held-out episodes: for each source and size, ``counts[size]`` FAQs of that size.

    A source with fewer entries on a side than a size gives one episode of all its entries there.
    """
    counts = EPISODES if counts is None else counts
    split_of = entry_splits(cal)
    nearest = nearest_entries(cal)
    by_id = {e.id: _clean_entry(e) for e in cal.faq}
    paraphrases: dict[str, list[Probe]] = {}
    near_of: dict[str, list[Probe]] = {}
    off: dict[str, list[Probe]] = {s: [] for s in SPLITS}
    for split, side_probes in zip(SPLITS, (cal.tune, cal.heldout), strict=True):
        for p in side_probes:
            if p.kind == "paraphrase" and p.gold is not None:
                paraphrases.setdefault(p.gold, []).append(p)
            elif p.kind == "near_miss" and p.text in nearest:
                near_of.setdefault(nearest[p.text], []).append(p)
            elif p.kind == "off_topic":
                off[split].append(p)
    out: dict[str, list[Episode]] = {s: [] for s in SPLITS}
    for split in SPLITS:
        for source in sources:
            pool = sorted(e.id for e in cal.faq if e.source == source and split_of[e.id] == split)
            anchored = [e for e in pool if near_of.get(e)]
            for size in sizes:
                n = counts.get(size, 0)
                if size >= len(pool):
                    n = min(n, 1)
                for k in range(n):
                    rng = random.Random(f"{seed}:{split}:{source}:{size}:{k}")
                    want_near = max(1, round(size * NEAR_SHARE))
                    seeds = rng.sample(anchored, min(len(anchored), max(1, want_near // 2), size))
                    rest = [e for e in pool if e not in set(seeds)]
                    chosen = seeds + rng.sample(rest, min(len(rest), size - len(seeds)))
                    near = [p for e in chosen for p in near_of.get(e, [])]
                    rng.shuffle(near)
                    probes = [p for e in chosen for p in paraphrases.get(e, [])]
                    probes += near[:want_near]
                    probes += rng.sample(off[split], min(len(off[split]), max(1, round(size * OFF_SHARE))))
                    out[split].append(
                        Episode(
                            f"{split}:{source}:{size}:{k}",
                            split,
                            source,
                            tuple(by_id[e] for e in sorted(chosen)),
                            tuple(probes),
                            size,
                        )
                    )
    return out


def mcfaq_episode(cal: CalibrationSet, split: str = SPLITS[1], off_topic: int = 200, seed: int = 0) -> Episode:
    """The whole 국립국어원 FAQ as one FAQ, with the ``split`` side's probes of it (and off-topic ones)."""
    split_of = entry_splits(cal)
    nearest = nearest_entries(cal)
    faq = tuple(e for e in cal.faq if e.source == "mcfaq")
    ids = {e.id for e in faq}
    probes: list[Probe] = [
        p
        for p in (*cal.tune, *cal.heldout)
        if (p.kind == "paraphrase" and p.gold in ids and split_of[p.gold] == split)
        or (p.kind == "near_miss" and nearest.get(p.text) in ids and split_of[nearest[p.text]] == split)
    ]
    offs = [p for p in (cal.tune if split == SPLITS[0] else cal.heldout) if p.kind == "off_topic"]
    probes.extend(random.Random(f"{seed}:mcfaq_off").sample(offs, min(off_topic, len(offs))))
    return Episode(f"{split}:mcfaq:all", split, "mcfaq", faq, tuple(probes))


def summary(episodes: dict[str, list[Episode]]) -> dict[str, Any]:
    """Episodes and probes per split and size (JSON-able)."""
    out: dict[str, Any] = {}
    for split, eps in episodes.items():
        sizes: dict[str, dict[str, int]] = {}
        for ep in eps:
            row = sizes.setdefault(str(ep.size), {"episodes": 0, "entries": 0})
            row["episodes"] += 1
            row["entries"] += len(ep.faq)
            for p in ep.probes:
                row[p.kind] = row.get(p.kind, 0) + 1
        out[split] = sizes
    return out
