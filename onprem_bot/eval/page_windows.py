"""Structure-aware chunks vs a naive page-window baseline, in one run, with the product's hybrid retrieval.

``python -m onprem_bot.eval.page_windows PDF_FOLDER QUESTIONS.jsonl [--json OUT.json] [--k 1,5,10]``

* **structure**: every PDF read by the product's loader (``load_document`` + ``normalized_document``)
  and cut by its chunker (``chunk_document`` with the configured chunker and token limit);
* **windows**: pypdf's plain ``extract_text()`` of each page cut into 500-character windows (no
  overlap, the last shorter one kept, whitespace-only ones dropped), each labelled with the title
  the loader gives the document and its page.

Both sets go through the product's :class:`IndexBuilder` (BM25 over Mecab morphemes with the title
fields, the configured embedder's vectors through the embedding cache) into temporary index folders
and are searched by :class:`HybridRetriever` in ``hybrid`` mode, i.e. fused and boosted exactly as in
the product. The user's home is not touched: the embedding cache is its own SQLite file (``--cache``,
default under the system temp folder), so a rerun embeds nothing again.

A retrieved chunk is a hit when it is of the gold document (``doc_title``, or the loaded title of
``doc_file``) and its ``article`` is the gold one (spaces ignored; gold ``부칙`` accepts any 부칙
label), or it covers the gold ``page`` (``page``..``page_end``). Windows carry no article, so only the
page rule applies to them. ``--time-ingest`` only times loading and chunking (no embedding).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onprem_bot.config import Settings, load_settings
from onprem_bot.errors import OnpremBotError, QueryError
from onprem_bot.eval.metrics import covers_page, hit_at, mrr_at, same_article
from onprem_bot.eval.retrieval import read_questions
from onprem_bot.types import Chunk

WINDOW_CHARS = 500
KINDS = ("article", "table", "supplementary", "exception")
SETS = ("structure", "windows")
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "onprem-bot-page-windows" / "embeddings.db"


@dataclass(frozen=True)
class Loaded:
    """The structure chunks of a folder of PDFs, the loader's title per file, and how long it took."""

    chunks: list[Chunk]
    titles: dict[str, str]
    seconds: float


def pdf_paths(folder: Path) -> list[Path]:
    """The PDFs directly in ``folder``, sorted by name."""
    if not folder.is_dir():
        raise OnpremBotError(f"폴더가 없습니다 (folder not found): {folder}")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".pdf")
    if not paths:
        raise OnpremBotError(f"PDF가 없습니다 (no PDF in): {folder}")
    return paths


def document_id(index: int) -> str:
    """The document id of the ``index``-th PDF (shared by both chunk sets)."""
    return f"doc{index:03d}"


def load_structure(paths: Sequence[Path], settings: Settings, tables: bool = True) -> Loaded:
    """Load and chunk every PDF as ingestion does (no embedding); timed. ``tables=False``: pypdf
    text only, as before table extraction (for the ingest-time ratio)."""
    from onprem_bot.ingest.chunking import chunk_document
    from onprem_bot.ingest.loaders.base import normalized_document
    from onprem_bot.ingest.loaders.pdf import load_pdf

    started = time.perf_counter()
    chunks: list[Chunk] = []
    titles: dict[str, str] = {}
    for i, path in enumerate(paths):
        doc = normalized_document(load_pdf(path, tables=tables))
        _, found = chunk_document(doc, document_id(i), settings.ingest.chunker, settings.ingest.max_tokens)
        chunks.extend(found)
        titles[path.name] = doc.title
    return Loaded(chunks, titles, time.perf_counter() - started)


def page_windows(path: Path, title: str, doc_id: str, size: int = WINDOW_CHARS) -> list[Chunk]:
    """``size``-character windows of each page's plain pypdf text, labelled with ``title`` and the page."""
    from pypdf import PdfReader

    out: list[Chunk] = []
    for number, page in enumerate(PdfReader(path).pages, start=1):
        text = page.extract_text() or ""
        for start in range(0, len(text), size):
            piece = text[start : start + size]
            if not piece.strip():
                continue
            out.append(
                Chunk(
                    id=f"{doc_id}-p{number}-w{start // size}",
                    document_id=doc_id,
                    ordinal=len(out),
                    kind="page_window",
                    text=piece,
                    doc_title=title,
                    page=number,
                    page_end=number,
                    char_start=start,
                    char_end=start + len(piece),
                )
            )
    return out


def _squash(text: object) -> str:
    return "".join(str(text or "").split())


def is_hit(chunk: Chunk, gold: Mapping[str, Any], titles: Mapping[str, str]) -> bool:
    """Same document AND (same article, any 부칙 for gold 부칙, or the chunk covers the gold page): the
    rule of :func:`onprem_bot.eval.metrics.is_relevant`, with the title also read off ``doc_file``."""
    wanted = {_squash(gold.get("doc_title")), _squash(titles.get(str(gold.get("doc_file") or ""), ""))} - {""}
    if _squash(chunk.doc_title) not in wanted:
        return False
    article = str(gold.get("article") or "")
    return (bool(article) and same_article(chunk.article, article)) or covers_page(chunk, gold.get("page"))


def first_hit(chunks: Sequence[Chunk], gold: Mapping[str, Any], titles: Mapping[str, str]) -> int | None:
    """1-based rank of the first hit among ``chunks``, or None."""
    return next((rank for rank, c in enumerate(chunks, start=1) if is_hit(c, gold, titles)), None)


def summarise(ranks: Sequence[int | None], ks: Sequence[int]) -> dict[str, float]:
    """``n``, hit@k for each k and MRR@10 of one group of questions."""
    return {
        "n": len(ranks),
        **{f"hit@{k}": round(hit_at(ranks, k), 4) for k in ks},
        "mrr@10": round(mrr_at(ranks, 10), 4),
    }


def metrics(ranks: Sequence[int | None], kinds: Sequence[str], ks: Sequence[int]) -> dict[str, Any]:
    """Overall and per-kind summaries (the four known kinds first, then any other)."""
    order = [k for k in KINDS if k in kinds] + sorted(set(kinds) - set(KINDS))
    by_kind = {kind: summarise([r for r, q in zip(ranks, kinds, strict=True) if q == kind], ks) for kind in order}
    return {"overall": summarise(ranks, ks), "by_kind": by_kind}


def _retriever(chunks: list[Chunk], root: Path, settings: Settings, cached: Any, synonyms: Any, analyzer: Any) -> Any:
    from onprem_bot.index.builder import IndexBuilder
    from onprem_bot.index.retriever import HybridRetriever
    from onprem_bot.index.store import IndexStore

    store = IndexStore(root)
    IndexBuilder(store, analyzer, cached, settings.retrieval, settings.embedder.batch_size).build(chunks, progress=True)
    return HybridRetriever(store, analyzer, cached, synonyms, settings.retrieval)


def evaluate(
    folder: Path, rows: Sequence[Mapping[str, Any]], settings: Settings, ks: Sequence[int], cache: Path
) -> dict[str, Any]:
    """Build both chunk sets and indexes, search every question in ``hybrid`` mode, return the report."""
    from onprem_bot.app import build_embedder
    from onprem_bot.embed.cache import CachedEmbedder
    from onprem_bot.korean.analyzer import KoreanAnalyzer
    from onprem_bot.korean.synonyms import SynonymDictionary
    from onprem_bot.storage.db import Database

    paths = pdf_paths(folder)
    loaded = load_structure(paths, settings)
    windows = [w for i, p in enumerate(paths) for w in page_windows(p, loaded.titles[p.name], document_id(i))]
    cache.parent.mkdir(parents=True, exist_ok=True)
    db = Database(f"sqlite:///{cache.resolve()}")
    db.migrate()
    cached = CachedEmbedder(build_embedder(settings), db)
    synonyms = SynonymDictionary.default([settings.retrieval.synonyms_file or settings.home / "synonyms.tsv"])
    analyzer = KoreanAnalyzer()
    depth = max(*ks, 10)
    kinds = [str(r.get("kind") or "other") for r in rows]
    report: dict[str, Any] = {
        "folder": str(folder),
        "pdfs": len(paths),
        "questions": len(rows),
        "embedder": cached.name,
        "fusion": settings.retrieval.fusion,
        "ingest_seconds": round(loaded.seconds, 2),
        "chunks": {"structure": len(loaded.chunks), "windows": len(windows)},
        "sets": {},
        "per_question": [{"question": r.get("question"), "kind": k} for r, k in zip(rows, kinds, strict=True)],
    }
    try:
        with tempfile.TemporaryDirectory(prefix="onprem-page-windows-") as tmp:
            for name, chunks in (("structure", loaded.chunks), ("windows", windows)):
                print(f"{name}: {len(chunks)} chunks, indexing", file=sys.stderr)
                retriever = _retriever(chunks, Path(tmp) / name, settings, cached, synonyms, analyzer)
                ranks: list[int | None] = []
                for row, entry in zip(rows, report["per_question"], strict=True):
                    try:
                        found = [chunks[r.position] for r in retriever.rank(str(row["question"]), depth, "hybrid")]
                    except QueryError:
                        found = []
                    ranks.append(first_hit(found, row, loaded.titles))
                    entry[name] = {"rank": ranks[-1], "top": [_where(c) for c in found[:3]]}
                report["sets"][name] = metrics(ranks, kinds, ks)
    finally:
        db.dispose()
    return report


def _where(chunk: Chunk) -> str:
    pages = f"p.{chunk.page}" + (f"-{chunk.page_end}" if chunk.page_end not in (None, chunk.page) else "")
    return " ".join(x for x in (chunk.doc_title, chunk.article or "", pages if chunk.page else "") if x)


def format_table(report: Mapping[str, Any], ks: Sequence[int]) -> str:
    """One row per (kind, set): n, hit@k, MRR@10."""
    head = f"{'kind':<14}{'set':<10}{'n':>4}" + "".join(f"{'hit@' + str(k):>8}" for k in ks) + f"{'MRR@10':>8}"
    lines = [
        f"{report['pdfs']} PDFs, {report['questions']} questions, embedder {report['embedder']}, "
        f"chunks: structure {report['chunks']['structure']}, windows {report['chunks']['windows']}",
        head,
    ]
    first = report["sets"][SETS[0]]
    for kind in ["overall", *first["by_kind"]]:
        for name in SETS:
            m = report["sets"][name]
            s = m["overall"] if kind == "overall" else m["by_kind"][kind]
            lines.append(
                f"{kind:<14}{name:<10}{s['n']:>4}"
                + "".join(f"{s[f'hit@{k}']:>8.3f}" for k in ks)
                + f"{s['mrr@10']:>8.3f}"
            )
    return "\n".join(lines)


def parse_ks(text: str) -> list[int]:
    """``1,5,10`` → ``[1, 5, 10]`` (positive, sorted, distinct)."""
    try:
        ks = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: comma-separated integers") from None
    if not ks or ks[0] < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: each k must be >= 1")
    return ks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m onprem_bot.eval.page_windows", description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="folder of PDFs")
    parser.add_argument("questions", type=Path, nargs="?", help="JSONL question file (not needed with --time-ingest)")
    parser.add_argument("--json", dest="json_out", type=Path, help="write the report here")
    parser.add_argument("--k", type=parse_ks, default=[1, 5, 10], help="cut-offs (default 1,5,10)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"embedding cache (default {DEFAULT_CACHE})")
    parser.add_argument("--time-ingest", action="store_true", help="only time loading + chunking of the folder")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if args.time_ingest:  # best of two runs each, alternating, so both see the same warm caches
            paths = pdf_paths(args.folder)
            runs = [load_structure(paths, settings, tables) for _ in range(2) for tables in (False, True)]
            before = min(runs[0::2], key=lambda r: r.seconds)
            loaded = min(runs[1::2], key=lambda r: r.seconds)
            ratio = loaded.seconds / before.seconds
            print(
                f"load + chunk (no embedding), {len(loaded.titles)} PDFs: with tables {loaded.seconds:.2f} s "
                f"({len(loaded.chunks)} chunks), pypdf text only {before.seconds:.2f} s ({len(before.chunks)} chunks), "
                f"ratio {ratio:.2f}"
            )
            report: dict[str, Any] = {
                "ingest_seconds": round(loaded.seconds, 2),
                "ingest_seconds_without_tables": round(before.seconds, 2),
                "ratio": round(ratio, 3),
                "pdfs": len(loaded.titles),
                "chunks": len(loaded.chunks),
            }
        else:
            if args.questions is None:
                parser.error("QUESTIONS is required (unless --time-ingest)")
            rows = [row for _, row in read_questions(args.questions)]
            report = evaluate(args.folder, rows, settings, args.k, args.cache)
            report["dataset"] = str(args.questions)
            print(format_table(report, args.k))
            print(f"ingest (load + chunk): {report['ingest_seconds']:.2f} s")
    except OnpremBotError as exc:
        print(f"오류 (error): {exc}", file=sys.stderr)
        return 1
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"JSON: {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
