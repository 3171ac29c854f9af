"""One service per transition of the procedure (the first steps: disposal by the petition office,
acceptance or objection by the responsible unit).  Staff pages and the API call these; each runs
through ``engine.perform``, which checks state, role, side and version and writes the timeline and
the audit log in the same transaction."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.organisations.models import Organisation
from xinfang.petitions import services as intake
from xinfang.petitions.choices import InvolvementReason, Status
from xinfang.petitions.drafts import PetitionDraft
from xinfang.petitions.models import Involvement, Petition

from .deadlines import due_date
from .engine import Effect, TransitionRefused, open_assignment, perform
from .models import Assignment, AssignmentKind, Step


def register(
    *, draft: PetitionDraft, office: Organisation, actor: Any = None, public: bool = False, **options: Any
) -> intake.Registration:
    """登记: register a petition and start the petition office's disposal clock (Art. 22): the
    deadline is counted from the date of receipt under the office's rule profile and calendar."""
    due_on = due_date(Step.DISPOSAL, draft.received_on, office).due_on
    return intake.register_petition(
        draft=draft, office=office, actor=actor, public=public, due_on=due_on, **options
    )


def _required(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise TransitionRefused(_("请填写{what}。").format(what=what), code="missing_reason")
    return text


def _check_unit(petition: Petition, unit: Organisation) -> None:
    """A unit may receive the petition: active, not the office itself, and never the accused
    organisation of a confidential report nor anything inside it (条例 Art. 30 ¶3)."""
    if not unit.is_active or unit.pk == petition.office_id:
        raise TransitionRefused(_("请选择有效的责任单位。"), code="invalid_unit")
    subject = petition.subject_organisation
    if petition.is_confidential and subject is not None and unit.is_within(subject):
        raise TransitionRefused(
            _("检举控告不得转送、交办给被检举控告的单位或其下属单位。"), code="accused_unit"
        )


def _route(
    petition: Petition, *, user: Any, unit: Organisation, kind: str, report_due_on: Any = None
) -> None:
    Assignment.objects.filter(petition=petition, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason="rerouted"
    )
    Assignment.objects.create(
        petition=petition, unit=unit, kind=kind, report_required=kind == AssignmentKind.ASSIGN,
        report_due_on=report_due_on, assigned_by=user,
    )  # fmt: skip
    Involvement.objects.get_or_create(
        petition=petition, organisation=unit, reason=InvolvementReason.UNIT,
        defaults={"organisation_path": unit.path},
    )  # fmt: skip
    petition.due_on = due_date(Step.UNIT_ACCEPTANCE, timezone.localdate(), unit).due_on


def forward(
    *, user: Any, number: str, unit: Organisation, comment: str = "", version: int | None = None
) -> Petition:
    """转送: send the petition to the unit with authority, no result report required (Art. 22)."""

    def apply(petition: Petition) -> Effect:
        _check_unit(petition, unit)
        _route(petition, user=user, unit=unit, kind=AssignmentKind.FORWARD)
        return Effect(
            public_note=_("您的信访事项已转送{unit}办理。").format(unit=unit.name),
            comment=comment, data={"unit": unit.pk},
        )  # fmt: skip

    return perform(user=user, number=number, action="forward", apply=apply, version=version)


def assign(
    *,
    user: Any,
    number: str,
    unit: Organisation,
    report_due_on: Any = None,
    comment: str = "",
    version: int | None = None,
) -> Petition:
    """交办: send the petition to the unit and require a completion report by a set date (Art. 22(3))."""

    def apply(petition: Petition) -> Effect:
        _check_unit(petition, unit)
        if report_due_on is not None and report_due_on <= timezone.localdate():
            raise TransitionRefused(_("限办日期应晚于今天。"), code="invalid_date")
        _route(petition, user=user, unit=unit, kind=AssignmentKind.ASSIGN, report_due_on=report_due_on)
        return Effect(
            public_note=_("您的信访事项已交办{unit}办理。").format(unit=unit.name),
            comment=comment,
            data={"unit": unit.pk, "report_due_on": report_due_on.isoformat() if report_due_on else None},
        )

    return perform(user=user, number=number, action="assign", apply=apply, version=version)


def accept(*, user: Any, number: str, comment: str = "", version: int | None = None) -> Petition:
    """受理 by the petition office itself, its own matter: starts the 60-day handling clock (Art. 34)."""

    def apply(petition: Petition) -> Effect:
        petition.due_on = due_date(Step.HANDLING, timezone.localdate(), petition.office).due_on
        return Effect(
            public_note=_("{office}已受理您的信访事项，将依法办理并书面答复。").format(
                office=petition.office.name
            ),
            comment=comment,
        )

    return perform(user=user, number=number, action="accept", apply=apply, version=version)


def decline(*, user: Any, number: str, reasons: str, version: int | None = None) -> Petition:
    """不予受理, with written reasons the petitioner is told."""
    reasons = _required(reasons, _("不予受理的理由"))

    def apply(petition: Petition) -> Effect:
        petition.due_on = None
        return Effect(
            public_note=_("不予受理。理由：{reasons}").format(reasons=reasons), data={"reasons": reasons}
        )

    return perform(user=user, number=number, action="decline", apply=apply, version=version)


def redirect(*, user: Any, number: str, channel: str, version: int | None = None) -> Petition:
    """告知: the matter belongs to a lawful channel (court, arbitration, administrative review …) and
    must not be accepted as a petition (Art. 22 ¶2, Art. 31)."""
    channel = _required(channel, _("应当通过的法定途径"))

    def apply(petition: Petition) -> Effect:
        petition.due_on = None
        return Effect(
            public_note=_("您反映的事项应当通过以下途径依法解决：{channel}").format(channel=channel),
            data={"channel": channel},
        )

    return perform(user=user, number=number, action="redirect", apply=apply, version=version)


def unit_accept(*, user: Any, number: str, comment: str = "", version: int | None = None) -> Petition:
    """The responsible unit confirms receipt and accepts (Art. 23 ¶3): the handling clock starts."""

    def apply(petition: Petition) -> Effect:
        unit = open_assignment(petition).unit
        petition.due_on = due_date(Step.HANDLING, timezone.localdate(), unit).due_on
        return Effect(
            public_note=_("{unit}已受理您的信访事项，将依法办理并书面答复。").format(unit=unit.name),
            comment=comment, organisation=unit,
        )  # fmt: skip

    return perform(user=user, number=number, action="unit_accept", apply=apply, version=version)


def return_petition(*, user: Any, number: str, reasons: str, version: int | None = None) -> Petition:
    """退回: the unit objects that the matter is outside its remit, with detailed reasons, within
    5 working days of receiving it (Art. 23 ¶3).  The petition office then decides."""
    reasons = _required(reasons, _("退回的详细理由"))

    def apply(petition: Petition) -> Effect:
        assignment = open_assignment(petition)
        window = due_date(Step.OBJECTION, timezone.localtime(assignment.assigned_at).date(), assignment.unit)
        if timezone.localdate() > window.due_on:
            raise TransitionRefused(
                _("提出异议的期限已于{date}届满，不能退回。").format(date=window.due_on.isoformat()),
                code="out_of_window",
            )
        assignment.ended_at, assignment.end_reason = timezone.now(), "returned"
        assignment.save(update_fields=["ended_at", "end_reason"])
        petition.due_on = due_date(Step.DISPOSAL, timezone.localdate(), petition.office).due_on
        return Effect(comment=reasons, organisation=assignment.unit, data={"unit": assignment.unit_id})

    return perform(user=user, number=number, action="return", apply=apply, version=version)


def overrule_return(*, user: Any, number: str, comment: str, version: int | None = None) -> Petition:
    """The petition office does not agree with the objection: the same unit must handle it."""
    comment = _required(comment, _("不同意退回的理由"))

    def apply(petition: Petition) -> Effect:
        last = Assignment.objects.filter(petition=petition).order_by("-assigned_at", "-pk").first()
        if last is None:
            raise TransitionRefused(_("没有可恢复的转送交办记录。"), code="wrong_state")
        _route(petition, user=user, unit=last.unit, kind=last.kind, report_due_on=last.report_due_on)
        target = Status.ASSIGNED if last.kind == AssignmentKind.ASSIGN else Status.FORWARDED
        return Effect(comment=comment, target=target, data={"unit": last.unit_id})

    return perform(user=user, number=number, action="overrule_return", apply=apply, version=version)
