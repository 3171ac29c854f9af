"""The campaigns panels of the workbench (core.worklists):

* "专项行动案件已逾期" — cases of the user's unit (or contracted to the user) still in progress
  after the campaign's end or the contract deadline;
* "救助待审批" — relief applications waiting for the leader's decision;
* "积案未包案" — when the area's contracting policy requires it (leadership ``ContractingPolicy
  .require_for_backlog``), the backlog cases in scope without an open contract, for the area's
  leaders and supervisors.

Each panel reads its count and its first ``PANEL_ROWS`` rows: two queries (three for the backlog).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from xinfang.core.worklists import WorkItem, WorkPanel, panel
from xinfang.petitions.models import Petition

from . import access, backlog
from .contracts import backlog_required, open_contract_of
from .models import CampaignCase, CaseStatus


def late_cases(user: Any, today: dt.date) -> Any:
    """In-progress cases of the user's unit, or contracted to the user, past a deadline."""
    if access.root_path(user) is None:
        return CampaignCase.objects.none()
    return (
        CampaignCase.objects.filter(
            Q(unit_id=user.organisation_id) | Q(leader=user), status=CaseStatus.IN_PROGRESS
        )
        .filter(Q(campaign__ends_on__lt=today) | Q(contract_due_on__lt=today))
        .filter(petition__in=Petition.objects.restrict(user))
        .select_related("petition", "campaign")
        .order_by("campaign__ends_on", "id")
    )


def uncontracted_backlog(user: Any, today: dt.date) -> Any:
    """Backlog cases in the user's scope without an open contract, when the policy requires one."""
    if not (access.may_configure(user) and backlog_required(user.organisation)):
        return Petition.objects.none()
    return backlog.backlog_cases(user, today).exclude(open_contract_of("pk"))


def panels(user: Any, today: dt.date) -> list[WorkPanel]:
    if access.root_path(user) is None:
        return []
    relief_url = reverse("campaigns:relief")
    backlog_url = reverse("campaigns:backlog")
    uncontracted = uncontracted_backlog(user, today)

    @cache  # the area's rule: read once, and only when the backlog panel has rows to explain
    def rule() -> Any:
        return backlog.rule_for(backlog.area_of(user))

    def backlog_item(p: Any) -> WorkItem:
        return WorkItem(
            title=p.title,
            url=reverse("petitions:detail", args=[p.number]),
            reason="、".join(backlog.reasons_of(p, rule(), today).labels),
            reference=p.number,
            due_on=p.due_on,
        )

    found = [
        panel(
            late_cases(user, today),
            lambda c: WorkItem(
                title=c.petition.title,
                url=reverse("campaigns:detail", args=[c.campaign_id]) + f"?unit={c.unit_id}",
                reason=c.campaign.name,
                reference=c.petition.number,
                due_on=min(d for d in (c.campaign.ends_on, c.contract_due_on) if d is not None),
            ),
            key="campaign-cases-late",
            label=_("专项行动案件已逾期"),
            reason=_(
                "这些积案由本单位负责或由您包案，已过专项行动结束日期或包案期限仍未化解；请尽快化解并登记化解情况。"
            ),
            list_url=reverse("campaigns:my_cases") + "?late=1",
            export_url=reverse("campaigns:my_cases") + "?late=1&export=xlsx",
            alert=True,
        ),
        panel(
            access.relief_awaiting(user).select_related("petition").order_by("recorded_at", "id"),
            lambda a: WorkItem(
                title=a.petition.title,
                url=reverse("campaigns:relief_detail", args=[a.pk]),
                reason=_("申请%(amount)s元") % {"amount": a.amount_requested},
                reference=a.petition.number,
            ),
            key="relief-awaiting",
            label=_("救助待审批"),
            reason=_("这些信访救助申请等待您审批；批准后由登记机关发放并登记。"),
            list_url=relief_url + "?status=applied",
            export_url=relief_url + "?status=applied&export=xlsx",
        ),
        panel(
            uncontracted,
            backlog_item,
            key="backlog-uncontracted",
            label=_("积案未包案"),
            reason=_("本地区要求信访积案由领导包案；这些积案尚无包案领导，请落实包案。"),
            list_url=backlog_url + "?uncontracted=1",
            export_url=backlog_url + "?uncontracted=1&export=xlsx",
            alert=True,
        ),
    ]
    return [p for p in found if p is not None]
