"""Four-eyes approval of grants (三员分立, issue #7 point 16; docs/security.md §2).

The security administrator (安全管理员) manages accounts and roles, but cannot give anyone access
alone: every change that widens what an account may do is a :class:`GrantRequest` that a *second*
administrator approves before it takes effect.  What needs approval:

* adding any role to an account (every casework role reads petitions, the three others are
  administrator duties);
* removing an administrator duty, or disabling an administrator's account (disabling the only
  auditor silences the audit);
* enabling an account again that holds roles (it gives the roles back);
* an API token for a system account (``kind=token``, executed by ``api.services``).

Removing casework roles and disabling a casework account take effect at once: revoking access
must never wait (GB/T 22239-2019 8.1.4.2 c, remove surplus accounts in time).

Who acts: only an active security administrator requests; an active security administrator or
system administrator approves or rejects, never the requester and never the account concerned.
The auditor never approves: the auditor checks what the other two did (8.1.4.3, 8.1.5.2) and so
takes no part in it.  Nobody requests anything for their own account.

What ends a pending request besides a decision: the requester withdraws it; it expires after
``XINFANG_GRANT_REQUEST_DAYS``; it is cancelled when the account it is about changes by another
path (its "before" no longer holds), or when the requester stops being an active security
administrator (the authority it rested on is gone).  Each step is one transaction with its
audit event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event

from .choices import ADMIN_ROLES, GrantKind, GrantStatus, RoleCode
from .models import GrantRequest, Role, User

__all__ = [
    "APPROVER_ROLES",
    "approve_request",
    "change_account",
    "check_may_approve",
    "check_requester",
    "expire_overdue_requests",
    "needs_approval",
    "open_request",
    "register_executor",
    "reject_request",
    "requests_by",
    "requests_for_approval",
    "validate_roles",
    "withdraw_request",
]

# The security administrator requests; a different security administrator or the system
# administrator approves (docs/security.md §2 explains why the auditor is not among them).
APPROVER_ROLES = frozenset({RoleCode.SECADMIN, RoleCode.SYSADMIN})

# kind -> what approving a request of that kind does; returns what the approver must be shown
# (the clear token, once) or None.  ``api`` registers the token kind: it sits above this app.
Executor = Callable[[GrantRequest, User], Any]
_EXECUTORS: dict[str, Executor] = {}


def register_executor(kind: str, executor: Executor) -> None:
    """Say what approving a request of ``kind`` does (called once per kind at import)."""
    _EXECUTORS[kind] = executor


# --- the rules -------------------------------------------------------------------------------


def validate_roles(roles: Iterable[str]) -> set[str]:
    """The roles as a set, refusing unknown codes and any mix that breaks 三员分立."""
    wanted = set(roles)
    unknown = wanted - set(RoleCode.values)
    if unknown:  # Role.objects.filter() would drop them silently while the audit event lists them
        raise ValidationError(
            _("未知的角色：{codes}").format(codes="、".join(sorted(unknown))), code="unknown_role"
        )
    if len(wanted & ADMIN_ROLES) > 1:
        raise ValidationError(
            _("系统管理员、安全管理员、审计管理员三种职责不得由同一人兼任。"), code="admin_duties"
        )
    if wanted & ADMIN_ROLES and wanted - ADMIN_ROLES:
        raise ValidationError(_("管理员账号不得同时承担业务角色。"), code="admin_duties")
    return wanted


def needs_approval(*, before_roles: set[str], before_active: bool, roles: set[str], is_active: bool) -> bool:
    """True when changing an account from (before_roles, before_active) to (roles, is_active)
    gives access or weakens the administration, and so needs a second person."""
    if roles - before_roles:
        return True  # every role either reads petitions or is an administrator duty
    if (before_roles - roles) & ADMIN_ROLES:
        return True  # e.g. taking the duty away from the only auditor
    if before_active and not is_active and before_roles & ADMIN_ROLES:
        return True  # disabling an administrator is the same
    return bool(is_active and not before_active and roles)  # enabling gives the roles back


def check_requester(actor: User) -> None:
    """Only an active security administrator opens requests (PermissionError otherwise)."""
    if not actor.is_active or not actor.has_role(RoleCode.SECADMIN):
        raise PermissionError(_("只有安全管理员可以提出授权申请。"))


def check_may_approve(actor: User, grant: GrantRequest) -> None:
    """The approver is an active security or system administrator, neither the requester nor
    the account concerned (PermissionError for the wrong role, ValidationError otherwise)."""
    if not actor.is_active or not actor.has_role(*APPROVER_ROLES):
        raise PermissionError(_("只有安全管理员或系统管理员可以审批授权申请。"))
    if actor.pk == grant.requested_by_id:
        raise ValidationError(_("不能审批自己提出的申请，须由另一名管理员审批。"), code="own_request")
    if actor.pk == grant.target_id:
        raise ValidationError(_("不能审批与自己账号有关的申请。"), code="own_account")


# --- requests --------------------------------------------------------------------------------


def open_request(
    *, kind: str, target: User, payload: dict[str, Any], actor: User, reason: str
) -> GrantRequest:
    """Record a pending request (audited as ``grant.request``); nothing changes until approved."""
    check_requester(actor)
    if target.pk == actor.pk:
        raise ValidationError(_("不能为自己的账号提出申请。"), code="own_account")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写申请事由。")]})
    expire_overdue_requests()
    grant = GrantRequest(
        kind=kind,
        target=target,
        payload=payload,
        reason=reason[:200],
        requested_by=actor,
        expires_at=timezone.now() + dt.timedelta(days=settings.XINFANG_GRANT_REQUEST_DAYS),
    )
    try:
        with transaction.atomic():
            grant.save()
            record_event(
                actor=actor,
                action="grant.request",
                obj=grant,
                data={
                    "kind": kind,
                    "user": target.get_username(),
                    "payload": payload,
                    "reason": grant.reason,
                    "expires_at": grant.expires_at.isoformat(),
                },
            )
    except IntegrityError:  # the partial unique constraint: a second pending request
        raise ValidationError(
            _("该账号已有一份待审批的申请，请等它处理完或撤回后再申请。"), code="pending_exists"
        ) from None
    return grant


def change_account(
    *, user: User, roles: Iterable[str], is_active: bool, actor: User, reason: str
) -> GrantRequest | None:
    """The security administrator changes an account's roles and whether it is enabled.

    A change that only takes access away applies at once (returns None); any other opens a
    request for a second administrator (returns it).  Raises ValidationError or PermissionError.
    """
    check_requester(actor)
    if user.pk == actor.pk:
        raise ValidationError(_("不能修改自己账号的角色或状态。"), code="own_account")
    wanted = validate_roles(roles)
    before_roles, before_active = set(user.role_codes), user.is_active
    if wanted == before_roles and is_active == before_active:
        raise ValidationError(_("没有改动。"), code="no_change")
    if needs_approval(
        before_roles=before_roles, before_active=before_active, roles=wanted, is_active=is_active
    ):
        payload = {
            "roles": sorted(wanted),
            "is_active": is_active,
            "before": {"roles": sorted(before_roles), "is_active": before_active},
        }
        return open_request(kind=GrantKind.ACCOUNT, target=user, payload=payload, actor=actor, reason=reason)
    if not reason.strip():
        raise ValidationError({"reason": [_("请填写事由。")]})
    with transaction.atomic():
        apply_account(
            user=user, roles=wanted, is_active=is_active, actor=actor, source={"reason": reason.strip()}
        )
    return None


def approve_request(*, grant: GrantRequest, actor: User, reason: str = "") -> Any:
    """A second administrator approves: the change takes effect in the same transaction.

    Returns what the approver must see once (the clear API token for ``kind=token``) or None.
    """
    expire_overdue_requests()
    with transaction.atomic():
        grant = _locked(grant)
        check_may_approve(actor, grant)
        _check_pending(grant)
        result = _EXECUTORS[grant.kind](grant, actor)
        _decide(grant, actor=actor, status=GrantStatus.APPROVED, reason=reason, action="grant.approve")
    return result


def reject_request(*, grant: GrantRequest, actor: User, reason: str) -> None:
    """A second administrator refuses, with a reason; nothing changes."""
    if not reason.strip():
        raise ValidationError({"reason": [_("驳回时请写明理由。")]})
    expire_overdue_requests()
    with transaction.atomic():
        grant = _locked(grant)
        check_may_approve(actor, grant)
        _check_pending(grant)
        _decide(grant, actor=actor, status=GrantStatus.REJECTED, reason=reason, action="grant.reject")


def withdraw_request(*, grant: GrantRequest, actor: User) -> None:
    """The requester takes back a pending request."""
    with transaction.atomic():
        grant = _locked(grant)
        if actor.pk != grant.requested_by_id:
            raise PermissionError(_("只有申请人可以撤回申请。"))
        _check_pending(grant)
        _decide(grant, actor=actor, status=GrantStatus.WITHDRAWN, reason="", action="grant.withdraw")


def expire_overdue_requests() -> int:
    """Mark pending requests past their expiry as expired (audited); returns how many.

    Run lazily before every request or decision and on the list page: the numbers are small,
    and a stale request must not be approvable even if no job ran.
    """
    overdue = GrantRequest.objects.filter(status=GrantStatus.PENDING, expires_at__lte=timezone.now())
    count = 0
    for pk in overdue.values_list("pk", flat=True):
        with transaction.atomic():
            grant = GrantRequest.objects.select_for_update().get(pk=pk)
            if grant.status == GrantStatus.PENDING:  # another process may have got there first
                _decide(grant, actor=None, status=GrantStatus.EXPIRED, reason="", action="grant.expire")
                count += 1
    return count


def requests_for_approval(user: User) -> QuerySet[GrantRequest]:
    """Pending requests this administrator may decide: not their own, not about them."""
    if not user.has_role(*APPROVER_ROLES):
        return GrantRequest.objects.none()
    return (
        GrantRequest.objects.filter(status=GrantStatus.PENDING)
        .exclude(requested_by=user)
        .exclude(target=user)
        .select_related("target", "target__organisation", "requested_by")
    )


def requests_by(user: User) -> QuerySet[GrantRequest]:
    """Every request this administrator made, newest first."""
    return GrantRequest.objects.filter(requested_by=user).select_related(
        "target", "target__organisation", "decided_by"
    )


# --- carrying out a change --------------------------------------------------------------------


def apply_account(
    *, user: User, roles: set[str], is_active: bool, actor: User | None, source: dict[str, Any]
) -> None:
    """Write roles and the enabled flag (in the caller's transaction), audited with ``source``
    (the approved request, the operator's bootstrap or the reason of an immediate removal), and
    end the pending requests the change made stale."""
    if roles != set(user.role_codes):
        user.roles.set(Role.objects.filter(code__in=roles))
        user.__dict__.pop("role_codes", None)
        record_event(actor=actor, action="user.roles", obj=user, data={"roles": sorted(roles), **source})
    if is_active != user.is_active:
        user.is_active = is_active
        user.save(update_fields=["is_active"])
        record_event(actor=actor, action="user.active", obj=user, data={"is_active": is_active, **source})
    _cancel_stale(user, actor=actor, keep=source.get("grant_request"))


def _execute_account(grant: GrantRequest, approver: User) -> None:
    user = grant.target
    before = grant.payload["before"]
    if set(user.role_codes) != set(before["roles"]) or user.is_active != before["is_active"]:
        # Cannot happen through these services (a change cancels the pending request), but a
        # request must never be applied to an account that is no longer what was asked about.
        raise ValidationError(_("该账号在申请后已有变化，请重新申请。"), code="stale")
    roles = validate_roles(grant.payload["roles"])
    apply_account(
        user=user,
        roles=roles,
        is_active=grant.payload["is_active"],
        actor=approver,
        source={"grant_request": grant.pk, "requested_by": grant.requested_by.get_username()},
    )


register_executor(GrantKind.ACCOUNT, _execute_account)


def _cancel_stale(user: User, *, actor: User | None, keep: int | None) -> None:
    """Cancel requests about ``user`` that assumed its old state, and, if ``user`` is no longer an
    active security administrator, the requests ``user`` made."""
    about = GrantRequest.objects.filter(target=user, status=GrantStatus.PENDING)
    if user.is_active:
        about = about.filter(kind=GrantKind.ACCOUNT)  # a token request holds while it is enabled
    stale = list(about.exclude(pk=keep))
    if not (user.is_active and user.has_role(RoleCode.SECADMIN)):
        stale += list(
            GrantRequest.objects.filter(requested_by=user, status=GrantStatus.PENDING).exclude(pk=keep)
        )
    for grant in stale:
        why = (
            _("申请人已不再担任安全管理员")
            if grant.target_id != user.pk
            else _("该账号的角色或启用状态已变化")
        )
        _decide(grant, actor=actor, status=GrantStatus.CANCELLED, reason=why, action="grant.cancel")


def _locked(grant: GrantRequest) -> GrantRequest:
    return GrantRequest.objects.select_for_update().select_related("target", "requested_by").get(pk=grant.pk)


def _check_pending(grant: GrantRequest) -> None:
    if grant.status != GrantStatus.PENDING:
        raise ValidationError(
            _("该申请{status}，不能再处理。").format(status=grant.get_status_display()), code="not_pending"
        )


def _decide(grant: GrantRequest, *, actor: User | None, status: str, reason: str, action: str) -> None:
    grant.status = status
    grant.decided_by = actor
    grant.decided_at = timezone.now()
    grant.decision_reason = reason.strip()[:200]
    grant.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    record_event(
        actor=actor,
        action=action,
        obj=grant,
        data={"user": grant.target.get_username(), "kind": grant.kind, "reason": grant.decision_reason},
    )
