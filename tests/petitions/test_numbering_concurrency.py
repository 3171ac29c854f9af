"""The number is taken as the last step of a registration (issue #12 §3): gap-free per office and
year, and the office's number row is locked only from that step to the commit.

The threaded tests need PostgreSQL: on SQLite a transaction holds the database's single write lock
from its first statement (IMMEDIATE), so registrations are serialised whatever the order inside.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from xinfang.audit import services as audit_services
from xinfang.audit.models import AuditEvent
from xinfang.organisations.models import Organisation, User
from xinfang.petitions import services
from xinfang.petitions.models import NumberSequence, Petition
from xinfang.workflow import services as workflow
from xinfang.workflow.signals import transition_performed

from ..factories import make_draft
from .test_concurrency import in_a_thread, run_in_threads

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: on SQLite the IMMEDIATE transaction serialises whole registrations",
)
THREADS = 16


def _register(office_id: int, clerk_id: int, locality_id: int, **options) -> str:
    """One registration through the workflow service, as a request makes it (fresh objects)."""
    office = Organisation.objects.get(pk=office_id)
    clerk = User.objects.get(pk=clerk_id)
    locality = Organisation.objects.get(pk=locality_id)
    return workflow.register(
        draft=make_draft(locality), office=office, actor=clerk, **options
    ).petition.number


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sixteen_concurrent_registrations_at_one_office_are_numbered_one_to_sixteen(world):
    """16 clerks' requests at the same instant, at ONE office: numbers exactly 1..16, no duplicate."""
    # given one office
    year = timezone.localdate().year
    ids = (world.a.office.pk, world.intake_a.pk, world.a.township.pk)

    # when 16 registrations run at once
    numbers, errors = run_in_threads(lambda _: _register(*ids), THREADS)
    stored = in_a_thread(
        lambda: (
            sorted(Petition.objects.values_list("number", flat=True)),
            NumberSequence.objects.get(office_id=ids[0], year=year).last,
            sorted(
                AuditEvent.objects.filter(action="petition.register").values_list("object_repr", flat=True)
            ),
        )
    )

    # then all succeeded with 1..16, stored as such, audited under their real numbers
    assert errors == []
    expected = [f"XF-990101-{year}-{seq:06d}" for seq in range(1, THREADS + 1)]
    assert sorted(numbers) == expected
    assert stored == (expected, THREADS, expected)


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_number_lock_is_not_held_while_a_registration_does_its_other_work(world):
    """While one registration is held open just before its numbering step (everything else
    written), another registration at the same office completes: the office's number row is not
    locked until the last step.  The held one then gets the next number."""
    ids = (world.a.office.pk, world.intake_a.pk, world.a.township.pk)
    year = timezone.localdate().year
    parked, release, other_done = threading.Event(), threading.Event(), threading.Event()

    def park(petition: Petition) -> None:
        parked.set()
        assert release.wait(timeout=60), "never released"

    def work(index: int) -> str:
        if index == 0:
            return _register(*ids, before_numbering=park)
        assert parked.wait(timeout=60), "the first registration never reached its numbering step"
        try:
            return _register(*ids)
        finally:
            other_done.set()

    outcome: dict[str, bool] = {}

    def referee() -> None:
        # The second registration must finish while the first is still parked; either way, release
        # the first afterwards so that nothing hangs (a lock held from the start would block the
        # second until this timeout).
        outcome["finished_while_parked"] = other_done.wait(timeout=30)
        release.set()

    judge = threading.Thread(target=referee)
    judge.start()
    numbers, errors = run_in_threads(work, 2)
    judge.join()

    assert errors == []
    assert outcome["finished_while_parked"], "the second registration waited for the first one's lock"
    # the second finished first, so it took number 1; the parked one numbered after it
    assert sorted(numbers) == [f"XF-990101-{year}-000001", f"XF-990101-{year}-000002"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failure_after_the_number_was_taken_returns_it(world, monkeypatch):
    """A receiver of the registration failing after the number was taken (the SMS, the figures):
    the whole transaction rolls back, the number with it, and the next petition gets it."""
    year = timezone.localdate().year
    ids = (world.a.office.pk, world.intake_a.pk, world.a.township.pk)
    _register(*ids)

    def fail(sender, petition, **kwargs):
        assert not petition.number.startswith("~")  # the real number is taken before receivers run
        raise RuntimeError("simulated failure of a receiver")

    transition_performed.connect(fail, dispatch_uid="test-fail-after-number")
    try:
        with pytest.raises(RuntimeError):
            _register(*ids)
    finally:
        transition_performed.disconnect(dispatch_uid="test-fail-after-number")

    assert NumberSequence.objects.get(office_id=ids[0], year=year).last == 1
    assert Petition.objects.count() == 1
    assert _register(*ids) == f"XF-990101-{year}-000002"
    assert not Petition.objects.filter(number__startswith="~").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failure_where_the_number_used_to_be_taken_takes_none(world, monkeypatch):
    """Storing the petitioners used to come after the number; failing there now takes none at all."""
    year = timezone.localdate().year
    ids = (world.a.office.pk, world.intake_a.pk, world.a.township.pk)

    def fail(*args, **kwargs):
        assert not NumberSequence.objects.filter(office_id=ids[0], year=year, last__gt=0).exists()
        raise RuntimeError("simulated crash while storing the petitioners")

    monkeypatch.setattr(services, "_create_petitioners", fail)
    with pytest.raises(RuntimeError):
        _register(*ids)
    monkeypatch.undo()

    assert _register(*ids) == f"XF-990101-{year}-000001"
    assert NumberSequence.objects.get(office_id=ids[0], year=year).last == 1


def test_the_audit_event_is_chained_last_under_the_real_number(world, monkeypatch):
    """The registration's audit row joins the chain at the end of the transaction (after the
    number and the receivers), named by the petition's real number."""
    order: list[str] = []
    real_append = audit_services.append_many

    def spy(events):
        order.append("chain")
        real_append(events)

    def receiver(sender, petition, **kwargs):
        order.append("receivers")

    monkeypatch.setattr(audit_services, "append_many", spy)
    transition_performed.connect(receiver, dispatch_uid="test-order")
    try:
        number = workflow.register(
            draft=make_draft(world.a.township), office=world.a.office, actor=world.intake_a
        ).petition.number
    finally:
        transition_performed.disconnect(dispatch_uid="test-order")

    assert order == ["receivers", "chain"]
    event = AuditEvent.objects.get(action="petition.register")
    assert event.object_repr == number and not number.startswith("~")


def test_an_audit_event_of_a_rolled_back_savepoint_is_not_chained(world):
    """Inside ``chain_at_end``, an event recorded in a savepoint that rolls back is dropped with it."""
    from django.db import transaction

    with transaction.atomic(), audit_services.chain_at_end():
        audit_services.record_event(actor=None, action="test.kept")
        try:
            with transaction.atomic():
                audit_services.record_event(actor=None, action="test.undone")
                raise RuntimeError("undo the savepoint")
        except RuntimeError:
            pass
    assert list(AuditEvent.objects.filter(action__startswith="test.").values_list("action", flat=True)) == [
        "test.kept"
    ]
