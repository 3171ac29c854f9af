"""Who sees and does what in campaigns (one rule each, used by the pages, the API and the panels).

* **read a campaign** — casework staff whose scope (``petitions.access.scope_root``) holds the
  campaign's organisation, or whose own organisation lies inside the campaign's scope (a county's
  staff see the city's campaign that takes on their cases).  Its cases are shown only for petitions
  the reader may see (``Petition.objects.restrict``), and every figure counts exactly those.
* **manage a campaign** (edit, add cases, assign categories, contract, resolve, close) — a leader
  or supervisor whose scope holds the campaign's organisation.
* **resolve a case** — also the leaders and handlers of the case's responsible unit.
* **backlog rule and categories** — a leader or supervisor of a petition office or a government,
  for their own area (their scope root).
* **relief** — read: those who may see the petition; record, record payment: intake clerks,
  supervisors and leaders whose scope holds the petition; approve or reject: a leader whose scope
  holds the application's approving area.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from xinfang.organisations.choices import CASEWORK_ROLES, OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation
from xinfang.petitions.access import scope_root
from xinfang.petitions.models import Petition

from .models import Campaign, CampaignCase, ReliefApplication

MANAGER_ROLES = (RoleCode.LEADER, RoleCode.SUPERVISOR)
RELIEF_RECORDER_ROLES = (RoleCode.INTAKE, RoleCode.SUPERVISOR, RoleCode.LEADER)


class CampaignRefused(PermissionError):
    """The user may not do this (the API answers 403, the pages say why)."""


def _casework(user: Any) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.organisation_id is not None
        and bool(user.role_codes & CASEWORK_ROLES)
    )


def root_path(user: Any) -> str | None:
    return scope_root(user.organisation).path if _casework(user) else None


def visible_campaigns(user: Any) -> QuerySet[Campaign]:
    path = root_path(user)
    if path is None:
        return Campaign.objects.none()
    line = [int(p) for p in user.organisation.path.strip("/").split("/") if p]
    return Campaign.objects.filter(Q(organisation_path__startswith=path) | Q(organisation_id__in=line))


def may_manage(user: Any, campaign: Campaign) -> bool:
    path = root_path(user)
    return path is not None and user.has_role(*MANAGER_ROLES) and campaign.organisation_path.startswith(path)


def may_create(user: Any) -> bool:
    return _casework(user) and user.has_role(*MANAGER_ROLES)


def scope_organisations(user: Any) -> QuerySet[Organisation]:
    """The organisations a manager may make a campaign's scope (their scope root and below)."""
    path = root_path(user)
    if path is None or not user.has_role(*MANAGER_ROLES):
        return Organisation.objects.none()
    return Organisation.objects.filter(path__startswith=path, kind__in=_AREA_KINDS).order_by("path")


_AREA_KINDS = (OrganisationKind.GOVERNMENT, OrganisationKind.PETITION_OFFICE)


def may_resolve(user: Any, case: CampaignCase) -> bool:
    if may_manage(user, case.campaign):
        return True
    return (
        _casework(user)
        and user.organisation_id == case.unit_id
        and user.has_role(RoleCode.LEADER, RoleCode.HANDLER)
    )


def visible_cases(user: Any, campaign: Campaign) -> QuerySet[CampaignCase]:
    """The cases of ``campaign`` whose petition ``user`` may see: the one set behind the table,
    the progress figures, the exports and the closing report."""
    return CampaignCase.objects.filter(campaign=campaign, petition__in=Petition.objects.restrict(user))


def may_configure(user: Any) -> bool:
    return (
        _casework(user)
        and user.has_role(*MANAGER_ROLES)
        and user.organisation.kind in (OrganisationKind.PETITION_OFFICE, OrganisationKind.GOVERNMENT)
    )


def visible_relief(user: Any) -> QuerySet[ReliefApplication]:
    if not _casework(user):
        return ReliefApplication.objects.none()
    return ReliefApplication.objects.filter(petition__in=Petition.objects.restrict(user))


def may_record_relief(user: Any) -> bool:
    return _casework(user) and user.has_role(*RELIEF_RECORDER_ROLES)


def may_decide_relief(user: Any, application: ReliefApplication) -> bool:
    path = root_path(user)
    return (
        path is not None and user.has_role(RoleCode.LEADER) and application.organisation_path.startswith(path)
    )


def relief_awaiting(user: Any) -> QuerySet[ReliefApplication]:
    """Applications waiting for this leader's decision (the workbench panel)."""
    path = root_path(user)
    if path is None or not user.has_role(RoleCode.LEADER):
        return ReliefApplication.objects.none()
    return ReliefApplication.objects.filter(organisation_path__startswith=path, status="applied")
