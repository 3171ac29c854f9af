"""The four-eyes pages (issue #7 point 16): the security administrator's role change becomes a
request; a second administrator sees it under 待我审批 and approves or rejects it with a reason;
each page says in plain Chinese what happens next and who acts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xinfang.organisations.choices import GrantStatus
from xinfang.organisations.models import GrantRequest

from ..factories import make_staff


def _roles(user) -> set[str]:
    return set(user.__class__.objects.get(pk=user.pk).roles.values_list("code", flat=True))


def test_role_change_waits_for_a_second_administrator(client, world):
    # given the security administrator gives the county leader the supervisor role as well
    client.force_login(world.secadmin)
    response = client.post(
        reverse("organisations:staff_roles", args=[world.leader_a.pk]),
        {"roles": ["leader", "supervisor"], "is_active": "on", "reason": "兼任督办"},
    )
    grant = GrantRequest.objects.get(target=world.leader_a)
    # then a request is shown to them, saying who acts next; the role is not granted yet
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "等待另一名安全管理员或系统管理员审批" in page and "您本人不能审批" in page
    assert 'id="grant-decide"' not in page and 'id="grant-withdraw"' in page
    assert _roles(world.leader_a) == {"leader"}

    # when the system administrator opens 授权审批
    client.force_login(world.sysadmin)
    listing = client.get(reverse("organisations:grants")).content.decode()
    assert reverse("organisations:grant", args=[grant.pk]) in listing
    page = client.get(reverse("organisations:grant", args=[grant.pk])).content.decode()
    assert "请您核对后批准或驳回" in page and "领导 → 领导、督办员" in page
    # and approves
    client.post(reverse("organisations:grant", args=[grant.pk]), {"action": "approve", "reason": "同意"})

    # then the role is granted and the request says so
    assert _roles(world.leader_a) == {"leader", "supervisor"}
    page = client.get(reverse("organisations:grant", args=[grant.pk])).content.decode()
    assert "变更已生效" in page and 'id="grant-decide"' not in page


def test_rejection_without_a_reason_is_refused_on_the_page(client, world):
    client.force_login(world.secadmin)
    client.post(
        reverse("organisations:staff_roles", args=[world.intake_a.pk]),
        {"roles": ["leader"], "is_active": "on", "reason": "调岗"},
    )
    grant = GrantRequest.objects.get(target=world.intake_a)
    second = make_staff("secadmin2", world.province, "secadmin")
    client.force_login(second)
    url = reverse("organisations:grant", args=[grant.pk])
    response = client.post(url, {"action": "reject", "reason": ""})
    assert "驳回时请写明理由" in response.content.decode()
    client.post(url, {"action": "reject", "reason": "岗位未批准"})
    grant.refresh_from_db()
    assert grant.status == GrantStatus.REJECTED
    client.force_login(world.secadmin)
    assert "岗位未批准" in client.get(url).content.decode()
    assert _roles(world.intake_a) == {"intake"}


def test_removing_a_casework_role_applies_at_once(client, world):
    client.force_login(world.secadmin)
    response = client.post(
        reverse("organisations:staff_roles", args=[world.handler_a.pk]),
        {"roles": [], "reason": "离职"},
    )
    assert response.status_code == 302 and response.url == reverse("organisations:staff")
    assert _roles(world.handler_a) == set()
    assert not GrantRequest.objects.exists()


@pytest.mark.parametrize("who", ["auditor", "intake_a", "leader_a"])
def test_grant_pages_are_closed_to_the_auditor_and_casework(client, world, who):
    client.force_login(getattr(world, who))
    assert client.get(reverse("organisations:grants")).status_code == 403


def test_staff_list_marks_accounts_waiting_for_approval(client, world):
    client.force_login(world.secadmin)
    client.post(
        reverse("organisations:staff_roles", args=[world.intake_a.pk]),
        {"roles": ["intake", "supervisor"], "is_active": "on", "reason": "兼任"},
    )
    html = client.get(reverse("organisations:staff"), {"q": "intake_a"}).content.decode()
    assert "待审批" in html
    html = client.get(reverse("organisations:staff"), {"q": "handler_a"}).content.decode()
    assert "待审批" not in html
