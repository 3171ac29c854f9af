"""Fixtures of the leadership tests: a petition of county A (registered by its office, so in the
scope of county A's staff and of the city, not of county B), and a dispute of county A."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinfang.petitions.models import Petition

from ..procedure import new_registration


@pytest.fixture
def petition(world) -> Petition:
    return new_registration(world).petition


@pytest.fixture
def dispute(world):
    from xinfang.screening.services import create_dispute

    return create_dispute(actor=world.intake_a, organisation=world.a.township, title="土地承包边界纠纷")


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


def days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)
