"""Helpers of the campaigns tests: petitions of county A put in the state a criterion needs (the
fields set directly: the backlog reads only status, due_on, concluded_on and repeat links)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinfang.petitions.models import Petition

from ..factories import make_staff
from ..procedure import new_registration

TODAY = timezone.localdate()


def petition(world, **fields) -> Petition:
    """A new petition of county A with ``fields`` written over it."""
    number = new_registration(world).petition.number
    Petition.objects.filter(number=number).update(**fields)
    return Petition.objects.get(number=number)


def overdue(world, days: int) -> Petition:
    """Accepted and ``days`` past its handling deadline."""
    return petition(world, status="accepted", due_on=TODAY - dt.timedelta(days=days))


def repeats(world, original: Petition, n: int, *, days_ago: int = 10) -> list[Petition]:
    return [
        petition(world, repeat_of=original, is_repeat=True, received_on=TODAY - dt.timedelta(days=days_ago))
        for _ in range(n)
    ]


@pytest.fixture
def office_leader(world):
    return make_staff("office_leader", world.a.office, "leader")


@pytest.fixture
def b_supervisor(world):
    return make_staff("b_supervisor", world.b.office, "supervisor")
