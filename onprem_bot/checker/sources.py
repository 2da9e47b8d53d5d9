"""Sources for ``onprem-bot check`` read from files, numbered ``[1]``, ``[2]``… in the order given.

- ``.json``: the output of ``search --json`` (``{"hits": [...]}``), an ``ask --json`` answer's
  ``citations``, a list of objects, or one object; each object gives ``text`` (or ``snippet``),
  and optionally ``doc_title``, ``article``, ``location`` and ``n``. Every object is its own source
  and takes the next number unless it says ``n``.
- ``.jsonl``: one such object a line.
- any document the ingest loaders read (``.md``, ``.txt``, ``.pdf``, ``.hwp``…): cut into chunks
  like ``ingest`` does, so a whole statute file works (article labels included); all chunks of the
  file share the next number.

An empty sources file (no text, or JSON without any source text) is an error: nothing could be
checked against it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from onprem_bot.checker.prepare import Source
from onprem_bot.errors import OnpremBotError

MAX_ANSWER_CHARS = 100_000


class CheckInputError(OnpremBotError):
    """An answer or a sources file for the checker cannot be used."""


def read_sources(paths: Sequence[Path]) -> list[Source]:
    """The sources in ``paths``, numbered from 1 in order."""
    if not paths:
        raise CheckInputError("출처 파일을 하나 이상 주십시오 (no --sources file given)")
    out: list[Source] = []
    for path in map(Path, paths):
        if path.is_dir():
            raise CheckInputError(f"{path}: 폴더가 아니라 출처 파일을 주십시오 (a directory, not a sources file)")
        if not path.is_file():
            raise CheckInputError(f"{path}: 출처 파일이 없습니다 (sources file not found)")
        next_n = max((s.n for s in out), default=0) + 1
        reader = _from_json if path.suffix.lower() in (".json", ".jsonl") else _from_document
        found = reader(path, next_n)
        if not any(s.text.strip() for s in found):
            raise CheckInputError(f"{path}: 출처 파일이 비어 있습니다 (sources file is empty)")
        out.extend(found)
    return out


def read_answer(text: str) -> str:
    """The answer text (``-`` reads standard input), checked for size."""
    if text == "-":
        import sys

        text = sys.stdin.read()
    if len(text) > MAX_ANSWER_CHARS:
        raise CheckInputError(f"답변이 너무 깁니다: {len(text):,}자 (answer too long; limit {MAX_ANSWER_CHARS:,})")
    return text


def _objects(data: Any) -> Iterable[dict[str, Any]]:
    if isinstance(data, dict):
        for key in ("hits", "citations", "sources"):
            if isinstance(data.get(key), list):
                return [x for x in data[key] if isinstance(x, dict)]
        return [data]
    if isinstance(data, list):
        return [x for x in data if isinstance(x, dict)]
    return []


def _from_json(path: Path, next_n: int) -> list[Source]:
    raw = _read_text(path)
    try:
        if path.suffix.lower() == ".jsonl":
            data: Any = [json.loads(line) for line in raw.splitlines() if line.strip()]
        else:
            data = json.loads(raw) if raw.strip() else []
    except json.JSONDecodeError as exc:
        raise CheckInputError(f"{path}: JSON을 읽을 수 없습니다 (invalid JSON: line {exc.lineno}: {exc.msg})") from exc
    out = []
    for obj in _objects(data):
        text = obj.get("text") or obj.get("snippet") or ""
        if not isinstance(text, str):
            raise CheckInputError(f"{path}: 'text'가 문자열이 아닙니다 (text must be a string)")
        n = obj.get("n")
        if not (isinstance(n, int) and n > 0):
            n = next_n
        next_n = max(next_n, n) + 1
        out.append(
            Source(
                n=n,
                text=text,
                doc_title=str(obj.get("doc_title") or ""),
                article=str(obj["article"]) if obj.get("article") else None,
                location=str(obj.get("location") or ""),
            )
        )
    return out


def _from_document(path: Path, n: int) -> list[Source]:
    from onprem_bot.errors import LoaderError
    from onprem_bot.ingest.chunking import chunk_document
    from onprem_bot.ingest.loaders import load_document

    if path.stat().st_size == 0 or not _read_text(path, strict=False).strip():
        return [Source(n, "", path.stem)]
    try:
        doc = load_document(path)
    except LoaderError as exc:
        raise CheckInputError(str(exc)) from exc
    _, chunks = chunk_document(doc, f"check:{path}")
    # a snippet's "title" is its first line (제60조(연차 유급휴가)): then the law is unknown
    title = "" if re.match(r"제\s?\d+\s?조", doc.title) else doc.title
    if not chunks:
        return [Source(n, doc.text, title)]
    return [Source(n, c.text, title, c.article or _article_at_start(c.text), c.location) for c in chunks]


def _article_at_start(text: str) -> str | None:
    """``제60조`` when a snippet opens with its article heading (``제60조(연차 유급휴가)``)."""
    m = re.match(r"\s*제\s?(\d+)\s?조(?:의\s?(\d+))?", text)
    if m is None:
        return None
    return f"제{int(m.group(1))}조" + (f"의{int(m.group(2))}" if m.group(2) else "")


def _read_text(path: Path, strict: bool = True) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    if strict:
        raise CheckInputError(f"{path}: 텍스트로 읽을 수 없습니다 (not UTF-8 or CP949 text)")
    return "x"  # a binary document (PDF, HWP): let its loader read it
