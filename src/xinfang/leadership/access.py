"""Who may see and do what in leadership — one rule each, used by the pages, the API and the panels.

* **see a contract** — whoever may see its subject: a petition through the petition scope
  (``Petition.objects.restrict``), a dispute through the screening scope (the responsible unit's
  tree path under the user's ``scope_root``, the way petitions are scoped).
* **contract** — a leader for themself; a petition office's intake clerk or supervisor for a leader
  of its government (the subtree of ``scope_root(office)``).  The subject must be in the actor's scope.
* **see an instruction** — whoever may see its petition, and the named unit (the leader chose to
  send it there: the unit sees the instruction and the petition's title even when the petition is
  not routed to it).
* **instruct** — a leader, on a petition they may see, to an organisation inside their scope.
* **answer** — staff of the named unit or of an organisation inside it, never the leader who wrote it.
* **duty rota** — read by casework staff whose scope covers the organisation; written by its
  supervisors and leaders (and intake clerks of a petition office).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from xinfang.organisations.choices import CASEWORK_ROLES, OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation, User
from xinfang.petitions.access import scope_root
from xinfang.petitions.models import Petition

from .models import DutyLogEntry, DutyShift, Instruction, LeaderContract

OFFICE_ROLES = (RoleCode.INTAKE, RoleCode.SUPERVISOR)
ROTA_ROLES = (RoleCode.SUPERVISOR, RoleCode.LEADER, RoleCode.INTAKE)


class LeadershipRefused(PermissionError):
    """The user may not do this (the API answers 403, the pages show the message)."""


def is_casework(user: Any) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.organisation_id is not None
        and bool(user.role_codes & CASEWORK_ROLES)
    )


def scope_path(user: Any) -> str:
    """The tree prefix of the user's scope (the government a petition office belongs to)."""
    return scope_root(user.organisation).path


def in_office(user: Any) -> bool:
    """A clerk or supervisor of a petition office (信访工作机构)."""
    return (
        user.organisation is not None
        and user.organisation.kind == OrganisationKind.PETITION_OFFICE
        and user.has_role(*OFFICE_ROLES)
    )


def own_line(user: Any) -> list[int]:
    """The user's organisation and every organisation above it (ids)."""
    return [int(p) for p in user.organisation.path.strip("/").split("/") if p]


def visible_petitions(user: Any) -> QuerySet:
    return Petition.objects.restrict(user).values("pk")


def visible_disputes(user: Any) -> QuerySet:
    """The disputes the user may see, through the screening scope (its one choke point)."""
    from xinfang.screening.access import restrict_disputes
    from xinfang.screening.models import Dispute

    return restrict_disputes(Dispute.objects.all(), user).values("pk")


def contracts_visible_to(user: Any) -> QuerySet[LeaderContract]:
    """The contracts whose subject the user may see (the team always sees its own)."""
    if not is_casework(user):
        return LeaderContract.objects.none()
    team = Q(leader=user) | Q(official=user) | Q(handler=user)
    return LeaderContract.objects.filter(
        Q(petition__in=visible_petitions(user)) | Q(dispute__in=visible_disputes(user)) | team
    )


def instructions_visible_to(user: Any) -> QuerySet[Instruction]:
    if not is_casework(user):
        return Instruction.objects.none()
    return Instruction.objects.filter(
        Q(petition__in=visible_petitions(user))
        | Q(unit__path__startswith=user.organisation.path)
        | Q(leader=user)
    )


def may_answer(user: Any, instruction: Instruction) -> bool:
    """Staff of the named unit or of a body inside it (a county government's instruction reaches
    its staff); never the leader who wrote it."""
    return (
        is_casework(user)
        and user.pk != instruction.leader_id
        and user.organisation.path.startswith(instruction.unit.path)
    )


def leaders_for(user: Any) -> QuerySet[User]:
    """The leaders ``user`` may contract a case to: themself (a leader), or, for a petition office,
    the leaders of its government's subtree."""
    if not is_casework(user):
        return User.objects.none()
    leaders = User.objects.filter(is_active=True, roles__code=RoleCode.LEADER)
    if in_office(user):
        return leaders.filter(organisation__path__startswith=scope_path(user)).distinct().order_by("username")
    if user.has_role(RoleCode.LEADER):
        return leaders.filter(pk=user.pk)
    return User.objects.none()


def team_choices(leader: Any) -> QuerySet[User]:
    """Who may be the responsible official or the handler: casework staff in the leader's scope."""
    return (
        User.objects.filter(
            is_active=True,
            organisation__path__startswith=scope_path(leader),
            roles__code__in=list(CASEWORK_ROLES),
        )
        .distinct()
        .order_by("username")
    )


def unit_choices(user: Any) -> QuerySet[Organisation]:
    """The units a leader may name in an instruction: any organisation inside their scope."""
    if not is_casework(user) or not user.has_role(RoleCode.LEADER):
        return Organisation.objects.none()
    return Organisation.objects.filter(path__startswith=scope_path(user), is_active=True).order_by("path")


def shifts_visible_to(user: Any) -> QuerySet[DutyShift]:
    if not is_casework(user):
        return DutyShift.objects.none()
    return DutyShift.objects.filter(organisation_path__startswith=scope_path(user))


def log_visible_to(user: Any) -> QuerySet[DutyLogEntry]:
    if not is_casework(user):
        return DutyLogEntry.objects.none()
    return DutyLogEntry.objects.filter(shift__organisation_path__startswith=scope_path(user))


def may_plan_rota(user: Any) -> bool:
    return (
        is_casework(user)
        and user.has_role(*ROTA_ROLES)
        and (user.has_role(RoleCode.SUPERVISOR, RoleCode.LEADER) or in_office(user))
    )


def rota_units(user: Any) -> QuerySet[Organisation]:
    """The organisations whose rota ``user`` keeps: their own and those in their scope."""
    if not may_plan_rota(user):
        return Organisation.objects.none()
    return Organisation.objects.filter(path__startswith=scope_path(user), is_active=True).order_by("path")
