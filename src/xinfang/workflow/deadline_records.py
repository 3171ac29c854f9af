"""Deadline records: every statutory deadline a body had, kept as a fact (issue #9 §1).

``track`` runs inside the transaction of every action (``engine.perform``) and of registration.
It compares the petition's clock after the action with the open record and, when they differ,
closes the open one (met, late, extended or void) and opens the one the new state starts.  The
completion report of an assigned petition (Art. 22(3)) runs beside the main clock and is tracked
here too; supervision notices open and close theirs through ``open_record``/``close_records``.

The rules of what counts as met (docs/statistics.md §2):

* a deadline is met on the day the body acts and the petition leaves that step (any action that
  moves it on: a unit's objection meets its acceptance deadline just as accepting does);
* an approved extension ends the handling record as *extended* and opens an *extension* record
  from the old due date to the new one (Art. 34);
* withdrawal, merging and a forwarding taken back make the obligation fall away (*void*).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from xinfang.organisations.models import Organisation
from xinfang.petitions.choices import STAFF_DEADLINE_STATUSES, Status
from xinfang.petitions.models import Petition

from .models import DeadlineKind, DeadlineOutcome, DeadlineRecord

# Which deadline the petition's own clock is in each state where staff must act.
KIND_FOR_STATUS: dict[str, str] = {
    Status.REGISTERED: DeadlineKind.DISPOSAL,
    Status.RETURNED: DeadlineKind.DISPOSAL,  # the office decides again on the unit's objection
    Status.FORWARDED: DeadlineKind.UNIT_ACCEPTANCE,
    Status.ASSIGNED: DeadlineKind.UNIT_ACCEPTANCE,
    Status.ACCEPTED: DeadlineKind.HANDLING,
    Status.UNDER_REVIEW: DeadlineKind.REVIEW,
    Status.UNDER_RECHECK: DeadlineKind.RECHECK,
    Status.DISPUTED: DeadlineKind.JURISDICTION,
}
MAIN_KINDS = frozenset({*KIND_FOR_STATUS.values(), DeadlineKind.EXTENSION})
# Actions after which the open deadline no longer binds anyone.
VOIDING_ACTIONS = frozenset({"withdraw", "merge"})


def _actor(user: Any) -> Any:
    """The staff member to record, or None for the petitioner and for Xinfang itself."""
    return user if getattr(user, "is_authenticated", False) and getattr(user, "pk", None) else None


def close(record: DeadlineRecord, *, on: dt.date, user: Any, action: str, outcome: str | None = None) -> None:
    """End ``record`` on ``on``: met or late by its due date unless ``outcome`` says otherwise."""
    record.closed_on = on
    record.closed_by = _actor(user)
    record.closed_by_action = action[:40]
    record.outcome = outcome or (DeadlineOutcome.MET if on <= record.due_on else DeadlineOutcome.LATE)
    record.save(update_fields=["closed_on", "closed_by", "closed_by_action", "outcome"])


def open_record(
    petition: Petition,
    *,
    kind: str,
    organisation: Organisation,
    started_on: dt.date,
    due_on: dt.date,
    reference: int | None = None,
) -> DeadlineRecord:
    return DeadlineRecord.objects.create(
        petition=petition, kind=kind, organisation=organisation, organisation_path=organisation.path,
        started_on=started_on, due_on=due_on, reference=reference,
    )  # fmt: skip


def close_records(
    petition: Petition,
    *,
    kind: str,
    user: Any,
    action: str,
    reference: int | None = None,
    outcome: str | None = None,
) -> None:
    """Close the open records of ``kind`` (and ``reference``) of ``petition`` today."""
    records = DeadlineRecord.objects.filter(petition=petition, kind=kind, closed_on__isnull=True)
    if reference is not None:
        records = records.filter(reference=reference)
    for record in records:
        close(record, on=timezone.localdate(), user=user, action=action, outcome=outcome)


def responsible_body(petition: Petition, kind: str) -> Organisation:
    """Who must meet the petition's running deadline of ``kind``."""
    from .engine import handling_organisation, open_appeal

    if kind in {DeadlineKind.REVIEW, DeadlineKind.RECHECK}:
        appeal = open_appeal(petition)
        if appeal is not None:
            return appeal.body
    if kind == DeadlineKind.JURISDICTION:
        from .disputes import open_dispute

        dispute = open_dispute(petition)
        if dispute is not None:
            return dispute.body
    if kind == DeadlineKind.DISPOSAL:
        return petition.office
    return handling_organisation(petition)


def _expected_kind(petition: Petition, action: str, current: DeadlineRecord | None) -> str | None:
    if petition.status not in STAFF_DEADLINE_STATUSES or petition.due_on is None:
        return None
    kind = KIND_FOR_STATUS[petition.status]
    if kind == DeadlineKind.HANDLING and (
        action == "approve_extension" or (current is not None and current.kind == DeadlineKind.EXTENSION)
    ):
        return DeadlineKind.EXTENSION
    return kind


def track(petition: Petition, *, action: str, user: Any, source: str = "") -> None:
    """Bring the petition's deadline records in line with its state after ``action``."""
    today = timezone.localdate()
    # A petition being registered has no record, no assignment and no report yet: nothing to read
    # (three statements fewer in every registration, docs/performance.md "Registration throughput").
    registering = action == "register"
    current = (
        None
        if registering
        else DeadlineRecord.objects.filter(petition=petition, kind__in=MAIN_KINDS, closed_on__isnull=True)
        .select_related("organisation")
        .first()
    )
    kind = _expected_kind(petition, action, current)
    body = responsible_body(petition, kind) if kind else None
    unchanged = (
        current is not None
        and kind is not None
        and current.kind == kind
        and current.due_on == petition.due_on
        and current.organisation_id == body.pk
        and source == petition.status
    )
    if unchanged:
        return
    if current is not None:
        outcome = None
        if action in VOIDING_ACTIONS:
            outcome = DeadlineOutcome.VOID
        elif action == "approve_extension":
            outcome = DeadlineOutcome.EXTENDED
        close(current, on=today, user=user, action=action, outcome=outcome)
    if kind is not None:
        started = petition.received_on if action == "register" else today
        if kind == DeadlineKind.EXTENSION and current is not None:
            started = current.due_on
        open_record(petition, kind=kind, organisation=body, started_on=started, due_on=petition.due_on)
    if not registering:
        _track_completion_report(petition, action=action, user=user, today=today)


def _track_completion_report(petition: Petition, *, action: str, user: Any, today: dt.date) -> None:
    """交办: the unit owes the office a completion report by the assignment's due date (Art. 22(3)).
    Opened with the assignment, met by the unit's reply, void when the assignment ends otherwise."""
    from .models import Assignment

    open_reports = list(
        DeadlineRecord.objects.filter(
            petition=petition, kind=DeadlineKind.COMPLETION_REPORT, closed_on__isnull=True
        )
    )
    assignment = (
        Assignment.objects.filter(petition=petition, ended_at__isnull=True, report_required=True)
        .exclude(report_due_on=None)
        .first()
    )
    for record in open_reports:
        if action == "reply":
            close(record, on=today, user=user, action=action)
        elif assignment is None or assignment.unit_id != record.organisation_id or action in VOIDING_ACTIONS:
            close(record, on=today, user=user, action=action, outcome=DeadlineOutcome.VOID)
        else:
            return  # still running
    if assignment is not None and action in {"assign", "overrule_return"}:
        open_record(
            petition, kind=DeadlineKind.COMPLETION_REPORT, organisation=assignment.unit,
            started_on=today, due_on=assignment.report_due_on,
        )  # fmt: skip
