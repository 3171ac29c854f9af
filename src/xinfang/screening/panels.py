"""The screening app's panels on the workbench (``core.worklists``):

* 排查任务待报送 — the returns the user's unit still owes (red when one is past its due date);
* 排查任务逾期未报单位 — for the staff of the office that issued a round: the units that are late.

Each panel is a count and its first rows, in a fixed number of queries whatever the rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from xinfang.core.worklists import WorkItem, WorkPanel, panel

from . import access
from .models import RoundReturn


def pending_of_my_units(user: Any) -> Any:
    return RoundReturn.objects.filter(
        unit_id__in=access.reporting_units_of(user), completed_at__isnull=True
    ).select_related("round", "unit")


def late_units_of_my_office(user: Any, today: dt.date) -> Any:
    return RoundReturn.objects.filter(
        round__office_id=user.organisation_id, completed_at__isnull=True, round__due_on__lt=today
    ).select_related("round", "unit")


def _url(**params: str) -> str:
    return reverse("screening:returns") + "?" + urlencode(params)


def provider(user: Any, today: dt.date) -> list[WorkPanel]:
    if not access.is_casework(user):
        return []
    found = [
        panel(
            pending_of_my_units(user).order_by("round__due_on", "pk"),
            lambda r: WorkItem(
                title=r.round.title,
                url=reverse("screening:return", args=[r.pk]),
                reason=r.unit.name,
                due_on=r.round.due_on,
            ),
            key="screening-returns",
            label=_("排查任务待报送"),
            reason=_("上级下发的矛盾纠纷排查任务，本单位须在报送期限前报送排查情况（无纠纷的报送零报告）。"),
            list_url=_url(mine="1", pending="1"),
            export_url=_url(mine="1", pending="1", format="xlsx"),
            alert=lambda rows: any(r.round.due_on < today for r in rows),
        )
    ]
    if access.may_issue(user):
        found.append(
            panel(
                late_units_of_my_office(user, today).order_by("round__due_on", "unit__path"),
                lambda r: WorkItem(
                    title=r.unit.name,
                    url=reverse("screening:round", args=[r.round_id]),
                    reason=r.round.title,
                    due_on=r.round.due_on,
                ),
                key="screening-late-units",
                label=_("排查任务逾期未报单位"),
                reason=_("本机关下发的排查任务，这些单位已过报送期限仍未报送，请督促。"),
                list_url=_url(issued="1", late="1"),
                export_url=_url(issued="1", late="1", format="xlsx"),
                alert=True,
            )
        )
    return [p for p in found if p is not None]
