"""Accusations (检举控告) never reach the accused (条例 Art. 30 ¶3) — issue #7 points 1, 2 and 3.

1. A report is routed only once the clerk has named the accused organisation or stated that the
   report names none (the ``name_subject`` action, or the same at registration).
2. A report against the registering office itself, or against its government (or a body above), goes
   up: the office may only forward it to the petition office or discipline organ of the nearest level
   that is not the accused, and loses sight of it once it has.
3. The reviewing (复查) and rechecking (复核) bodies skip the accused.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.services import create_organisation
from xinfang.petitions.models import Petition, PetitionEvent
from xinfang.workflow import appeals, routing, services
from xinfang.workflow.engine import Citizen, TransitionRefused, allowed_actions
from xinfang.workflow.models import Appeal

from ..factories import make_staff, register
from ..procedure import REPLY

pytestmark = pytest.mark.django_db


def _org(name, kind, parent, level):
    return create_organisation(name=name, kind=kind, level=level, parent=parent)


@pytest.fixture
def upper(world):
    """The bodies a report goes up to, and people working there."""
    city_office = world.city_supervisor.organisation
    province_office = _org("西地省信访局", OrganisationKind.PETITION_OFFICE, world.province, Level.PROVINCE)

    class Upper:
        office = city_office
        discipline = _org("A市纪委监委", OrganisationKind.DISCIPLINE, world.city, Level.CITY)
        province = province_office
        handler_city_office = make_staff("handler_city_office", city_office, "handler")
        handler_discipline = make_staff("handler_discipline", discipline, "handler")
        handler_province = make_staff("handler_province", province_office, "handler")
        other_department = _org("甲县住建局", OrganisationKind.DEPARTMENT, world.a.government, Level.COUNTY)

    return Upper


def _report(world, clerk="intake", **overrides) -> Petition:
    """A report registered by county A's office: by its clerk, or from the portal (``clerk=None``)."""
    actor = world.intake_a if clerk else None
    return register(world.a.office, actor, world.a.township, purpose="report", **overrides).petition


def _actions(petition: Petition, user) -> set[str]:
    petition.refresh_from_db()
    return {t.action for t in allowed_actions(petition, user)}


def _sees(user, petition: Petition) -> bool:
    return Petition.objects.restrict(user).filter(pk=petition.pk).exists()


# --- point 1: the accused is named before any routing --------------------------------------------


def test_a_portal_report_is_not_routed_until_the_clerk_names_the_accused(world, upper):
    """The trial: a portal report (“检举青山县人社局局长…”) was assigned to 县人社局, whose handler then
    read it.  Now routing waits for the clerk; once the accused is named it can never go there."""
    # given: the citizen named the accused in free text only
    petition = _report(world, clerk=None, subject_name="检举甲县人社局局长")
    assert petition.is_confidential and not petition.subject_confirmed
    # when / then: no routing, no acceptance, until the clerk has confirmed whom it accuses
    for action, kwargs in [
        (services.assign, {"unit": world.a.department}),
        (services.forward, {"unit": upper.other_department}),
        (services.accept, {}),
    ]:
        with pytest.raises(TransitionRefused) as refused:
            action(user=world.intake_a, number=petition.number, **kwargs)
        assert refused.value.code == "accused_unconfirmed"
    offered = _actions(petition, world.intake_a)
    assert "name_subject" in offered
    assert not offered & {"forward", "assign", "accept", "decline", "redirect"}
    # the clerk names the accused department
    services.name_subject(
        user=world.intake_a, number=petition.number, subject_organisation=world.a.department,
        subject_person="王某某",
    )  # fmt: skip
    petition.refresh_from_db()
    assert petition.subject_confirmed and petition.subject_organisation == world.a.department
    assert petition.subject_person == "王某某"
    event = PetitionEvent.objects.filter(petition=petition, kind="subject_named").get()
    assert not event.is_public and "王某某" not in str(event.data)
    # the accused department can neither receive nor see it; another department can
    with pytest.raises(TransitionRefused) as refused:
        services.assign(user=world.intake_a, number=petition.number, unit=world.a.department)
    assert refused.value.code == "accused_unit"
    services.assign(user=world.intake_a, number=petition.number, unit=upper.other_department)
    assert not _sees(world.handler_a, petition)


def test_stating_that_a_report_names_no_organisation_lets_it_be_routed(world, upper):
    petition = _report(world, clerk=None)
    services.name_subject(user=world.intake_a, number=petition.number, no_subject_organisation=True)
    petition.refresh_from_db()
    assert petition.subject_confirmed and petition.subject_organisation is None
    services.assign(user=world.intake_a, number=petition.number, unit=world.a.department)
    assert _sees(world.handler_a, petition)


def test_name_subject_needs_exactly_one_answer_and_only_for_reports_before_routing(world, upper):
    petition = _report(world, clerk=None)
    for kwargs in [{}, {"subject_organisation": world.a.department, "no_subject_organisation": True}]:
        with pytest.raises(TransitionRefused) as refused:
            services.name_subject(user=world.intake_a, number=petition.number, **kwargs)
        assert refused.value.code == "missing_subject"
    # only the registering office, not a handler or another county
    assert "name_subject" not in _actions(petition, world.handler_a)
    assert "name_subject" not in _actions(petition, world.intake_b)
    # a complaint has no accused to protect
    complaint = register(world.a.office, world.intake_a, world.a.township).petition
    assert "name_subject" not in _actions(complaint, world.intake_a)
    with pytest.raises(TransitionRefused) as refused:
        services.name_subject(user=world.intake_a, number=complaint.number, no_subject_organisation=True)
    assert refused.value.code == "not_a_report"
    # once routed, too late: a correction would come after the accused might have seen it
    services.name_subject(user=world.intake_a, number=petition.number, no_subject_organisation=True)
    services.forward(user=world.intake_a, number=petition.number, unit=world.a.department)
    with pytest.raises(TransitionRefused) as refused:
        services.name_subject(
            user=world.intake_a, number=petition.number, subject_organisation=world.a.department
        )
    assert refused.value.code == "wrong_state"


def test_the_clerk_names_the_accused_at_registration(world):
    named = _report(world, subject_organisation_id=world.a.department.pk, subject_person="王某某")
    none = _report(world, no_subject_organisation=True)
    silent = _report(world)
    assert named.subject_confirmed and none.subject_confirmed and not silent.subject_confirmed
    # the portal cannot confirm anything: the citizen names the accused in free text only
    public = _report(
        world, clerk=None, subject_organisation_id=world.a.department.pk, subject_person="王某某"
    )
    assert not public.subject_confirmed and public.subject_organisation is None and not public.subject_person
    with pytest.raises(ValidationError) as invalid:
        _report(world, subject_organisation_id=world.a.department.pk, no_subject_organisation=True)
    assert "subject_organisation" in invalid.value.message_dict


def test_the_accused_person_is_encrypted_at_rest(world):
    petition = _report(world, subject_organisation_id=world.a.department.pk, subject_person="王某某")
    with connection.cursor() as cursor:
        cursor.execute("SELECT subject_person FROM petitions_petition WHERE id = %s", [petition.pk])
        stored = cursor.fetchone()[0]
    assert stored and "王某某" not in stored
    assert Petition.objects.get(pk=petition.pk).subject_person == "王某某"


# --- point 2: a report against the office or its government goes up ------------------------------


def test_a_report_against_the_office_itself_can_only_be_forwarded_up(world, upper):
    """The trial: a report against 县信访局 stayed with, and could be handled by, 县信访局."""
    petition = _report(world, subject_organisation_id=world.a.office.pk)
    # the office sees it (it has to send it on) but may decide nothing about it itself
    offered = _actions(petition, world.intake_a)
    assert "forward" in offered
    assert not offered & {"accept", "decline", "redirect", "assign", "merge", "refuse_repeat"}
    for action, kwargs in [(services.accept, {}), (services.decline, {"reasons": "不属于信访事项"})]:
        with pytest.raises(TransitionRefused) as refused:
            action(user=world.intake_a, number=petition.number, **kwargs)
        assert refused.value.code == "accused_office"
    for unit in [world.a.department, upper.province]:
        with pytest.raises(TransitionRefused) as refused:
            services.forward(user=world.intake_a, number=petition.number, unit=unit)
        assert refused.value.code == "must_go_up"
    assert set(routing.unit_choices(petition)) == {upper.office, upper.discipline}
    # when: sent up to the city's petition office
    services.forward(user=world.intake_a, number=petition.number, unit=upper.office)
    # then: the accused office never sees it again; the city office handles it
    assert not _sees(world.intake_a, petition) and not _sees(world.supervisor_a, petition)
    assert _sees(world.leader_a, petition)  # the county government is not accused
    services.unit_accept(user=upper.handler_city_office, number=petition.number)
    services.reply(user=upper.handler_city_office, number=petition.number, **REPLY)
    petition.refresh_from_db()
    assert petition.status == "replied"


def test_a_report_against_the_county_government_goes_to_the_city(world, upper):
    petition = _report(world, subject_organisation_id=world.a.government.pk)
    assert not _sees(world.leader_a, petition) and not _sees(world.handler_a, petition)
    with pytest.raises(TransitionRefused) as refused:
        services.assign(user=world.intake_a, number=petition.number, unit=upper.discipline)
    assert refused.value.code == "accused_office"  # forwarded only: the county cannot order the city
    services.forward(user=world.intake_a, number=petition.number, unit=upper.discipline)
    assert not _sees(world.intake_a, petition)
    services.unit_accept(user=upper.handler_discipline, number=petition.number)


def test_a_report_against_the_city_goes_past_it_to_the_province(world, upper):
    """The next level is itself the accused (the county office sits inside the city): skip it."""
    petition = _report(world, subject_organisation_id=world.city.pk)
    assert set(routing.unit_choices(petition)) == {upper.province}
    with pytest.raises(TransitionRefused) as refused:
        services.forward(user=world.intake_a, number=petition.number, unit=upper.office)
    assert refused.value.code == "accused_unit"
    services.forward(user=world.intake_a, number=petition.number, unit=upper.province)
    assert not _sees(world.city_supervisor, petition) and not _sees(world.intake_a, petition)
    services.unit_accept(user=upper.handler_province, number=petition.number)


# --- point 3: review and recheck skip the accused ------------------------------------------------


def test_reviewing_body_skips_the_accused(world, upper):
    petition = _report(world, subject_organisation_id=world.city.pk)
    assert appeals.reviewing_body(world.a.department) == world.a.government
    assert appeals.reviewing_body(world.a.office) == world.city
    assert appeals.reviewing_body(world.a.office, petition) == world.province
    assert appeals.reviewing_body(world.a.government, petition) == world.province


def test_a_review_of_a_reply_by_the_accuseds_subordinate_is_not_deadlocked(world, upper):
    """The trial: a report against the city government, replied by the county office, went for
    review to the city government — which may not see it.  Nobody could act.  (Such a reply cannot
    be given any more; the record is made as the old code made it.)"""
    # given: a report the county office accepted and replied to before the city was named accused
    petition = _report(world, no_subject_organisation=True)
    services.accept(user=world.intake_a, number=petition.number)
    services.reply(user=world.supervisor_a, number=petition.number, **REPLY)
    Petition.objects.filter(pk=petition.pk).update(subject_organisation=world.city)
    petition.refresh_from_db()
    assert "上级" not in services.review_notice(world.a.office, petition)
    assert world.province.name in services.review_notice(world.a.office, petition)
    # when
    appeals.request_review(
        user=Citizen(petition_id=petition.pk), number=petition.number, reasons="不服处理意见"
    )
    # then: the province reviews, and someone there can act
    appeal = Appeal.objects.get(petition=petition)
    assert appeal.body == world.province
    leader_province = make_staff("leader_province", world.province, "leader")
    assert "review" in _actions(petition, leader_province)
    assert not _sees(world.city_supervisor, petition)
