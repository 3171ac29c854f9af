"""Handling an accepted petition: extension (Art. 34), the written reply (Art. 32) and the office's
check of the completion report of an assigned petition (Art. 22(3))."""

from __future__ import annotations

import pytest
from django.utils import timezone

from xinfang.audit.models import AuditEvent
from xinfang.petitions.access import PetitionNotFound
from xinfang.petitions.models import Petition, PetitionEvent
from xinfang.portal.services import track_petition
from xinfang.workflow import appeals, services
from xinfang.workflow.deadlines import due_date, rule_for
from xinfang.workflow.engine import TransitionRefused, allowed_actions
from xinfang.workflow.models import Assignment, DecisionLetter, ExtensionRequest, Step

from ..factories import register

REPLY = {"outcome": "support", "facts": "经查，工资确未足额发放。",
         "basis": "《保障农民工工资支付条例》第十五条", "opinion": "责成用人单位于十日内补发。"}  # fmt: skip


@pytest.fixture
def registration(world):
    return register(world.a.office, world.intake_a, world.a.township)


@pytest.fixture
def petition(world, registration) -> Petition:
    """Assigned to county A's department, which accepted it: the handling clock runs."""
    number = registration.petition.number
    services.assign(user=world.intake_a, number=number, unit=world.a.department)
    services.unit_accept(user=world.handler_a, number=number)
    return Petition.objects.get(number=number)


def snapshot(petition: Petition) -> tuple:
    petition.refresh_from_db()
    return (petition.status, petition.version, petition.due_on, PetitionEvent.objects.count(),
            list(ExtensionRequest.objects.values_list("decision", flat=True)),
            DecisionLetter.objects.count(), list(Assignment.objects.values_list("ended_at", flat=True)),
            AuditEvent.objects.count())  # fmt: skip


def public_notes(registration) -> list[str]:
    view = track_petition(number=registration.petition.number, code=registration.query_code, ip="10.0.0.9")
    return [e.note for e in view.events]


def refused(code: str, call, *args, **kwargs) -> TransitionRefused:  # noqa: ANN001
    with pytest.raises(TransitionRefused) as excinfo:
        call(*args, **kwargs)
    assert excinfo.value.code == code, excinfo.value.messages
    return excinfo.value


# --- extension ------------------------------------------------------------------------------------


def test_extension_requested_and_approved_moves_the_deadline_and_tells_the_petitioner(
    world, registration, petition
):
    old_due_on = petition.due_on
    services.request_extension(user=world.handler_a, number=petition.number, days=20, reasons="需现场核查")
    petition.refresh_from_db()
    # pending: the status and the deadline do not change, the petitioner is not told yet
    assert petition.status == "accepted" and petition.due_on == old_due_on
    assert ExtensionRequest.objects.get(petition=petition).decision == "pending"
    assert "需现场核查" not in " ".join(public_notes(registration))
    # the county leader (the department's government line) approves
    assert {t.action for t in allowed_actions(petition, world.leader_a)} >= {
        "approve_extension", "reject_extension"}  # fmt: skip
    services.approve_extension(user=world.leader_a, number=petition.number)
    petition.refresh_from_db()
    assert petition.status == "accepted"
    assert petition.due_on > old_due_on
    request = ExtensionRequest.objects.get(petition=petition)
    assert (request.decision, request.decided_by, request.new_due_on) == ("approved", world.leader_a,
                                                                          petition.due_on)  # fmt: skip
    note = public_notes(registration)[-1]
    assert "需现场核查" in note and petition.due_on.isoformat() in note
    assert AuditEvent.objects.filter(action="petition.approve_extension").exists()


def test_a_second_extension_is_refused(world, petition):
    services.request_extension(user=world.handler_a, number=petition.number, days=10, reasons="需鉴定")
    refused("extension_pending", services.request_extension, user=world.handler_a, number=petition.number,
            days=5, reasons="再次")  # fmt: skip
    services.approve_extension(user=world.leader_a, number=petition.number)
    before = snapshot(petition)
    refused("already_extended", services.request_extension, user=world.handler_a, number=petition.number,
            days=5, reasons="再次")  # fmt: skip
    assert snapshot(petition) == before
    assert "request_extension" not in {t.action for t in allowed_actions(petition, world.handler_a)}


def test_a_rejected_request_keeps_the_deadline_and_may_be_made_again(world, registration, petition):
    services.request_extension(user=world.handler_a, number=petition.number, days=10, reasons="需鉴定")
    before_due = Petition.objects.get(pk=petition.pk).due_on
    refused("missing_reason", services.reject_extension, user=world.leader_a, number=petition.number,
            reasons=" ")  # fmt: skip
    services.reject_extension(user=world.leader_a, number=petition.number, reasons="理由不充分")
    petition.refresh_from_db()
    assert petition.due_on == before_due and petition.status == "accepted"
    assert "理由不充分" not in " ".join(public_notes(registration))  # internal
    services.request_extension(user=world.handler_a, number=petition.number, days=10, reasons="需司法鉴定")
    assert ExtensionRequest.objects.filter(petition=petition).count() == 2


def test_an_extension_longer_than_the_rule_is_refused(world, petition):
    limit = rule_for(Step.EXTENSION, world.a.department).length
    before = snapshot(petition)
    error = refused("extension_too_long", services.request_extension, user=world.handler_a,
                    number=petition.number, days=limit + 1, reasons="需鉴定")  # fmt: skip
    assert str(limit) in error.messages[0]
    refused("extension_too_long", services.request_extension, user=world.handler_a, number=petition.number,
            days=0, reasons="需鉴定")  # fmt: skip
    refused("missing_reason", services.request_extension, user=world.handler_a, number=petition.number,
            days=10, reasons="")  # fmt: skip
    assert snapshot(petition) == before


def test_approval_needs_a_pending_request_and_a_leader(world, petition):
    before = snapshot(petition)
    refused("no_pending_extension", services.approve_extension, user=world.leader_a, number=petition.number)
    services.request_extension(user=world.handler_a, number=petition.number, days=10, reasons="需鉴定")
    before = snapshot(petition)
    # the handler cannot approve their own request; the petition office is not the leader line
    refused("not_allowed", services.approve_extension, user=world.handler_a, number=petition.number)
    refused("not_allowed", services.approve_extension, user=world.supervisor_a, number=petition.number)
    with pytest.raises(PetitionNotFound):
        services.approve_extension(user=world.handler_b, number=petition.number)
    assert snapshot(petition) == before


def test_extension_only_while_accepted_and_only_by_the_handling_side(world, registration):
    number = registration.petition.number
    refused("wrong_state", services.request_extension, user=world.intake_a, number=number, days=5,
            reasons="x")  # fmt: skip
    services.assign(user=world.intake_a, number=number, unit=world.a.department)
    refused("wrong_state", services.request_extension, user=world.handler_a, number=number, days=5,
            reasons="x")  # fmt: skip
    services.unit_accept(user=world.handler_a, number=number)
    # the office that assigned it is not the handling side
    refused("not_allowed", services.request_extension, user=world.intake_a, number=number, days=5,
            reasons="x")  # fmt: skip


# --- reply ----------------------------------------------------------------------------------------


def test_the_unit_replies_with_a_decision_letter(world, registration, petition):
    services.reply(user=world.handler_a, number=petition.number, **REPLY)
    petition.refresh_from_db()
    assert petition.status == "replied"
    letter = DecisionLetter.objects.get(petition=petition)
    assert (letter.organisation, letter.outcome, letter.issued_by) == (world.a.department, "support",
                                                                       world.handler_a)  # fmt: skip
    assert letter.facts == REPLY["facts"] and letter.request_summary == petition.content
    # the right to request review within 30 days from the level above (the county government)
    assert "30日" in letter.review_notice and world.a.government.name in letter.review_notice
    # the review-request window starts when the letter is served, not on issue (issue #10 point 8)
    assert (petition.due_on, letter.served_on, letter.evaluation_due_on) == (None, None, None)
    appeals.serve_letter(letter, timezone.localdate())
    petition.refresh_from_db()
    assert petition.due_on == due_date(Step.REVIEW_REQUEST, timezone.localdate(), world.a.department).due_on
    note = public_notes(registration)[-1]
    assert "支持" in note and "复查" in note and world.a.government.name in note
    # internal facts are in the letter, not spelled out on the timeline
    assert AuditEvent.objects.filter(action="petition.reply").exists()


def test_the_office_replies_to_its_own_matter(world, registration):
    number = registration.petition.number
    services.accept(user=world.supervisor_a, number=number)
    services.reply(user=world.supervisor_a, number=number, **{**REPLY, "outcome": "not_supported"})
    letter = DecisionLetter.objects.get(petition__number=number)
    assert letter.organisation == world.a.office and letter.outcome == "not_supported"
    assert "不予支持" in public_notes(registration)[-1]


@pytest.mark.parametrize("missing", ["facts", "basis", "opinion"])
def test_reply_needs_every_part_of_the_letter(world, petition, missing):
    before = snapshot(petition)
    error = refused("missing_reason", services.reply, user=world.handler_a, number=petition.number,
                    **{**REPLY, missing: "  "})  # fmt: skip
    assert error.params == {"field": missing}
    refused("missing_outcome", services.reply, user=world.handler_a, number=petition.number,
            **{**REPLY, "outcome": "maybe"})  # fmt: skip
    assert snapshot(petition) == before


def test_reply_is_refused_in_the_wrong_state_or_side(world, registration, petition):
    before = snapshot(petition)
    refused("not_allowed", services.reply, user=world.intake_a, number=petition.number, **REPLY)
    refused("not_allowed", services.reply, user=world.leader_a, number=petition.number, **REPLY)
    assert snapshot(petition) == before
    services.reply(user=world.handler_a, number=petition.number, **REPLY)
    refused("wrong_state", services.reply, user=world.handler_a, number=petition.number, **REPLY)
    refused("wrong_state", services.request_extension, user=world.handler_a, number=petition.number,
            days=5, reasons="x")  # fmt: skip


# --- completion report ----------------------------------------------------------------------------


def test_the_office_approves_the_completion_report(world, petition):
    services.reply(user=world.handler_a, number=petition.number, **REPLY)
    petition.refresh_from_db()
    offered = {t.action for t in allowed_actions(petition, world.supervisor_a)}
    assert {"approve_completion", "reject_completion"} <= offered
    assert offered - {"approve_completion", "reject_completion"} <= {
        "evaluate", "request_review", "conclude", "report_urgent", "recuse", "record_agreement",
        "supervise"}  # the office supervises the unit it assigned the petition to (issue #8)  # fmt: skip
    refused("not_allowed", services.approve_completion, user=world.handler_a, number=petition.number)
    services.approve_completion(user=world.supervisor_a, number=petition.number)
    petition.refresh_from_db()
    assert petition.status == "replied"
    assignment = Assignment.objects.get(petition=petition)
    assert assignment.ended_at is not None and assignment.end_reason == "completed"
    refused("no_completion_report", services.approve_completion, user=world.supervisor_a,
            number=petition.number)  # fmt: skip


def test_the_office_sends_the_report_back_for_re_handling(world, registration, petition):
    handling_due_on = Petition.objects.get(pk=petition.pk).due_on
    services.reply(user=world.handler_a, number=petition.number, **REPLY)
    refused("missing_reason", services.reject_completion, user=world.supervisor_a, number=petition.number,
            reasons="")  # fmt: skip
    services.reject_completion(user=world.supervisor_a, number=petition.number, reasons="事实未查清")
    petition.refresh_from_db()
    # back to the unit, with the handling deadline it had when it replied
    assert petition.status == "accepted" and petition.due_on == handling_due_on
    assert Assignment.objects.get(petition=petition).ended_at is None
    assert "重新办理" in public_notes(registration)[-1]
    assert "事实未查清" not in " ".join(public_notes(registration))
    services.reply(user=world.handler_a, number=petition.number, **REPLY)
    assert DecisionLetter.objects.filter(petition=petition).count() == 2


def test_a_forwarded_petition_has_no_completion_report(world, registration):
    number = registration.petition.number
    services.forward(user=world.intake_a, number=number, unit=world.a.department)
    services.unit_accept(user=world.handler_a, number=number)
    services.reply(user=world.handler_a, number=number, **REPLY)
    refused("no_completion_report", services.approve_completion, user=world.supervisor_a, number=number)
    refused("no_completion_report", services.reject_completion, user=world.supervisor_a, number=number,
            reasons="x")  # fmt: skip
