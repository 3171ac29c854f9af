"""Instructions (阅批): a leader instructs a unit on a petition; the unit answers; the leader
closes or sends it back.  Who may, the bell, the history, the audit rows, overdue."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from freezegun import freeze_time

from xinfang.audit.models import AuditEvent
from xinfang.leadership import selectors, services
from xinfang.leadership.access import instructions_visible_to
from xinfang.leadership.models import InstructionStatus, InstructionStep
from xinfang.notifications.models import Notification

from ..factories import make_staff
from .conftest import days

pytestmark = pytest.mark.django_db


def _issue(world, petition, **kw):
    values = {
        "actor": world.leader_a,
        "petition": petition,
        "unit": world.a.department,
        "text": "请人社局于十日内办理并报结果。",
        "due_on": days(10),
    }
    values.update(kw)
    return services.issue_instruction(**values)


def test_the_whole_round_trip(world, petition, django_capture_on_commit_callbacks):
    """Issued → the unit's bell → answered → the leader's bell and panel → returned → answered → closed."""
    # given / when
    with django_capture_on_commit_callbacks(execute=True):
        instruction = _issue(world, petition)
    # then the unit's staff are told, and it is on their list
    assert Notification.objects.filter(user=world.handler_a, kind="leadership.instruction").exists()
    assert list(selectors.instructions_to_answer(world.handler_a)) == [instruction]
    assert not selectors.instructions_to_answer(world.handler_b).exists()
    # the unit answers; the leader is told
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_instruction(
            actor=world.handler_a, instruction=instruction, text="已约见用人单位，工资已补发。"
        )
    assert Notification.objects.filter(user=world.leader_a, kind="leadership.instruction_answered").exists()
    assert list(selectors.instructions_answered(world.leader_a)) == [instruction]
    # the leader sends it back, the unit answers again, the leader closes
    services.return_instruction(
        actor=world.leader_a, instruction=instruction, text="请附补发凭证。", due_on=days(5)
    )
    assert instruction.status == InstructionStatus.OPEN and instruction.due_on == days(5)
    services.answer_instruction(actor=world.handler_a, instruction=instruction, text="凭证已附。")
    services.close_instruction(actor=world.leader_a, instruction=instruction, note="阅。")
    instruction.refresh_from_db()
    assert instruction.status == InstructionStatus.CLOSED and instruction.answer == "凭证已附。"
    steps = list(instruction.entries.values_list("step", flat=True))
    assert steps == ["issued", "answered", "returned", "answered", "closed"]
    actions = set(AuditEvent.objects.filter(object_id=str(instruction.pk)).values_list("action", flat=True))
    assert {f"leadership.instruction_{a}" for a in ("issued", "answered", "returned", "closed")} <= actions
    assert InstructionStep.CLOSED.label == "领导已阅办结"


def test_only_a_leader_instructs_within_scope(world, petition):
    with pytest.raises(services.LeadershipRefused):
        _issue(world, petition, actor=world.supervisor_a)
    leader_b = make_staff("leader_b", world.b.government, "leader")
    with pytest.raises(services.LeadershipRefused):
        _issue(world, petition, actor=leader_b)  # not in leader_b's scope
    with pytest.raises(ValidationError) as exc:
        _issue(world, petition, unit=world.b.department)  # a unit outside the leader's area
    assert "unit" in exc.value.message_dict


def test_bad_input(world, petition):
    with pytest.raises(ValidationError) as exc:
        _issue(world, petition, text="", due_on=days(0))
    assert exc.value.message_dict == {"text": ["请填写批示内容。"]}
    with pytest.raises(ValidationError) as exc:
        _issue(world, petition, due_on=days(0))
    assert exc.value.message_dict == {"due_on": ["办理期限须晚于今天。"]}


def test_only_the_unit_answers_and_only_the_leader_decides(world, petition):
    instruction = _issue(world, petition)
    with pytest.raises(services.LeadershipRefused):
        services.answer_instruction(actor=world.handler_b, instruction=instruction, text="x")
    with pytest.raises(services.LeadershipRefused):
        services.answer_instruction(actor=world.leader_a, instruction=instruction, text="x")
    with pytest.raises(ValidationError):
        services.close_instruction(actor=world.leader_a, instruction=instruction)  # not answered yet
    services.answer_instruction(actor=world.handler_a, instruction=instruction, text="已办。")
    with pytest.raises(services.LeadershipRefused):
        services.close_instruction(actor=world.handler_a, instruction=instruction)


def test_the_unit_sees_the_instruction_but_others_do_not(world, petition):
    town_staff = make_staff("town_clerk", world.a.township, "handler")
    instruction = _issue(world, petition, unit=world.a.township)
    assert instruction in instructions_visible_to(town_staff)  # the petition is not routed there
    assert instruction not in instructions_visible_to(world.handler_b)
    assert instruction in instructions_visible_to(world.city_supervisor)


def test_a_report_is_never_sent_to_the_body_it_accuses(world, petition):
    """Art. 30 ¶3: a confidential report never goes to the accused body or one inside it."""
    petition.is_confidential = True  # as if a report accusing county A's department
    petition.subject_organisation = world.a.department
    with pytest.raises(ValidationError) as exc:
        _issue(world, petition)
    assert "unit" in exc.value.message_dict


def test_overdue(world, petition):
    instruction = _issue(world, petition, due_on=days(2))
    assert not instruction.is_overdue()
    with freeze_time(days(3)):
        assert instruction.is_overdue()
