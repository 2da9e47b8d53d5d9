"""What a cosine means for one embedder: the bars every dense-score threshold is expressed against.

Cosines are not comparable across models: 95% of unrelated Korean sentence pairs score below
0.90 with multilingual-e5 (query/passage) but below 0.62 with USE, and paraphrases have a median of
0.94 vs 0.81 (the shipped profiles). So no module compares a dense score with a fixed number; it asks
the embedder's :class:`EmbedderProfile` (``profile.is_overlap(cosine)``, ``profile.scaled(cosine)``).

A profile is measured from human-scored Korean sentence pairs (KorSTS dev+test, KLUE-STS dev;
``../shared/data/similarity``) by ``onprem-bot embedder profile [--write FILE]``: the first
sentence embedded as a query, the second as a passage (the retrieval case) or as a query (FAQ
keys on the query side). Profiles for the embedded embedders ship in
``onprem_bot/data/embedder_profiles.json``; an administrator's measurement of another model
(a local KR-SBERT) goes to ``<home>/embedder_profiles.json``, read too. An embedder without a
profile gets :data:`FALLBACK` and ``doctor`` warns.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

PROFILE_FILE = Path(__file__).resolve().parents[1] / "data" / "embedder_profiles.json"
"""The profiles shipped with the product (e5 and USE)."""
HOME_PROFILE_FILE = "embedder_profiles.json"
"""An administrator's profiles, in ``$ONPREM_BOT_HOME`` (override the shipped ones)."""
PAIRINGS = ("query/passage", "query/query")
"""How the two sentences of a pair are embedded: the retrieval case and the FAQ-key case."""
UNRELATED_MAX_SCORE = 1.0
"""STS gold score at or below which a pair counts as unrelated (0 = different topic, 1 = same topic only)."""
RELATED_MIN_SCORE = 4.0
"""STS gold score at or above which a pair counts as a paraphrase (4 = mostly equivalent)."""
UNRELATED_PERCENTILE = 95
"""``unrelated`` is this percentile of the unrelated pairs' cosines: 95% of unrelated pairs lie below it."""


@dataclass(frozen=True)
class EmbedderProfile:
    """The cosine bars of one embedder, measured on scored Korean sentence pairs."""

    embedder: str
    unrelated: float
    """95th percentile cosine of pairs scored <= 1: a dense score above it is more than chance."""
    related: float
    """Median cosine of paraphrase pairs (scored >= 4): a typical 'same meaning' score."""
    pairing: str = "query/passage"
    unrelated_pairs: int = 0
    related_pairs: int = 0
    source: str = ""
    measured: bool = True
    """False for :data:`FALLBACK` (no measurement for this embedder)."""

    def __post_init__(self) -> None:
        if not -1.0 <= self.unrelated < self.related <= 1.0:
            raise ValueError(
                f"embedder profile {self.embedder}: need -1 <= unrelated < related <= 1, "
                f"got unrelated={self.unrelated}, related={self.related}"
            )
        if self.pairing not in PAIRINGS:
            raise ValueError(f"pairing={self.pairing!r}: valid: {', '.join(PAIRINGS)}")

    def is_overlap(self, cosine: float) -> bool:
        """True when ``cosine`` reaches the unrelated bar (the dense side alone says 'related')."""
        return cosine >= self.unrelated

    def scaled(self, cosine: float) -> float:
        """``cosine`` on this embedder's own scale: 0 at the unrelated bar, 1 at the paraphrase median (clipped)."""
        return float(min(1.0, max(0.0, self.standardised(cosine))))

    def standardised(self, cosine: float) -> float:
        """:meth:`scaled` without the clipping (below 0 under the unrelated bar): a learned model's input."""
        return float((cosine - self.unrelated) / (self.related - self.unrelated))


FALLBACK = EmbedderProfile(
    "unknown",
    unrelated=0.5,
    related=1.0,
    source="not measured: the fixed overlap bar used before profiles (dense_score >= 0.5)",
    measured=False,
)
"""For an embedder without a profile (the hash fake, an unprofiled sentence-transformers folder)."""


def load_profiles(files: Iterable[Path] = ()) -> dict[tuple[str, str], EmbedderProfile]:
    """Profiles by (embedder, pairing): the shipped file, then ``files`` (later ones win; missing ones skipped)."""
    out: dict[tuple[str, str], EmbedderProfile] = {}
    for path in (PROFILE_FILE, *files):
        if not Path(path).is_file():
            continue
        try:
            rows = json.loads(Path(path).read_text(encoding="utf-8"))["profiles"]
            for row in rows:
                profile = EmbedderProfile(**row)
                out[(profile.embedder, profile.pairing)] = profile
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"임베딩 프로파일 파일 오류 (bad embedder profile file) {path}: {exc}") from exc
    return out


def profile_for(embedder: str, pairing: str = "query/passage", files: Iterable[Path] = ()) -> EmbedderProfile:
    """The profile of ``embedder`` (by name) for ``pairing``, or :data:`FALLBACK` named after it."""
    if pairing not in PAIRINGS:
        raise ValueError(f"pairing={pairing!r}: valid: {', '.join(PAIRINGS)}")
    found = load_profiles(files).get((embedder, pairing))
    return found if found is not None else replace(FALLBACK, embedder=embedder, pairing=pairing)


def write_profiles(path: Path, profiles: Sequence[EmbedderProfile]) -> None:
    """Add or replace ``profiles`` in the file at ``path`` (other embedders' entries kept), sorted."""
    existing: dict[tuple[str, str], EmbedderProfile] = {}
    if path.is_file():
        rows = json.loads(path.read_text(encoding="utf-8")).get("profiles", [])
        existing = {(r["embedder"], r["pairing"]): EmbedderProfile(**r) for r in rows}
    for profile in profiles:
        existing[(profile.embedder, profile.pairing)] = profile
    data = {"profiles": [asdict(existing[k]) for k in sorted(existing)]}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


# --- measuring --------------------------------------------------------------------------------------

STS_FILES = ("korsts/sts-dev.tsv", "korsts/sts-test.tsv", "klue_sts/klue-sts-v1.1_dev.json")
"""The scored pairs, relative to the similarity folder (KorSTS train is left out: it is the pairs
KR-SBERT models are fine-tuned on)."""


def load_sts_pairs(folder: Path) -> list[tuple[str, str, float]]:
    """(sentence1, sentence2, gold score 0-5) from the KorSTS and KLUE-STS files under ``folder``."""
    pairs: list[tuple[str, str, float]] = []
    for rel in STS_FILES:
        path = folder / rel
        if not path.is_file():
            raise FileNotFoundError(f"유사도 데이터가 없습니다 (STS file not found): {path}")
        if path.suffix == ".json":
            for row in json.loads(path.read_text(encoding="utf-8")):
                pairs.append((row["sentence1"], row["sentence2"], float(row["labels"]["label"])))
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                if row.get("sentence1") and row.get("sentence2") and row.get("score"):
                    pairs.append((row["sentence1"], row["sentence2"], float(row["score"])))
    return pairs


def measure_profiles(
    embedder: Any, pairs: Sequence[tuple[str, str, float]], source: str = "", batch_size: int = 32
) -> list[EmbedderProfile]:
    """One profile per pairing in :data:`PAIRINGS` for ``embedder`` from scored ``pairs``."""
    kept = [p for p in pairs if p[2] <= UNRELATED_MAX_SCORE or p[2] >= RELATED_MIN_SCORE]
    if not any(p[2] <= UNRELATED_MAX_SCORE for p in kept) or not any(p[2] >= RELATED_MIN_SCORE for p in kept):
        raise ValueError("need both unrelated (score <= 1) and related (score >= 4) pairs")
    first = embedder.embed([p[0] for p in kept], batch_size=batch_size, side="query")
    second = {
        "query/passage": embedder.embed([p[1] for p in kept], batch_size=batch_size, side="passage"),
        "query/query": embedder.embed([p[1] for p in kept], batch_size=batch_size, side="query")
        if not getattr(embedder, "symmetric", True)
        else None,
    }
    gold = np.array([p[2] for p in kept])
    out = []
    for pairing in PAIRINGS:
        vectors = second[pairing] if second[pairing] is not None else second["query/passage"]
        cosines = np.einsum("ij,ij->i", first, vectors)
        unrelated = cosines[gold <= UNRELATED_MAX_SCORE]
        related = cosines[gold >= RELATED_MIN_SCORE]
        out.append(
            EmbedderProfile(
                embedder=str(embedder.name),
                unrelated=round(float(np.percentile(unrelated, UNRELATED_PERCENTILE)), 4),
                related=round(float(np.median(related)), 4),
                pairing=pairing,
                unrelated_pairs=len(unrelated),
                related_pairs=len(related),
                source=source,
            )
        )
    return out
