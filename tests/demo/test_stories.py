"""Demo petitions with a story: spread over the states of the procedure, with due dates counted by
the deadline engine and the rows each state implies — in bulk (COPY or bulk_create) and, for a
sample of county 1, replayed through the real workflow services."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from xinfang.audit.models import AuditEvent
from xinfang.demo.petitions import seed_petitions
from xinfang.demo.tree import load_tree
from xinfang.petitions.choices import FINAL_STATUSES, EventKind, Status
from xinfang.petitions.models import Petition
from xinfang.workflow.deadlines import deadline_light, due_date
from xinfang.workflow.models import Appeal, Assignment, DecisionLetter, Evaluation, ExtensionRequest, Step

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 15)  # a fixed day: the spread and the lights do not depend on the run date
METHODS = ["orm", pytest.param("copy", marks=pytest.mark.postgres)]
OPEN_STATES = {Status.REGISTERED, Status.FORWARDED, Status.ASSIGNED, Status.ACCEPTED}
LATER_STATES = {Status.REPLIED, Status.UNDER_REVIEW, Status.REVIEWED, Status.UNDER_RECHECK, Status.CONCLUDED}
ROUTE_EVENTS = {EventKind.FORWARDED: "forward", EventKind.ASSIGNED: "assign"}


def seed(*args: str) -> None:
    call_command("seed", *args, stdout=io.StringIO())


def local_day(moment: dt.datetime) -> dt.date:
    from django.utils import timezone

    return timezone.localtime(moment).date()


def tree_only(accounts: bool = False):
    if accounts:
        with override_settings(DEBUG=True):
            seed("--demo", "--petitions", "0")
    else:
        seed("--demo", "--no-accounts", "--petitions", "0")
    return load_tree()


def test_the_demo_queue_is_spread_over_the_procedure(db):
    """Recent petitions are still being handled, older ones answered or concluded; a few are
    overdue and a few in their last three days — not the whole queue red."""
    # when 3,000 petitions are seeded in bulk as of a fixed day
    seed_petitions(tree_only(), target=3000, seed=1, today=TODAY, drive=0)
    rows = list(Petition.objects.values_list("status", "due_on", "received_on"))
    statuses = Counter(status for status, _due, _received in rows)
    # then every stage of the procedure is there
    for status in (*OPEN_STATES, Status.REPLIED, Status.CONCLUDED, Status.DECLINED, Status.REDIRECTED):
        assert statuses[status] > 0, (status, statuses)
    # most are settled by now (two years of petitions), but the queue is not empty
    assert statuses[Status.CONCLUDED] > 0.4 * len(rows)
    open_now = sum(statuses[s] for s in (*OPEN_STATES, Status.REPLIED))
    assert 100 <= open_now <= 0.25 * len(rows)
    # recent petitions are registered, forwarded, assigned or accepted; old ones are settled
    recent = Counter(s for s, _d, received in rows if (TODAY - received).days <= 7)
    assert recent and set(recent) <= OPEN_STATES | FINAL_STATUSES
    assert sum(recent[s] for s in OPEN_STATES) > 0.7 * sum(recent.values())
    old = Counter(s for s, _d, received in rows if (TODAY - received).days > 200)
    assert set(old) <= FINAL_STATUSES, old
    # a few overdue, a few yellow, most of the open ones green
    lights = Counter(deadline_light(due, TODAY) for _s, due, _r in rows)
    assert 1 <= lights["red"] <= 0.15 * open_now, lights
    assert lights["yellow"] >= 1, lights
    assert lights["green"] > lights["red"] + lights["yellow"]


def assert_consistent(petition: Petition) -> None:
    """What the state of a petition implies about its rows (the services' invariants)."""
    p = petition
    status = p.status
    events = list(p.events.order_by("at", "pk"))
    steps = [e for e in events if e.kind not in {EventKind.REGISTERED, EventKind.REPEAT_LINKED}]
    assignments = list(p.assignments.order_by("assigned_at", "pk"))
    open_assignments = [a for a in assignments if a.ended_at is None]
    letters = list(p.decision_letters.order_by("issued_at", "pk"))
    # a deadline runs exactly while something is pending — the petitioner's window only once the
    # letter (the review opinion) was served (issue #10 point 8)
    review = Appeal.objects.filter(petition=p, kind="review").order_by("-received_on", "-pk").first()
    unserved = (status == Status.REPLIED and letters and letters[-1].served_on is None) or (
        status == Status.REVIEWED and review is not None and review.opinion_served_on is None
    )
    if status in FINAL_STATUSES or unserved:
        assert p.due_on is None, p
    else:
        assert p.due_on is not None, p
    # the timeline is a chain of transitions ending in the current state, one version each
    previous = Status.REGISTERED
    for event in steps:
        assert event.data["from"] == previous, (p, event.kind, event.data)
        previous = event.data["to"]
    assert previous == status, (p, [e.kind for e in steps])
    assert p.version == 1 + len(steps), p
    assert [e.at for e in events] == sorted(e.at for e in events)
    # routing: forwarded or assigned means one open assignment of that kind, the unit involved
    routed = [e for e in steps if e.kind in ROUTE_EVENTS or e.kind == EventKind.RETURN_OVERRULED]
    assert len(assignments) == len(routed) and len(open_assignments) <= 1
    if status in {Status.FORWARDED, Status.ASSIGNED}:
        assert len(open_assignments) == 1
        assert open_assignments[0].kind == ("forward" if status == Status.FORWARDED else "assign")
    for a in assignments:
        assert p.involvements.filter(organisation=a.unit, reason="unit").exists()
    # an accepted (or later, still open) petition forwarded to a unit has its open assignment; an
    # assigned one keeps it until the office approves the completion report; a final state none
    approved = any(e.kind == EventKind.COMPLETION_APPROVED for e in steps)
    if status in FINAL_STATUSES:
        assert not open_assignments, p
    elif routed and status in {Status.ACCEPTED, *LATER_STATES}:
        if assignments[-1].kind == "forward" or not approved:
            assert open_assignments, p
        else:
            assert not open_assignments and assignments[-1].end_reason == "completed"
    handler = assignments[-1].unit if routed else p.office
    # replied or later: a decision letter of the handling body, recording the handling due date
    if status in LATER_STATES:
        assert letters, p
        assert all(letter.organisation_id == handler.pk and letter.handling_due_on for letter in letters)
    else:
        assert not letters, p
    if status == Status.CONCLUDED:
        assert p.conclusion and p.concluded_on, p
    # the due date is the one the deadline engine gives for the state's step
    extended = ExtensionRequest.objects.filter(petition=p, decision="approved").exists()
    reopened = Appeal.objects.filter(petition=p).exists()
    if status == Status.REGISTERED:
        assert p.due_on == due_date(Step.DISPOSAL, p.received_on, p.office).due_on
    elif status in {Status.FORWARDED, Status.ASSIGNED}:
        route_day = local_day(open_assignments[0].assigned_at)
        assert p.due_on == due_date(Step.UNIT_ACCEPTANCE, route_day, open_assignments[0].unit).due_on
    elif status == Status.ACCEPTED and not extended and not reopened:
        accepted = next(e for e in reversed(steps) if e.kind == EventKind.ACCEPTED)
        assert p.due_on == due_date(Step.HANDLING, local_day(accepted.at), handler).due_on
    elif status == Status.REPLIED and not unserved:
        assert p.due_on == due_date(Step.REVIEW_REQUEST, letters[-1].served_on, handler).due_on
    for letter in letters:  # served 1 to 14 days after issue, its evaluation window from then
        if letter.served_on is None:
            assert letter.evaluation_due_on is None, p
            continue
        issued = local_day(letter.issued_at)
        assert issued < letter.served_on <= issued + dt.timedelta(days=14), p
        assert letter.evaluation_due_on == due_date(Step.EVALUATION, letter.served_on, handler).due_on


@pytest.mark.parametrize("method", METHODS)
def test_stories_are_consistent(db, method):
    """Status, due date, assignments, letters and timeline agree, petition by petition."""
    if method == "copy" and connection.vendor != "postgresql":
        pytest.skip("COPY needs PostgreSQL")
    seed_petitions(
        tree_only(), target=800, seed=5, batch_size=300, method=method, workers=0, today=TODAY, drive=0
    )
    petitions = list(Petition.objects.select_related("office"))
    for p in petitions:
        assert_consistent(p)
    # and the bulk rows are there in numbers
    replied = sum(p.status in LATER_STATES for p in petitions)
    assert DecisionLetter.objects.count() == replied
    assert Assignment.objects.exists()


@pytest.fixture
def driven(db):
    """A small demo with its accounts: up to 60 of county 1's stories, spread over the two years,
    replayed through the services."""
    tree = tree_only(accounts=True)
    result = seed_petitions(tree, target=700, seed=2, today=TODAY, drive=60)
    return tree, result


def test_a_sample_is_replayed_through_the_services(driven):
    """The sample's actions are real service calls: none refused, each with its audit event, and
    the rows only the services write (evaluations, appeals) exist."""
    tree, result = driven
    assert result.refused == []
    assert 30 <= result.driven <= 60 and result.driven_actions > 2 * result.driven
    # every replayed action is audited as the services audit it, by the demo accounts
    audited = AuditEvent.objects.filter(action__startswith="petition.")
    assert audited.count() == result.driven_actions
    assert set(audited.exclude(actor=None).values_list("actor__username", flat=True)) <= {
        "intake", "supervisor", "leader", "handler", "city_supervisor"}  # fmt: skip
    # the replayed petitions are county 1's, at every stage, consistent like the bulk ones
    ids = {int(pk) for pk in audited.values_list("object_id", flat=True)}
    replayed = Petition.objects.filter(pk__in=ids).select_related("office")
    assert {p.office_id for p in replayed} == {tree.county_1.office.pk}
    assert len({p.status for p in replayed}) >= 4
    for p in replayed:
        assert_consistent(p)
    assert Evaluation.objects.exists()
    assert Appeal.objects.exists()
    # spread over the span: some of the sample is still open, some settled long ago
    assert any(p.status not in FINAL_STATUSES for p in replayed)
    assert any((TODAY - p.received_on).days > 365 for p in replayed)
    # and the events were written at their planned moments, not today
    assert not any(local_day(p.updated_at) >= TODAY for p in replayed)


def test_make_demo_stays_idempotent_with_stories(db):
    """A second `seed --demo` adds nothing: no petition, event, assignment, letter or audit row
    (but the audit row of the portal sample's reissued query code, new on every run)."""
    with override_settings(DEBUG=True):
        seed("--demo", "--petitions", "300")

        def counts():
            audit = AuditEvent.objects.exclude(action="petition.query_code_reissued")
            models = (Petition, Assignment, DecisionLetter, Evaluation)
            return [m.objects.count() for m in models] + [audit.count()]

        before = counts()
        seed("--demo", "--petitions", "300")
    assert counts() == before
