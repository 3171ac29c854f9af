"""Who sees and who may write disputes, rounds and briefings: the one choke point for every read.

Reads follow the petitions' rule (``petitions.access.scope_root``): a casework user sees the
disputes whose responsible unit lies in their scope's subtree; a petition office's staff see their
government's whole area.  Administrators see nothing.

Writes (decision, documented in docs/procedure.md):
* the intake clerk, supervisor and leader may register and change any dispute of their scope;
* a handler only those of their own unit (and below) — the responsible unit's 承办人;
* screening rounds and briefings are issued by the supervisor or leader of a petition office;
* a round's return is made by the unit itself (its staff, or for a government unit its petition
  office, whose scope root it is); the office's clerk or supervisor may record one phoned in (代录).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from xinfang.organisations.choices import CASEWORK_ROLES, OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation
from xinfang.petitions.access import scope_root

OFFICE_WRITERS = frozenset({RoleCode.INTAKE, RoleCode.SUPERVISOR, RoleCode.LEADER})
ISSUERS = frozenset({RoleCode.SUPERVISOR, RoleCode.LEADER})


def is_casework(user: Any) -> bool:
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.organisation_id is not None
        and bool(user.role_codes & CASEWORK_ROLES)
    )


def scope_path(user: Any) -> str | None:
    """The path prefix of what ``user`` sees, or None for nothing."""
    if not is_casework(user):
        return None
    return scope_root(user.organisation).path


def restrict_disputes(qs: QuerySet, user: Any) -> QuerySet:
    path = scope_path(user)
    return qs.none() if path is None else qs.filter(organisation_path__startswith=path)


def may_write_for(user: Any, unit: Organisation) -> bool:
    """May ``user`` register or change a dispute whose responsible unit is ``unit``?"""
    path = scope_path(user)
    if path is None or not unit.path.startswith(path):
        return False
    if user.has_role(*OFFICE_WRITERS):
        return True
    return user.has_role(RoleCode.HANDLER) and unit.is_within(user.organisation)


def writable_units(user: Any) -> QuerySet:
    """The units ``user`` may name as responsible (the choices of the form)."""
    path = scope_path(user)
    if path is None:
        return Organisation.objects.none()
    if user.has_role(*OFFICE_WRITERS):
        return Organisation.objects.filter(path__startswith=path).order_by("path")
    if user.has_role(RoleCode.HANDLER):
        return Organisation.objects.filter(path__startswith=user.organisation.path).order_by("path")
    return Organisation.objects.none()


def may_issue(user: Any) -> bool:
    """Rounds and briefings: the supervisor or leader of a petition office."""
    return (
        is_casework(user)
        and user.has_role(*ISSUERS)
        and user.organisation.kind == OrganisationKind.PETITION_OFFICE
    )


def restrict_rounds(qs: QuerySet, user: Any) -> QuerySet:
    """Rounds covering the user's scope or one of whose units lies in it."""
    path = scope_path(user)
    if path is None:
        return qs.none()
    from .models import RoundReturn

    mine = RoundReturn.objects.filter(unit_path__startswith=path).values("round_id")
    return qs.filter(area_path__startswith=path) | qs.filter(pk__in=mine)


def may_report_for(user: Any, unit: Organisation) -> bool:
    """The unit reports for itself: its own staff, or the office whose scope root it is.  The
    petition office's clerk or supervisor may also record a return a township phoned in (代录),
    as offices do for units without an account."""
    if not is_casework(user):
        return False
    if user.organisation_id == unit.pk or scope_root(user.organisation).pk == unit.pk:
        return True
    return (
        user.organisation.kind == OrganisationKind.PETITION_OFFICE
        and user.has_role(RoleCode.INTAKE, RoleCode.SUPERVISOR)
        and unit.path.startswith(scope_root(user.organisation).path)
    )


def reporting_units_of(user: Any) -> list[int]:
    """The units whose returns ``user`` makes (one or two ids)."""
    if not is_casework(user):
        return []
    return sorted({user.organisation_id, scope_root(user.organisation).pk})
