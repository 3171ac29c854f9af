"""The workbench panel "上级交办待报告" (core.worklists): the open referrals received in the
user's scope, by the upper level's deadline, with lateness.  A fixed number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from xinfang.core.worklists import WorkItem, WorkPanel, panel
from xinfang.organisations.choices import RoleCode

from .models import OPEN_REFERRAL_STATUSES, ReferralStatus
from .services import received_for

PANEL_ROLES = (RoleCode.INTAKE, RoleCode.HANDLER, RoleCode.SUPERVISOR, RoleCode.LEADER)


def received_panel(user: Any, today: dt.date) -> list[WorkPanel]:
    if getattr(user, "is_system_account", False) or not user.has_role(*PANEL_ROLES):
        return []
    qs = received_for(user).filter(report_required=True, status__in=OPEN_REFERRAL_STATUSES)
    found = panel(
        qs.select_related("petition").order_by("upper_due_on", "pk"),
        lambda r: WorkItem(
            title=r.petition.title,
            url=reverse("exchange:received_detail", args=[r.pk]),
            reason=_("{upper}交办，编号{case}").format(upper=r.upper_organisation, case=r.upper_case_number)
            + (_("（退回重报）") if r.status == ReferralStatus.RETURNED else ""),
            reference=r.petition.number,
            due_on=r.upper_due_on,
        ),
        key="exchange-received",
        label=_("上级交办待报告"),
        reason=_("上级交办的事项，须在上级期限前起草并印发办理情况报告，印发即报送上级。"),
        list_url=reverse("exchange:received"),
        export_url=reverse("exchange:received") + "?format=xlsx",
        alert=lambda rows: qs.filter(upper_due_on__lt=today).exists(),
    )
    return [found] if found is not None else []
