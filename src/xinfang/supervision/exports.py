"""XLSX export of a list of supervision notices (openpyxl, write-only mode, capped like the queue
export).  The notice lists have their own columns, so they do not go through the petition export of
``workbench.exports``; one audit event per export, as there."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core.xlsx import xlsx_response

EXPORT_CAP = 10_000


def columns() -> list[str]:
    return [
        _("信访编号"), _("标题"), _("督办方式"), _("督办机关"), _("被督办单位"), _("督办人"), _("督办时间"),
        _("挂牌领导"), _("督办要求"), _("反馈期限"), _("是否逾期"), _("督办状态"), _("升级程度"),
    ]  # fmt: skip


def row_values(notice: Any, today: Any) -> list[Any]:
    return [
        notice.petition.number,
        notice.petition.title,
        notice.get_kind_display(),
        notice.office.name,
        notice.unit.name,
        str(notice.issued_by),
        timezone.localtime(notice.issued_at).strftime("%Y-%m-%d %H:%M"),
        str(notice.leader) if notice.leader_id else "",
        notice.requirements,
        notice.respond_by,
        _("逾期") if notice.is_overdue(today) else "",
        notice.get_status_display(),
        notice.get_escalation_level_display(),
    ]


def notices_xlsx(qs: Any, *, title: str, user: Any, key: str) -> HttpResponse:
    """The notices of ``qs`` (as listed on screen) as an XLSX download, at most EXPORT_CAP rows."""
    today = timezone.localdate()
    rows = list(qs[: EXPORT_CAP + 1])
    cut = len(rows) > EXPORT_CAP
    rows = rows[:EXPORT_CAP]
    note = _("仅导出前{n}条，请缩小范围后再导出。").format(n=EXPORT_CAP) if cut else ""
    record_event(actor=user, action="supervision.export", data={"list": key, "rows": len(rows), "cut": cut})
    return xlsx_response(title=title, header=columns(), rows=(row_values(n, today) for n in rows), note=note)
