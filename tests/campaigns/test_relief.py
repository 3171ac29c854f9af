"""Relief after conclusion (信访救助, Art. 37): apply → approve / reject → paid, refusals, the
ledger, the leader's panel."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from xinfang.audit.models import AuditEvent
from xinfang.campaigns import panels, services
from xinfang.campaigns.access import CampaignRefused
from xinfang.campaigns.models import ReliefApplication
from xinfang.notifications.models import Notification

from .conftest import TODAY, petition

pytestmark = pytest.mark.django_db


@pytest.fixture
def concluded(world):
    return petition(world, status="concluded", concluded_on=TODAY - dt.timedelta(days=30))


def apply(world, p, amount="5000"):
    return services.apply_relief(
        user=world.intake_a,
        petition_number=p.number,
        applicant=p.petitioners.get().pk,
        reason="家庭生活困难，子女上学。",
        amount=amount,
    )


def test_the_whole_flow(world, concluded):
    a = apply(world, concluded)
    assert a.organisation == world.a.government and a.status == "applied"
    assert Notification.objects.filter(user=world.leader_a, kind="relief").exists()
    [panel] = [x for x in panels.panels(world.leader_a, TODAY) if x.key == "relief-awaiting"]
    assert panel.count == 1 and panel.items[0].reference == concluded.number
    with pytest.raises(ValidationError, match="不能超过申请金额"):
        services.approve_relief(user=world.leader_a, relief_id=a.pk, amount="6000")
    services.approve_relief(user=world.leader_a, relief_id=a.pk, amount="3000")
    assert not [x for x in panels.panels(world.leader_a, TODAY) if x.key == "relief-awaiting"]
    with pytest.raises(ValidationError, match="已审批"):
        services.reject_relief(user=world.leader_a, relief_id=a.pk, reason="x")
    services.pay_relief(user=world.intake_a, relief_id=a.pk, paid_on=TODAY)
    a.refresh_from_db()
    assert (a.status, a.amount_approved, a.decided_by, a.paid_on) == (
        "paid",
        Decimal("3000.00"),
        world.leader_a,
        TODAY,
    )
    actions = set(
        AuditEvent.objects.filter(action__startswith="campaigns.relief").values_list("action", flat=True)
    )
    assert actions == {"campaigns.relief_applied", "campaigns.relief_approved", "campaigns.relief_paid"}


def test_refusals(world, concluded):
    with pytest.raises(CampaignRefused):
        services.apply_relief(
            user=world.handler_a, petition_number=concluded.number, applicant=1, reason="x", amount="1"
        )
    with pytest.raises(ValidationError) as exc:
        services.apply_relief(
            user=world.intake_a, petition_number=concluded.number, applicant=0, reason="", amount="0"
        )
    assert {"applicant", "reason", "amount"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError, match="查看范围"):
        services.apply_relief(
            user=world.intake_b, petition_number=concluded.number, applicant=1, reason="x", amount="1"
        )
    a = apply(world, concluded)
    with pytest.raises(CampaignRefused):  # a supervisor is no approver
        services.approve_relief(user=world.supervisor_a, relief_id=a.pk, amount="1")
    with pytest.raises(ReliefApplication.DoesNotExist):  # another county: not even visible
        services.approve_relief(user=world.intake_b, relief_id=a.pk, amount="1")
    with pytest.raises(ValidationError, match="已批准"):
        services.pay_relief(user=world.intake_a, relief_id=a.pk, paid_on=TODAY)
    services.reject_relief(user=world.leader_a, relief_id=a.pk, reason="不符合救助条件。")
    a.refresh_from_db()
    assert a.status == "rejected" and a.rejection_reason == "不符合救助条件。"


def test_pages(client, world, concluded):
    client.force_login(world.intake_a)
    url = reverse("campaigns:relief_new")
    assert "申请人" in client.get(url, {"petition": concluded.number}).content.decode()
    applicant = concluded.petitioners.get()
    data = {"petition": concluded.number, "applicant": applicant.pk, "reason": "困难", "amount": ""}
    assert "困难" in client.post(url, data).content.decode()  # kept on error
    data["amount"] = "2000"
    response = client.post(url, data)
    a = ReliefApplication.objects.get()
    assert response.status_code == 302 and response.url == reverse("campaigns:relief_detail", args=[a.pk])
    client.force_login(world.leader_a)
    detail = reverse("campaigns:relief_detail", args=[a.pk])
    assert 'id="approve-form"' in client.get(detail).content.decode()
    assert client.post(detail, {"form": "approve", "amount": "2000"}).status_code == 302
    html = client.get(reverse("campaigns:relief")).content.decode()
    assert concluded.number in html and "已批准" in html
    xlsx = client.get(reverse("campaigns:relief"), {"export": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    client.force_login(world.intake_b)
    assert client.get(detail).status_code == 404
    client.force_login(world.supervisor_a)
    assert client.post(detail, {"form": "reject", "reason": "x"}).status_code == 403


def test_the_petition_page_shows_relief(client, world, concluded):
    a = apply(world, concluded)
    client.force_login(world.supervisor_a)
    html = client.get(reverse("petitions:detail", args=[concluded.number])).content.decode()
    assert 'id="campaigns-panel"' in html and reverse("campaigns:relief_detail", args=[a.pk]) in html
    assert 'id="relief-apply-link"' in html
