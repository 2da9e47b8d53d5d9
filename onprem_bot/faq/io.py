"""FAQ files: CSV (UTF-8 or CP949) and XLSX in, CSV and XLSX out.

Columns ``question,answer[,category,alternatives,groups]`` (or the Korean headers 질문, 답변, 분류,
유사질문, 그룹); alternatives are separated by ``|`` or line breaks inside the cell. Rows are
streamed, so a 100,000-row file never sits in memory twice. On export, a cell starting with
``=``, ``+``, ``-``, ``@`` (or a tab/CR) is prefixed with ``'`` so a spreadsheet never runs it
as a formula; import strips that prefix again, so export → import is lossless.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from onprem_bot.faq.store import FaqEntry, FaqError

HEADERS = {
    "question": ("question", "질문", "q"),
    "answer": ("answer", "답변", "a", "답"),
    "category": ("category", "분류", "카테고리", "범주"),
    "alternatives": ("alternatives", "alternative", "유사질문", "다른질문", "paraphrases"),
    "groups": ("groups", "group", "그룹", "열람그룹", "열람 그룹"),
}
REQUIRED = ("question", "answer")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ALT_SPLIT = re.compile(r"\s*(?:\||\n)\s*")
_SNIFF_BYTES = 1 << 20

csv.field_size_limit(10_000_000)


def read_faq_file(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, {question, answer, category, alternatives})`` for every data row.

    Raises :class:`FaqError` naming the file for a missing file, an unknown type, missing
    columns or a broken encoding (with the line where decoding failed).
    """
    path = Path(path)
    if not path.is_file():
        raise FaqError(f"파일이 없습니다 (file not found): {path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        yield from _read_xlsx(path)
    elif suffix in (".csv", ".tsv", ".txt"):
        yield from _read_csv(path, "\t" if suffix == ".tsv" else ",")
    else:
        raise FaqError(f"지원하지 않는 형식입니다 (unsupported type) {path.name}; valid: .csv, .tsv, .xlsx")


def _encoding_of(path: Path) -> str:
    head = path.open("rb").read(_SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "cp949"):
        try:
            head.decode(encoding)
            return encoding
        except UnicodeDecodeError as exc:
            if encoding == "utf-8" and exc.start >= len(head) - 4:  # cut inside a character
                return encoding
    raise FaqError(f"문자 인코딩을 알 수 없습니다 (not UTF-8 or CP949): {path}; UTF-8로 저장해 주세요")


def _read_csv(path: Path, delimiter: str) -> Iterator[tuple[int, dict[str, Any]]]:
    encoding = _encoding_of(path)
    with path.open(encoding=encoding, newline="", errors="strict") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = next(reader, None)
            if header is None:
                raise FaqError(f"빈 파일입니다 (empty file): {path}")
            columns = _columns(header, path)
            for record in reader:
                if any(cell.strip() for cell in record):
                    yield reader.line_num, _row(record, columns)
        except UnicodeDecodeError:
            raise FaqError(
                f"{path}: {reader.line_num + 1}행 근처에서 문자 인코딩이 깨졌습니다 ({encoding} decode error); "
                "파일을 UTF-8로 다시 저장해 주세요"
            ) from None
        except csv.Error as exc:
            raise FaqError(f"{path}: {reader.line_num}행 CSV 형식 오류 (malformed CSV): {exc}") from None


def _read_xlsx(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken zip/xml
        raise FaqError(f"XLSX 파일을 읽을 수 없습니다 (unreadable workbook) {path}: {exc}") from None
    try:
        rows = book.active.iter_rows(values_only=True) if book.active is not None else iter(())
        header = next(rows, None)
        if header is None:
            raise FaqError(f"빈 시트입니다 (empty sheet): {path}")
        columns = _columns(["" if c is None else str(c) for c in header], path)
        for line, values in enumerate(rows, start=2):
            record = ["" if v is None else str(v) for v in values]
            if any(cell.strip() for cell in record):
                yield line, _row(record, columns)
    finally:
        book.close()


def _columns(header: Sequence[str], path: Path) -> dict[str, int]:
    names = [re.sub(r"\s+", "", h).lstrip("\ufeff").lower() for h in header]
    columns: dict[str, int] = {}
    for field, aliases in HEADERS.items():
        for i, name in enumerate(names):
            if name in aliases:
                columns[field] = i
                break
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise FaqError(
            f"{path.name}: 필수 열이 없습니다 (missing columns) {', '.join(missing)}; "
            f"있는 열 (found): {', '.join(h for h in header if h) or '없음'}; "
            "필요한 열: question,answer[,category,alternatives]"
        )
    return columns


def _row(record: Sequence[str], columns: dict[str, int]) -> dict[str, Any]:
    def cell(field: str) -> str:
        i = columns.get(field)
        return unescape_cell(record[i]) if i is not None and i < len(record) else ""

    alternatives = [a for a in _ALT_SPLIT.split(cell("alternatives")) if a]
    return {
        "question": cell("question"),
        "answer": cell("answer"),
        "category": cell("category"),
        "alternatives": alternatives,
        "groups": cell("groups"),
    }


def escape_cell(value: str) -> str:
    """``value`` made safe for a spreadsheet (no formula injection)."""
    return "'" + value if value.startswith(FORMULA_START) else value


def unescape_cell(value: str) -> str:
    """The inverse of :func:`escape_cell` for cells this product exported."""
    value = value.strip() if isinstance(value, str) else str(value)
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def write_faq_file(entries: Sequence[FaqEntry], path: Path) -> None:
    """Write ``entries`` as CSV (UTF-8 with BOM, for Excel) or XLSX, atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise FaqError(f"지원하지 않는 형식입니다 (unsupported type) {path.name}; valid: .csv, .xlsx")
    rows = [["question", "answer", "category", "alternatives", "enabled", "groups"]]
    for e in entries:
        rows.append(
            [
                e.question,
                e.answer,
                e.category,
                " | ".join(e.alternatives),
                "1" if e.enabled else "0",
                ",".join(e.groups),
            ]
        )
    safe = [rows[0], *[[escape_cell(c) for c in r] for r in rows[1:]]]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if suffix == ".csv":
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\r\n").writerows(safe)
            Path(tmp).write_text(buffer.getvalue(), encoding="utf-8-sig")
        else:
            from openpyxl import Workbook

            book = Workbook(write_only=True)
            sheet = book.create_sheet("FAQ")
            for r in safe:
                sheet.append(r)
            book.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
