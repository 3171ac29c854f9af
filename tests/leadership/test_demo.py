"""The demo's leadership records: contracts (one late), the city's policy, instructions (answered,
closed, overdue), the rota with log entries; a second run adds nothing."""

from __future__ import annotations

import io

import pytest
from django.test import override_settings
from django.utils import timezone

from xinfang.demo import leadership_data
from xinfang.demo.tree import load_tree
from xinfang.leadership import selectors
from xinfang.leadership.models import (
    ContractingPolicy,
    DutyLogEntry,
    DutyShift,
    Instruction,
    InstructionStatus,
    LeaderContract,
)
from xinfang.organisations.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db, monkeypatch):
    """The tree, accounts and 60 petitions, and of the ledgers only this app's (the others are
    tested by their own apps, and a failure there must not fail this test)."""
    from django.core.management import call_command

    from xinfang.demo import ledgers

    monkeypatch.setattr(ledgers, "AREAS", (("leaders", leadership_data.seed),))

    with override_settings(DEBUG=True):
        call_command("seed", "--demo", "--petitions", "60", "--no-stats", stdout=io.StringIO())


def test_the_demo_has_contracts_instructions_and_a_rota(demo):
    leader = User.objects.get(username="leader")
    today = timezone.localdate()
    mine = [c for c in selectors.my_contracts(leader, today) if c.measures in leadership_data.MEASURES]
    assert len(mine) == 5 and sum(c.is_late(today) for c in mine) == 1  # (campaigns contract others)
    assert (
        LeaderContract.objects.filter(
            leader__username="city_leader", measures__startswith="市领导包案"
        ).count()
        == 1
    )
    assert ContractingPolicy.objects.get().require_for_listed
    statuses = list(Instruction.objects.filter(leader=leader).values_list("status", flat=True))
    assert len(statuses) == 6 and statuses.count(InstructionStatus.CLOSED) == 1
    assert any(i.is_overdue(today) for i in Instruction.objects.all())
    assert (
        DutyShift.objects.filter(date__month=today.month).count() >= 28 and DutyLogEntry.objects.count() == 3
    )
    # a rerun adds nothing
    before = (LeaderContract.objects.count(), Instruction.objects.count(), DutyShift.objects.count())
    assert leadership_data.seed(load_tree()) == 0
    assert (LeaderContract.objects.count(), Instruction.objects.count(), DutyShift.objects.count()) == before
