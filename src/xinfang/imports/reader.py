"""Reading an import file: CSV (UTF-8, with or without BOM, or GBK/GB18030 as Excel saves it on a
Chinese Windows) or XLSX (openpyxl read-only, streamed), as a header and rows of cell values."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_ROWS = 200_000  # one file; a larger history is split into several files (docs/import.md)


def sniff_format(name: str, head: bytes) -> str:
    """``xlsx`` for a ZIP container (what an .xlsx is), ``csv`` for anything else named .csv/.txt."""
    if head[:4] == b"PK\x03\x04":
        return "xlsx"
    if name.lower().endswith((".csv", ".txt")) or not name:
        return "csv"
    raise ValidationError(_("只能导入CSV或XLSX文件。"), code="file_format")


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(_("无法识别CSV文件的编码，请另存为UTF-8或GBK编码。"), code="file_encoding")


def read_rows(data: bytes, file_format: str) -> tuple[list[str], Iterator[list[Any]]]:
    """The header row and an iterator over the data rows (blank rows skipped)."""
    if file_format == "xlsx":
        return _read_xlsx(data)
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = [str(h) for h in next(reader)]
    except StopIteration:
        raise ValidationError(_("文件是空的。"), code="file_empty") from None
    return header, (row for row in reader if any((cell or "").strip() for cell in row))


def _read_xlsx(data: bytes) -> tuple[list[str], Iterator[list[Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds for a damaged file
        raise ValidationError(_("无法读取XLSX文件，请确认文件未损坏。"), code="file_damaged") from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        header = ["" if h is None else str(h) for h in next(rows)]
    except StopIteration:
        book.close()
        raise ValidationError(_("文件是空的。"), code="file_empty") from None

    def data_rows() -> Iterator[list[Any]]:
        try:
            for row in rows:
                if any(cell not in (None, "") for cell in row):
                    yield list(row)
        finally:
            book.close()

    return header, data_rows()
