"""三员分立 with four-eyes approval (issue #7 point 16; docs/security.md §2).

The security administrator requests, a second administrator (another security administrator or
the system administrator, never the auditor, never the requester or the account concerned)
approves; only then does a role, an administrator's deactivation or a system account's token
take effect.  Every step is audited.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from freezegun import freeze_time

from xinfang.api.models import ApiToken
from xinfang.api.services import issue_token, request_token
from xinfang.audit.models import AuditEvent
from xinfang.organisations.choices import GrantKind, GrantStatus
from xinfang.organisations.grants import (
    approve_request,
    change_account,
    reject_request,
    requests_for_approval,
    withdraw_request,
)
from xinfang.organisations.models import GrantRequest, User
from xinfang.organisations.services import create_staff, set_roles
from xinfang.petitions.models import Petition

from ..factories import PASSWORD, make_staff, register


def _roles(user: User) -> set[str]:
    return set(User.objects.get(pk=user.pk).roles.values_list("code", flat=True))


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


# --- the attack of the trial -------------------------------------------------------------------


def test_secadmin_alone_cannot_make_a_leader_system_account_with_a_token(world):
    """The trial's bypass: a province-level system account with the leader role, a token, and every
    petition read.  Alone, the security administrator gets an account with no role and no token."""
    # given a petition in county A
    register(world.a.office, world.intake_a, world.a.township)

    # when the security administrator creates the account with the leader role
    bot = create_staff(
        username="bot",
        password=PASSWORD,
        organisation=world.province,
        roles=["leader"],
        is_system_account=True,
        actor=world.secadmin,
    )
    # and asks for a token, and tries to issue one directly
    token_request = request_token(user=bot, name="全省数据", days=None, actor=world.secadmin, reason="对接")
    with pytest.raises(PermissionError):
        issue_token(user=bot, name="全省数据", actor=world.secadmin)

    # then the account holds no role, no token exists and it reads nothing
    assert _roles(bot) == set()
    assert not ApiToken.objects.filter(user=bot).exists()
    assert Petition.objects.restrict(_fresh(bot)).count() == 0
    # and both requests wait for a second person
    pending = GrantRequest.objects.filter(target=bot, status=GrantStatus.PENDING)
    assert {g.kind for g in pending} == {GrantKind.ACCOUNT, GrantKind.TOKEN}
    assert token_request in pending


def test_set_roles_without_bootstrap_is_refused(world):
    """The direct write is the operator's bootstrap only; a person in the system cannot use it."""
    with pytest.raises(PermissionError):
        set_roles(user=world.intake_a, roles=["leader"], actor=world.secadmin)
    with pytest.raises(PermissionError):
        set_roles(user=world.intake_a, roles=["leader"], actor=world.secadmin, bootstrap=True)
    with pytest.raises(PermissionError):
        create_staff(username="x", password=PASSWORD, organisation=world.a.office, roles=["intake"])
    assert _roles(world.intake_a) == {"intake"}


def test_bootstrap_is_audited_as_such(world):
    """The seed and the first administrators of a site set roles directly, marked bootstrap."""
    user = make_staff("first_clerk", world.a.office, "intake")
    event = AuditEvent.objects.get(action="user.roles", object_id=str(user.pk))
    assert event.actor is None
    assert event.data == {"roles": ["intake"], "bootstrap": True}


# --- request and approve -------------------------------------------------------------------------


@pytest.mark.parametrize("approver", ["sysadmin", "second_secadmin"])
def test_a_second_administrator_approves_and_the_role_takes_effect(world, approver):
    """Requested by one, approved by another (system administrator or a second security
    administrator): the role is then granted, and each step is in the audit log."""
    # given a request to make the county clerk a supervisor too
    second = make_staff("secadmin2", world.province, "secadmin")
    grant = change_account(
        user=world.intake_a,
        roles=["intake", "supervisor"],
        is_active=True,
        actor=world.secadmin,
        reason="兼任督办",
    )
    assert grant is not None and _roles(world.intake_a) == {"intake"}

    # when approved by the second person
    actor = world.sysadmin if approver == "sysadmin" else second
    approve_request(grant=grant, actor=actor, reason="同意")

    # then
    assert _roles(world.intake_a) == {"intake", "supervisor"}
    grant.refresh_from_db()
    assert (grant.status, grant.decided_by) == (GrantStatus.APPROVED, actor)
    request_event = AuditEvent.objects.get(action="grant.request", object_id=str(grant.pk))
    assert request_event.actor == world.secadmin
    assert request_event.data["payload"]["roles"] == ["intake", "supervisor"]
    assert AuditEvent.objects.get(action="grant.approve", object_id=str(grant.pk)).actor == actor
    roles_event = AuditEvent.objects.filter(action="user.roles", object_id=str(world.intake_a.pk)).latest(
        "id"
    )
    assert roles_event.actor == actor
    assert roles_event.data["grant_request"] == grant.pk
    assert roles_event.data["requested_by"] == "secadmin"


def test_nobody_approves_their_own_request_or_a_change_to_their_own_account(world):
    """No administrator grants themselves anything: not by approving their own request, not by
    requesting for their own account, not by approving a request about them."""
    grant = change_account(
        user=world.intake_a, roles=["leader"], is_active=True, actor=world.secadmin, reason="调岗"
    )
    with pytest.raises(ValidationError) as own:
        approve_request(grant=grant, actor=world.secadmin)
    assert own.value.code == "own_request"

    with pytest.raises(ValidationError) as self_request:
        change_account(user=world.secadmin, roles=[], is_active=False, actor=world.secadmin, reason="x")
    assert self_request.value.code == "own_account"

    second = make_staff("secadmin2", world.province, "secadmin")
    about_sysadmin = change_account(user=world.sysadmin, roles=[], is_active=True, actor=second, reason="x")
    with pytest.raises(ValidationError) as about_me:
        approve_request(grant=about_sysadmin, actor=world.sysadmin)
    assert about_me.value.code == "own_account"
    assert _roles(world.intake_a) == {"intake"} and _roles(world.sysadmin) == {"sysadmin"}


@pytest.mark.parametrize("who", ["auditor", "leader_a", "intake_a"])
def test_the_auditor_and_casework_staff_never_approve(world, who):
    """The auditor checks what the other two did and takes no part in it; casework staff none."""
    grant = change_account(
        user=world.handler_a, roles=["handler", "leader"], is_active=True, actor=world.secadmin, reason="x"
    )
    with pytest.raises(PermissionError):
        approve_request(grant=grant, actor=getattr(world, who))
    with pytest.raises(PermissionError):
        reject_request(grant=grant, actor=getattr(world, who), reason="不同意")
    assert list(requests_for_approval(getattr(world, who))) == []
    assert _roles(world.handler_a) == {"handler"}


@pytest.mark.parametrize("who", ["sysadmin", "auditor", "leader_a"])
def test_only_the_security_administrator_requests(world, who):
    with pytest.raises(PermissionError):
        change_account(
            user=world.intake_a, roles=["leader"], is_active=True, actor=getattr(world, who), reason="x"
        )


def test_rejection_needs_a_reason_and_changes_nothing(world):
    grant = change_account(
        user=world.intake_a, roles=["leader"], is_active=True, actor=world.secadmin, reason="x"
    )
    with pytest.raises(ValidationError):
        reject_request(grant=grant, actor=world.sysadmin, reason=" ")
    reject_request(grant=grant, actor=world.sysadmin, reason="无此岗位")
    grant.refresh_from_db()
    assert (grant.status, grant.decision_reason) == (GrantStatus.REJECTED, "无此岗位")
    assert _roles(world.intake_a) == {"intake"}
    assert AuditEvent.objects.get(action="grant.reject").data["reason"] == "无此岗位"
    with pytest.raises(ValidationError) as again:
        approve_request(grant=grant, actor=world.sysadmin)
    assert again.value.code == "not_pending"


def test_the_requester_withdraws_and_nobody_else_can(world):
    grant = change_account(
        user=world.intake_a, roles=["leader"], is_active=True, actor=world.secadmin, reason="x"
    )
    with pytest.raises(PermissionError):
        withdraw_request(grant=grant, actor=world.sysadmin)
    withdraw_request(grant=grant, actor=world.secadmin)
    grant.refresh_from_db()
    assert grant.status == GrantStatus.WITHDRAWN
    assert AuditEvent.objects.filter(action="grant.withdraw", actor=world.secadmin).count() == 1


def test_one_pending_request_per_account(world):
    change_account(user=world.intake_a, roles=["leader"], is_active=True, actor=world.secadmin, reason="x")
    with pytest.raises(ValidationError) as second:
        change_account(
            user=world.intake_a, roles=["handler"], is_active=True, actor=world.secadmin, reason="y"
        )
    assert second.value.code == "pending_exists"


# --- what needs approval -------------------------------------------------------------------------


def test_disabling_the_only_auditor_needs_approval(world):
    """The trial's second move: disabling the real auditor.  It waits for a second person."""
    grant = change_account(
        user=world.auditor, roles=["auditor"], is_active=False, actor=world.secadmin, reason="x"
    )
    assert grant is not None
    assert _fresh(world.auditor).is_active
    approve_request(grant=grant, actor=world.sysadmin)
    assert not _fresh(world.auditor).is_active


def test_taking_an_administrator_duty_away_needs_approval(world):
    grant = change_account(user=world.auditor, roles=[], is_active=True, actor=world.secadmin, reason="x")
    assert grant is not None and _roles(world.auditor) == {"auditor"}


def test_creating_a_second_auditor_needs_approval(world):
    auditor2 = create_staff(
        username="auditor2",
        password=PASSWORD,
        organisation=world.province,
        roles=["auditor"],
        actor=world.secadmin,
    )
    assert _roles(auditor2) == set()
    assert GrantRequest.objects.get(target=auditor2).payload["roles"] == ["auditor"]


def test_taking_casework_access_away_is_immediate(world):
    """Revoking access never waits: removing a casework role or disabling a clerk applies at once,
    audited with its reason."""
    assert (
        change_account(user=world.leader_a, roles=[], is_active=False, actor=world.secadmin, reason="离职")
        is None
    )
    leader = _fresh(world.leader_a)
    assert _roles(leader) == set() and not leader.is_active
    event = AuditEvent.objects.filter(action="user.active", object_id=str(leader.pk)).latest("id")
    assert event.data == {"is_active": False, "reason": "离职"}
    assert event.actor == world.secadmin


def test_enabling_an_account_with_roles_again_needs_approval(world):
    change_account(user=world.intake_a, roles=["intake"], is_active=False, actor=world.secadmin, reason="x")
    grant = change_account(
        user=_fresh(world.intake_a), roles=["intake"], is_active=True, actor=world.secadmin, reason="y"
    )
    assert grant is not None and not _fresh(world.intake_a).is_active


# --- pending requests: expiry and changes of roles ----------------------------------------------


def test_a_pending_request_expires(world, settings):
    """Not decided within XINFANG_GRANT_REQUEST_DAYS, it can no longer be approved (audited)."""
    settings.XINFANG_GRANT_REQUEST_DAYS = 7
    grant = change_account(
        user=world.intake_a, roles=["leader"], is_active=True, actor=world.secadmin, reason="x"
    )
    later = timezone.now() + dt.timedelta(days=7, minutes=1)
    with freeze_time(later), pytest.raises(ValidationError) as late:
        approve_request(grant=grant, actor=world.sysadmin)
    assert late.value.code == "not_pending"
    grant.refresh_from_db()
    assert grant.status == GrantStatus.EXPIRED
    assert AuditEvent.objects.filter(action="grant.expire", object_id=str(grant.pk)).count() == 1
    assert _roles(world.intake_a) == {"intake"}


def test_requests_end_when_the_requester_is_no_longer_security_administrator(world):
    """A request rests on its requester's duty: when that duty goes, so do their pending requests."""
    # given a pending request by a second security administrator
    second = make_staff("secadmin2", world.province, "secadmin")
    grant = change_account(user=world.intake_a, roles=["leader"], is_active=True, actor=second, reason="x")
    # when that administrator's account is disabled (through an approved request)
    disable = change_account(
        user=second, roles=["secadmin"], is_active=False, actor=world.secadmin, reason="离岗"
    )
    approve_request(grant=disable, actor=world.sysadmin)
    # then their request is cancelled and cannot be approved
    grant.refresh_from_db()
    assert grant.status == GrantStatus.CANCELLED
    assert grant.decision_reason == "申请人已不再担任安全管理员"
    with pytest.raises(ValidationError):
        approve_request(grant=grant, actor=world.sysadmin)
    assert _roles(world.intake_a) == {"intake"}


def test_a_change_to_the_account_cancels_its_pending_request(world):
    """A request is about the account as it was; an immediate removal makes it stale."""
    grant = change_account(
        user=world.leader_a, roles=["leader", "supervisor"], is_active=True, actor=world.secadmin, reason="x"
    )
    second = make_staff("secadmin2", world.province, "secadmin")
    change_account(user=world.leader_a, roles=[], is_active=True, actor=second, reason="调离")
    grant.refresh_from_db()
    assert grant.status == GrantStatus.CANCELLED
    assert AuditEvent.objects.filter(action="grant.cancel", object_id=str(grant.pk)).exists()


# --- tokens ------------------------------------------------------------------------------------


def test_token_request_is_issued_on_approval_and_shown_once_to_the_approver(world):
    bot = create_staff(
        username="hotline",
        password=PASSWORD,
        organisation=world.a.office,
        roles=[],
        is_system_account=True,
        actor=world.secadmin,
    )
    grant = request_token(user=bot, name="12345热线", days=30, actor=world.secadmin, reason="对接热线")
    assert not ApiToken.objects.exists()
    issued = approve_request(grant=grant, actor=world.sysadmin)
    assert issued.token.startswith("xf_")
    record = ApiToken.objects.get(user=bot)
    assert record.created_by == world.sysadmin
    assert record.expires_at is not None
    event = AuditEvent.objects.get(action="api.token.issue")
    assert event.data["via"] == "approval" and event.data["grant_request"] == grant.pk
    assert issued.token not in str(event.data)


def test_token_requests_only_for_enabled_system_accounts(world):
    with pytest.raises(ValidationError) as refused:
        request_token(user=world.intake_a, name="x", days=None, actor=world.secadmin, reason="x")
    assert "user" in refused.value.message_dict
    assert not GrantRequest.objects.exists()
