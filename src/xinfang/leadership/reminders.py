"""Reminders of late work (the daily job ``leadership_overdue``): an instruction not answered by
its deadline rings the unit's staff and the leader; a contract that became late rings its team.

Each rings once per episode (``dedupe_key``): an instruction sent back with a new deadline may ring
again when that one passes; a late contract rings once.  Rows are read in chunks; the unit's staff
once per unit.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.notifications.services import notify

from . import selectors
from .models import ContractStatus, Instruction, InstructionStatus, LeaderContract
from .services import _unit_staff


def remind_overdue(today: dt.date | None = None) -> int:
    """Ring the bells of overdue instructions and late contracts; how many notifications were new."""
    today = today or timezone.localdate()
    rung = 0
    staff: dict[int, list[int]] = {}
    overdue = Instruction.objects.filter(status=InstructionStatus.OPEN, due_on__lt=today).select_related(
        "petition", "unit"
    )
    for i in overdue.iterator(chunk_size=500):
        if i.unit_id not in staff:
            staff[i.unit_id] = _unit_staff(i.unit)
        rung += notify(
            [*staff[i.unit_id], i.leader_id],
            kind="leadership.instruction_overdue",
            title=_("阅批已逾期：%(title)s") % {"title": i.petition.title},
            body=_("%(unit)s应于%(due)s前回复，尚未回复。") % {"unit": i.unit.name, "due": i.due_on},
            url=reverse("leadership:instruction", args=[i.pk]),
            dedupe_key=f"instruction-{i.pk}-overdue-{i.due_on}",
        )
    late = selectors.annotate_lateness(LeaderContract.objects.filter(status=ContractStatus.OPEN), today)
    for c in (
        late.filter(selectors.late_q(today)).select_related("petition", "dispute").iterator(chunk_size=500)
    ):
        rung += notify(
            [u for u in (c.leader_id, c.official_id, c.handler_id) if u],
            kind="leadership.contract_late",
            title=_("包案已逾期：%(subject)s") % {"subject": c.subject_title},
            body=_("办结期限 %(due)s；请推进工作节点，办结时填写办结情况。") % {"due": c.due_on},
            url=reverse("leadership:contract", args=[c.pk]),
            dedupe_key=f"contract-{c.pk}-late",
        )
    return rung
