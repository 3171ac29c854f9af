"""The workbench panels of information reports (core.worklists): drafts returned to me, reports
awaiting my sign-off, signed reports my office has still to send, and the unread reports from
below; a panel holding an urgent report (紧急信息) is shown in red.  Each panel is a count and its
first rows: two queries whatever the number of reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.urls import reverse
from django.utils.translation import gettext as _

from xinfang.core.worklists import WorkItem, WorkPanel, panel

from . import services
from .models import InformationReport, ReportKind, ReportStatus

_URGENT_FIRST = Case(
    When(kind=ReportKind.URGENT, then=Value(0)), default=Value(1), output_field=IntegerField()
)


def _panel(
    key: str, label: str, reason: str, qs: QuerySet[InformationReport], list_url: str, item_reason: Any
) -> WorkPanel | None:
    sep = "&" if "?" in list_url else "?"
    return panel(
        # Urgent first, then oldest first: the one that has waited longest is at the top.
        qs.select_related("office").order_by(_URGENT_FIRST, "updated_at", "pk"),
        lambda r: WorkItem(
            title=(_("【紧急】") if r.is_urgent else "") + r.title,
            url=reverse("information:detail", args=[r.pk]),
            reason=item_reason(r),
            reference=r.issue_label or r.get_kind_display(),
        ),
        key=key,
        label=label,
        reason=reason,
        list_url=list_url,
        export_url=f"{list_url}{sep}export=xlsx",
        alert=lambda rows: any(r.is_urgent for r in rows),
    )


def panels(user: Any, today: dt.date) -> list[WorkPanel]:
    """The user's panels; empty for anyone the reports do not concern."""
    if not getattr(user, "is_authenticated", False) or not user.organisation_id:
        return []
    mine = reverse("information:list")
    found = [
        _panel(
            "information-returned", _("退回修改的信访信息"),
            _("签发领导退回了您拟写的信息，请修改后重新送签。"),
            InformationReport.objects.filter(drafted_by=user, status=ReportStatus.RETURNED),
            f"{mine}?status=returned", lambda r: r.return_reason[:40],
        ),
        _panel(
            "information-sign", _("待我签发的信访信息"), _("本机关报送上级的信息须经您签发。"),
            services.awaiting_signature(user), f"{mine}?status=submitted",
            lambda r: _("%(office)s送签") % {"office": r.office.name},
        ),
        _panel(
            "information-send", _("已签发待报送的信访信息"), _("领导已签发，请报送上级信访工作机构。"),
            InformationReport.objects.filter(office_id=user.organisation_id, status=ReportStatus.SIGNED)
            if services.can_draft(user) else InformationReport.objects.none(),
            f"{mine}?status=signed", lambda r: _("签发后待报送"),
        ),  # fmt: skip
        _panel(
            "information-inbox", _("下级报送的未读信息"),
            _("下级信访工作机构报送本机关的信息，请阅处并反馈采用情况。"),
            services.inbox(user).filter(read_at__isnull=True), f"{reverse('information:inbox')}?unread=1",
            lambda r: _("%(office)s报送") % {"office": r.office.name},
        ),
    ]  # fmt: skip
    return [p for p in found if p is not None]
