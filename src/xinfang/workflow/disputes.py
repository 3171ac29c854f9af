"""Jurisdiction disputes (管辖争议, 《信访工作条例》 Art. 24 ¶1): the end of the objection loop.

A responsible unit may object once that a forwarded or assigned matter is outside its remit
(``return``, Art. 23 ¶3).  If the petition office does not agree (``overrule_return``) and the unit
still objects, the two disagree about who handles the matter, and Art. 24 ¶1 gives the decision to
their common superior (共同的上一级机关): here the lowest level of government above both.  So:

* ``dispute_jurisdiction``: the unit's second objection, within the same 5 working days from the
  day it received the petition again; the petition goes to ``disputed`` and the common superior
  gains sight of it (an ``Involvement``, reason ``superior``);
* ``decide_jurisdiction``: the common superior — its leaders, or the supervisors of its petition
  office unless that office is the one that overruled (a party does not judge its own dispute) —
  names the organisation that handles the matter; the petition is forwarded or assigned to it as
  before, and from then on no unit may object to it again.

Art. 24 sets no period for the decision; the superior is given the disposal period (Art. 22, 15
days) of its own rule profile, counted from the day the dispute reached it (docs/procedure.md §8).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.organisations.choices import OrganisationKind
from xinfang.organisations.models import Organisation
from xinfang.petitions.choices import InvolvementReason, Status
from xinfang.petitions.models import Involvement, Petition

from .deadlines import due_date
from .engine import Effect, TransitionRefused, open_assignment, perform
from .models import Assignment, AssignmentKind, JurisdictionDispute, Step


def common_superior(petition: Petition, unit: Organisation) -> Organisation | None:
    """The lowest government strictly above both the petition office and ``unit`` (Art. 24 ¶1).

    Strictly above: a unit that is itself a government (a township, the county government) is a
    party and cannot decide its own dispute, so the decision goes one level further up.  For a
    confidential report the accused organisation, and anything inside it, is skipped too (Art. 30
    ¶3: it must never see the report), so the decision goes above it.
    """
    office_above = {o.pk for o in _strict_ancestors(petition.office)}
    subject = petition.subject_organisation if petition.is_confidential else None
    for candidate in reversed(_strict_ancestors(unit)):  # nearest first
        if candidate.pk not in office_above or not candidate.is_area or not candidate.is_active:
            continue
        if subject is not None and candidate.is_within(subject):
            continue
        return candidate
    return None


def _strict_ancestors(organisation: Organisation) -> list[Organisation]:
    return [o for o in organisation.ancestors() if o.pk != organisation.pk]


def open_dispute(petition: Petition) -> JurisdictionDispute | None:
    """The dispute waiting for the common superior's decision, if any (one at a time)."""
    if petition.status != Status.DISPUTED:
        return None
    return (
        JurisdictionDispute.objects.filter(petition=petition, decided_at__isnull=True)
        .select_related("body", "office", "unit")
        .first()
    )


def acts_for_superior(organisation: Organisation, dispute: JurisdictionDispute) -> bool:
    """Staff of ``organisation`` decide ``dispute``: those of the common superior itself, or of its
    petition office — unless that office is the party that overruled the objection."""
    if organisation.pk == dispute.body_id:
        return True
    return (
        organisation.kind == OrganisationKind.PETITION_OFFICE
        and organisation.parent_id == dispute.body_id
        and organisation.pk != dispute.office_id
    )


def objected_before(petition: Petition, unit: Organisation) -> bool:
    """Whether ``unit`` already sent this petition back once (its first objection, Art. 23 ¶3)."""
    return Assignment.objects.filter(petition=petition, unit=unit, end_reason="returned").exists()


def jurisdiction_decided(petition: Petition) -> bool:
    """Whether a common superior has decided who handles the petition: no objection after that."""
    return JurisdictionDispute.objects.filter(petition=petition, decided_at__isnull=False).exists()


def designable_units(petition: Petition) -> Any:
    """What the common superior may name as the handling organisation: the active organisations of
    its own area, other than petition offices (offices route, they are not routed to)."""
    dispute = open_dispute(petition)
    if dispute is None:
        return Organisation.objects.none()
    return (
        Organisation.objects.filter(path__startswith=dispute.body.path, is_active=True)
        .exclude(kind=OrganisationKind.PETITION_OFFICE)
        .order_by("path")
    )


def _required(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise TransitionRefused(
            _("请填写{what}。").format(what=what), code="missing_reason", params={"field": "reasons"}
        )
    return text


def dispute_jurisdiction(*, user: Any, number: str, reasons: str, version: int | None = None) -> Petition:
    """再次异议: the unit, overruled once by the petition office, objects again; the petition goes to
    the common superior of the office and the unit, which decides (Art. 24 ¶1).  The window (5
    working days from receiving the petition again) and the earlier objection are the guard's."""
    reasons = _required(reasons, _("再次异议的详细理由"))

    def apply(petition: Petition) -> Effect:
        assignment = open_assignment(petition)
        body = common_superior(petition, assignment.unit)
        if body is None:
            raise TransitionRefused(_("没有可以决定管辖的共同上级机关。"), code="no_higher_body")
        assignment.ended_at, assignment.end_reason = timezone.now(), "disputed"
        assignment.save(update_fields=["ended_at", "end_reason"])
        today = timezone.localdate()
        JurisdictionDispute.objects.create(
            petition=petition, unit=assignment.unit, office=petition.office, body=body, reasons=reasons,
            raised_by=user, received_on=today,
        )  # fmt: skip
        Involvement.objects.get_or_create(
            petition=petition, organisation=body, reason=InvolvementReason.SUPERIOR,
            defaults={"organisation_path": body.path},
        )  # fmt: skip
        petition.due_on = due_date(Step.DISPOSAL, today, body).due_on
        return Effect(
            comment=reasons, organisation=assignment.unit,
            data={"unit": assignment.unit_id, "body": body.pk, "kind": assignment.kind},
        )  # fmt: skip

    return perform(user=user, number=number, action="dispute_jurisdiction", apply=apply, version=version)


def _check_designated(petition: Petition, dispute: JurisdictionDispute, unit: Organisation | None) -> None:
    """The organisation named must be an active one of the superior's area, not a petition office,
    and never (inside) the accused organisation of a confidential report (Art. 30 ¶3)."""
    if (
        unit is None
        or not unit.is_active
        or unit.kind == OrganisationKind.PETITION_OFFICE
        or not unit.is_within(dispute.body)
    ):
        raise TransitionRefused(
            _("请选择{body}所辖的有效办理单位。").format(body=dispute.body.name), code="invalid_unit"
        )
    subject = petition.subject_organisation if petition.subject_organisation_id else None
    if petition.is_confidential and subject is not None and unit.is_within(subject):
        raise TransitionRefused(
            _("检举控告不得转送、交办给被检举控告的单位或其下属单位。"), code="accused_unit"
        )


def decide_jurisdiction(
    *, user: Any, number: str, unit: Organisation | None, reasons: str, version: int | None = None
) -> Petition:
    """决定管辖: the common superior names the organisation that handles the petition (Art. 24 ¶1).
    It is forwarded or assigned to it as the disputed routing was (an assignment still owes a
    completion report); the unit confirms acceptance as usual but may no longer object."""
    reasons = _required(reasons, _("决定理由"))

    def apply(petition: Petition) -> Effect:
        dispute = JurisdictionDispute.objects.select_for_update().get(
            petition=petition, decided_at__isnull=True
        )
        _check_designated(petition, dispute, unit)
        last = Assignment.objects.filter(petition=petition).order_by("-assigned_at", "-pk").first()
        kind = last.kind if last is not None else AssignmentKind.FORWARD
        Assignment.objects.create(
            petition=petition, unit=unit, kind=kind, report_required=kind == AssignmentKind.ASSIGN,
            report_due_on=last.report_due_on if last is not None else None, assigned_by=user,
        )  # fmt: skip
        Involvement.objects.get_or_create(
            petition=petition, organisation=unit, reason=InvolvementReason.UNIT,
            defaults={"organisation_path": unit.path},
        )  # fmt: skip
        dispute.decided_unit, dispute.decision, dispute.decided_by = unit, reasons, user
        dispute.decided_at = timezone.now()
        dispute.save(update_fields=["decided_unit", "decision", "decided_by", "decided_at"])
        petition.due_on = due_date(Step.UNIT_ACCEPTANCE, timezone.localdate(), unit).due_on
        target = Status.ASSIGNED if kind == AssignmentKind.ASSIGN else Status.FORWARDED
        return Effect(
            public_note=_("经{body}决定，您的信访事项由{unit}办理。").format(
                body=dispute.body.name, unit=unit.name
            ),
            comment=reasons, organisation=dispute.body, target=target,
            data={"unit": unit.pk, "body": dispute.body_id, "disputed_unit": dispute.unit_id},
        )  # fmt: skip

    return perform(user=user, number=number, action="decide_jurisdiction", apply=apply, version=version)
