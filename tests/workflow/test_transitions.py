"""The first transitions of the procedure: disposal by the petition office (forward, assign, accept,
decline, redirect) and the unit's acceptance or objection (条例 Arts. 22, 23)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from freezegun import freeze_time

from xinfang.audit.models import AuditEvent
from xinfang.petitions.access import PetitionNotFound
from xinfang.petitions.models import Petition, PetitionEvent
from xinfang.portal.services import track_petition
from xinfang.workflow import services
from xinfang.workflow.deadlines import due_date
from xinfang.workflow.engine import TransitionRefused, allowed_actions
from xinfang.workflow.models import Assignment, Step

from ..factories import register


@pytest.fixture
def registration(world):
    return register(world.a.office, world.intake_a, world.a.township)


@pytest.fixture
def petition(registration) -> Petition:
    return registration.petition


def snapshot(petition: Petition) -> tuple:
    petition.refresh_from_db()
    return (petition.status, petition.version, petition.due_on, PetitionEvent.objects.count(),
            Assignment.objects.count(), AuditEvent.objects.count())  # fmt: skip


def test_forward_sends_the_petition_to_the_unit(world, registration, petition):
    # when the office forwards it to county A's department
    services.forward(
        user=world.intake_a, number=petition.number, unit=world.a.department, comment="请依法处理"
    )
    petition.refresh_from_db()
    # then it is forwarded, the unit sees it, and its clock is the unit's acceptance period
    assert petition.status == "forwarded" and petition.version == 2
    assert Petition.objects.restrict(world.handler_a).filter(pk=petition.pk).exists()
    assert petition.due_on == due_date(Step.UNIT_ACCEPTANCE, timezone.localdate(), world.a.department).due_on
    event = petition.events.get(kind="forwarded")
    assert event.public_note == "您的信访事项已转送甲县人社局办理。" and event.comment == "请依法处理"
    # and the petitioner reads the public note, not the comment
    view = track_petition(number=petition.number, code=registration.query_code, ip="10.0.0.9")
    assert [e.note for e in view.events][-1] == "您的信访事项已转送甲县人社局办理。"
    assert AuditEvent.objects.filter(action="petition.forward", object_repr=petition.number).exists()


def test_unit_accepts_and_the_handling_clock_starts(world, petition):
    services.assign(user=world.intake_a, number=petition.number, unit=world.a.department)
    services.unit_accept(user=world.handler_a, number=petition.number)
    petition.refresh_from_db()
    assert petition.status == "accepted"
    assert petition.due_on == due_date(Step.HANDLING, timezone.localdate(), world.a.department).due_on
    assert petition.due_on >= timezone.localdate() + dt.timedelta(days=60)


def test_office_accepts_its_own_matter(world, petition):
    services.accept(user=world.supervisor_a, number=petition.number)
    petition.refresh_from_db()
    assert petition.status == "accepted"
    assert petition.due_on == due_date(Step.HANDLING, timezone.localdate(), world.a.office).due_on


REASONS = [("decline", {"reasons": "属于诉讼程序"}), ("redirect", {"channel": "向甲县人民法院提起诉讼"})]


@pytest.mark.parametrize(("action", "kwargs"), REASONS)
def test_decline_and_redirect_tell_the_petitioner_why_and_stop_the_clock(
    world, registration, petition, action, kwargs
):
    getattr(services, action)(user=world.intake_a, number=petition.number, **kwargs)
    petition.refresh_from_db()
    assert petition.status == {"decline": "declined", "redirect": "redirected"}[action]
    assert petition.due_on is None
    view = track_petition(number=petition.number, code=registration.query_code, ip="10.0.0.9")
    assert next(iter(kwargs.values())) in view.events[-1].note


@pytest.mark.parametrize("action", ["decline", "redirect"])
def test_decline_and_redirect_need_a_reason(world, petition, action):
    before = snapshot(petition)
    with pytest.raises(TransitionRefused) as excinfo:
        getattr(services, action)(user=world.intake_a, number=petition.number, **{
            "decline": {"reasons": " "}, "redirect": {"channel": ""}}[action])  # fmt: skip
    assert excinfo.value.code == "missing_reason"
    assert snapshot(petition) == before


def test_wrong_state_is_refused_and_nothing_changes(world, petition):
    services.decline(user=world.intake_a, number=petition.number, reasons="不属于信访事项")
    before = snapshot(petition)
    with pytest.raises(TransitionRefused) as excinfo:
        services.accept(user=world.intake_a, number=petition.number)
    assert excinfo.value.code == "wrong_state"
    assert "不能受理" in excinfo.value.messages[0]
    assert snapshot(petition) == before


def test_wrong_role_or_side_is_refused(world, petition):
    before = snapshot(petition)
    # a handler of the county (not the office) cannot dispose of it — they cannot even see it yet
    with pytest.raises(PetitionNotFound):
        services.forward(user=world.handler_a, number=petition.number, unit=world.a.department)
    # the county leader sees it but is not the petition office
    with pytest.raises(TransitionRefused) as excinfo:
        services.accept(user=world.leader_a, number=petition.number)
    assert excinfo.value.code == "not_allowed"
    # county B cannot reach it at all
    with pytest.raises(PetitionNotFound):
        services.accept(user=world.intake_b, number=petition.number)
    assert snapshot(petition) == before


def test_the_office_cannot_take_the_units_step(world, petition):
    services.forward(user=world.intake_a, number=petition.number, unit=world.a.department)
    with pytest.raises(TransitionRefused):
        services.unit_accept(user=world.intake_a, number=petition.number)


def test_stale_version_is_refused(world, petition):
    services.forward(user=world.intake_a, number=petition.number, unit=world.a.department, version=1)
    before = snapshot(petition)
    with pytest.raises(TransitionRefused) as excinfo:
        services.unit_accept(user=world.handler_a, number=petition.number, version=1)
    assert excinfo.value.code == "stale_version"
    assert snapshot(petition) == before


def test_unit_returns_within_five_working_days_and_office_overrules(world, petition):
    services.assign(user=world.intake_a, number=petition.number, unit=world.a.department)
    services.return_petition(user=world.handler_a, number=petition.number, reasons="该事项属自然资源部门职责")
    petition.refresh_from_db()
    assert petition.status == "returned"
    assert not Assignment.objects.filter(petition=petition, ended_at__isnull=True).exists()
    # the office does not agree: back to the same unit, as an assignment again
    services.overrule_return(user=world.supervisor_a, number=petition.number, comment="属你单位职责，请办理")
    petition.refresh_from_db()
    assert petition.status == "assigned"
    assert Assignment.objects.get(petition=petition, ended_at__isnull=True).unit == world.a.department


def test_returned_petition_can_be_rerouted(world, petition):
    services.forward(user=world.intake_a, number=petition.number, unit=world.a.department)
    services.return_petition(user=world.handler_a, number=petition.number, reasons="非本单位职责")
    services.forward(user=world.intake_a, number=petition.number, unit=world.a.township)
    assert Assignment.objects.get(petition=petition, ended_at__isnull=True).unit == world.a.township
    assert Assignment.objects.filter(petition=petition).count() == 2


def test_objection_after_the_window_is_refused(world, petition):
    services.forward(user=world.intake_a, number=petition.number, unit=world.a.department)
    assigned = Assignment.objects.get(petition=petition).assigned_at
    window = due_date(Step.OBJECTION, timezone.localtime(assigned).date(), world.a.department).due_on
    late = dt.datetime.combine(window + dt.timedelta(days=1), dt.time(10)).astimezone()
    with freeze_time(late), pytest.raises(TransitionRefused) as excinfo:
        services.return_petition(user=world.handler_a, number=petition.number, reasons="非本单位职责")
    assert excinfo.value.code == "out_of_window"


def test_a_report_is_never_sent_to_the_accused_unit(world):
    report = register(world.a.office, world.intake_a, world.a.township, purpose="report",
                      subject_organisation_id=world.a.department.pk).petition  # fmt: skip
    with pytest.raises(TransitionRefused) as excinfo:
        services.forward(user=world.intake_a, number=report.number, unit=world.a.department)
    assert excinfo.value.code == "accused_unit"
    report.refresh_from_db()
    assert report.status == "registered"


# Open until the petition ends: withdrawal, the urgent report (office) and recusal (anyone in the chain).
ANYTIME = {"withdraw", "report_urgent", "recuse"}


def test_allowed_actions_follow_state_and_side(world, petition):
    assert {t.action for t in allowed_actions(petition, world.intake_a)} == {
        "forward", "assign", "accept", "decline", "redirect", "merge", *ANYTIME}  # fmt: skip
    services.forward(user=world.intake_a, number=petition.number, unit=world.a.department)
    petition.refresh_from_db()
    offered = {t.action for t in allowed_actions(petition, world.handler_a)}
    # the unit also names its handler (承办人, issue #8)
    assert offered == {"unit_accept", "return", "recuse", "assign_handler"}
    assert {t.action for t in allowed_actions(petition, world.intake_a)} == ANYTIME


def test_registration_starts_the_disposal_clock_under_the_rule_profile(world):
    """Registered through the workflow, a petition received on 2025-09-16 must be disposed of by
    2025-10-09: day 15 is National Day, and the period moves past the holiday (Art. 22; 民法典 203)."""
    from xinfang.workflow.services import register as register_through_workflow

    from ..factories import make_draft

    draft = make_draft(world.a.township, received_on=dt.date(2025, 9, 16))
    petition = register_through_workflow(draft=draft, office=world.a.office, actor=world.intake_a).petition
    assert petition.due_on == dt.date(2025, 10, 9)
