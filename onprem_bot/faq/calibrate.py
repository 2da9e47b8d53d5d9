"""Calibrating the FAQ decision on small-FAQ episodes: the learned scorer and its two bars.

Every probe of every episode (:mod:`onprem_bot.eval.faq_episodes`) is scored once per setting
(mix of weights, side the FAQ keys are embedded as): its best :data:`~onprem_bot.faq.matcher.CANDIDATES`
entries with their features. A logistic regression (:mod:`onprem_bot.faq.scorer`) is fitted on
the *tune* episodes' candidates (is this candidate the question's entry?), and its bars are chosen
on cross-fitted probabilities (each probe scored by a model fitted without its entry):

* the **direct** bar: the lowest at which, for every episode size, false direct answers stay at
  most ``max_false`` on near-miss and on off-topic questions and wrong-entry answers on
  paraphrases too (default 1%, half the 2% target: a size has only ~200-350 tune near-misses,
  and bars chosen at 2% gave 3.8% on the held-out near-misses);
* the **suggestion** bar: the highest at which the right entry is still *reached* (answered
  directly or among the at most 3 suggestions) for ``reach`` of the paraphrases, but never lower
  than what keeps off-topic questions with a suggestion at most ``max_off_suggest``.

The held-out episodes, which took no part, report the result per size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from onprem_bot.faq.features import FEATURES
from onprem_bot.faq.matcher import CANDIDATES, SUGGESTIONS, FaqMatcher, embed_keys, exact_key
from onprem_bot.faq.scorer import LinearScorer, cross_fitted, scorer_embedder, train

MIXES: tuple[tuple[float, float], ...] = ((0.2, 0.4), (0.1, 0.2), (0.0, 0.0))
"""(lexical_weight, char_weight) pairs that rank candidates; the rest of each mix is the dense cosine."""
KEY_SIDES = ("passage", "query")


@dataclass(frozen=True)
class _Entry:
    id: Any
    question: str
    alternatives: tuple[str, ...]
    answer: str = ""


@dataclass
class ProbeRow:
    """One probe's candidates in one episode: what the decision needs to be replayed."""

    episode: str
    size: int
    kind: str
    gold: Any
    source: str
    exact: Any
    ids: list[Any] = field(default_factory=list)
    features: list[np.ndarray] = field(default_factory=list)
    number: list[bool] = field(default_factory=list)
    ranked_first: Any = None
    """The entry the mixed score ranks first (for the top-1 figure)."""


class MemoAnalyzer:
    """An analyser whose ``tokens_and_nouns`` remembers its answers (episodes reuse the same texts)."""

    def __init__(self, analyzer: Any) -> None:
        self._analyzer = analyzer
        self._memo: dict[str, tuple[list[str], frozenset[str]]] = {}
        self.stopwords: frozenset[str] = getattr(analyzer, "stopwords", frozenset())

    def tokens_and_nouns(self, text: str) -> tuple[list[str], frozenset[str]]:
        got = self._memo.get(text)
        if got is None:
            got = self._analyzer.tokens_and_nouns(text)
            self._memo[text] = got
        return got


class MemoEmbedder:
    """An embedder that embeds every text once per side (keys as passages or queries, questions as queries)."""

    def __init__(self, embedder: Any) -> None:
        self._embedder = embedder
        self.name = str(getattr(embedder, "name", type(embedder).__name__))
        self._passages: dict[str, np.ndarray] = {}
        self._queries: dict[str, np.ndarray] = {}

    def prime(self, texts: Sequence[str], side: str) -> None:
        """Embed the ``texts`` not seen yet on ``side`` ("passage" or "query") in batches."""
        memo = self._queries if side == "query" else self._passages
        todo = list(dict.fromkeys(t for t in texts if t not in memo))
        for start in range(0, len(todo), 256):
            batch = todo[start : start + 256]
            for text, vec in zip(batch, embed_keys(self._embedder, batch, side), strict=True):
                memo[text] = np.asarray(vec, dtype=np.float32)

    def embed(self, texts: Sequence[str], *args: Any, side: str = "passage", **kwargs: Any) -> np.ndarray:
        self.prime(texts, side)
        memo = self._queries if side == "query" else self._passages
        return np.vstack([memo[t] for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        self.prime([text], "query")
        return self._queries[text]


def score_episode(matcher: FaqMatcher, episode: Any) -> list[ProbeRow]:
    """Build ``matcher`` over the episode's FAQ and take every probe's candidates with features."""
    matcher.build([_Entry(e.id, e.question, tuple(e.alternatives), e.answer) for e in episode.faq])
    rows = []
    for p in episode.probes:
        row = ProbeRow(episode.name, episode.size, p.kind, p.gold, p.source, matcher._exact.get(exact_key(p.text)))
        if row.exact is None:
            cands = matcher.candidates(p.text, n=CANDIDATES, features=True)
            row.ranked_first = cands[0].entry_id if cands else None
            for c in cands:
                if c.features is not None:
                    row.ids.append(c.entry_id)
                    row.features.append(c.features)
                    row.number.append(any(x.startswith("number") for x in c.conflicts))
        else:
            row.ranked_first = row.exact
        rows.append(row)
    return rows


def score_episodes(
    analyzer: Any,
    embedder: Any,
    episodes: Sequence[Any],
    mix: tuple[float, float],
    key_side: str,
    progress: Callable[[str], None] = lambda _m: None,
) -> list[ProbeRow]:
    """:func:`score_episode` for each of ``episodes`` with one setting."""
    out: list[ProbeRow] = []
    for n, ep in enumerate(episodes):
        matcher = FaqMatcher(analyzer, embedder, lexical_weight=mix[0], char_weight=mix[1], key_side=key_side)
        matcher._wants_entry_texts = True
        out.extend(score_episode(matcher, ep))
        if n % 20 == 19:
            progress(f"  {n + 1}/{len(episodes)} episodes")
    return out


def probabilities(rows: Sequence[ProbeRow], scorer: LinearScorer) -> list[np.ndarray]:
    """Each row's candidates' probabilities under ``scorer``."""
    return [np.array([scorer.probability(f) for f in r.features]) for r in rows]


@dataclass(frozen=True)
class Outcome:
    """What the two-tier decision did with one probe."""

    direct: bool
    right: bool
    reached: bool
    suggested: int


def decide_row(row: ProbeRow, probs: np.ndarray, direct: float, suggest: float) -> Outcome:
    """The matcher's decision (:meth:`FaqMatcher.match`) replayed on one scored probe."""
    if row.exact is not None:
        return Outcome(True, row.exact == row.gold, row.exact == row.gold, 0)
    if not len(probs):
        return Outcome(False, False, False, 0)
    order = np.argsort(-probs, kind="stable")
    best = int(order[0])
    if probs[best] >= direct and not row.number[best]:
        right = row.ids[best] == row.gold
        return Outcome(True, right, right, 0)
    shown = [row.ids[int(i)] for i in order[:SUGGESTIONS] if probs[int(i)] >= suggest]
    return Outcome(False, False, row.gold is not None and row.gold in shown, len(shown))


def rates(rows: Sequence[ProbeRow], probs: Sequence[np.ndarray], direct: float, suggest: float) -> dict[str, float]:
    """Direct-right, wrong-entry and reached rates on paraphrases, false direct and suggested per kind."""
    outcomes = [decide_row(r, p, direct, suggest) for r, p in zip(rows, probs, strict=True)]
    out: dict[str, float] = {}
    para = [(r, o) for r, o in zip(rows, outcomes, strict=True) if r.kind == "paraphrase"]
    n = max(len(para), 1)
    out["paraphrases"] = len(para)
    out["direct_right"] = sum(o.right for _, o in para) / n
    out["wrong_entry"] = sum(o.direct and not o.right for _, o in para) / n
    out["reached"] = sum(o.reached for _, o in para) / n
    out["top1_right"] = sum(r.ranked_first == r.gold for r, _ in para) / n
    for kind in ("near_miss", "off_topic"):
        got = [o for r, o in zip(rows, outcomes, strict=True) if r.kind == kind]
        m = max(len(got), 1)
        out[kind] = len(got)
        out[f"false_direct_{kind}"] = sum(o.direct for o in got) / m
        out[f"suggested_{kind}"] = sum(o.suggested > 0 for o in got) / m
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def by_size(rows: Sequence[ProbeRow], probs: Sequence[np.ndarray], direct: float, suggest: float) -> dict[str, Any]:
    """:func:`rates` for each nominal episode size (and all together)."""
    out: dict[str, Any] = {}
    for size in sorted({_nominal(r.size) for r in rows}):
        pick = [i for i, r in enumerate(rows) if _nominal(r.size) == size]
        out[str(size)] = rates([rows[i] for i in pick], [probs[i] for i in pick], direct, suggest)
    out["all"] = rates(rows, probs, direct, suggest)
    return out


def by_source(rows: Sequence[ProbeRow], probs: Sequence[np.ndarray], direct: float, suggest: float) -> dict[str, Any]:
    """:func:`rates` per episode source (paraKQC, Question_pair, 국립국어원)."""
    out: dict[str, Any] = {}
    for source in sorted({r.episode.split(":")[1] for r in rows}):
        pick = [i for i, r in enumerate(rows) if r.episode.split(":")[1] == source]
        out[source] = rates([rows[i] for i in pick], [probs[i] for i in pick], direct, suggest)
    return out


def _nominal(size: int) -> int:
    return size


def _groups(rows: Sequence[ProbeRow]) -> list[Any]:
    return [r.gold if r.gold is not None else (r.ids[0] if r.ids else r.episode) for r in rows]


def choose_bars(
    rows: Sequence[ProbeRow],
    probs: Sequence[np.ndarray],
    max_false: float,
    reach: float,
    max_off_suggest: float,
) -> tuple[float, float]:
    """(direct, suggestion) bars from ``probs`` (see the module docstring)."""
    best = np.array([float(p.max()) if len(p) else 0.0 for p in probs])
    grid = np.unique(np.round(np.concatenate([np.quantile(best, np.linspace(0, 1, 401)), [0.5, 0.99]]), 4))
    groups = sorted({_nominal(r.size) for r in rows})
    pick = {g: [i for i, r in enumerate(rows) if _nominal(r.size) == g] for g in groups}

    def per_size(direct: float, suggest: float) -> list[dict[str, float]]:
        return [rates([rows[i] for i in idx], [probs[i] for i in idx], direct, suggest) for idx in pick.values()]

    direct = 1.0
    for t in grid:  # ascending: the first safe bar gives the most direct answers
        rs = per_size(float(t), float(t))
        if all(
            max(r["false_direct_near_miss"], r["false_direct_off_topic"], r["wrong_entry"]) <= max_false for r in rs
        ):
            direct = float(t)
            break
    lows = [float(t) for t in grid if t <= direct]
    floor = direct
    for t in lows:  # ascending: the lowest bar that keeps off-topic suggestions rare
        if all(r["suggested_off_topic"] <= max_off_suggest for r in per_size(direct, t)):
            floor = t
            break
    suggest = floor
    for t in reversed([x for x in lows if x >= floor]):  # descending: the highest bar that still reaches enough
        if all(r["reached"] >= reach for r in per_size(direct, t)):
            suggest = t
            break
    return direct, suggest


def fit(
    tune: Sequence[ProbeRow],
    embedder: str,
    mix: tuple[float, float],
    key_side: str,
    max_false: float,
    reach: float,
    max_off_suggest: float,
    l2: float = 1.0,
    min_probes: int = 20,
) -> tuple[LinearScorer, dict[str, Any]] | None:
    """Fit the scorer on the tune rows' candidates and choose its bars on cross-fitted probabilities."""
    rows = [r for r in tune if r.features]
    if len(rows) < min_probes:
        return None
    x = np.vstack([f for r in rows for f in r.features])
    y = np.array([float(r.gold is not None and i == r.gold) for r in rows for i in r.ids])
    if len(set(y.tolist())) < 2:
        return None
    groups = [g for r, g in zip(rows, _groups(rows), strict=True) for _ in r.ids]
    oof = cross_fitted(x, y, groups, l2=l2)
    probs_fitted: list[np.ndarray] = []
    at = 0
    by_row: dict[int, np.ndarray] = {}
    for r in rows:
        by_row[id(r)] = oof[at : at + len(r.ids)]
        at += len(r.ids)
    probs_fitted = [by_row.get(id(r), np.zeros(0)) for r in tune]
    direct, suggest = choose_bars(tune, probs_fitted, max_false, reach, max_off_suggest)
    mean, scale, weights, bias = train(x, y, l2)
    scorer = LinearScorer(
        FEATURES,
        tuple(mean.tolist()),
        tuple(scale.tolist()),
        tuple(weights.tolist()),
        bias,
        direct,
        min(suggest, direct),
        embedder,
        mix[0],
        mix[1],
        key_side,
    )
    return scorer, {
        "tune_cross_fitted": by_size(tune, probs_fitted, direct, suggest),
        "direct_bar": direct,
        "suggest_bar": suggest,
    }


def calibrate(
    analyzer: Any,
    embedder: Any,
    episodes: dict[str, list[Any]],
    extra: dict[str, Any] | None = None,
    max_false: float = 0.01,
    reach: float = 0.97,
    max_off_suggest: float = 0.10,
    mixes: Sequence[tuple[float, float]] = MIXES,
    key_sides: Sequence[str] = KEY_SIDES,
    progress: Callable[[str], None] = lambda _m: None,
    min_probes: int = 20,
) -> dict[str, Any]:
    """Fit a scorer per (mix, key side) on ``episodes["tune"]``; keep the one with the most
    cross-fitted direct-right answers on tune; report every setting on ``episodes["heldout"]``
    (and on ``extra``: named single episodes such as the whole 국립국어원 FAQ)."""
    analyzer = MemoAnalyzer(analyzer)
    memo = MemoEmbedder(embedder)
    name = memo.name
    every = [ep for eps in episodes.values() for ep in eps] + list((extra or {}).values())
    questions = sorted({p.text for ep in every for p in ep.probes})
    keys = sorted({k for ep in every for e in ep.faq for k in (e.question, *e.alternatives)})
    settings: list[dict[str, Any]] = []
    chosen: dict[str, Any] | None = None
    sides = [s for s in key_sides if s in KEY_SIDES]
    progress(f"embedding {len(questions)} questions and {len(keys)} keys ({name})")
    memo.prime(questions, "query")
    for side in sides:
        memo.prime(keys, side)
    for side in sides:
        for mix in mixes:
            progress(f"key_side={side} lexical_weight={mix[0]} char_weight={mix[1]}")
            tune = score_episodes(analyzer, memo, episodes["tune"], mix, side, progress)
            fitted = fit(
                tune, scorer_embedder(name, *mix), mix, side, max_false, reach, max_off_suggest, min_probes=min_probes
            )
            if fitted is None:
                continue
            scorer, report = fitted
            held = score_episodes(analyzer, memo, episodes["heldout"], mix, side, progress)
            hp = probabilities(held, scorer)
            report.update(
                {
                    "lexical_weight": mix[0],
                    "char_weight": mix[1],
                    "key_side": side,
                    "heldout": by_size(held, hp, scorer.threshold, scorer.suggest_threshold),
                    "heldout_by_source": by_source(held, hp, scorer.threshold, scorer.suggest_threshold),
                }
            )
            for label, ep in (extra or {}).items():
                rows = score_episodes(analyzer, memo, [ep], mix, side)
                report[label] = rates(rows, probabilities(rows, scorer), scorer.threshold, scorer.suggest_threshold)
            report["scorer"] = scorer
            settings.append(report)
            key = report["tune_cross_fitted"]["all"]
            if chosen is None or (key["direct_right"], key["reached"]) > (
                chosen["tune_cross_fitted"]["all"]["direct_right"],
                chosen["tune_cross_fitted"]["all"]["reached"],
            ):
                chosen = report
    return {
        "embedder": name,
        "chosen": chosen,
        "settings": settings,
        "max_false": max_false,
        "reach": reach,
        "max_off_suggest": max_off_suggest,
    }
