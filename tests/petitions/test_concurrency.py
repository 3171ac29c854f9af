"""Numbering under real transactions and concurrent registrations (services.next_number).

These tests commit, so they run as transactional tests: threads with their own database
connections register at the same moment and must receive distinct, consecutive numbers.

On SQLite the test database is an in-memory database in shared-cache mode, whose table locks are
refused at once ("database table is locked") instead of waited for: unlike the file database of
every real deployment.  So, on SQLite, the threads work on a file copy of the test database opened
with the production options (WAL, ``transaction_mode=IMMEDIATE``, busy timeout): the same locking
a deployment has.  On PostgreSQL they use the test database itself.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from xinfang.audit.models import AuditEvent
from xinfang.organisations.models import Organisation, User
from xinfang.petitions import services
from xinfang.petitions.models import NumberSequence, Petition

from ..factories import register

# serialized_rollback: the flush after a transactional test empties the tables the migrations seed
# (roles, categories); this restores them before each test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 8
TIMEOUT = 60


@contextlib.contextmanager
def database_for_threads(tmp_path: Path) -> Iterator[None]:
    """Connections opened inside the block reach a database that takes real locks (see module doc)."""
    if connection.vendor != "sqlite":
        yield
        return
    path = tmp_path / "threads.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)  # schema, audit triggers and data
    finally:
        target.close()
    # Every connection of the alias shares this dict; this thread's own connection stays open on the
    # in-memory database, and new connections (other threads) open the file.
    settings_dict = connection.settings_dict
    memory_name = settings_dict["NAME"]
    settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        settings_dict["NAME"] = memory_name


def run_in_threads(target: Callable[[int], Any], count: int) -> tuple[list[Any], list[BaseException]]:
    """Start ``count`` threads at once (a barrier), each on its own connection, closed at the end."""
    barrier = threading.Barrier(count)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            value = target(index)
            with lock:
                results.append(value)
        except BaseException as exc:  # collected and asserted on by the test
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a registration thread hung"
    return results, errors


def in_a_thread(fn: Callable[[], Any]) -> Any:
    """Read what the threads committed, through a connection of the same kind as theirs."""
    results, errors = run_in_threads(lambda _: fn(), 1)
    assert not errors, errors
    return results[0]


def register_as(office_id: int, clerk_id: int, locality_id: int) -> str:
    """One registration from scratch, as a request would make it (fresh objects, own connection)."""
    office = Organisation.objects.get(pk=office_id)
    clerk = User.objects.get(pk=clerk_id)
    locality = Organisation.objects.get(pk=locality_id)
    return register(office, clerk, locality).petition.number


@pytest.mark.parametrize("existing_sequence", [False, True], ids=["first-of-year", "sequence-exists"])
def test_concurrent_registrations_get_distinct_consecutive_numbers(world, tmp_path, existing_sequence):
    """N clerks registering at the same instant get N distinct numbers, exactly 1..N after the last."""
    # given county A's office, with or without a number already issued this year
    year = timezone.localdate().year
    already = 0
    if existing_sequence:
        register(world.a.office, world.intake_a, world.a.township)
        already = 1
    ids = (world.a.office.pk, world.intake_a.pk, world.a.township.pk)

    with database_for_threads(tmp_path):
        # when THREADS registrations run at once
        numbers, errors = run_in_threads(lambda _: register_as(*ids), THREADS)
        stored = in_a_thread(
            lambda: (
                sorted(Petition.objects.values_list("number", flat=True)),
                NumberSequence.objects.get(office_id=ids[0], year=year).last,
                AuditEvent.objects.filter(action="petition.register").count(),
            )
        )

    # then none failed, the numbers are distinct and consecutive, and the counter matches
    assert errors == []
    expected = [f"XF-990101-{year}-{seq:06d}" for seq in range(already + 1, already + THREADS + 1)]
    assert sorted(numbers) == expected
    stored_numbers, last, audited = stored
    assert stored_numbers[already:] == expected
    assert last == already + THREADS
    assert audited == already + THREADS


def test_concurrent_registrations_in_two_offices_keep_separate_sequences(world, tmp_path):
    """Registrations racing in two offices each fill their own office's sequence without gaps."""
    # given two offices, each first registration of the year racing the others
    year = timezone.localdate().year
    a = (world.a.office.pk, world.intake_a.pk, world.a.township.pk)
    b = (world.b.office.pk, world.intake_b.pk, world.b.township.pk)

    with database_for_threads(tmp_path):
        # when half the threads register in A and half in B, all at once
        numbers, errors = run_in_threads(lambda i: register_as(*(a if i % 2 else b)), THREADS)

    # then each office issued 1..THREADS/2
    assert errors == []
    half = THREADS // 2
    assert sorted(n for n in numbers if "-990101-" in n) == [
        f"XF-990101-{year}-{s:06d}" for s in range(1, half + 1)
    ]
    assert sorted(n for n in numbers if "-990102-" in n) == [
        f"XF-990102-{year}-{s:06d}" for s in range(1, half + 1)
    ]


def test_failed_registration_in_a_real_transaction_returns_its_number(world, monkeypatch):
    """With a real commit and rollback (not a test savepoint), a failed registration frees its number."""
    # given one committed registration
    year = timezone.localdate().year
    register(world.a.office, world.intake_a, world.a.township)

    # when the next registration crashes after taking number 2
    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash inside the registering transaction")

    monkeypatch.setattr(services, "_record_registration", crash)
    with pytest.raises(RuntimeError):
        register(world.a.office, world.intake_a, world.a.township)
    monkeypatch.undo()

    # then nothing of it was committed, and number 2 goes to the next petition
    assert NumberSequence.objects.get(office=world.a.office, year=year).last == 1
    assert Petition.objects.count() == 1
    assert register(world.a.office, world.intake_a, world.a.township).petition.number.endswith("-000002")


def test_next_number_refuses_to_run_outside_a_transaction(world):
    """Outside a transaction a number would be committed before its petition: refused."""
    with pytest.raises(RuntimeError, match="inside the registering transaction"):
        services.next_number(world.a.office, timezone.localdate().year)
    assert not NumberSequence.objects.exists()
