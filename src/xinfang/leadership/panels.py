"""The leadership panels of the workbench (core.worklists): "我包案的" (the team of a contract),
"阅批待回复" (the unit named in an instruction), "阅批已回复，待阅" (the leader) and "需包案未包案"
(leaders and the petition office, when the area's policy requires contracting listed supervision).

Each panel reads its count and its first ``PANEL_ROWS`` rows: two queries, whatever the rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from xinfang.core.worklists import WorkItem, WorkPanel, panel

from . import access, selectors
from .models import LeaderContract


def _role(c: LeaderContract, user: Any) -> str:
    if c.leader_id == user.pk:
        return _("包案领导")
    return _("责任人") if c.official_id == user.pk else _("承办人")


def _contract_item(c: LeaderContract, user: Any, today: dt.date) -> WorkItem:
    """One contract of "我包案的": the user's part in it, and what is late or due next."""
    if c.is_late(today):
        reason = _("%(role)s · 已逾期") % {"role": _role(c, user)}
    elif c.next_milestone_due:
        reason = _("%(role)s · 下一节点 %(d)s") % {"role": _role(c, user), "d": c.next_milestone_due}
    else:
        reason = _role(c, user)
    return WorkItem(
        title=c.subject_title,
        url=reverse("leadership:contract", args=[c.pk]),
        reason=reason,
        reference=c.subject_number,
        due_on=c.due_on,
    )


def panels(user: Any, today: dt.date) -> list[WorkPanel]:
    """The leadership panels that concern ``user``."""
    if not access.is_casework(user):
        return []
    contracts_url = reverse("leadership:contracts")
    instructions_url = reverse("leadership:instructions")
    new_url = reverse("leadership:contract_new")
    mine = selectors.my_contracts(user, today)
    found = [
        panel(
            mine,
            lambda c: _contract_item(c, user, today),
            key="leadership-contracts",
            label=_("我包案的"),
            reason=_("您是这些案件的包案领导、责任人或承办人；请按计划推进并填报进展，办结时填写办结情况。"),
            list_url=contracts_url + "?mine=1",
            export_url=contracts_url + "?mine=1&format=xlsx",
            alert=lambda rows: mine.filter(selectors.late_q(today)).exists(),
        ),
        panel(
            selectors.instructions_to_answer(user),
            lambda i: WorkItem(
                title=i.petition.title,
                url=reverse("leadership:instruction", args=[i.pk]),
                reason=_("%(leader)s批示") % {"leader": i.leader},
                reference=i.petition.number,
                due_on=i.due_on,
            ),
            key="leadership-instructions-todo",
            label=_("阅批待回复"),
            reason=_("领导批示交本单位办理，请在办理期限内办理并回复，回复将送回批示领导。"),
            list_url=instructions_url + "?box=todo",
            export_url=instructions_url + "?box=todo&format=xlsx",
            alert=lambda rows: any(i.due_on < today for i in rows),
        ),
        panel(
            selectors.instructions_answered(user),
            lambda i: WorkItem(
                title=i.petition.title,
                url=reverse("leadership:instruction", args=[i.pk]),
                reason=i.unit.name,
                reference=i.petition.number,
                is_new=True,
            ),
            key="leadership-instructions-answered",
            label=_("阅批已回复，待阅"),
            reason=_("承办单位已回复您的批示：阅后办结，或要求继续办理。"),
            list_url=instructions_url + "?box=answered",
            export_url=instructions_url + "?box=answered&format=xlsx",
        ),
        panel(
            selectors.uncontracted_listed(user).only("id", "number", "title", "due_on"),
            lambda p: WorkItem(
                title=p.title,
                url=f"{new_url}?petition={p.number}",
                reason=_("挂牌督办"),
                reference=p.number,
                due_on=p.due_on,
            ),
            key="leadership-uncontracted",
            label=_("需包案未包案"),
            reason=_("按本地包案要求，挂牌督办事项须由领导包案；请确定包案领导、措施和期限。"),
            list_url=contracts_url + "?box=uncontracted",
            export_url=contracts_url + "?box=uncontracted&format=xlsx",
            alert=True,
        ),
    ]
    return [p for p in found if p is not None]
