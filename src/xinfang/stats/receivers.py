"""Marking the days an action may have changed (stats.rollup)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from xinfang.petitions.models import Petition
from xinfang.workflow.models import Appeal, DeadlineRecord, DecisionLetter, Evaluation

from .rollup import mark_days


def days_of(petition: Petition) -> set[Any]:
    """Every day a figure places this petition or one of its facts on.  A handful of indexed
    lookups: an action changes at most these (its own day, the petition's received date through
    the state-dependent figures, and the dates of the records it opened or closed)."""
    days: set[Any] = {timezone.localdate(), petition.received_on, petition.concluded_on}
    days.update(DeadlineRecord.objects.filter(petition=petition).values_list("due_on", flat=True))
    for issued, window in DecisionLetter.objects.filter(petition=petition).values_list(
        "issued_at", "evaluation_due_on"
    ):
        days.update((timezone.localtime(issued).date(), window))
    days.update(
        timezone.localtime(at).date()
        for at in Evaluation.objects.filter(petition=petition).values_list("recorded_at", flat=True)
    )
    for received, decided in Appeal.objects.filter(petition=petition).values_list(
        "received_on", "decided_on"
    ):
        days.update((received, decided))
    return days


def on_transition(sender: Any, *, petition: Petition, action: str = "", **kwargs: Any) -> None:
    if action == "register":
        # A petition just registered has no letter, evaluation or appeal, and its one deadline
        # record is due on its own due date: its days are known without reading (four statements
        # fewer in every registration).
        mark_days({timezone.localdate(), petition.received_on, petition.concluded_on, petition.due_on})
        return
    mark_days(days_of(petition))
