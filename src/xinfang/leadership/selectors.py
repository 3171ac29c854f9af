"""Read-only queries of leadership for its pages, the API, the workbench panels and other apps.

Every list is scoped through ``access`` and reads what it shows in a fixed number of queries
(``select_related`` for the team and the subject, lateness and the next milestone as subqueries).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from xinfang.petitions.choices import FINAL_STATUSES
from xinfang.petitions.models import Petition

from . import access
from .models import (
    ContractMilestone,
    ContractStatus,
    Instruction,
    InstructionEntry,
    InstructionStatus,
    LeaderContract,
)


def open_contracts_by_petition(petition_ids: Iterable[int]) -> dict[int, LeaderContract]:
    """The open contract of each petition among ``petition_ids`` (one query; for campaigns and lists)."""
    rows = LeaderContract.objects.filter(
        status=ContractStatus.OPEN, petition_id__in=list(petition_ids)
    ).select_related("leader", "official", "handler")
    return {c.petition_id: c for c in rows}


def annotate_lateness(qs: QuerySet[LeaderContract], today: dt.date | None = None) -> QuerySet[LeaderContract]:
    """Add ``late_milestone`` (a step past due and not done) and ``next_milestone_due``."""
    today = today or timezone.localdate()
    undone = ContractMilestone.objects.filter(contract=OuterRef("pk"), done_on__isnull=True)
    next_due = undone.order_by().values("contract").annotate(m=Min("due_on")).values("m")
    return qs.annotate(
        late_milestone=Exists(undone.filter(due_on__lt=today)),
        next_milestone_due=Subquery(next_due[:1]),
    )


def late_q(today: dt.date) -> Q:
    """Open and past the deadline, or with a step past due (needs ``annotate_lateness``)."""
    return Q(status=ContractStatus.OPEN) & (Q(due_on__lt=today) | Q(late_milestone=True))


def contract_list(user: Any, today: dt.date | None = None) -> QuerySet[LeaderContract]:
    """The contracts ``user`` may see, with what the ledger shows."""
    qs = access.contracts_visible_to(user).select_related(
        "petition", "dispute", "leader", "official", "handler"
    )
    return annotate_lateness(qs, today).order_by("due_on", "id")


def my_contracts(user: Any, today: dt.date) -> QuerySet[LeaderContract]:
    """Open contracts where ``user`` is the leader, the official or the handler ("我包案的")."""
    qs = LeaderContract.objects.filter(
        Q(leader=user) | Q(official=user) | Q(handler=user), status=ContractStatus.OPEN
    ).select_related("petition", "dispute", "leader")
    return annotate_lateness(qs, today).order_by("due_on", "id")


def contracts_of_petition(petition: Petition) -> list[LeaderContract]:
    qs = LeaderContract.objects.filter(petition=petition).select_related("leader", "official", "handler")
    return list(annotate_lateness(qs).prefetch_related("milestones").order_by("-created_at", "-id"))


def instruction_list(user: Any) -> QuerySet[Instruction]:
    return (
        access.instructions_visible_to(user)
        .select_related("petition", "leader", "unit")
        .order_by("due_on", "id")
    )


def instructions_to_answer(user: Any) -> QuerySet[Instruction]:
    """Open instructions to the user's unit or a body it belongs to, soonest deadline first."""
    if not access.is_casework(user):
        return Instruction.objects.none()
    return (
        Instruction.objects.filter(status=InstructionStatus.OPEN, unit_id__in=access.own_line(user))
        .exclude(leader=user)
        .select_related("petition", "leader", "unit")
        .order_by("due_on", "id")
    )


def instructions_answered(user: Any) -> QuerySet[Instruction]:
    """The leader's instructions whose answer waits to be read."""
    return (
        Instruction.objects.filter(leader=user, status=InstructionStatus.ANSWERED)
        .select_related("petition", "unit")
        .order_by("answered_at", "id")
    )


def instructions_of_petition(petition: Petition) -> list[Instruction]:
    return list(
        Instruction.objects.filter(petition=petition)
        .select_related("leader", "unit")
        # the history with its people in one query, not one per relation
        .prefetch_related(Prefetch("entries", queryset=InstructionEntry.objects.select_related("actor")))
        .order_by("-created_at", "-id")
    )


def uncontracted_listed(user: Any) -> QuerySet[Petition]:
    """Petitions in the user's scope under live listed supervision (挂牌督办) without an open
    contract, when the policy of the user's area requires contracting them ("需包案未包案")."""
    from xinfang.supervision.selectors import listed_notices

    from .services import policy_for

    if not access.is_casework(user) or not (user.has_role("leader") or access.in_office(user)):
        return Petition.objects.none()
    policy = policy_for(user.organisation)
    if policy is None or not policy.require_for_listed:
        return Petition.objects.none()
    listed = listed_notices(user, scoped=False).values("petition_id")
    contracted = LeaderContract.objects.filter(status=ContractStatus.OPEN, petition__isnull=False).values(
        "petition_id"
    )
    return (
        Petition.objects.restrict(user)
        .filter(pk__in=listed)
        .exclude(pk__in=contracted)
        .exclude(status__in=FINAL_STATUSES)
        .order_by("due_on", "id")
    )
