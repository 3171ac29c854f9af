"""Closing a petition without an answer, flags and recusal: withdrawal (撤回), merging a duplicate
(合并), 不再受理 of a repeat (Art. 19 ¶3, 36 ¶3), the urgent report (Art. 25) and recusal (回避,
Art. 28 ¶3) — each allowed and refused, at the service level."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from freezegun import freeze_time

from xinfang.audit.models import AuditEvent
from xinfang.petitions.access import PetitionNotFound
from xinfang.petitions.choices import Purpose
from xinfang.petitions.models import Involvement, Petition, Recusal
from xinfang.workflow import appeals, services
from xinfang.workflow.engine import Citizen, allowed_actions
from xinfang.workflow.models import Assignment

from ..factories import make_staff, register
from .test_appeals import (
    OPINION,
    RECHECK,
    REPLY,
    START,
    last_event,
    new_registration,
    offered,
    petition_of,
    public_notes,
    refused,
    snapshot,
    to_accepted,
    to_replied,
    to_under_recheck,
)


@pytest.fixture
def clock():
    with freeze_time(START) as frozen:
        yield frozen


@pytest.fixture
def registration(world, clock):
    return new_registration(world)


@pytest.fixture
def number(registration) -> str:
    return registration.petition.number


def sees(user, number: str) -> bool:  # noqa: ANN001
    return Petition.objects.restrict(user).filter(number=number).exists()


# --- withdrawal -----------------------------------------------------------------------------------------


def test_staff_withdraw_on_the_petitioner_s_behalf_and_the_assignment_ends(world, registration, number):
    to_accepted(world, number)
    before = snapshot(number)
    error = refused("missing_reason", services.withdraw, user=world.intake_a, number=number, reasons=" ")
    assert error.params == {"field": "reasons"}
    assert snapshot(number) == before
    services.withdraw(user=world.intake_a, number=number, reasons="信访人来电表示问题已自行解决")
    petition = petition_of(number)
    assert (petition.status, petition.due_on) == ("withdrawn", None)
    assignment = Assignment.objects.get(petition=petition)
    assert assignment.ended_at is not None and assignment.end_reason == "withdrawn"
    event = last_event(number)
    assert event.kind == "withdrawn" and event.comment == "信访人来电表示问题已自行解决"
    assert "已撤回" in public_notes(registration)[-1]
    assert "自行解决" not in " ".join(public_notes(registration))
    assert AuditEvent.objects.filter(action="petition.withdraw", actor=world.intake_a).exists()
    # final: nobody is offered anything
    assert not any(allowed_actions(petition, u) for u in (world.intake_a, world.handler_a, world.leader_a))


def test_withdrawal_refused_after_the_reply_or_to_the_unit(world, number):
    to_accepted(world, number)
    before = snapshot(number)
    for user in (world.handler_a, world.leader_a):
        refused("not_allowed", services.withdraw, user=user, number=number, reasons="信访人撤回")
    with pytest.raises(PetitionNotFound):
        services.withdraw(user=world.intake_b, number=number, reasons="信访人撤回")
    assert snapshot(number) == before
    services.reply(user=world.handler_a, number=number, **REPLY)
    before = snapshot(number)
    refused("wrong_state", services.withdraw, user=world.intake_a, number=number, reasons="信访人撤回")
    refused("wrong_state", services.withdraw, user=Citizen(petition_id=petition_of(number).pk), number=number)
    assert snapshot(number) == before


# --- merging a duplicate ------------------------------------------------------------------------------


def test_a_duplicate_is_merged_into_the_petition_under_way(world, registration, number):
    earlier = new_registration(world).petition
    to_accepted(world, earlier.number)
    services.merge(
        user=world.supervisor_a, number=number, into=f" {earlier.number} ", comment="同一人同一事项"
    )
    petition = petition_of(number)
    assert (petition.status, petition.due_on, petition.is_repeat) == ("merged", None, True)
    assert petition.repeat_of == earlier
    event = last_event(number)
    assert (
        event.kind == "merged" and event.data["into"] == earlier.number and event.comment == "同一人同一事项"
    )
    # the merged petition's own timeline ends with the merge; the target's follows it (issue #7 point 10)
    assert any(earlier.number in note and "合并" in note for note in public_notes(registration))
    assert AuditEvent.objects.filter(action="petition.merge").exists()
    assert petition_of(earlier.number).status == "accepted"  # the target is untouched


def test_merge_refuses_an_invalid_target(world, number):
    declined = new_registration(world).petition
    services.decline(user=world.intake_a, number=declined.number, reasons="已依法处理")
    elsewhere = register(world.b.office, world.intake_b, world.b.township).petition
    before = snapshot(number)
    for into in ("", number, "XF-000000-2026-999999", declined.number, elsewhere.number):
        error = refused("invalid_target", services.merge, user=world.intake_a, number=number, into=into)
        assert error.params == {"field": "into"}
    assert snapshot(number) == before


def test_merge_only_before_disposal_and_only_by_the_office(world, number):
    target = new_registration(world).petition
    services.forward(user=world.intake_a, number=number, unit=world.a.department)
    services.return_petition(user=world.handler_a, number=number, reasons="非本单位职责")
    # returned: disposed of again, so a duplicate may still be merged — but only by the office
    before = snapshot(number)
    refused("not_allowed", services.merge, user=world.handler_a, number=number, into=target.number)
    refused("not_allowed", services.merge, user=world.leader_a, number=number, into=target.number)
    assert snapshot(number) == before
    services.overrule_return(user=world.intake_a, number=number, comment="属你单位职责")
    services.unit_accept(user=world.handler_a, number=number)
    before = snapshot(number)
    refused("wrong_state", services.merge, user=world.intake_a, number=number, into=target.number)
    assert snapshot(number) == before


# --- 不再受理 ------------------------------------------------------------------------------------------


def concluded_petition(world) -> Petition:
    number = new_registration(world).petition.number
    to_under_recheck(world, number)
    appeals.recheck(user=world.city_supervisor, number=number, **RECHECK)
    return petition_of(number)


def test_a_repeat_of_a_concluded_matter_is_not_accepted_again(world):
    earlier = concluded_petition(world)
    registration = new_registration(world, repeat_of_number=earlier.number)
    number = registration.petition.number
    assert petition_of(number).repeat_of == earlier
    services.refuse_repeat(user=world.intake_a, number=number, comment="复核意见已送达")
    petition = petition_of(number)
    assert (petition.status, petition.due_on) == ("declined", None)
    event = last_event(number)
    assert event.kind == "not_accepted_again" and event.data["repeat_of"] == earlier.number
    assert event.comment == "复核意见已送达"
    note = public_notes(registration)[-1]
    assert "终结" in note and earlier.number in note and earlier.concluded_on.isoformat() in note
    assert AuditEvent.objects.filter(action="petition.refuse_repeat").exists()


def test_a_repeat_of_a_matter_handled_within_its_time_limit_is_not_accepted_again(world, clock):
    earlier = new_registration(world).petition
    to_accepted(world, earlier.number)
    registration = new_registration(world, repeat_of_number=earlier.number)
    services.refuse_repeat(user=world.supervisor_a, number=registration.petition.number)
    assert petition_of(registration.petition.number).status == "declined"
    note = public_notes(registration)[-1]
    assert "正在依法办理" in note and earlier.number in note


def test_a_repeat_of_an_overdue_or_unsettled_matter_must_be_handled(world, clock):
    earlier = new_registration(world).petition
    to_accepted(world, earlier.number)
    overdue = new_registration(world, repeat_of_number=earlier.number).petition.number
    declined = new_registration(world).petition
    services.decline(user=world.intake_a, number=declined.number, reasons="已依法处理")
    after_decline = new_registration(world, repeat_of_number=declined.number).petition.number
    clock.move_to(dt.datetime.combine(petition_of(earlier.number).due_on + dt.timedelta(days=1), dt.time(10),
                                      tzinfo=timezone.get_current_timezone()))  # fmt: skip
    for number in (overdue, after_decline):
        before = snapshot(number)
        refused("not_settled", services.refuse_repeat, user=world.intake_a, number=number)
        assert snapshot(number) == before


def test_refuse_repeat_needs_the_link_the_state_and_the_office(world, number):
    before = snapshot(number)
    refused("no_repeat_link", services.refuse_repeat, user=world.intake_a, number=number)
    assert snapshot(number) == before
    assert "refuse_repeat" not in offered(number, world.intake_a)
    earlier = new_registration(world).petition
    linked = new_registration(world, repeat_of_number=earlier.number).petition.number
    before = snapshot(linked)
    refused("not_allowed", services.refuse_repeat, user=world.leader_a, number=linked)
    assert snapshot(linked) == before
    services.forward(user=world.intake_a, number=linked, unit=world.a.department)
    before = snapshot(linked)
    refused("wrong_state", services.refuse_repeat, user=world.intake_a, number=linked)
    assert snapshot(linked) == before


# --- urgent report ------------------------------------------------------------------------------------


def test_an_urgent_matter_is_flagged_and_reported_up(world, registration, number):
    to_accepted(world, number)
    status, due_on = petition_of(number).status, petition_of(number).due_on
    services.report_urgent(user=world.supervisor_a, number=number, reasons="涉及二十余人，拟集体上访")
    petition = petition_of(number)
    assert petition.is_urgent and (petition.status, petition.due_on) == (status, due_on)
    assert Involvement.objects.filter(
        petition=petition, organisation=world.city, reason="supervisor"
    ).exists()
    event = last_event(number)
    assert event.kind == "reported_urgent" and event.comment == "涉及二十余人，拟集体上访"
    assert not event.is_public and event.data["reported_to"] == world.city.pk
    assert "集体上访" not in " ".join(public_notes(registration))
    assert AuditEvent.objects.filter(action="petition.report_urgent").exists()
    assert sees(world.city_supervisor, number)
    before = snapshot(number)
    refused("already_reported", services.report_urgent, user=world.intake_a, number=number, reasons="再报")
    assert snapshot(number) == before
    assert "report_urgent" not in offered(number, world.intake_a)


def test_urgent_report_refused_without_reason_by_the_unit_or_when_final(world, number):
    to_accepted(world, number)
    before = snapshot(number)
    refused("missing_reason", services.report_urgent, user=world.intake_a, number=number, reasons="")
    refused("not_allowed", services.report_urgent, user=world.handler_a, number=number, reasons="紧急")
    services.withdraw(user=world.intake_a, number=number, reasons="信访人撤回")
    before = snapshot(number)
    refused("wrong_state", services.report_urgent, user=world.intake_a, number=number, reasons="紧急")
    assert snapshot(number) == before


@pytest.mark.parametrize("accused", ["government", "city"])
def test_an_urgent_confidential_report_still_never_reaches_the_accused(world, accused):
    """A report against the county government (or the city itself) reported up: the accused
    organisation's staff still cannot see it, whoever else now does."""
    subject = world.a.government if accused == "government" else world.city
    leader_city = make_staff("leader_city", world.city, "leader")
    petition = register(world.a.office, world.intake_a, world.a.township, purpose=Purpose.REPORT,
                        subject_organisation_id=subject.pk).petition  # fmt: skip
    services.report_urgent(user=world.supervisor_a, number=petition.number, reasons="涉及领导干部")
    assert petition_of(petition.number).is_urgent
    if accused == "government":
        accused_staff = [world.leader_a, world.handler_a]
    else:
        accused_staff = [leader_city, world.city_supervisor]
    for member in accused_staff:
        assert not sees(member, petition.number), member.username
        with pytest.raises(PetitionNotFound):
            services.recuse(user=member, number=petition.number, reasons="试图查看")
        assert allowed_actions(petition_of(petition.number), member) == []
    assert sees(world.supervisor_a, petition.number)  # the registering office keeps it
    if accused == "government":
        assert sees(world.city_supervisor, petition.number)  # the office above now has it


# --- recusal ------------------------------------------------------------------------------------------


def test_a_handler_steps_aside_and_can_neither_see_nor_act(world, registration, number):
    to_accepted(world, number)
    assert "recuse" in offered(number, world.handler_a)
    services.recuse(user=world.handler_a, number=number, reasons="信访人系本人亲属")
    petition = petition_of(number)
    assert petition.status == "accepted"
    recusal = Recusal.objects.get(petition=petition)
    assert (recusal.user, recusal.decided_by, recusal.reason) == (world.handler_a, world.handler_a,
                                                                  "信访人系本人亲属")  # fmt: skip
    event = last_event(number)
    assert event.kind == "recused" and not event.is_public and event.data["staff"] == "handler_a"
    assert "亲属" not in " ".join(public_notes(registration))
    assert AuditEvent.objects.filter(action="petition.recuse", actor=world.handler_a).exists()
    # from now on: invisible, nothing offered, every action not found
    assert not sees(world.handler_a, number)
    assert allowed_actions(petition, world.handler_a) == []
    before = snapshot(number)
    with pytest.raises(PetitionNotFound):
        services.reply(user=world.handler_a, number=number, **REPLY)
    with pytest.raises(PetitionNotFound):
        services.recuse(user=world.handler_a, number=number, reasons="再次")
    assert snapshot(number) == before
    # others of the unit still handle it
    colleague = make_staff("handler_a2", world.a.department, "handler")
    services.reply(user=colleague, number=number, **REPLY)


def test_a_supervisor_orders_a_colleague_to_step_aside(world, number):
    services.recuse(user=world.supervisor_a, number=number, reasons="与被反映人有利害关系", staff="intake_a")
    recusal = Recusal.objects.get()
    assert (recusal.user, recusal.decided_by) == (world.intake_a, world.supervisor_a)
    assert last_event(number).data["staff"] == "intake_a"
    assert last_event(number).actor == world.supervisor_a
    assert not sees(world.intake_a, number) and sees(world.supervisor_a, number)
    before = snapshot(number)
    with pytest.raises(PetitionNotFound):
        services.forward(user=world.intake_a, number=number, unit=world.a.department)
    # a second order for the same person
    refused("already_recused", services.recuse, user=world.supervisor_a, number=number, reasons="重复",
            staff="intake_a")  # fmt: skip
    assert snapshot(number) == before


def test_recusal_orders_are_refused_outside_one_s_own_organisation_or_role(world, number):
    to_accepted(world, number)
    clerk = make_staff("intake_a2", world.a.office, "intake")
    before = snapshot(number)
    # the office's supervisor does not order the department's handler to step aside
    error = refused("not_allowed", services.recuse, user=world.supervisor_a, number=number,
                    reasons="利害关系", staff="handler_a")  # fmt: skip
    assert error.params == {"field": "staff"}
    # a clerk orders nobody
    refused("not_allowed", services.recuse, user=world.intake_a, number=number, reasons="利害关系",
            staff="intake_a2")  # fmt: skip
    error = refused("invalid_staff", services.recuse, user=world.supervisor_a, number=number,
                    reasons="利害关系", staff="nobody")  # fmt: skip
    assert error.params == {"field": "staff"}
    error = refused("missing_reason", services.recuse, user=world.supervisor_a, number=number, reasons=" ")
    assert error.params == {"field": "reasons"}
    with pytest.raises(PetitionNotFound):
        services.recuse(user=world.handler_b, number=number, reasons="利害关系")
    assert snapshot(number) == before
    assert sees(clerk, number) and sees(world.handler_a, number)


def test_the_government_s_leader_orders_a_department_handler_to_step_aside(world, number):
    """The leader line of the handling department (its government) may order its staff aside."""
    to_accepted(world, number)
    assert "recuse" in offered(number, world.leader_a)
    services.recuse(user=world.leader_a, number=number, reasons="系信访人近亲属", staff="handler_a")
    assert Recusal.objects.get().user == world.handler_a
    assert not sees(world.handler_a, number) and sees(world.leader_a, number)


def test_recusal_in_review_and_recheck_and_not_after_the_end(world, number):
    to_replied(world, number)
    appeals.request_review(user=world.intake_a, number=number, reasons="不服")
    # the reviewing government's leader is on the reviewer side and may step aside
    services.recuse(user=world.leader_a, number=number, reasons="曾参与原处理")
    with pytest.raises(PetitionNotFound):
        appeals.review(user=world.leader_a, number=number, **OPINION)
    appeals.review(user=world.supervisor_a, number=number, **OPINION)
    appeals.request_recheck(user=world.intake_a, number=number, reasons="不服")
    appeals.recheck(user=world.city_supervisor, number=number, **RECHECK)
    before = snapshot(number)
    refused("wrong_state", services.recuse, user=world.supervisor_a, number=number, reasons="利害关系")
    assert snapshot(number) == before


def test_the_petitioner_and_outsiders_cannot_order_a_recusal(world, number):
    """Found by the state machine: a Citizen naming a staff member crashed (AttributeError: no
    username) instead of being refused, and an outsider learnt whether a username exists
    (invalid_staff) before being told the petition is not theirs.  The name is looked at last."""
    before = snapshot(number)
    own = Citizen(petition_id=petition_of(number).pk)
    refused("not_allowed", services.recuse, user=own, number=number, reasons="利害关系", staff="intake_a")
    refused("not_allowed", services.recuse, user=own, number=number, reasons="利害关系")
    other = Citizen(petition_id=new_registration(world).petition.pk)
    with pytest.raises(PetitionNotFound):
        services.recuse(user=other, number=number, reasons="利害关系", staff="intake_a")
    with pytest.raises(PetitionNotFound):
        services.recuse(user=world.intake_b, number=number, reasons="利害关系", staff="nobody")
    assert petition_of(number).version == before[1] and not Recusal.objects.exists()
