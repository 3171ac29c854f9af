"""Routing stays inside the office's area (issue #7 point 4): ``forward`` and ``assign`` accept only
the office's own government's area, the political-legal and discipline channels of the locality's
area chain, and a unit above the area that the area's routing rules name — for every caller (the
service, hence the staff page, the API and the demo)."""

from __future__ import annotations

import pytest

from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.services import create_organisation
from xinfang.petitions.models import Category, Petition
from xinfang.workflow import routing, services
from xinfang.workflow.engine import TransitionRefused
from xinfang.workflow.models import RoutingRule

from ..factories import register

pytestmark = pytest.mark.django_db


def _org(name, kind, parent, level):
    return create_organisation(name=name, kind=kind, level=level, parent=parent)


def _petition(world, **overrides) -> Petition:
    return register(world.a.office, world.intake_a, world.a.township, **overrides).petition


def test_a_unit_of_another_county_or_city_is_refused(world):
    """The trial: county A's office sent a petition to a department of another area, whose handler
    could then read it."""
    # given
    other_city = _org("B市", OrganisationKind.GOVERNMENT, world.province, Level.CITY)
    far = _org("B市人社局", OrganisationKind.DEPARTMENT, other_city, Level.CITY)
    for unit in [world.b.department, far, world.city]:
        petition = _petition(world)
        # when / then
        for route in (services.forward, services.assign):
            with pytest.raises(TransitionRefused) as refused:
                route(user=world.intake_a, number=petition.number, unit=unit)
            assert refused.value.code == "outside_area"
            assert unit.name in refused.value.messages[0]
        assert not Petition.objects.restrict(world.handler_b).filter(pk=petition.pk).exists()
        assert unit not in routing.unit_choices(petition)
    # inside the area it goes through, to a department or a township
    services.forward(user=world.intake_a, number=_petition(world).number, unit=world.a.department)
    services.assign(user=world.intake_a, number=_petition(world).number, unit=world.a.township)


def test_special_channels_and_rules_may_go_above_the_area(world):
    city_discipline = _org("A市纪委监委", OrganisationKind.DISCIPLINE, world.city, Level.CITY)
    city_legal = _org("A市委政法委", OrganisationKind.POLITICAL_LEGAL, world.city, Level.CITY)
    city_housing = _org("A市住建局", OrganisationKind.DEPARTMENT, world.city, Level.CITY)
    b_discipline = _org("乙县纪委监委", OrganisationKind.DISCIPLINE, world.b.government, Level.COUNTY)
    # 诉访分离: a legal matter may go to the city's political-legal organ
    legal = _petition(world, category_id=Category.objects.get(code="0602").pk)
    services.forward(user=world.intake_a, number=legal.number, unit=city_legal)
    # a report may go to the discipline organ above (not to another county's)
    report = _petition(world, purpose="report", no_subject_organisation=True)
    with pytest.raises(TransitionRefused) as refused:
        services.forward(user=world.intake_a, number=report.number, unit=b_discipline)
    assert refused.value.code == "outside_area"
    services.forward(user=world.intake_a, number=report.number, unit=city_discipline)
    # an ordinary matter may not go to the city's department ... unless a rule of the area says so
    ordinary = _petition(world)
    with pytest.raises(TransitionRefused) as refused:
        services.assign(user=world.intake_a, number=ordinary.number, unit=city_housing)
    assert refused.value.code == "outside_area"
    RoutingRule.objects.create(area=world.a.government, category=ordinary.category, unit=city_housing)
    assert city_housing in routing.unit_choices(ordinary)
    services.assign(user=world.intake_a, number=ordinary.number, unit=city_housing)
    # a rule of another county's area opens nothing to this office
    RoutingRule.objects.create(area=world.b.government, category=ordinary.category, unit=world.b.department)
    with pytest.raises(TransitionRefused):
        services.forward(user=world.intake_a, number=_petition(world).number, unit=world.b.department)


def test_a_matter_of_another_area_does_not_open_that_areas_organs(world):
    """The locality is the clerk's input: a petition about county B registered in county A does not
    let county A's office route to county B's political-legal organ."""
    b_legal = _org("乙县政法委", OrganisationKind.POLITICAL_LEGAL, world.b.government, Level.COUNTY)
    city_legal = _org("A市委政法委", OrganisationKind.POLITICAL_LEGAL, world.city, Level.CITY)
    legal = register(
        world.a.office, world.intake_a, world.b.township, category_id=Category.objects.get(code="0602").pk
    ).petition
    assert routing.special_channel_organs(legal).first() == city_legal
    with pytest.raises(TransitionRefused) as refused:
        services.forward(user=world.intake_a, number=legal.number, unit=b_legal)
    assert refused.value.code == "outside_area"
