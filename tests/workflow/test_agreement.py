"""记录调解和解协议 (Art. 33): an agreement is recorded as its own step — public note on the timeline,
audit event, no change of state — while the matter is handled or appealed; the office then concludes
the matter for it."""

from __future__ import annotations

import pytest

from xinfang.audit.models import AuditEvent
from xinfang.petitions.models import Petition, PetitionEvent
from xinfang.workflow import appeals, services
from xinfang.workflow.engine import Citizen, TransitionRefused, allowed_actions
from xinfang.workflow.transitions import TRANSITIONS

from ..procedure import new_registration, to_accepted, to_replied, to_under_review

pytestmark = pytest.mark.django_db

AGREEMENT = {"parties": "信访人张某与某某建筑公司", "terms": "公司于十日内一次性支付欠薪两万元"}


def test_recorded_on_the_timeline_and_in_the_audit_log_without_a_state_change(world):
    number = new_registration(world).petition.number
    to_replied(world, number)
    before = Petition.objects.get(number=number)
    services.record_agreement(user=world.handler_a, number=number, version=before.version, **AGREEMENT)
    petition = Petition.objects.get(number=number)
    assert (petition.status, petition.due_on) == ("replied", before.due_on)
    assert petition.version == before.version + 1
    event = PetitionEvent.objects.filter(petition=petition).latest("pk")
    assert event.kind == "agreement_recorded" and event.is_public
    assert "信访人张某与某某建筑公司达成调解（和解）协议" in event.public_note
    assert "一次性支付欠薪两万元" in event.public_note
    audit = AuditEvent.objects.filter(action="petition.record_agreement").get()
    assert audit.data["parties"] == AGREEMENT["parties"] and audit.data["from"] == "replied"
    # then the office ends the matter for the agreement
    appeals.conclude(user=world.supervisor_a, number=number, conclusion="agreement")
    assert Petition.objects.get(number=number).conclusion == "agreement"


def test_while_handled_by_the_unit_and_during_review(world):
    number = new_registration(world).petition.number
    to_accepted(world, number)
    services.record_agreement(user=world.handler_a, number=number, **AGREEMENT)
    assert Petition.objects.get(number=number).status == "accepted"
    other = new_registration(world).petition.number
    to_under_review(world, other)
    services.record_agreement(user=world.leader_a, number=other, **AGREEMENT)  # the reviewing body
    assert Petition.objects.get(number=other).status == "under_review"


def test_refused_before_acceptance_without_text_and_for_the_petitioner(world):
    number = new_registration(world).petition.number
    with pytest.raises(TransitionRefused) as refused:
        services.record_agreement(user=world.intake_a, number=number, **AGREEMENT)
    assert refused.value.code == "wrong_state"
    to_replied(world, number)
    with pytest.raises(TransitionRefused) as refused:
        services.record_agreement(user=world.intake_a, number=number, parties="张某", terms="  ")
    assert (refused.value.code, refused.value.params["field"]) == ("missing_reason", "terms")
    petition = Petition.objects.get(number=number)
    citizen = Citizen(petition_id=petition.pk)
    assert "record_agreement" not in {t.action for t in allowed_actions(petition, citizen)}
    assert "record_agreement" in {t.action for t in allowed_actions(petition, world.intake_a)}
    assert str(TRANSITIONS["record_agreement"].label) == "记录调解和解协议"
