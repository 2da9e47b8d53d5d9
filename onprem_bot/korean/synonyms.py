"""Colloquial → legal-term dictionary for BM25 query expansion (``월급`` → ``임금``, ``짤리다`` → ``해고``)."""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from onprem_bot.korean.analyzer import KoreanAnalyzer
from onprem_bot.korean.normalize import normalize

PACKAGED_FILE = "synonyms.tsv"
_CARRIER = "문제"  # a plain noun put after a key to analyse it as it appears mid-sentence

# An analysed dictionary: first key token → [(key tokens, canonical tokens)], longest keys first;
# under the key "" the keys matched on the question's text (no spaces) → canonical tokens.
_Index = dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]


def _parse_line(line: str, where: str) -> tuple[str, tuple[str, ...]] | None:
    """``(key, canonicals)`` of one dictionary line, or ``None`` for a blank line or comment."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if line.count("\t") != 1:
        raise ValueError(f"{where}: expected 'colloquial<TAB>canonical1,canonical2', got {line.rstrip()!r}")
    raw_key, raw_values = line.split("\t")
    key = normalize(raw_key)
    if not key:
        raise ValueError(f"{where}: empty colloquial term in {line.rstrip()!r}")
    values = tuple(normalize(v) for v in raw_values.split(","))
    if not values or any(not v for v in values):
        raise ValueError(f"{where}: empty canonical term in {line.rstrip()!r}")
    return key, values


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    """Whether ``shorter`` occurs as a contiguous run in ``longer``."""
    k = len(shorter)
    return any(longer[i : i + k] == shorter for i in range(len(longer) - k + 1))


def _key_variants(key: str, analyzer: KoreanAnalyzer) -> list[tuple[str, ...]]:
    """The token sequences ``key`` may appear as in a question.

    Mecab analyses a word differently alone and inside a sentence (``정리해고`` alone is ``정리`` + the
    verb ``해``; ``정리해고를`` is ``정리`` + ``해고``), so a noun key is also analysed with a particle
    and with a following noun. A variant that is part of a longer variant is an under-analysis and is
    dropped (``정리`` would match every 정리).
    """
    variants = [tuple(analyzer.tokens(key))]
    if not key.endswith("다"):  # a noun phrase: also try it where questions put it
        variants.append(tuple(analyzer.tokens(key + "를")))
        followed = tuple(analyzer.tokens(key + " " + _CARRIER))
        if followed[-1:] == (_CARRIER,):
            variants.append(followed[:-1])
    unique = [v for i, v in enumerate(variants) if v and v not in variants[:i]]
    kept = [v for v in unique if not any(len(o) > len(v) and _contains(o, v) for o in unique)]
    return [v for v in kept if not _lost_prefix(v, key)]


def _lost_prefix(variant: tuple[str, ...], key: str) -> bool:
    """Whether the analyser kept only the end of ``key`` (``재계약`` → ``계약``, ``무면허`` → ``면허``).

    Such a variant would fire on every question with the shorter, far commoner word; the key is
    matched on the question's text instead (see :meth:`SynonymDictionary.expand`).
    """
    compact = key.replace(" ", "")
    return len(variant) == 1 and len(variant[0]) < len(compact) and compact.endswith(variant[0])


def _read_entries(source: str, text: str) -> dict[str, tuple[str, ...]]:
    """The entries of one dictionary file named ``source`` with content ``text``; a key given twice is an error."""
    entries: dict[str, tuple[str, ...]] = {}
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        parsed = _parse_line(line, f"{source}:{number}")
        if parsed is None:
            continue
        key, values = parsed
        if key in entries:
            raise ValueError(f"{source}:{number}: {key!r} is already defined on line {first_line[key]}")
        entries[key] = values
        first_line[key] = number
    return entries


@dataclass(frozen=True)
class SynonymDictionary:
    """Colloquial expressions and the legal terms they stand for.

    Matching is done on analyser tokens, so a key matches its inflected forms (``짤리다`` matches
    ``짤렸어요``) and particles do not matter (``집주인`` matches ``집주인이``).
    """

    entries: Mapping[str, tuple[str, ...]]
    _indexes: weakref.WeakKeyDictionary[KoreanAnalyzer, _Index] = field(
        default_factory=weakref.WeakKeyDictionary, init=False, repr=False, compare=False
    )

    @classmethod
    def load(cls, paths: Sequence[Path]) -> SynonymDictionary:
        """Read UTF-8 TSV files ``colloquial<TAB>canonical1,canonical2`` (``#`` starts a comment).

        Later files add entries and replace those with the same colloquial term; a missing file is
        skipped. A malformed line raises ``ValueError`` naming the file and line number.
        """
        entries: dict[str, tuple[str, ...]] = {}
        for path in paths:
            path = Path(path)
            if not path.is_file():
                continue
            entries.update(_read_entries(str(path), path.read_text(encoding="utf-8-sig")))
        return cls(MappingProxyType(entries))

    @classmethod
    def default(cls, extra: Sequence[Path] = ()) -> SynonymDictionary:
        """The packaged dictionary (``onprem_bot/data/synonyms.tsv``) extended by the ``extra`` files."""
        packaged = resources.files("onprem_bot.data").joinpath(PACKAGED_FILE)
        merged = _read_entries(str(packaged), packaged.read_text(encoding="utf-8-sig"))
        merged.update(cls.load(extra).entries)
        return cls(MappingProxyType(merged))

    def __len__(self) -> int:
        """The number of colloquial entries."""
        return len(self.entries)

    def _index(self, analyzer: KoreanAnalyzer) -> _Index:
        """The entries analysed by ``analyzer`` (computed once per analyser)."""
        index = self._indexes.get(analyzer)
        if index is not None:
            return index
        index = {}
        for key, values in self.entries.items():
            canonical: list[str] = []
            for value in values:
                for token in analyzer.tokens(value):
                    if token not in canonical:
                        canonical.append(token)
            variants = _key_variants(key, analyzer)  # none when the key is only stopwords
            for key_tokens in variants:
                index.setdefault(key_tokens[0], []).append((key_tokens, tuple(canonical)))
            if not variants and analyzer.tokens(key):  # the analyser loses its start: match the text
                index.setdefault("", []).append(((key.replace(" ", ""),), tuple(canonical)))
        for candidates in index.values():
            candidates.sort(key=lambda item: -len(item[0]))
        self._indexes[analyzer] = index
        return index

    def expand(self, tokens: list[str], analyzer: KoreanAnalyzer, text: str = "") -> list[str]:
        """``tokens`` followed by the tokens of the legal terms of every colloquial key found in them.

        A key is found when its analyser tokens occur consecutively in ``tokens``. A key whose start
        the analyser drops (``재계약`` is read as ``계약``) is found only in ``text``, the question
        itself (spaces ignored), so that it does not fire on the shorter word. Added tokens are not
        repeated and tokens already in the query are not added again.
        """
        index = self._index(analyzer)
        present = set(tokens)
        added: list[str] = []

        def add(canonical: tuple[str, ...]) -> None:
            for c in canonical:
                if c not in present:
                    present.add(c)
                    added.append(c)

        n = len(tokens)
        for i, token in enumerate(tokens):
            for key_tokens, canonical in index.get(token, ()) if token else ():
                k = len(key_tokens)
                if k <= n - i and (k == 1 or tuple(tokens[i : i + k]) == key_tokens):
                    add(canonical)
        compact = normalize(text).replace(" ", "") if text else ""
        for (raw,), canonical in index.get("", ()) if compact else ():
            if raw in compact:
                add(canonical)
        return tokens + added
