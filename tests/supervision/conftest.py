"""Fixtures of the supervision tests: a petition of county A assigned to its department and
accepted there, and the extra staff a supervision needs (a city leader for listed supervision, a
second county's supervisor, a township handler)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from xinfang.organisations.models import User
from xinfang.petitions.models import Petition
from xinfang.workflow import calendar, deadlines

from ..factories import make_staff
from ..procedure import new_registration, to_accepted


@pytest.fixture(autouse=True)
def _fresh_workflow_caches():
    calendar.clear_cache()
    deadlines.clear_cache()
    yield
    calendar.clear_cache()
    deadlines.clear_cache()


@dataclass
class Staff:
    city_leader: User
    city_office_leader: User
    supervisor_b: User
    handler_town: User
    county_office_leader: User


@pytest.fixture
def staff(world) -> Staff:
    from xinfang.organisations.models import Organisation

    city_office = Organisation.objects.get(name="A市信访局")
    return Staff(
        city_leader=make_staff("city_leader", world.city, "leader"),
        city_office_leader=make_staff("city_office_leader", city_office, "leader"),
        supervisor_b=make_staff("supervisor_b", world.b.office, "supervisor"),
        handler_town=make_staff("handler_town", world.a.township, "handler"),
        county_office_leader=make_staff("county_office_leader", world.a.office, "leader"),
    )


@pytest.fixture
def registration(world):
    return new_registration(world)


@pytest.fixture
def petition(world, registration) -> Petition:
    """Assigned to county A's department (人社局), which accepted it: handled there."""
    number = registration.petition.number
    to_accepted(world, number)
    return Petition.objects.get(number=number)
