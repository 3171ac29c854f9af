"""Excel (.xlsx) downloads of lists: one writer for every export (the petition lists of the
workbench and the queue, supervision notices, accountability records).

openpyxl's write-only mode streams rows into the file; exports are capped by their callers (10,000
rows), so the finished file is built in memory.  The response is never cached (personal data) and
names the file in RFC 5987 form so a Chinese title survives in every browser.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(
    *, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], note: str = ""
) -> HttpResponse:
    """A download of one sheet: an optional ``note`` line (e.g. "only the first N rows"), the
    ``header``, then ``rows``.  The file is named after ``title`` and today's date."""
    workbook = Workbook(write_only=True)
    # Excel forbids \ / * ? : [ ] in sheet names and allows 31 characters.
    sheet = workbook.create_sheet(title=re.sub(r"[\\/*?:\[\]]", "", title)[:31] or "export")
    if note:
        sheet.append([note])
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    stem = re.sub(r"[^\w\-]+", "_", title).strip("_") or "export"  # \w keeps Chinese characters
    name = f"{stem}-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response
