"""The workbench panels of reception days (core.worklists): the office's clerks see today's
bookings (今日接待预约), a leader their next sessions (我的接待日).  Two queries per panel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from xinfang.core.worklists import WorkItem, WorkPanel, panel
from xinfang.organisations.choices import RoleCode

from .models import HOLDING, ReceptionBooking, ReceptionSession, SessionStatus
from .services import MANAGER_ROLES


def reception_panels(user: Any, today: dt.date) -> list[WorkPanel]:
    found: list[WorkPanel | None] = []
    if user.organisation_id and user.has_role(*MANAGER_ROLES):
        found.append(_todays_bookings(user, today))
    if user.has_role(RoleCode.LEADER):
        found.append(_my_sessions(user, today))
    return [p for p in found if p is not None]


def _todays_bookings(user: Any, today: dt.date) -> WorkPanel | None:
    qs = ReceptionBooking.objects.filter(
        session__organisation_id=user.organisation_id,
        session__date=today,
        session__status=SessionStatus.SCHEDULED,
        status__in=HOLDING,
    )
    day_url = reverse("reception:day") + f"?date={today.isoformat()}"
    return panel(
        qs.select_related("slot").order_by("slot__starts_at", "id"),
        lambda b: WorkItem(
            title=f"{b.slot.starts_at:%H:%M} {b.name}（{b.phone_mask}）",
            url=reverse("reception:booking", args=[b.pk]),
            reason=b.get_status_display(),
            due_on=today,
        ),
        key="reception-today",
        label=_("今日接待预约"),
        reason=_("今天的领导接待日有群众预约来访，请做好接待准备并登记。"),
        list_url=day_url,
        export_url=day_url + "&export=xlsx",
    )


def _my_sessions(user: Any, today: dt.date) -> WorkPanel | None:
    qs = ReceptionSession.objects.filter(leader=user, date__gte=today, status=SessionStatus.SCHEDULED)
    return panel(
        qs.select_related("organisation").order_by("date", "start_time", "id"),
        lambda s: WorkItem(
            title=f"{s.organisation.name} {s.start_time:%H:%M}-{s.end_time:%H:%M} {s.place}",
            url=reverse("reception:session", args=[s.pk]),
            reason=_("轮班接待"),
            due_on=s.date,
        ),
        key="reception-mine",
        label=_("我的接待日"),
        reason=_("您是这些领导接待日的接待领导。"),
        list_url=reverse("reception:sessions") + "?mine=1",
        export_url=reverse("reception:sessions") + "?mine=1&export=xlsx",
    )
