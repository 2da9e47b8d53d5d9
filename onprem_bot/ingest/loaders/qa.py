"""Q&A loader: CSV (any Korean encoding, comma or tab) or XLSX with question/answer columns.

Columns are found by header name, in priority order, so ``질문`` wins over ``제목`` when a
file has both.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Generator, Iterable, Iterator, Sequence
from pathlib import Path

from onprem_bot.errors import LoaderError
from onprem_bot.ingest.loaders.base import LoadedDocument
from onprem_bot.ingest.loaders.text import decode_bytes, read_text_file

QUESTION_NAMES = ("question", "q", "질문", "문의", "제목")
ANSWER_NAMES = ("answer", "a", "답변", "응답", "답")
_HEADER_PROBE_BYTES = 64 * 1024
_FIELD_LIMIT = 16 * 1024 * 1024
_BLANK_LINES = re.compile(r"[ \t\u00a0\u3000]*\n\s*")


def _normalise(name: object) -> str:
    return re.sub(r"\s+", " ", str(name or "")).strip().lstrip("\ufeff").lower()


def find_columns(header: Sequence[object]) -> tuple[int, int] | None:
    """Indices of the (question, answer) columns in ``header``, or ``None``."""
    names = [_normalise(h) for h in header]

    def first(accepted: Iterable[str]) -> int | None:
        return next((names.index(n) for n in accepted if n in names), None)

    q, a = first(QUESTION_NAMES), first(ANSWER_NAMES)
    return (q, a) if q is not None and a is not None and q != a else None


def _clean(value: object) -> str:
    """Cell text with lines stripped and blank lines dropped."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    return _BLANK_LINES.sub("\n", text).strip()


def _delimiter(header_line: str) -> str:
    return "\t" if header_line.count("\t") > header_line.count(",") else ","


def _csv_rows(text: str) -> Iterator[list[str]]:
    first_line = text.split("\n", 1)[0]
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))  # long answers; only ever raised
    return csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))


def _xlsx_rows(path: Path) -> Generator[Sequence[object], None, None]:
    import openpyxl  # heavy; only needed for spreadsheets

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        yield from sheet.iter_rows(values_only=True)
    finally:
        workbook.close()


def _is_xlsx(path: Path) -> bool:
    return path.suffix.lower() in {".xlsx", ".xlsm"}


def _no_columns(path: Path, header: Sequence[object]) -> LoaderError:
    found = ", ".join(repr(str(h)) for h in header if h not in (None, "")) or "(없음/none)"
    return LoaderError(
        path,
        "질문/답변 열을 찾을 수 없습니다 (no question/answer columns): "
        f"found {found}; accepted question: {', '.join(QUESTION_NAMES)}; answer: {', '.join(ANSWER_NAMES)}",
    )


def load_qa(path: Path) -> LoadedDocument:
    """Load a Q&A CSV/XLSX into ``qa_pairs``; rows missing a question or an answer are skipped."""
    path = Path(path)
    rows: Iterator[Sequence[object]]
    try:
        rows = _xlsx_rows(path) if _is_xlsx(path) else _csv_rows(read_text_file(path))
        header = next(rows, None)
        if header is None:
            raise LoaderError(path, "빈 Q&A 파일입니다 (empty Q&A file)")
        columns = find_columns(header)
        if columns is None:
            raise _no_columns(path, header)
        q_col, a_col = columns
        pairs: list[tuple[str, str]] = []
        for row in rows:
            if len(row) <= max(q_col, a_col):
                continue
            question, answer = _clean(row[q_col]), _clean(row[a_col])
            if question and answer:
                pairs.append((question, answer))
    except LoaderError:
        raise
    except Exception as exc:  # csv.Error, openpyxl's InvalidFileException, BadZipFile, OSError…
        raise LoaderError(path, f"Q&A 파일을 읽을 수 없습니다 (unreadable Q&A file: {exc})") from exc
    if not pairs:
        raise LoaderError(path, "질문과 답변이 모두 있는 행이 없습니다 (no row has both a question and an answer)")
    metadata = {"question_column": str(header[q_col]).strip(), "answer_column": str(header[a_col]).strip()}
    return LoadedDocument(path, path.stem, "qa", qa_pairs=tuple(pairs), metadata=metadata)


def _xlsx_header(path: Path) -> Sequence[object] | None:
    rows = _xlsx_rows(path)
    try:
        return next(rows, None)
    finally:
        rows.close()  # closes the workbook


def _csv_header(path: Path) -> list[str] | None:
    with path.open("rb") as fh:
        head = fh.read(_HEADER_PROBE_BYTES)
    line = head.split(b"\n", 1)[0].rstrip(b"\r")  # 0x0A never occurs inside a CP949/UTF-8 character
    text = decode_bytes(line)
    if text is None:
        return None
    return next(csv.reader([text], delimiter=_delimiter(text)), None)


def looks_like_qa(path: Path) -> bool:
    """True when the file's header row has a question and an answer column (reads only the header)."""
    path = Path(path)
    try:
        header: Sequence[object] | None
        header = _xlsx_header(path) if _is_xlsx(path) else _csv_header(path)
    except Exception:  # unreadable here means "not a Q&A file"; the real loader reports why
        return False
    return header is not None and find_columns(header) is not None
