"""Who is told of what: every recipient rule of the staff notifications in one place.

Each function returns a queryset of user ids (set-based: one query when evaluated, however many
people), active accounts only.  The rules follow who must act next (docs/procedure.md): the unit
that received a petition, the leaders who approve an extension, the office that checks a
completion report, the body that reviews, the office that supervises.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet

from xinfang.organisations.choices import CASEWORK_ROLES, OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation, User
from xinfang.petitions.models import Petition
from xinfang.workflow import engine


def _ids(q: Q) -> QuerySet:
    return User.objects.filter(q, is_active=True).values_list("pk", flat=True).distinct()


def members(organisations: Iterable[Organisation] | Organisation, roles: Iterable[str]) -> QuerySet:
    """Active staff of ``organisations`` holding any of ``roles``."""
    orgs = [organisations] if isinstance(organisations, Organisation) else list(organisations)
    return _ids(Q(organisation__in=[o.pk for o in orgs], roles__code__in=list(roles)))


def unit_staff(unit: Organisation) -> QuerySet:
    """A body that must act on a petition: its handlers and its leaders."""
    return members(unit, [RoleCode.HANDLER, RoleCode.LEADER])


def unit_staff_and(unit: Organisation, user_ids: Iterable[int]) -> QuerySet:
    """A body's handlers and leaders, and these users too (a named leader)."""
    return _ids(
        Q(organisation=unit, roles__code__in=[RoleCode.HANDLER, RoleCode.LEADER]) | Q(pk__in=list(user_ids))
    )


def handling_staff(petition: Petition) -> QuerySet:
    """The petition's named handler if there is one, else the handling body's handlers and leaders."""
    if petition.handler_id:
        return _ids(Q(pk=petition.handler_id))
    return unit_staff(engine.handling_organisation(petition))


def approving_leaders(petition: Petition) -> QuerySet:
    """Leaders of the handling body's line (engine.leader_line), who approve an extension."""
    return members(engine.leader_line(engine.handling_organisation(petition)), [RoleCode.LEADER])


def office_intake(petition: Petition) -> QuerySet:
    return members(petition.office, [RoleCode.INTAKE, RoleCode.SUPERVISOR])


def office_supervisors(office: Organisation | None) -> QuerySet:
    if office is None:
        return User.objects.none().values_list("pk", flat=True)
    return members(office, [RoleCode.SUPERVISOR, RoleCode.LEADER])


def reviewing_staff(petition: Petition) -> QuerySet:
    """Staff who act for the body now reviewing or rechecking (the body itself, or the petition
    office of that government: engine.acts_for)."""
    appeal = engine.open_appeal(petition)
    if appeal is None:
        return User.objects.none().values_list("pk", flat=True)
    body = appeal.body

    return _ids(
        (
            Q(organisation=body)
            | Q(organisation__parent=body, organisation__kind=OrganisationKind.PETITION_OFFICE)
        )
        & Q(roles__code__in=list(CASEWORK_ROLES))
    )


def supervision_notice(petition: Petition, notice_id: Any = None) -> Any:
    """The supervision notice an action was about (``notice_id`` from the timeline event's data),
    else the petition's latest one, or None.  The supervision app is on the same floor: its model
    is looked up by name so this module does not import it."""
    try:
        model = apps.get_model("supervision", "SupervisionNotice")
    except LookupError:
        return None
    qs = model.objects.filter(petition=petition).select_related("office", "unit")
    if isinstance(notice_id, int):
        found = qs.filter(pk=notice_id).first()
        if found is not None:
            return found
    return qs.order_by("-pk").first()


def members_by_ids(ids: Iterable[int]) -> QuerySet:
    return _ids(Q(pk__in=list(ids)))
