"""Deadline records derived from a petition's timeline (issue #9 §1).

Two writers need the records without having run ``deadline_records.track`` action by action: a
site upgraded from before the records existed (``xinfang backfill_deadlines``) and the demo seed,
which writes its rows in bulk.  Both describe the petition after each action as a ``Tick`` and
call ``derive``, which applies exactly the rules of ``track`` (same kinds, same start dates, same
met / late / extended / void), so the derived records are those the services would have written.

What is exact and what is reconstructed (docs/procedure.md, "Deadline records of older petitions"):
the order, dates, bodies and actors of the actions come from the timeline and the assignments,
appeals and disputes; the due dates come from the stored values where the history keeps them
(an approved extension's new date, the recheck date after a hearing, the petition's running
``due_on``) and are otherwise recounted with ``deadlines.due_date`` under today's rule book.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from xinfang.organisations.models import Organisation
from xinfang.petitions.choices import STAFF_DEADLINE_STATUSES, EventKind, Status
from xinfang.petitions.models import Petition, PetitionEvent

from .deadline_records import KIND_FOR_STATUS, VOIDING_ACTIONS
from .deadlines import due_date
from .models import (
    Appeal,
    AppealKind,
    Assignment,
    DeadlineKind,
    DeadlineOutcome,
    DeadlineRecord,
    DecisionLetter,
    ExtensionRequest,
    JurisdictionDispute,
    Step,
)
from .transitions import TRANSITIONS

MET, LATE = DeadlineOutcome.MET.value, DeadlineOutcome.LATE.value
EXTENDED, VOID = DeadlineOutcome.EXTENDED.value, DeadlineOutcome.VOID.value
_EXTENSION, _HANDLING = DeadlineKind.EXTENSION.value, DeadlineKind.HANDLING.value
_REPORT = DeadlineKind.COMPLETION_REPORT.value
_STAFF = frozenset(str(s) for s in STAFF_DEADLINE_STATUSES)
_KIND = {str(s): str(k) for s, k in KIND_FOR_STATUS.items()}


class Tick(NamedTuple):
    """The petition right after one action, as ``track`` sees it."""

    action: str
    on: dt.date  # the local day of the action
    source: str  # the state before ("" for registration)
    status: str  # the state after
    due_on: dt.date | None  # Petition.due_on after the action
    body_id: int | None  # who must meet the running deadline (deadline_records.responsible_body)
    actor_id: int | None  # the staff member who acted (None: the petitioner or Xinfang)
    # (unit, report due date) of the open assignment owing a completion report, if any.
    report: tuple[int, dt.date] | None = None


class Derived(NamedTuple):
    """One DeadlineRecord's values."""

    kind: str
    organisation_id: int
    started_on: dt.date
    due_on: dt.date
    closed_on: dt.date | None
    closed_by_id: int | None
    outcome: str
    closed_by_action: str


def _expected_kind(tick: Tick, current: list | None) -> str | None:
    if tick.status not in _STAFF or tick.due_on is None:
        return None
    kind = _KIND[tick.status]
    if kind == _HANDLING and (tick.action == "approve_extension" or (current and current[0] == _EXTENSION)):
        return _EXTENSION
    return kind


def _close(record: list, tick: Tick, outcome: str | None = None) -> None:
    record[4], record[5], record[7] = tick.on, tick.actor_id, tick.action[:40]
    record[6] = outcome or (MET if tick.on <= record[3] else LATE)


def derive(received_on: dt.date, ticks: Iterable[Tick]) -> list[Derived]:
    """The deadline records ``track`` writes for a petition received on ``received_on`` whose
    actions, registration first, are ``ticks`` (in order)."""
    records: list[list] = []
    current: list | None = None  # the open record of the petition's own clock
    reports: list[list] = []  # open completion-report records
    for tick in ticks:
        kind = _expected_kind(tick, current)
        body = tick.body_id if kind else None
        if (
            current is not None
            and kind is not None
            and current[0] == kind
            and current[3] == tick.due_on
            and current[1] == body
            and tick.source == tick.status
        ):
            continue  # track returns early: nothing changes, not even the completion report
        if current is not None:
            outcome = VOID if tick.action in VOIDING_ACTIONS else None
            if tick.action == "approve_extension":
                outcome = EXTENDED
            _close(current, tick, outcome)
        previous, current = current, None
        if kind is not None:
            started = received_on if tick.action == "register" else tick.on
            if kind == _EXTENSION and previous is not None:
                started = previous[3]
            current = [kind, body, started, tick.due_on, None, None, "", ""]
            records.append(current)
        reports = _completion_report(records, reports, tick)
    return [Derived(*r) for r in records]


def _completion_report(records: list[list], reports: list[list], tick: Tick) -> list[list]:
    """交办: as ``deadline_records._track_completion_report``."""
    for record in reports:
        if tick.action == "reply":
            _close(record, tick)
        elif tick.report is None or tick.report[0] != record[1] or tick.action in VOIDING_ACTIONS:
            _close(record, tick, VOID)
        else:
            return reports  # still running
    reports = []
    if tick.report is not None and tick.action in {"assign", "overrule_return"}:
        unit, due = tick.report
        reports = [[_REPORT, unit, tick.on, due, None, None, "", ""]]
        records.append(reports[0])
    return reports


# --- the backfill ----------------------------------------------------------------------------------

# The statutory period each kind of the petition's own clock runs under.
STEP_OF_KIND = {
    DeadlineKind.DISPOSAL: Step.DISPOSAL,
    DeadlineKind.UNIT_ACCEPTANCE: Step.UNIT_ACCEPTANCE,
    DeadlineKind.HANDLING: Step.HANDLING,
    DeadlineKind.REVIEW: Step.REVIEW,
    DeadlineKind.RECHECK: Step.RECHECK,
    DeadlineKind.JURISDICTION: Step.DISPOSAL,  # disputes.dispute_jurisdiction
}
# Actions that set a new clock without changing the state.
CLOCK_ACTIONS = frozenset({"approve_extension", "start_hearing", "end_hearing"})

DueRule = Callable[[str, dt.date, int], dt.date]


def memoised_due() -> DueRule:
    """``deadlines.due_date(step, start, organisation).due_on`` by organisation id, memoised."""
    organisations: dict[int, Organisation] = {}
    cache: dict[tuple[str, dt.date, int], dt.date] = {}

    def due(step: str, start: dt.date, org_id: int) -> dt.date:
        key = (step, start, org_id)
        if key not in cache:
            if org_id not in organisations:
                organisations[org_id] = Organisation.objects.get(pk=org_id)
            cache[key] = due_date(step, start, organisations[org_id]).due_on
        return cache[key]

    return due


def action_of(kind: str, source: str) -> str:
    """The transition that wrote an event of ``kind`` from state ``source``."""
    if kind == EventKind.REGISTERED:
        return "register"
    candidates = [t for t in TRANSITIONS.values() if t.event == kind]
    for t in candidates:
        if len(candidates) == 1 or source in t.sources:
            return t.action
    return str(kind)


class _History(NamedTuple):
    """What a batch of petitions' timelines need besides their events, by petition id."""

    assignments: dict[int, list[Assignment]]
    appeals: dict[int, list[Appeal]]
    disputes: dict[int, list[JurisdictionDispute]]
    letters: dict[int, list[DecisionLetter]]
    extensions: dict[int, list[ExtensionRequest]]


def _by_petition(rows: Iterable[Any]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        out[row.petition_id].append(row)
    return out


def _history(ids: Sequence[int]) -> _History:
    return _History(
        _by_petition(Assignment.objects.filter(petition_id__in=ids).order_by("assigned_at", "pk")),
        _by_petition(Appeal.objects.filter(petition_id__in=ids).order_by("received_on", "pk")),
        _by_petition(JurisdictionDispute.objects.filter(petition_id__in=ids).order_by("received_on", "pk")),
        _by_petition(DecisionLetter.objects.filter(petition_id__in=ids).order_by("issued_at", "pk")),
        _by_petition(
            ExtensionRequest.objects.filter(petition_id__in=ids, decision="approved").order_by("decided_at")
        ),
    )


def _open_assignment(assignments: list[Assignment], at: dt.datetime) -> Assignment | None:
    """The assignment open just after the action at ``at`` (written in its transaction, before it)."""
    found = None
    for a in assignments:
        if a.assigned_at <= at and (a.ended_at is None or a.ended_at > at):
            found = a
    return found


def _last_before(rows: list[Any], on: dt.date, field: str) -> Any:
    found = None
    for row in rows:
        if getattr(row, field) <= on:
            found = row
    return found


def ticks_of(petition: Petition, events: list[PetitionEvent], history: _History, due: DueRule) -> list[Tick]:
    """The petition after each action of its timeline, with the due dates recounted (or read back)."""
    pid = petition.pk
    ticks: list[Tick] = []
    status, due_on, clock_index = "", None, -1
    for event in events:
        data = event.data or {}
        if event.kind == EventKind.REGISTERED:
            source, target = "", Status.REGISTERED.value
        elif "to" in data:
            source, target = data.get("from", status), data["to"]
        else:
            continue  # not an action of the procedure (a repeat link, a note)
        action = action_of(event.kind, source)
        on = timezone.localdate(event.at)
        assignment = _open_assignment(history.assignments.get(pid, []), event.at)
        kind = _KIND.get(target)
        body = _body(petition, kind, assignment, history, on)
        report = None
        if assignment is not None and assignment.report_required and assignment.report_due_on is not None:
            report = (assignment.unit_id, assignment.report_due_on)
        if target not in _STAFF or action == "start_hearing":
            due_on = None
        elif target != source or action in CLOCK_ACTIONS or action == "register":
            due_on = _due_after(petition, action, kind, data, on, body, history, due)
            clock_index = len(ticks)
        ticks.append(Tick(action, on, source, target, due_on, body, event.actor_id, report))
        status = target
    if clock_index >= 0 and petition.status in _STAFF and ticks[-1].status == petition.status:
        # The running clock is stored on the petition: exact, whatever the rules say today.
        for i in range(clock_index, len(ticks)):
            ticks[i] = ticks[i]._replace(due_on=petition.due_on)
    return ticks


def _appeal(history: _History, petition_id: int, kind: str, on: dt.date) -> Appeal | None:
    """The review or recheck (by the deadline ``kind``) requested last on or before ``on``."""
    wanted = AppealKind.REVIEW if kind == DeadlineKind.REVIEW else AppealKind.RECHECK
    return _last_before(
        [a for a in history.appeals.get(petition_id, []) if a.kind == wanted], on, "received_on"
    )


def _body(
    petition: Petition, kind: str | None, assignment: Assignment | None, history: _History, on: dt.date
) -> int | None:
    """deadline_records.responsible_body, at the time of the action."""
    if kind in (DeadlineKind.REVIEW, DeadlineKind.RECHECK):
        appeal = _appeal(history, petition.pk, kind, on)
        if appeal is not None:
            return appeal.body_id
    if kind == DeadlineKind.JURISDICTION:
        dispute = _last_before(history.disputes.get(petition.pk, []), on, "received_on")
        if dispute is not None:
            return dispute.body_id
    if kind == DeadlineKind.DISPOSAL:
        return petition.office_id
    return assignment.unit_id if assignment is not None else petition.office_id


def _due_after(
    petition: Petition,
    action: str,
    kind: str | None,
    data: dict,
    on: dt.date,
    body: int | None,
    history: _History,
    due: DueRule,
) -> dt.date | None:
    """The petition's due date after ``action``: stored where the history keeps it, else recounted."""
    if data.get("due_on"):  # approve_extension, end_hearing
        return dt.date.fromisoformat(data["due_on"])
    if action == "approve_extension":
        approved = [e for e in history.extensions.get(petition.pk, []) if e.decided_at is not None]
        done = [e for e in approved if timezone.localdate(e.decided_at) <= on]
        return done[-1].new_due_on if done else None
    if action == "reject_completion":
        letter = None
        for row in history.letters.get(petition.pk, []):
            if timezone.localdate(row.issued_at) <= on:
                letter = row
        return letter.handling_due_on if letter is not None else None
    if kind is None or body is None:
        return None
    start = on
    if action == "register":
        start = petition.received_on
    elif kind in (DeadlineKind.REVIEW, DeadlineKind.RECHECK):
        appeal = _appeal(history, petition.pk, kind, on)
        start = appeal.received_on if appeal is not None else on
    return due(STEP_OF_KIND[kind], start, body)


def record_rows(petition_id: int, derived: list[Derived], paths: dict[int, str]) -> list[DeadlineRecord]:
    return [
        DeadlineRecord(
            petition_id=petition_id,
            kind=d.kind,
            organisation_id=d.organisation_id,
            organisation_path=paths[d.organisation_id],
            started_on=d.started_on,
            due_on=d.due_on,
            closed_on=d.closed_on,
            closed_by_id=d.closed_by_id,
            outcome=d.outcome,
            closed_by_action=d.closed_by_action,
        )  # fmt: skip
        for d in derived
    ]


def backfill_batch(ids: Sequence[int], due: DueRule, paths: dict[int, str]) -> int:
    """Derive and write the records of the petitions ``ids`` (one transaction); returns how many."""
    with transaction.atomic():
        petitions = list(Petition.objects.filter(pk__in=ids).order_by("pk"))
        events = _by_petition(PetitionEvent.objects.filter(petition_id__in=ids).order_by("at", "pk"))
        history = _history(ids)
        rows: list[DeadlineRecord] = []
        for petition in petitions:
            derived = derive(
                petition.received_on, ticks_of(petition, events.get(petition.pk, []), history, due)
            )
            missing = {d.organisation_id for d in derived} - paths.keys()
            if missing:
                paths.update(Organisation.objects.filter(pk__in=missing).values_list("pk", "path"))
            rows += record_rows(petition.pk, derived, paths)
        DeadlineRecord.objects.bulk_create(rows, batch_size=2000)
        _set_evaluation_due(ids, due)
    return len(rows)


def _letters_to_date() -> Any:
    """Served letters without their evaluation window: written before the field existed.  An unserved
    letter has none by design — its window starts on service (appeals.serve_letter)."""
    return DecisionLetter.objects.filter(evaluation_due_on__isnull=True, served_on__isnull=False)


def _set_evaluation_due(ids: Sequence[int], due: DueRule) -> None:
    """Served letters from before the field existed get their evaluation window, counted from the
    day they were served as ``appeals.serve_letter`` counts it (issue #10 point 8)."""
    letters = _letters_to_date().filter(petition_id__in=ids)
    changed = []
    for letter in letters.only("pk", "served_on", "organisation_id"):
        letter.evaluation_due_on = due(Step.EVALUATION, letter.served_on, letter.organisation_id)
        changed.append(letter)
    DecisionLetter.objects.bulk_update(changed, ["evaluation_due_on"], batch_size=2000)


def petitions_without_records() -> Any:
    """Petitions with no deadline record at all: those registered before the records existed."""
    return Petition.objects.filter(~Exists(DeadlineRecord.objects.filter(petition=OuterRef("pk"))))


def backfill(batch_size: int = 2000, progress: Callable[[int, int], None] | None = None) -> tuple[int, int]:
    """Derive the records of every petition that has none, batch by batch in the order of their ids
    (each batch its own transaction, so an interrupted run keeps what it did and the next skips it),
    and the evaluation windows of every letter missing one.  Returns (petitions, records)."""
    pending = petitions_without_records()
    total = pending.count()
    due, paths = memoised_due(), dict(Organisation.objects.values_list("pk", "path"))
    done = written = last = 0
    while True:
        batch = list(pending.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not batch:
            break
        written += backfill_batch(batch, due, paths)
        done, last = done + len(batch), batch[-1]
        if progress:
            progress(done, total)
    # Letters of petitions that already had records (written since the upgrade, or a partial run).
    last = 0
    while True:
        letters = _letters_to_date().filter(petition_id__gt=last)
        batch = sorted(
            set(letters.order_by("petition_id").values_list("petition_id", flat=True)[:batch_size])
        )
        if not batch:
            break
        with transaction.atomic():
            _set_evaluation_due(batch, due)
        last = batch[-1]
    return done, written
