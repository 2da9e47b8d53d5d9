"""Answerability: do the retrieved chunks answer the question at all, or is it refused?

Retrieval always returns *something*; a question the documents do not cover ("국민연금 보험료율은
몇 퍼센트예요?" over labour statutes) must be refused with the closest documents listed, not answered
from a loosely related article. The judgement reads four features (pure: :func:`features`):

- ``unknown``: the share of the question's IDF mass in words that no chunk contains at all;
- ``noun_cover`` / ``token_cover``: the best share of the question's noun (token) IDF mass that one
  of the top hits contains (its text, document title and article title);
- ``dense``: the best hit's dense cosine on the embedder's own scale
  (:meth:`onprem_bot.embed.profiles.EmbedderProfile.standardised`: 0 at its unrelated bar, 1 at
  its paraphrase median), so no cosine threshold is tied to one embedder.

A logistic model over them is fitted on development questions (answerable statute questions and
``unanswerable_dev.jsonl``) by ``python -m onprem_bot.eval.refusal --write``, one model per embedder
(the dense feature means something else under another embedder), shipped in
``onprem_bot/data/refusal.json``. Without a model for the running embedder nothing is refused by it.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from onprem_bot.korean.statute_style import statute_style
from onprem_bot.types import Hit

log = logging.getLogger(__name__)

FEATURES = ("unknown", "noun_cover", "token_cover", "dense")
TOP_HITS = 3
"""How many of the best hits the cover features look at."""
DEFAULT_MODEL_FILE = Path(__file__).resolve().parent / "data" / "refusal.json"
QUESTION_WORDS = frozenset({"며칠", "얼마", "언제", "어디", "무엇", "뭐", "누구", "몇", "어떻게", "왜", "어느", "무슨"})
"""Korean interrogatives (a closed class): they ask, they are not what the documents must contain."""


@dataclass(frozen=True)
class Judgement:
    """Whether the hits answer the question: the model's probability and its features."""

    answerable: bool
    probability: float
    features: tuple[float, ...]


@dataclass(frozen=True)
class RefusalModel:
    """Logistic regression over :data:`FEATURES`: probability that the question is answerable.

    ``threshold`` is the probability under which a question is refused (chosen on cross-fitted
    development scores, see :mod:`onprem_bot.eval.refusal`).
    """

    embedder: str
    weights: tuple[float, ...]
    bias: float
    threshold: float
    features: tuple[str, ...] = FEATURES
    source: str = ""

    def __post_init__(self) -> None:
        if tuple(self.features) != FEATURES:
            raise ValueError(f"refusal model features {self.features}: expected {FEATURES}")
        if len(self.weights) != len(FEATURES):
            raise ValueError(f"refusal model: {len(self.weights)} weights for {len(FEATURES)} features")
        if not 0 <= self.threshold <= 1:
            raise ValueError(f"refusal threshold={self.threshold}: must be in 0..1")

    def probability(self, x: Sequence[float]) -> float:
        """P(answerable) for one feature vector (shape ``(len(FEATURES),)``)."""
        z = float(np.dot(np.asarray(self.weights), np.asarray(x, dtype=np.float64))) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def load_refusal_model(embedder: str, path: Path = DEFAULT_MODEL_FILE) -> RefusalModel | None:
    """The model fitted for ``embedder`` in ``path``, or None (logged) when there is none or the file is bad."""
    if not path.is_file():
        return None
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["models"]
        for row in rows:
            if row.get("embedder") == embedder:
                return RefusalModel(**{**row, "weights": tuple(row["weights"]), "features": tuple(row["features"])})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("refusal model file %s unreadable: %s", path, exc, extra={"event": "refusal_model_bad"})
        return None
    log.debug("no refusal model for embedder %s in %s", embedder, path, extra={"event": "refusal_model_missing"})
    return None


def write_refusal_model(path: Path, model: RefusalModel) -> None:
    """Add or replace the model for ``model.embedder`` in ``path`` (others kept); atomic."""
    rows: list[dict[str, Any]] = []
    if path.is_file():
        rows = [r for r in json.loads(path.read_text(encoding="utf-8"))["models"] if r["embedder"] != model.embedder]
    rows.append({**asdict(model), "weights": [round(w, 6) for w in model.weights]})
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps({"models": sorted(rows, key=lambda r: r["embedder"])}, ensure_ascii=False, indent=2) + "\n"
    )
    tmp.replace(path)


def idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """BM25 (Robertson–Spärck Jones, +1 smoothed) IDF of document frequencies ``df`` over ``n_docs``."""
    return np.log1p((n_docs - df + 0.5) / (df + 0.5))


def features(
    tokens: Sequence[str],
    nouns: frozenset[str],
    weight: dict[str, float],
    known: frozenset[str],
    hit_tokens: Sequence[frozenset[str]],
    dense: float,
    aliases: dict[str, frozenset[str]] | None = None,
) -> tuple[float, ...]:
    """The :data:`FEATURES` of a question (pure).

    ``tokens``/``nouns``: the question's analysed tokens and nouns; ``weight``: IDF of each token;
    ``known``: the tokens some chunk contains (or whose synonyms one does); ``hit_tokens``: the token
    sets of the top hits; ``dense``: the best hit's dense score on the embedder's scale;
    ``aliases``: a token's legal-term synonyms, which cover it in a hit as well.
    """
    aliases = aliases or {}
    distinct = [t for t in dict.fromkeys(tokens) if t not in QUESTION_WORDS]
    total = sum(weight[t] for t in distinct) or 1.0
    unknown = sum(weight[t] for t in distinct if t not in known) / total
    noun_list = [t for t in distinct if t in nouns]
    noun_total = sum(weight[t] for t in noun_list)

    def cover(words: list[str], mass: float) -> float:
        if mass <= 0:
            return 1.0

        def has(t: str, ht: frozenset[str]) -> bool:
            return t in ht or not aliases.get(t, frozenset()).isdisjoint(ht)

        return max((sum(weight[t] for t in words if has(t, ht)) / mass for ht in hit_tokens), default=0.0)

    return (unknown, cover(noun_list, noun_total), cover(distinct, total), float(dense))


class AnswerabilityJudge:
    """Judges the hits of a question with a :class:`RefusalModel` (none: every question is answerable).

    ``vocabulary(tokens)`` gives ``(document frequencies, number of chunks)`` of the live index
    (:meth:`onprem_bot.index.retriever.HybridRetriever.document_frequency`); ``scale`` maps a dense
    cosine onto the embedder's scale (unclipped: :meth:`~onprem_bot.embed.profiles.EmbedderProfile.standardised`);
    ``synonyms`` (the retriever's colloquial→legal dictionary) make a colloquial word known and covered
    when its legal term is.
    """

    def __init__(
        self,
        analyzer: Any,
        vocabulary: Callable[[Sequence[str]], tuple[np.ndarray, int]],
        scale: Callable[[float], float],
        model: RefusalModel | None,
        synonyms: Any | None = None,
    ) -> None:
        self.synonyms = synonyms
        self.analyzer = analyzer
        self.vocabulary = vocabulary
        self.scale = scale
        self.model = model

    def features(self, question: str, hits: Sequence[Hit]) -> tuple[float, ...]:
        """The feature vector of ``question`` over ``hits`` (best first)."""
        tokens, nouns = self.analyzer.tokens_and_nouns(statute_style(question))
        distinct = [t for t in dict.fromkeys(tokens) if t not in QUESTION_WORDS]
        df, n_docs = self.vocabulary(distinct) if distinct else (np.zeros(0), 1)
        weights = idf(np.asarray(df, dtype=np.float64), max(1, n_docs))
        weight = {t: float(w) for t, w in zip(distinct, weights, strict=True)}
        aliases = (
            {t: frozenset(self.synonyms.expand([t], self.analyzer)[1:]) for t in distinct} if self.synonyms else {}
        )
        alias_df = dict(zip(*self._df(sorted(set().union(*aliases.values()))), strict=True)) if aliases else {}
        known = frozenset(
            t
            for t, d in zip(distinct, df, strict=True)
            if d > 0 or any(alias_df.get(a, 0) > 0 for a in aliases.get(t, ()))
        )
        hit_tokens = [frozenset(self.analyzer.tokens(_hit_text(h))) for h in hits[:TOP_HITS]]
        dense = self.scale(max((h.dense_score for h in hits), default=0.0))
        return features(tokens, nouns, weight, known, hit_tokens, dense, aliases)

    def _df(self, tokens: list[str]) -> tuple[list[str], list[int]]:
        return tokens, [int(d) for d in self.vocabulary(tokens)[0]] if tokens else []

    def run(self, question: str, hits: Sequence[Hit]) -> Judgement:
        """Whether ``hits`` can answer ``question`` (always answerable without a model)."""
        if not hits:
            return Judgement(False, 0.0, ())
        if self.model is None:
            return Judgement(True, 1.0, ())
        x = self.features(question, hits)
        p = self.model.probability(x)
        return Judgement(p >= self.model.threshold, p, x)


def _hit_text(hit: Hit) -> str:
    c = hit.chunk
    return " ".join(part for part in (c.doc_title, c.article_title or "", c.text) if part)
