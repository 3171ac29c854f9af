"""Supervision notices (督办, Arts. 39-40): issuing, answering, accepting, returning and lifting,
each allowed and refused — wrong side, wrong role, another office, final state, stale version,
dates, listed supervision without a leader, a unit the notice is not addressed to, an office that
did not issue it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinfang.audit.models import AuditEvent
from xinfang.petitions.access import PetitionNotFound
from xinfang.petitions.choices import EventKind
from xinfang.petitions.models import Petition, PetitionEvent
from xinfang.portal.services import track_petition
from xinfang.supervision import services
from xinfang.supervision.models import FeedbackDecision, NoticeKind, NoticeStatus, SupervisionNotice
from xinfang.workflow import services as workflow
from xinfang.workflow.engine import TransitionRefused, allowed_actions

TOMORROW = timezone.localdate() + dt.timedelta(days=7)


def refused(code: str, call, *args, **kwargs) -> TransitionRefused:  # noqa: ANN001
    with pytest.raises(TransitionRefused) as excinfo:
        call(*args, **kwargs)
    assert excinfo.value.code == code, excinfo.value.messages
    return excinfo.value


def city_listed(world, staff, petition, **overrides) -> SupervisionNotice:
    values = {"kind": NoticeKind.LISTED, "requirements": "逾期未办结，请于期限内报告办理结果。",
              "respond_by": TOMORROW, "leader": staff.city_leader, "published": False}  # fmt: skip
    values.update(overrides)
    return services.supervise(user=world.city_supervisor, number=petition.number, **values)


def actions_of(petition, user) -> set[str]:
    petition.refresh_from_db()
    return {t.action for t in allowed_actions(petition, user)}


# --- supervise ----------------------------------------------------------------------------------


def test_city_supervisor_lists_a_county_petition(world, staff, petition):
    version = petition.version
    notice = city_listed(world, staff, petition)
    petition.refresh_from_db()
    assert petition.status == "accepted" and petition.version == version + 1  # state unchanged
    assert notice.unit == world.a.department and notice.office.name == "A市信访局"
    assert notice.status == NoticeStatus.OPEN and notice.leader == staff.city_leader
    event = PetitionEvent.objects.get(petition=petition, kind=EventKind.SUPERVISED)
    assert not event.is_public and event.data["notice"] == notice.pk and event.actor == world.city_supervisor
    assert AuditEvent.objects.filter(action="petition.supervise").exists()


def test_registering_county_office_supervises_its_assigned_petition(world, petition):
    notice = services.supervise(user=world.supervisor_a, number=petition.number, kind=NoticeKind.FORMAL,
                                requirements="请加快办理。")  # fmt: skip
    assert notice.office == world.a.office
    # default: 5 working days from today
    assert notice.respond_by == services.default_respond_by()


def test_supervise_refused_to_handler_intake_and_other_county(world, staff, petition):
    kwargs = {"number": petition.number, "kind": NoticeKind.FORMAL, "requirements": "请加快办理。"}
    refused("not_allowed", services.supervise, user=world.handler_a, **kwargs)  # the unit itself
    refused("not_allowed", services.supervise, user=world.intake_a, **kwargs)  # no supervisor role
    with pytest.raises(PetitionNotFound):  # another county's office does not see it
        services.supervise(user=staff.supervisor_b, **kwargs)
    assert not SupervisionNotice.objects.exists()


def test_supervise_refused_in_final_state_and_on_stale_version(world, registration):
    number = registration.petition.number
    version = Petition.objects.get(number=number).version
    refused("stale_version", services.supervise, user=world.city_supervisor, number=number,
            kind=NoticeKind.FORMAL, requirements="请加快办理。", version=version + 5)  # fmt: skip
    workflow.decline(user=world.intake_a, number=number, reasons="不属于信访事项")
    refused("wrong_state", services.supervise, user=world.city_supervisor, number=number,
            kind=NoticeKind.FORMAL, requirements="请加快办理。")  # fmt: skip


def test_supervise_checks_date_requirements_leader_and_kind(world, staff, petition):
    today = timezone.localdate()
    for date in (today, today - dt.timedelta(days=1)):
        error = refused("invalid_date", city_listed, world, staff, petition, respond_by=date)
        assert "晚于今天" in error.messages[0]
    error = refused("missing_leader", city_listed, world, staff, petition, leader=None)
    assert "挂牌领导" in error.messages[0]
    # a leader of another line (the county government) cannot be named by the city office
    refused("invalid_leader", city_listed, world, staff, petition, leader=world.leader_a)
    refused("missing_reason", city_listed, world, staff, petition, requirements="  ")
    refused("invalid_kind", city_listed, world, staff, petition, kind="visit")
    assert not SupervisionNotice.objects.exists()
    # the petition office's own leader is accepted too
    notice = city_listed(world, staff, petition, leader=staff.city_office_leader)
    assert notice.leader == staff.city_office_leader


def test_one_live_notice_per_office_but_several_offices(world, staff, petition):
    city_listed(world, staff, petition)
    error = refused("already_supervised", services.supervise, user=world.city_supervisor,
                    number=petition.number, kind=NoticeKind.URGE, requirements="再次催办")  # fmt: skip
    assert "请先解除" in error.messages[0]
    services.supervise(user=world.supervisor_a, number=petition.number, kind=NoticeKind.URGE,
                       requirements="请尽快办理")  # fmt: skip
    assert SupervisionNotice.objects.filter(petition=petition, status=NoticeStatus.OPEN).count() == 2


# --- answer -------------------------------------------------------------------------------------


def test_unit_answers_and_the_issuer_accepts(world, staff, petition):
    notice = city_listed(world, staff, petition)
    assert "answer_supervision" in actions_of(petition, world.handler_a)
    assert "answer_supervision" not in actions_of(petition, world.city_supervisor)
    feedback = services.answer_supervision(user=world.handler_a, number=petition.number,
                                           text="已约谈用人单位，工资将于本周内发放。")  # fmt: skip
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ANSWERED and feedback.decision == FeedbackDecision.PENDING
    assert "accept_supervision_answer" in actions_of(petition, world.city_supervisor)
    assert "accept_supervision_answer" not in actions_of(petition, world.supervisor_a)  # not its notice
    refused("not_issuer", services.accept_supervision_answer, user=world.supervisor_a, number=petition.number)
    services.accept_supervision_answer(user=world.city_supervisor, number=petition.number, comment="认可")
    notice.refresh_from_db()
    feedback.refresh_from_db()
    assert notice.status == NoticeStatus.ACCEPTED and notice.closed_at is not None
    assert feedback.decision == FeedbackDecision.ACCEPTED and feedback.decided_by == world.city_supervisor
    kinds = list(PetitionEvent.objects.filter(petition=petition).values_list("kind", flat=True))
    assert {EventKind.SUPERVISION_ANSWERED, EventKind.SUPERVISION_ACCEPTED} <= set(kinds)


def test_answer_refused_without_text_to_wrong_side_and_without_open_notice(world, staff, petition):
    refused("no_open_notice", services.answer_supervision, user=world.handler_a, number=petition.number,
            text="进展")  # fmt: skip
    city_listed(world, staff, petition)
    refused("missing_reason", services.answer_supervision, user=world.handler_a, number=petition.number,
            text=" ")  # fmt: skip
    refused("not_allowed", services.answer_supervision, user=world.city_supervisor, number=petition.number,
            text="进展")  # fmt: skip
    with pytest.raises(PetitionNotFound):
        services.answer_supervision(user=world.handler_b, number=petition.number, text="进展")


def test_answer_refused_to_a_unit_the_notice_is_not_addressed_to(world, staff, registration):
    """The notice went to the department; after its objection the petition went to the township,
    which is now the unit but was not supervised."""
    number = registration.petition.number
    workflow.assign(user=world.intake_a, number=number, unit=world.a.department)
    services.supervise(user=world.city_supervisor, number=number, kind=NoticeKind.URGE,
                       requirements="请尽快受理")  # fmt: skip
    workflow.return_petition(user=world.handler_a, number=number, reasons="不属于本单位职责")
    workflow.forward(user=world.intake_a, number=number, unit=world.a.township)
    error = refused("not_addressed", services.answer_supervision, user=staff.handler_town, number=number,
                    text="已受理")  # fmt: skip
    assert "不是发给本单位" in error.messages[0]


def test_several_open_notices_need_a_choice(world, staff, petition):
    city = city_listed(world, staff, petition)
    county = services.supervise(user=world.supervisor_a, number=petition.number, kind=NoticeKind.URGE,
                                requirements="请尽快办理")  # fmt: skip
    error = refused("choose_notice", services.answer_supervision, user=world.handler_a,
                    number=petition.number, text="进展")  # fmt: skip
    assert "请选择" in error.messages[0]
    services.answer_supervision(user=world.handler_a, number=petition.number, text="进展", notice=county.pk)
    county.refresh_from_db()
    city.refresh_from_db()
    assert county.status == NoticeStatus.ANSWERED and city.status == NoticeStatus.OPEN
    # the remaining one is now the only candidate
    services.answer_supervision(user=world.handler_a, number=petition.number, text="进展")
    city.refresh_from_db()
    assert city.status == NoticeStatus.ANSWERED
    # another office's notice cannot be named by id
    refused("invalid_notice", services.accept_supervision_answer, user=world.city_supervisor,
            number=petition.number, notice=county.pk)  # fmt: skip


# --- return and lift ----------------------------------------------------------------------------


def test_issuer_returns_the_answer_with_reason_and_new_date(world, staff, petition):
    notice = city_listed(world, staff, petition)
    services.answer_supervision(user=world.handler_a, number=petition.number, text="正在办理")
    refused("missing_reason", services.return_supervision_answer, user=world.city_supervisor,
            number=petition.number, reasons="")  # fmt: skip
    refused("invalid_date", services.return_supervision_answer, user=world.city_supervisor,
            number=petition.number, reasons="未说明结果", respond_by=timezone.localdate())  # fmt: skip
    refused("not_issuer", services.return_supervision_answer, user=world.supervisor_a,
            number=petition.number, reasons="未说明结果")  # fmt: skip
    new_date = TOMORROW + dt.timedelta(days=7)
    services.return_supervision_answer(user=world.city_supervisor, number=petition.number,
                                       reasons="未说明工资发放结果", respond_by=new_date)  # fmt: skip
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.OPEN and notice.respond_by == new_date
    assert notice.feedback.get().decision == FeedbackDecision.RETURNED
    # the unit answers again
    services.answer_supervision(user=world.handler_a, number=petition.number, text="工资已发放")
    assert notice.feedback.count() == 2


def test_issuer_lifts_listed_supervision_even_after_acceptance(world, staff, petition):
    notice = city_listed(world, staff, petition)
    refused("not_issuer", services.lift_supervision, user=world.supervisor_a, number=petition.number,
            reasons="已解决")  # fmt: skip
    refused("missing_reason", services.lift_supervision, user=world.city_supervisor, number=petition.number,
            reasons="")  # fmt: skip
    services.answer_supervision(user=world.handler_a, number=petition.number, text="已解决")
    services.accept_supervision_answer(user=world.city_supervisor, number=petition.number)
    assert "lift_supervision" in actions_of(petition, world.city_supervisor)
    services.lift_supervision(user=world.city_supervisor, number=petition.number, reasons="问题已解决，摘牌")
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.LIFTED and notice.lifted_by == world.city_supervisor
    refused("no_live_notice", services.lift_supervision, user=world.city_supervisor, number=petition.number,
            reasons="再次")  # fmt: skip


def test_accepted_formal_notice_cannot_be_lifted(world, petition):
    services.supervise(user=world.supervisor_a, number=petition.number, kind=NoticeKind.FORMAL,
                       requirements="请办理")  # fmt: skip
    services.answer_supervision(user=world.handler_a, number=petition.number, text="已办理")
    services.accept_supervision_answer(user=world.supervisor_a, number=petition.number)
    refused("no_live_notice", services.lift_supervision, user=world.supervisor_a, number=petition.number,
            reasons="结束")  # fmt: skip


# --- the portal ---------------------------------------------------------------------------------


def test_timeline_internal_and_portal_line_follows_published(world, staff, registration, petition):
    number = petition.number
    services.supervise(user=world.supervisor_a, number=number, kind=NoticeKind.FORMAL,
                       requirements="内部要求XYZ")  # fmt: skip

    def view():
        return track_petition(number=number, code=registration.query_code, ip="10.0.0.9")

    public = view()
    assert not public.supervised
    assert all(e.kind != EventKind.SUPERVISED for e in public.events)
    assert "内部要求XYZ" not in str(public)
    city_listed(world, staff, petition, published=True)
    public = view()
    assert public.supervised
    assert "内部要求" not in str(public) and "逾期未办结" not in str(public)


def test_the_registering_office_cannot_supervise_what_it_handles_itself(world, registration):
    """Before routing the office handles the petition: it cannot supervise its own work."""
    refused("not_allowed", services.supervise, user=world.supervisor_a, number=registration.petition.number,
            kind=NoticeKind.FORMAL, requirements="请办理")  # fmt: skip
    assert "supervise" in {t.action for t in allowed_actions(registration.petition, world.city_supervisor)}


def test_every_supervision_event_names_its_notice(world, staff, petition):
    from xinfang.supervision.selectors import notice_of_event

    city = city_listed(world, staff, petition)
    county = services.supervise(user=world.supervisor_a, number=petition.number, kind=NoticeKind.URGE,
                                requirements="请尽快办理")  # fmt: skip
    services.answer_supervision(user=world.handler_a, number=petition.number, text="进展", notice=city.pk)
    answered = PetitionEvent.objects.get(petition=petition, kind=EventKind.SUPERVISION_ANSWERED)
    assert notice_of_event(answered) == city != county
    assert notice_of_event(PetitionEvent.objects.filter(petition=petition).first()) is None
