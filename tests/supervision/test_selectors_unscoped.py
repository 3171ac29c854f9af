"""``scoped=False`` of the supervision selectors (used by the workbench sections, which narrow an
already restricted petition queryset): combined with ``Petition.objects.restrict(user)`` it lists
exactly what the scoped selector lists — so the faster form never widens what anyone sees."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinfang.petitions.models import Petition
from xinfang.supervision import selectors, services
from xinfang.supervision.models import NoticeKind

pytestmark = pytest.mark.django_db

SELECTORS = ("notices_to_answer", "answers_to_review", "listed_notices")


def _listed(world, staff, petition):
    return services.supervise(
        user=world.city_supervisor, number=petition.number, kind=NoticeKind.LISTED,
        requirements="请于期限内报告办理结果。", respond_by=timezone.localdate() + dt.timedelta(days=1),
        leader=staff.city_leader,
    )  # fmt: skip


def _through_restrict(user, name: str) -> set[int]:
    notices = getattr(selectors, name)(user, scoped=False)
    return set(
        Petition.objects.restrict(user)
        .filter(pk__in=notices.values("petition_id"))
        .values_list("pk", flat=True)
    )


def _scoped(user, name: str) -> set[int]:
    return set(getattr(selectors, name)(user).values_list("petition_id", flat=True))


def test_unscoped_selectors_restricted_equal_the_scoped_ones(world, staff, petition):
    _listed(world, staff, petition)
    users = [world.city_supervisor, world.supervisor_a, world.handler_a, world.intake_a, staff.supervisor_b,
             staff.city_leader]  # fmt: skip
    for user in users:
        for name in SELECTORS:
            assert _through_restrict(user, name) == _scoped(user, name), (user.username, name)
    # Allowed: the city sees its listed supervision and the unit must answer it.
    assert _scoped(world.city_supervisor, "listed_notices") == {petition.pk}
    assert _scoped(world.handler_a, "notices_to_answer") == {petition.pk}
    # Refused: another county's supervisor sees nothing of it, even through the unscoped form.
    assert _through_restrict(staff.supervisor_b, "listed_notices") == set()


def test_unscoped_selectors_still_drop_final_petitions_and_non_casework(world, staff, petition):
    _listed(world, staff, petition)
    Petition.objects.filter(pk=petition.pk).update(status="withdrawn")
    assert not selectors.listed_notices(world.city_supervisor, scoped=False).exists()
    Petition.objects.filter(pk=petition.pk).update(status="accepted")
    assert selectors.listed_notices(world.city_supervisor, scoped=False).exists()
    world.city_supervisor.roles.clear()
    world.city_supervisor.__dict__.pop("role_codes", None)
    assert not selectors.listed_notices(world.city_supervisor, scoped=False).exists()
