"""The Welfare-QA retrieval set: questions sampled from ``QA_total.csv``, each labelled with its document's title.

The data set (``Ash-Hun/Welfare-QA``) is laid out as::

    ROOT/QA_total.csv          Question,Answer,Documents  (UTF-8; CP949 and a BOM are read too)
    ROOT/docs/**/<name>.md     one welfare service per file; the first line is its title

``Documents`` names the source document by its title, which is meant to be the first line of a doc
file. A handful of values are spelt differently from that line (``,`` for ``·``, a stray space,
``임신, 출산`` for ``임신,출산``), so values are matched to doc files on a normalised key (letters
and digits only), and two values that name no document's title are mapped by hand (``DOC_ALIASES``,
checked against the doc text). Rows whose document still cannot be found are skipped.

The label written for each question is the doc file's title as it will be loaded:

* ``title_source="first_line"`` (default): the first non-empty line of the file, stripped and cut
  at 100 characters: what the plain-text loader makes a ``.txt`` file's title;
* ``title_source="loader"``: whatever :func:`onprem_bot.ingest.loaders.load_document` gives. For
  the data set's ``.md`` files (no front matter, no ``#`` heading) that is today the file name's stem
  (``01_LPG용기_사용가구_시설개선``), not the first line. A value whose matching files load with
  different titles (the same service filed twice) is ambiguous in this mode and its rows are skipped.

Run ``python -m onprem_bot.eval.welfare ROOT OUT.jsonl [--n 300] [--seed 0]`` to write the set.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from onprem_bot.ingest.loaders.text import TITLE_MAX, read_text_file

QA_FILE = "QA_total.csv"
DOCS_DIR = "docs"
DOC_SUFFIXES = (".txt", ".md")
TITLE_SOURCES = ("first_line", "loader")

# ``Documents`` values that are no document's title even after normalisation, mapped to the title
# of the document that answers their questions (checked by reading both):
DOC_ALIASES: dict[str, str] = {
    # 6 questions on where to apply for solar/wind installation support; the answer (한국에너지공단
    # 신재생에너지센터, 1855-3020) is in the "신재생에너지 설치 지원" document.
    "신재생에너지센터": "신재생에너지 설치 지원",
    # 3 questions on the 5% / 7억 / 지방 5억 limits, all stated in the "전세자금 보증" document.
    "전세자금 보증 대상": "전세자금 보증",
}

_QUESTION_COLUMNS = ("question", "질문")
_DOCUMENT_COLUMNS = ("documents", "document", "문서", "출처")


def _spaces(text: str) -> str:
    return " ".join(text.split())


def match_key(title: str) -> str:
    """A title reduced to its letters and digits (NFKC, lower case): spacing and punctuation ignored."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", title).lower() if ch.isalnum())


def welfare_documents(root: Path) -> list[Path]:
    """The welfare-service document files under ``ROOT/docs`` (``.md``/``.txt``, README files left out), sorted."""
    docs = Path(root) / DOCS_DIR
    if not docs.is_dir():
        raise FileNotFoundError(f"no {DOCS_DIR}/ folder in {root}")
    return sorted(
        p
        for p in docs.rglob("*")
        if p.is_file()
        and p.suffix.lower() in DOC_SUFFIXES
        and not p.name.startswith(".")
        and not p.stem.lower().startswith("readme")
    )


def first_line_title(path: Path) -> str:
    """The first non-empty line, stripped, at most 100 characters (the plain-text loader's title)."""
    text = read_text_file(path)
    for line in text.split("\n"):
        if line.strip():
            return line.strip()[:TITLE_MAX]
    return path.stem


def loaded_title(path: Path) -> str:
    """The title :func:`~onprem_bot.ingest.loaders.load_document` gives the file."""
    from onprem_bot.ingest.loaders import load_document

    return load_document(path).title


def _column(header: Sequence[str], accepted: Sequence[str]) -> str:
    by_name = {h.strip().lstrip("\ufeff").lower(): h for h in header}
    for name in accepted:
        if name in by_name:
            return by_name[name]
    raise ValueError(f"{QA_FILE}: none of the columns {list(accepted)} in {list(header)}")


def read_qa_rows(root: Path) -> list[tuple[str, str]]:
    """``(question, Documents value)`` for every row of ``QA_total.csv`` with both filled, in file order."""
    text = read_text_file(Path(root) / QA_FILE)  # UTF-8 (BOM or not), else CP949/EUC-KR
    reader = csv.DictReader(io.StringIO(text))
    header = list(reader.fieldnames or [])
    q_col, d_col = _column(header, _QUESTION_COLUMNS), _column(header, _DOCUMENT_COLUMNS)
    rows: list[tuple[str, str]] = []
    for row in reader:
        question = " ".join((row.get(q_col) or "").split())
        document = (row.get(d_col) or "").strip()
        if question and document:
            rows.append((question, document))
    return rows


@dataclass
class Resolution:
    """How the ``Documents`` values matched the doc files."""

    rows: list[dict[str, str]] = field(default_factory=list)  # {"question", "doc_title"}, file order
    total_rows: int = 0
    exact: int = 0  # values equal to a doc's first line (whitespace normalised)
    normalised: dict[str, str] = field(default_factory=dict)  # value -> first line, matched on match_key
    aliased: dict[str, str] = field(default_factory=dict)  # value -> first line, through DOC_ALIASES
    missing: dict[str, int] = field(default_factory=dict)  # value -> rows skipped
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # value -> differing loaded titles
    ambiguous_rows: dict[str, int] = field(default_factory=dict)  # value -> rows skipped
    duplicate_questions: int = 0
    duplicate_titles: dict[str, list[str]] = field(default_factory=dict)  # first line -> files sharing it

    def summary(self) -> str:
        lines = [
            f"{self.total_rows} Q/A rows, {len(self.rows)} usable; values matched exactly: {self.exact} rows",
            f"skipped: {sum(self.missing.values())} rows of a missing document, "
            f"{sum(self.ambiguous_rows.values())} of an ambiguous one, {self.duplicate_questions} repeated questions",
        ]
        lines += [f"  normalised: {v!r} -> {t!r}" for v, t in sorted(self.normalised.items())]
        lines += [f"  alias:      {v!r} -> {t!r}" for v, t in sorted(self.aliased.items())]
        lines += [f"  missing:    {v!r} ({n} rows)" for v, n in sorted(self.missing.items())]
        lines += [f"  ambiguous:  {v!r} loads as {ts}" for v, ts in sorted(self.ambiguous.items())]
        lines += [f"  same title: {t!r} in {fs}" for t, fs in sorted(self.duplicate_titles.items())]
        return "\n".join(lines)


def resolve(root: Path, title_source: str = "first_line") -> Resolution:
    """Match every Q/A row's ``Documents`` value to doc files and label it with the doc title."""
    if title_source not in TITLE_SOURCES:
        raise ValueError(f"title_source must be one of {TITLE_SOURCES}, not {title_source!r}")
    root = Path(root)
    by_line: dict[str, list[Path]] = {}  # first line, whitespace collapsed
    by_key: dict[str, list[Path]] = {}  # match_key of the first line
    first_lines: dict[Path, str] = {}
    for path in welfare_documents(root):
        first_lines[path] = first_line_title(path)
        by_line.setdefault(_spaces(first_lines[path]), []).append(path)
        by_key.setdefault(match_key(first_lines[path]), []).append(path)

    out = Resolution()
    for paths in by_line.values():
        if len(paths) > 1:
            out.duplicate_titles[first_lines[paths[0]]] = [p.relative_to(root).as_posix() for p in paths]

    def find(title: str) -> tuple[list[Path], bool]:
        """Files whose first line is ``title``: exactly (whitespace aside), else on the normalised key."""
        exact = by_line.get(_spaces(title))
        return (exact, True) if exact else (by_key.get(match_key(title), []), False)

    label_cache: dict[str, str | None] = {}

    def label(value: str) -> str | None:
        if value in label_cache:
            return label_cache[value]
        paths, exact = find(value)
        aliased = not paths and value in DOC_ALIASES
        if aliased:
            paths, _ = find(DOC_ALIASES[value])
        result: str | None = None
        if paths:
            titles = sorted({first_lines[p] if title_source == "first_line" else loaded_title(p) for p in paths})
            if len(titles) > 1:
                out.ambiguous[value] = titles
            else:
                result = titles[0]
                if aliased:
                    out.aliased[value] = first_lines[paths[0]]
                elif not exact:
                    out.normalised[value] = first_lines[paths[0]]
        label_cache[value] = result
        return result

    seen: set[str] = set()
    qa_rows = read_qa_rows(root)
    out.total_rows = len(qa_rows)
    for question, value in qa_rows:
        title = label(value)
        if title is None:
            skipped = out.ambiguous_rows if value in out.ambiguous else out.missing
            skipped[value] = skipped.get(value, 0) + 1
            continue
        if question in seen:
            out.duplicate_questions += 1
            continue
        seen.add(question)
        if value not in out.normalised and value not in out.aliased:
            out.exact += 1
        out.rows.append({"question": question, "doc_title": title})
    return out


def welfare_questions(
    root: Path, n: int = 300, seed: int = 0, *, title_source: str = "first_line"
) -> list[dict[str, str]]:
    """A deterministic random sample of ``n`` rows ``{"question", "doc_title"}`` (fewer if fewer exist).

    Rows whose document is missing (or, with ``title_source="loader"``, ambiguous) and repeated
    questions are left out before sampling; the same ``root``, ``n`` and ``seed`` give the same list.
    """
    return _sample(resolve(root, title_source).rows, n, seed)


def _sample(rows: list[dict[str, str]], n: int, seed: int) -> list[dict[str, str]]:
    return random.Random(seed).sample(rows, min(max(n, 0), len(rows)))


def write_jsonl(rows: Iterable[Mapping[str, str]], path: Path) -> int:
    """Write one JSON object per line (UTF-8, Korean unescaped); returns the number of rows."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(dict(row), ensure_ascii=False) + "\n")
            count += 1
    return count


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m onprem_bot.eval.welfare ROOT OUT.jsonl [--n 300] [--seed 0] [--title-source ...]``."""
    parser = argparse.ArgumentParser(prog="python -m onprem_bot.eval.welfare", description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="the Welfare-QA folder (QA_total.csv and docs/)")
    parser.add_argument("out", type=Path, help="the JSONL file to write")
    parser.add_argument("--n", type=int, default=300, help="questions to sample (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--title-source",
        choices=TITLE_SOURCES,
        default="first_line",
        help="label with the doc's first line (default) or with the title load_document gives it",
    )
    args = parser.parse_args(argv)
    resolution = resolve(args.root, args.title_source)
    count = write_jsonl(_sample(resolution.rows, args.n, args.seed), args.out)
    print(resolution.summary(), file=sys.stderr)
    print(f"wrote {count} questions to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
