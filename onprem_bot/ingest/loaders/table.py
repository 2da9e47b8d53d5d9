"""CSV/XLSX files that are not Q&A lists: one ``table_row`` block per row (header first)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from onprem_bot.errors import LoaderError
from onprem_bot.ingest.loaders.base import Block, LoadedDocument


def read_rows(path: Path) -> list[list[str]]:
    """All rows of a CSV (UTF-8 or CP949/EUC-KR) or of the first sheet of an XLSX file."""
    if path.suffix.lower() == ".xlsx":
        try:
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise LoaderError(path, f"XLSX 파일을 읽을 수 없습니다 (unreadable XLSX: {exc})") from exc
        try:
            sheet = wb.worksheets[0]
            return [["" if v is None else str(v).strip() for v in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            wb.close()
    from onprem_bot.ingest.loaders.text import read_text_file

    text = read_text_file(path)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)]


def load_table(path: Path) -> LoadedDocument:
    """A table as a document: each non-empty row becomes ``a | b | c`` (doc_type ``table``)."""
    rows = [r for r in read_rows(path) if any(r)]
    blocks = tuple(Block(" | ".join(c for c in row if c), kind="table_row") for row in rows)
    return LoadedDocument(path=path, title=path.stem, doc_type="table", blocks=blocks)
