"""XLSX export of a petition list (openpyxl): the same rows and columns as the list on screen,
personal data masked, one audit row per export.

``petitions_xlsx(qs, title, user)`` is reusable by any list: the workbench sections and the
queue (``/staff/export/?<queue parameters>``) call it with the queryset the page itself lists.
The workbook is built in memory in openpyxl's write-only mode (rows are streamed into the file,
not kept as cell objects) and stops at ``EXPORT_CAP`` rows: past that the first line of the sheet
says the list was cut and asks to narrow the filters.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core.xlsx import xlsx_response

from .sections import Section
from .selectors import Row, load_page, rows_for

EXPORT_CAP = 10_000
# Rows loaded from the database at a time: bounded memory, a fixed number of queries per batch.
BATCH = 500


def columns() -> list[str]:
    """The column headings, in the order of the list on screen."""
    return [
        _("信访编号"), _("标题"), _("信访人"), _("证件号码"), _("联系电话"), _("信访形式"), _("问题分类"),
        _("问题属地"), _("状态"), _("承办单位"), _("承办人"), _("收到日期"), _("登记日期"), _("期限"),
        _("剩余天数"), _("事由"),
    ]  # fmt: skip


def row_values(row: Row) -> list[Any]:
    """One petition as a sheet row: masks only (ID and phone numbers are never decrypted)."""
    p = row.petition
    people = list(p.petitioners.all())  # prefetched, masked columns only
    first = people[0] if people else None
    names = "、".join(person.name for person in people)
    if row.due_on is None:
        left: Any = ""
    elif row.staff_deadline:
        left = row.days_left
    else:
        left = _("信访人期限")  # a petitioner's window: no days left to count down for staff
    return [
        p.number,
        p.title,
        names,
        first.id_number_mask if first else "",
        first.phone_mask if first else "",
        p.get_channel_display(),
        p.category.name,
        p.locality.name,
        p.get_status_display(),
        row.handling_unit.name if row.handling_unit is not None else "",
        str(row.handler) if row.handler is not None else "",
        p.received_on,
        timezone.localtime(p.registered_at).date(),
        row.due_on or "",
        left,
        row.reason,
    ]


def export_rows(qs: Any, section: Section | None, user: Any, cap: int = EXPORT_CAP) -> tuple[list[Row], bool]:
    """The first ``cap`` rows of ``qs`` (ordered as listed) and whether there were more, loaded
    ``BATCH`` at a time (ids by the list's own order, then those rows: ``selectors.load_page``)."""
    today = timezone.localdate()
    rows: list[Row] = []
    offset = 0
    while offset < cap:
        size = min(BATCH, cap - offset)
        batch = load_page(qs, section, user, offset=offset, limit=size)
        rows.extend(rows_for(batch, section, user, today))
        if len(batch) < size:
            return rows, False
        offset += size
    return rows, qs[cap : cap + 1].exists()


def petitions_xlsx(
    qs: Any,
    title: str,
    user: Any,
    *,
    section: Section | None = None,
    filters: dict[str, Any] | None = None,
    cap: int = EXPORT_CAP,
) -> HttpResponse:
    """An XLSX download of ``qs`` (already restricted and ordered as the list shows it), audited as
    ``petition.export`` with the number of rows and the filters."""
    rows, capped = export_rows(qs, section, user, cap)
    record_event(
        actor=user,
        action="petition.export",
        data={
            "count": len(rows),
            "capped": capped,
            "title": title,
            "section": section.key if section is not None else "",
            "filters": filters or {},
        },
    )
    note = _("仅导出前{n}件；列表超过{n}件，请缩小筛选范围后分批导出。").format(n=cap) if capped else ""
    response = xlsx_response(title=title, header=columns(), rows=(row_values(r) for r in rows), note=note)
    if capped:
        response["X-Export-Capped"] = str(cap)
    return response
