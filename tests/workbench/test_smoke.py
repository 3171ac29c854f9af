"""Every section compiles to SQL and counts for every role of the test world."""

from __future__ import annotations

import pytest

from tests.procedure import new_registration, to_accepted
from xinfang.petitions.models import Petition
from xinfang.workbench.sections import SECTIONS, apply_section, section_counts

pytestmark = pytest.mark.django_db


def test_counts_for_each_role(world):
    p = new_registration(world).petition
    to_accepted(world, p.number)
    for user in (world.intake_a, world.handler_a, world.supervisor_a, world.leader_a, world.city_supervisor):
        for section, n in section_counts(user):
            assert n == apply_section(section.key, Petition.objects.restrict(user), user).count()
    assert {s.key for s, n in section_counts(world.handler_a) if n} >= {"handling"}
    assert len(SECTIONS) == 12
