"""The dispute record: numbering, parties protected like petitioners, the status machine with its
notes, the contracting leader, the petition links, the scope and who may write."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from xinfang.audit.models import AuditEvent
from xinfang.notifications.models import Notification
from xinfang.screening import access, services
from xinfang.screening.models import Dispute, DisputeParty, DisputeStatus

from ..factories import make_staff, register

pytestmark = pytest.mark.django_db


def test_numbers_are_gap_free_per_office_and_year(world, make_dispute, today):
    first, second = make_dispute(), make_dispute()
    assert first.number.startswith("JF-") and first.number.endswith(f"-{today.year}-000001")
    assert second.number.endswith("-000002")
    other = make_dispute(actor=world.intake_b, organisation=world.b.township)
    assert other.number.endswith("-000001") and other.number != first.number


def test_parties_are_encrypted_hashed_and_masked(world, make_dispute):
    dispute = make_dispute()
    party = dispute.parties.get(position=0)
    assert party.id_number_mask.count("*") == 10 and party.phone_mask == "138****5678"
    assert party.id_number_hash and party.phone_hash
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM screening_disputeparty WHERE id = %s", [party.pk])
        raw_id, raw_phone = cursor.fetchone()
    assert "13812345678" not in raw_phone and party.id_number not in raw_id
    assert DisputeParty.objects.get(pk=party.pk).phone == "13812345678"


def test_bad_input_is_refused_in_chinese(world, make_dispute):
    with pytest.raises(ValidationError) as exc:
        make_dispute(title=" ", risk="extreme", parties=[services.PartyData("王五", "123")])
    errors = exc.value.message_dict
    assert "纠纷名称" in errors["title"][0] and "风险等级" in errors["risk"][0]
    assert "身份证号码" in errors["parties"][0]


def test_a_unit_outside_the_scope_cannot_be_named(world, make_dispute):
    with pytest.raises(ValidationError) as exc:
        make_dispute(organisation=world.b.township)
    assert "责任单位" in exc.value.message_dict["organisation"][0]


def test_transitions_keep_their_notes_and_refuse_illegal_moves(world, make_dispute, today):
    dispute = make_dispute()
    with pytest.raises(ValidationError) as exc:
        services.transition(actor=world.intake_a, dispute=dispute, to="in_resolution", note="")
    assert "化解措施" in exc.value.message_dict["note"][0]
    dispute = services.transition(
        actor=world.intake_a, dispute=dispute, to="in_resolution", note="司法所调解"
    )
    dispute = services.transition(actor=world.intake_a, dispute=dispute, to="resolved", note="达成调解协议")
    assert dispute.status == DisputeStatus.RESOLVED and dispute.resolved_on == today == dispute.closed_on
    with pytest.raises(ValidationError) as exc:
        services.transition(actor=world.intake_a, dispute=dispute, to="in_resolution", note="再次")
    assert "不能改为" in exc.value.message_dict["to"][0]
    notes = list(dispute.events.filter(action="status").values_list("to_status", "note"))
    assert notes == [("in_resolution", "司法所调解"), ("resolved", "达成调解协议")]
    assert AuditEvent.objects.filter(action="dispute.transition", object_id=str(dispute.pk)).count() == 2


def test_turning_into_a_petition_links_the_registered_petition(world, make_dispute):
    dispute = make_dispute()
    with pytest.raises(ValidationError):
        services.transition(
            actor=world.intake_a, dispute=dispute, to="turned_petition", note="上访", petition_number="XF-1"
        )
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    dispute = services.transition(
        actor=world.intake_a, dispute=dispute, to="turned_petition", note="当事人到县信访局上访",
        petition_number=petition.number,
    )  # fmt: skip
    assert dispute.status == "turned_petition" and list(dispute.petitions.all()) == [petition]
    assert dispute.resolved_on is None and dispute.closed_on is not None


def test_set_leader_notifies_and_checks_the_role(world, make_dispute):
    dispute = make_dispute()
    with pytest.raises(ValidationError):
        services.set_leader(dispute=dispute, leader=world.handler_a, actor=world.intake_a)
    with pytest.raises(ValidationError):
        services.set_leader(
            dispute=dispute, leader=make_staff("leader_b", world.b.government, "leader"), actor=world.intake_a
        )
    services.set_leader(dispute=dispute, leader=world.leader_a, actor=world.intake_a)
    dispute.refresh_from_db()
    assert dispute.leader == world.leader_a
    assert Notification.objects.filter(user=world.leader_a, kind="dispute_contracted").exists()
    assert AuditEvent.objects.filter(action="dispute.leader_set").exists()


def test_scope_follows_the_petitions_rule(world, make_dispute):
    dispute = make_dispute()
    assert access.restrict_disputes(Dispute.objects.all(), world.supervisor_a).filter(pk=dispute.pk).exists()
    assert (
        access.restrict_disputes(Dispute.objects.all(), world.city_supervisor).filter(pk=dispute.pk).exists()
    )
    for outsider in (world.intake_b, world.handler_b, world.sysadmin, world.auditor):
        assert not access.restrict_disputes(Dispute.objects.all(), outsider).exists()


def test_a_handler_writes_only_for_their_own_unit(world, make_dispute):
    township_dispute = make_dispute()
    with pytest.raises(services.ScreeningRefused):
        services.transition(actor=world.handler_a, dispute=township_dispute, to="in_resolution", note="x")
    own = make_dispute(organisation=world.a.department)
    services.transition(actor=world.handler_a, dispute=own, to="in_resolution", note="人社局约谈企业")
    by_handler = make_dispute(actor=world.handler_a, organisation=world.a.department)
    assert by_handler.organisation == world.a.department


def test_update_changes_only_what_is_given_and_is_audited(world, make_dispute):
    dispute = make_dispute()
    services.update_dispute(
        actor=world.supervisor_a,
        dispute=dispute,
        risk="high",
        deadline=dispute.deadline + dt.timedelta(days=5),
    )
    dispute.refresh_from_db()
    assert dispute.risk == "high" and dispute.title == "城关镇幸福村宅基地纠纷"
    event = AuditEvent.objects.filter(action="dispute.updated").latest("seq")
    assert set(event.data["fields"]) == {"risk", "deadline"}


def test_the_responsible_units_staff_are_notified(world, make_dispute):
    make_dispute(organisation=world.a.department)
    assert Notification.objects.filter(user=world.handler_a, kind="dispute_assigned").count() == 1
    make_dispute(actor=world.handler_a, organisation=world.a.department)  # not told of their own entry
    assert Notification.objects.filter(user=world.handler_a, kind="dispute_assigned").count() == 1
