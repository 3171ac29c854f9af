"""XLSX ledgers of reception days (core/xlsx.py): the day's bookings, the sessions, the outreach
visits, with the columns offices use.  Masks only, never decrypted values; one audit row each."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core.xlsx import xlsx_response

EXPORT_CAP = 10_000


def _audit(user: Any, key: str, rows: int) -> None:
    record_event(actor=user, action="reception.export", data={"list": key, "rows": rows})


def _hours(obj: Any) -> str:
    return f"{obj.start_time:%H:%M}-{obj.end_time:%H:%M}"


def day_xlsx(sessions: list[Any], *, day: dt.date, user: Any) -> HttpResponse:
    """The day's list (接待登记表): one row per booking, sessions without bookings shown too."""
    header = [
        _("接待日期"),
        _("机构"),
        _("接待领导"),
        _("职务"),
        _("地点"),
        _("时段"),
        _("姓名"),
        _("身份证号码"),
        _("手机号码"),
        _("反映事项简述"),
        _("状态"),
        _("登记的信访编号"),
    ]
    rows: list[list[Any]] = []
    for s in sessions:
        base = [s.date, s.organisation.name, s.leader.full_name, s.leader_title, s.place]
        bookings = [b for b in s.bookings.all() if b.status != "cancelled"]
        if not bookings:
            rows.append(
                [
                    *base,
                    _hours(s),
                    "",
                    "",
                    "",
                    _("（无预约）") if s.status == "scheduled" else s.get_status_display(),
                    "",
                    "",
                ]
            )
        for b in bookings:
            rows.append(
                [
                    *base,
                    str(b.slot),
                    b.name,
                    b.id_number_mask,
                    b.phone_mask,
                    b.description,
                    b.get_status_display(),
                    b.petition.number if b.petition_id else "",
                ]
            )
    _audit(user, "day", len(rows))
    return xlsx_response(title=_("接待登记表{day}").format(day=day.isoformat()), header=header, rows=rows)


def sessions_xlsx(qs: Any, *, user: Any) -> HttpResponse:
    rows = list(qs[:EXPORT_CAP])
    header = [
        _("接待日期"),
        _("时间"),
        _("机构"),
        _("接待领导"),
        _("职务"),
        _("地点"),
        _("可预约人数"),
        _("已预约"),
        _("状态"),
    ]
    _audit(user, "sessions", len(rows))
    return xlsx_response(
        title=_("领导接待日"),
        header=header,
        rows=(
            [
                s.date,
                _hours(s),
                s.organisation.name,
                s.leader.full_name,
                s.leader_title,
                s.place,
                s.capacity,
                s.booked_total or 0,
                s.get_status_display(),
            ]
            for s in rows
        ),
    )


def outreach_xlsx(qs: Any, *, user: Any) -> HttpResponse:
    rows = list(qs[:EXPORT_CAP])
    header = [
        _("日期"),
        _("类别"),
        _("组织单位"),
        _("地点"),
        _("带队领导"),
        _("参加人员"),
        _("涉及信访事项"),
        _("情况记录"),
    ]
    _audit(user, "outreach", len(rows))
    return xlsx_response(
        title=_("下访约访台账"),
        header=header,
        rows=(
            [
                v.date,
                v.get_kind_display(),
                v.organisation.name,
                v.place,
                "、".join(u.full_name or u.username for u in v.leaders.all()),
                "、".join(
                    [
                        *(u.full_name or u.username for u in v.staff.all()),
                        *([v.other_participants] if v.other_participants else []),
                    ]
                ),
                "、".join(p.number for p in v.petitions.all()),
                v.notes,
            ]
            for v in rows
        ),
    )
