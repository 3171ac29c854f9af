"""routing.propose_unit: special channel, then the most specific routing rule, then the routing
history; never the office, an inactive unit or the accused organisation of a confidential report."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinfang.audit.models import AuditEvent
from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.services import create_organisation
from xinfang.petitions.models import Category, Petition
from xinfang.workflow import routing, services
from xinfang.workflow.models import Assignment, RoutingRule

from ..factories import make_staff, register

pytestmark = pytest.mark.django_db


def _org(name, kind, parent, level=Level.COUNTY):
    return create_organisation(name=name, kind=kind, level=level, parent=parent)


def _category(code: str) -> Category:
    return Category.objects.get(code=code)


def _petition(world, *, code="0102", locality=None, **overrides) -> Petition:
    petition = register(
        world.a.office,
        world.intake_a,
        locality or world.a.township,
        category_id=_category(code).pk,
        **overrides,
    ).petition
    return Petition.objects.select_related("category", "locality", "office", "subject_organisation").get(
        pk=petition.pk
    )


@pytest.fixture
def housing(world):
    """甲县住建局, the unit 住房保障 matters of 甲县 go to."""
    return _org("甲县住建局", OrganisationKind.DEPARTMENT, world.a.government)


# --- special channels -------------------------------------------------------------------------


def test_legal_matter_goes_to_the_nearest_political_legal_organ(world, housing):
    """诉访分离: 0602 司法公正 goes to the political-legal organ; 甲县 has none, so A市's."""
    # given
    city_pl = _org("A市委政法委", OrganisationKind.POLITICAL_LEGAL, world.city, Level.CITY)
    RoutingRule.objects.create(area=world.a.government, category=_category("0602"), unit=housing)
    petition = _petition(world, code="0602")
    # when
    proposal = routing.propose_unit(petition)
    # then: the special channel wins over the ordinary rule, and is offered in the forms
    assert proposal.unit == city_pl
    assert "诉访分离" in proposal.reason
    assert city_pl in routing.unit_choices(petition)


def test_the_own_areas_organ_wins_over_the_one_above(world):
    _org("A市纪委监委", OrganisationKind.DISCIPLINE, world.city, Level.CITY)
    county = _org("甲县纪委监委", OrganisationKind.DISCIPLINE, world.a.government)
    petition = _petition(world, code="0701")
    assert routing.propose_unit(petition).unit == county


def test_organ_under_the_party_committee_counts(world):
    """县委政法委 hangs under 县委, itself a node of the county."""
    committee = _org("甲县县委", OrganisationKind.PARTY, world.a.government)
    organ = _org("甲县县委政法委", OrganisationKind.POLITICAL_LEGAL, committee)
    petition = _petition(world, code="0603")
    assert routing.propose_unit(petition).unit == organ


def test_inactive_or_accused_organ_is_skipped(world):
    city_organ = _org("A市纪委监委", OrganisationKind.DISCIPLINE, world.city, Level.CITY)
    county_organ = _org("甲县纪委监委", OrganisationKind.DISCIPLINE, world.a.government)
    # a confidential report accusing the county's own discipline organ goes one level up
    petition = _petition(world, code="0701", purpose="report", subject_organisation_id=county_organ.pk)
    assert petition.is_confidential
    assert routing.propose_unit(petition).unit == city_organ
    Petition.objects.filter(pk=petition.pk).update(subject_organisation=None, is_confidential=False)
    city_organ.is_active = False
    city_organ.save(update_fields=["is_active"])
    county_organ.is_active = False
    county_organ.save(update_fields=["is_active"])
    petition = Petition.objects.select_related("category", "locality", "office").get(pk=petition.pk)
    assert routing.propose_unit(petition) is None


# --- routing rules ----------------------------------------------------------------------------


def test_deepest_area_and_entry_before_class(world, housing):
    """The township's rule beats the county's; inside one area the entry beats its class."""
    # given
    construction = _org("甲县城管局", OrganisationKind.DEPARTMENT, world.a.government)
    RoutingRule.objects.create(area=world.a.government, category=_category("01"), unit=construction)
    RoutingRule.objects.create(area=world.a.government, category=_category("0102"), unit=housing)
    petition = _petition(world)
    # then: the county's entry rule, not its class rule
    proposal = routing.propose_unit(petition)
    assert proposal.unit == housing
    assert proposal.reason == "分办规则：甲县人民政府·住房保障"
    # a township rule, even for the class only, is more specific than any county rule
    RoutingRule.objects.create(area=world.a.township, category=_category("01"), unit=construction)
    assert routing.propose_unit(petition).unit == construction
    # a rule of another county never applies
    other = _petition(world, locality=world.b.township)
    assert routing.propose_unit(other) is None


def test_rule_to_the_accused_unit_falls_back_to_the_next_rule(world, housing):
    construction = _org("甲县城管局", OrganisationKind.DEPARTMENT, world.a.government)
    RoutingRule.objects.create(area=world.a.government, category=_category("0102"), unit=housing)
    RoutingRule.objects.create(area=world.a.government, category=_category("01"), unit=construction)
    petition = _petition(world, purpose="report", subject_organisation_id=housing.pk)
    assert routing.propose_unit(petition).unit == construction


def test_rule_outside_the_office_area_is_not_proposed(world):
    """属地管理、分级负责: a county office is not offered a city department."""
    city_dept = _org("A市住建局", OrganisationKind.DEPARTMENT, world.city, Level.CITY)
    RoutingRule.objects.create(area=world.city, category=_category("0102"), unit=city_dept)
    assert routing.propose_unit(_petition(world)) is None


# --- routing history --------------------------------------------------------------------------


def _routed(world, unit, *, days_ago=10, end_reason="", code="0102", locality=None):
    petition = _petition(world, code=code, locality=locality)
    services.forward(user=world.intake_a, number=petition.number, unit=unit)
    Assignment.objects.filter(petition=petition).update(
        assigned_at=timezone.now() - dt.timedelta(days=days_ago), end_reason=end_reason
    )
    return petition


def test_most_frequent_unit_of_the_last_year(world, housing):
    # given: two to the department, one to housing; older, misrouted and other-category ones do not count
    _routed(world, world.a.department)
    _routed(world, world.a.department)
    _routed(world, housing)
    for _ in range(3):
        _routed(world, housing, days_ago=400)
        _routed(world, housing, end_reason="returned")
        _routed(world, housing, code="0201")
    petition = _petition(world)
    # when
    proposal = routing.propose_unit(petition)
    # then
    assert proposal.unit == world.a.department
    assert "2次" in proposal.reason


def test_history_never_proposes_an_inactive_unit(world, housing):
    _routed(world, housing)
    housing.is_active = False
    housing.save(update_fields=["is_active"])
    assert routing.propose_unit(_petition(world)) is None


def test_query_counts(world, housing, django_assert_max_num_queries):
    """Special channel 1, rules 1, history 2 (the aggregate and the unit): at most 4 queries."""
    _routed(world, housing)
    petition = _petition(world)
    with django_assert_max_num_queries(4):
        proposal = routing.propose_unit(petition)
    assert proposal.unit == housing
    RoutingRule.objects.create(area=world.a.government, category=_category("0102"), unit=housing)
    with django_assert_max_num_queries(1):  # no special channel for 0102: the rule query only
        assert routing.propose_unit(petition).unit == housing


# --- the rule services -----------------------------------------------------------------------


def test_save_and_delete_are_audited(world, housing):
    rule = routing.save_routing_rule(
        actor=world.sysadmin, area=world.a.government, category=_category("0102"), unit=housing
    )
    routing.save_routing_rule(
        actor=world.sysadmin, area=world.a.government, category=_category("0102"), unit=world.a.department
    )
    rule.refresh_from_db()
    assert rule.unit == world.a.department and RoutingRule.objects.count() == 1
    routing.delete_routing_rule(actor=world.sysadmin, rule=rule)
    actions = list(
        AuditEvent.objects.filter(action__startswith="workflow.routing_rule")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "workflow.routing_rule.create",
        "workflow.routing_rule.change",
        "workflow.routing_rule.delete",
    ]


def test_rule_to_a_petition_office_is_refused(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as info:
        routing.save_routing_rule(
            actor=world.sysadmin, area=world.a.department, category=_category("0102"), unit=world.a.office
        )
    assert set(info.value.message_dict) == {"area", "unit"}


# --- the administrator's pages ------------------------------------------------------------------


def test_routing_rule_pages_are_for_the_system_administrator_only(client, world):
    from django.urls import reverse

    url = reverse("workflow:routing_rules")
    assert client.get(url).status_code == 302  # anonymous: the login page
    for user in (world.intake_a, world.leader_a, world.secadmin):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {}).status_code == 403
    client.force_login(world.sysadmin)
    assert client.get(url).status_code == 200


def test_add_change_and_delete_a_rule_through_the_page(client, world, housing):
    from django.urls import reverse

    # given
    client.force_login(world.sysadmin)
    url = reverse("workflow:routing_rules")
    data = {"area": world.a.government.pk, "category": _category("0102").pk, "unit": housing.pk}
    # when: added, then the same area and category again with another unit
    assert client.post(url, data).status_code == 302
    assert client.post(url, {**data, "unit": world.a.department.pk}).status_code == 302
    # then: one rule, now to the department, listed
    rule = RoutingRule.objects.get()
    assert rule.unit == world.a.department
    page = client.get(url).content.decode()
    assert f'id="routing-rule-{rule.pk}"' in page and "甲县人社局" in page
    # a petition office is refused with the reason on the form
    response = client.post(url, {**data, "unit": world.a.office.pk})
    assert response.status_code == 200 and RoutingRule.objects.get().unit == world.a.department
    # delete: GET is not allowed, POST removes it
    delete = reverse("workflow:routing_rule_delete", args=[rule.pk])
    assert client.get(delete).status_code == 405
    assert client.post(delete).status_code == 302
    assert not RoutingRule.objects.exists()
    actions = list(
        AuditEvent.objects.filter(actor=world.sysadmin, action__startswith="workflow.routing_rule")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "workflow.routing_rule.create",
        "workflow.routing_rule.change",
        "workflow.routing_rule.delete",
    ]


def test_rule_list_query_count(client, world, housing, django_assert_max_num_queries):
    from django.urls import reverse

    for code in ("0101", "0102", "0103", "0104"):
        RoutingRule.objects.create(area=world.a.government, category=_category(code), unit=housing)
    client.force_login(world.sysadmin)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("workflow:routing_rules")).status_code == 200


def test_a_returned_petition_is_not_proposed_to_the_unit_that_sent_it_back(world, housing):
    """Art. 23 ¶3: re-disposing of a returned petition accepts the objection; the rule's unit is
    skipped and the class rule's unit proposed instead."""
    # given
    RoutingRule.objects.create(area=world.a.government, category=_category("0102"), unit=housing)
    RoutingRule.objects.create(area=world.a.government, category=_category("01"), unit=world.a.department)
    petition = _petition(world)
    services.forward(user=world.intake_a, number=petition.number, unit=housing)
    housing_staff = make_staff("housing_handler", housing, "handler")
    services.return_petition(user=housing_staff, number=petition.number, reasons="不属于本单位职责")
    petition = Petition.objects.select_related("category", "locality", "office", "subject_organisation").get(
        pk=petition.pk
    )
    assert petition.status == "returned"
    # when / then
    assert routing.propose_unit(petition).unit == world.a.department
