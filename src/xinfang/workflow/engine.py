"""Performing a transition: the checks every action shares, in one place.

``perform`` locks the petition row, checks the state against the transition table, the actor's role
and side (petition office or responsible unit) and, when given, the version the actor saw
(optimistic locking: two people acting on the same petition cannot both succeed).  Then the
action's own effect runs, the petition moves to the target state, and the timeline event and the
audit event are written — all in one transaction, so a refused or failed action changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core import page_memo
from xinfang.organisations.choices import OrganisationKind
from xinfang.organisations.models import Organisation
from xinfang.petitions.access import PetitionNotFound, access_petition
from xinfang.petitions.models import Petition, PetitionEvent

from .deadline_records import track as track_deadlines
from .signals import transition_performed
from .transitions import (
    APPROVER,
    HANDLING,
    OFFICE,
    PETITIONER,
    RECHECKER,
    REVIEWER,
    ROLELESS,
    SIDE_ROLES,
    SUPERIOR,
    SUPERVISING,
    SYSTEM,
    TRANSITIONS,
    UNIT,
    WHILE_ACCUSED,
    Transition,
)


class TransitionRefused(ValidationError):
    """An action that is not allowed now: wrong state, wrong role or side, stale version, out of
    window.  Carries a stable ``code`` (for the API) and a Chinese message (for people)."""


@dataclass
class Effect:
    """What an action did, for the timeline: a note the petitioner may read (``public_note``,
    shown on the portal), an internal ``comment``, structured ``data``, and optionally a target
    state other than the table's (e.g. an overruled objection goes back to forwarded *or* assigned)."""

    public_note: str = ""
    comment: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    organisation: Organisation | None = None
    target: str | None = None
    fields: tuple[str, ...] = ()  # further petition fields the action changed, saved with the state


def _authorised_pk(user: Any, number: str) -> int:
    """The petition's key if ``user`` may act on it; not found and forbidden look the same."""
    if isinstance(user, Citizen | System):
        found = Petition.objects.filter(number=number)
        if isinstance(user, Citizen):
            found = found.filter(pk=user.petition_id)
        pk = found.values_list("pk", flat=True).first()
        if pk is None:
            raise PetitionNotFound(number)
        return pk
    return access_petition(user, number, "change").pk


@dataclass(frozen=True)
class Citizen:
    """The petitioner acting on the portal: proved by the query code, bound to one petition.

    Stands where a staff user would in ``perform``; has no organisation and no role, and is never
    authenticated as staff (the audit log records the public as actor None)."""

    petition_id: int
    is_authenticated: bool = False
    organisation: None = None
    role_codes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class System:
    """Xinfang itself, acting from a scheduled job on what the calendar alone decides (a review or
    recheck window that passed unused).  Takes only transitions that name the SYSTEM side; the
    timeline and the audit log record no person."""

    is_authenticated: bool = False
    organisation: None = None
    role_codes: frozenset[str] = frozenset()


def handling_organisation(petition: Petition) -> Organisation:
    """The body handling the petition: the open unit, else the registering office (its own matter)."""
    assignment = open_assignment(petition)
    return assignment.unit if assignment is not None else petition.office


def acting_side(petition: Petition, user: Any) -> set[str]:
    """The sides ``user`` acts for on ``petition``: the registering office, the open unit, the
    handling body (unit or office), and the leader line of the handling body.  Asked once per
    petition page (its action panel and its single-action links ask it both)."""
    key = ("acting_side", type(user).__name__, getattr(user, "pk", None))
    return page_memo.remember(petition, key, lambda: _acting_side(petition, user))


def _acting_side(petition: Petition, user: Any) -> set[str]:
    sides: set[str] = set()
    if isinstance(user, Citizen):
        return {PETITIONER} if user.petition_id == petition.pk else sides
    if isinstance(user, System):
        return {SYSTEM}
    org = user.organisation
    if org is None:
        return sides
    if org.pk == petition.office_id:
        sides.add(OFFICE)
    assignment = open_assignment(petition)
    if assignment is not None and org.is_within(assignment.unit):
        sides.add(UNIT)
    handler = assignment.unit if assignment is not None else petition.office
    if org.is_within(handler):
        sides.add(HANDLING)
    if org.pk in {o.pk for o in leader_line(handler)}:
        sides.add(APPROVER)
    appeal = open_appeal(petition)
    if appeal is not None and acts_for(org, appeal.body):
        sides.add(REVIEWER if appeal.kind == "review" else RECHECKER)
    from .disputes import acts_for_superior, open_dispute  # disputes builds on this module

    dispute = open_dispute(petition)
    if dispute is not None and acts_for_superior(org, dispute):
        sides.add(SUPERIOR)
    if org.kind == OrganisationKind.PETITION_OFFICE and org.pk != handler.pk:
        # Supervision (督办): a petition office supervises what is in its scope (the caller has
        # checked the scope) and is not handled by itself; the handling office cannot supervise
        # its own work.  Which notice a supervisor may answer or accept is the supervision app's
        # actor guard.
        sides.add(SUPERVISING)
    return sides


def acts_for(org: Organisation, body: Organisation) -> bool:
    """Whether staff of ``org`` act for ``body``: its own staff, or the petition office of a
    government, which does a government's review and recheck work (复查复核) on its behalf."""
    return org.pk == body.pk or (org.kind == OrganisationKind.PETITION_OFFICE and org.parent_id == body.pk)


def open_appeal(petition: Petition) -> Any:
    """The review or recheck now under way, if any (one at a time)."""
    from xinfang.petitions.choices import Status

    from .models import Appeal

    if petition.status not in {Status.UNDER_REVIEW, Status.UNDER_RECHECK}:
        return None
    return Appeal.objects.filter(petition=petition, decided_on__isnull=True).select_related("body").first()


def leader_line(organisation: Organisation) -> list[Organisation]:
    """Whose leaders approve for ``organisation``: itself and the bodies above it, up to and
    including the nearest level of government (a department's leaders or its government's)."""
    line = [organisation]
    for ancestor in reversed(list(organisation.ancestors().exclude(pk=organisation.pk))):
        if organisation.is_area:
            break
        line.append(ancestor)
        if ancestor.is_area:
            break
    return line


def open_assignment(petition: Petition) -> Any:
    from .models import Assignment

    if page_memo.active(petition):  # the petition page prefetched it (petitions.views.open_assignments)
        rows = page_memo.prefetched(petition, "open_assignments")
        if rows is not None:
            return rows[0] if rows else None
    return Assignment.objects.filter(petition=petition, ended_at__isnull=True).select_related("unit").first()


def _handler_left(petition: Petition) -> bool:
    """Whether the named handler is no longer inside the body handling the petition."""
    from xinfang.organisations.models import User

    rows = User.objects.filter(pk=petition.handler_id).values_list("organisation__path", flat=True)
    org_path = rows.first()
    return not (org_path or "").startswith(handling_organisation(petition).path)


def check_allowed(
    petition: Petition, user: Any, transition: Transition, sides: set[str] | None = None
) -> None:
    """Raise TransitionRefused unless ``user`` may take ``transition`` on ``petition`` now.
    ``sides``: the user's ``acting_side`` when the caller already has it (it costs queries)."""
    if petition.status not in transition.sources:
        raise TransitionRefused(
            _("信访事项当前状态为“{status}”，不能{action}。").format(
                status=petition.get_status_display(), action=transition.label
            ),
            code="wrong_state",
        )
    sides = acting_side(petition, user) if sides is None else sides
    roles = user.role_codes
    if not any(s in sides and (s in ROLELESS or roles & SIDE_ROLES[s]) for s in transition.sides):
        raise TransitionRefused(
            _("您无权对该信访事项{action}。").format(action=transition.label), code="not_allowed"
        )
    if transition.action not in WHILE_ACCUSED and is_accused(petition, user):
        raise TransitionRefused(
            _("该检举控告涉及本机构或本级政府，只能转送上一级信访工作机构或纪检监察机关，不得自行处理。"),
            code="accused_office",
        )
    if transition.guard is not None:
        transition.guard(petition)
    if transition.actor_guard is not None:
        transition.actor_guard(petition, user)


def is_accused(petition: Petition, user: Any) -> bool:
    """Whether ``user`` works inside the organisation a confidential report accuses (Art. 30 ¶3).
    The scope hides such a report from them, except from the registering office while it has to
    route it (access.py): that office may then only send it up (transitions.WHILE_ACCUSED)."""
    org = getattr(user, "organisation", None)
    if org is None or not petition.is_confidential or petition.subject_organisation_id is None:
        return False
    return org.is_within(petition.subject_organisation)


def may_change(petition: Petition, user: Any) -> bool:
    """Whether ``petition`` is in ``user``'s scope for changes (asked once per petition page)."""
    return page_memo.remember(
        petition,
        may_change_key(user),
        lambda: Petition.objects.restrict(user, "change").filter(pk=petition.pk).exists(),
    )


def may_change_key(user: Any) -> tuple[str, Any]:
    """The page memo's key of ``may_change``, for a page that loads the answer with its petition."""
    return ("may_change", getattr(user, "pk", None))


def allowed_actions(petition: Petition, user: Any) -> list[Transition]:
    """The actions ``user`` may take on ``petition`` now (for the UI; ``perform`` checks again).

    Nothing for someone outside the petition's scope: being on a side (e.g. inside the responsible
    unit) is not enough when the scope hides the petition (a report against the user's own
    organisation, Art. 30 ¶3) — ``perform`` would refuse every such action as not found.
    """
    if isinstance(user, Citizen):
        if user.petition_id != petition.pk:
            return []
    elif not may_change(petition, user):
        return []
    result = []
    sides = acting_side(petition, user)  # once, not once per transition
    for transition in TRANSITIONS.values():
        if petition.status not in transition.sources:
            continue  # the first test of check_allowed, without composing its refusal's message
        try:
            check_allowed(petition, user, transition, sides)
        except TransitionRefused:
            continue
        result.append(transition)
    return result


def perform(
    *, user: Any, number: str, action: str, apply: Callable[[Petition], Effect], version: int | None = None
) -> Petition:
    """Take ``action`` on petition ``number`` as ``user``; ``apply`` does the action's own work."""
    transition = TRANSITIONS[action]
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=_authorised_pk(user, number))
        if version is not None and petition.version != version:
            raise TransitionRefused(_("该信访事项已被他人更新，请刷新后重试。"), code="stale_version")
        check_allowed(petition, user, transition)
        source = petition.status
        effect = apply(petition)
        petition.status = effect.target or transition.target or source
        fields = list(effect.fields)
        if petition.handler_id is not None and "handler" not in fields and _handler_left(petition):
            # The petition moved to another body (forwarded, returned, decided): the old body's
            # handler no longer works it; the new body names its own.
            petition.handler = None
            fields.append("handler")
        # F() keeps the increment atomic even if a caller forgot the row lock.
        petition.version = F("version") + 1
        petition.save(update_fields=["status", "version", "due_on", "updated_at", *fields])
        petition.refresh_from_db(fields=["version"])
        event = PetitionEvent.objects.create(
            petition=petition,
            at=timezone.now(),
            kind=transition.event,
            actor=None if isinstance(user, Citizen | System) else user,
            organisation=effect.organisation or user.organisation,
            is_public=bool(effect.public_note),
            public_note=effect.public_note,
            comment=effect.comment,
            data={"from": source, "to": petition.status, **effect.data},
        )
        record_event(
            actor=user, action=f"petition.{action}", obj=petition,
            data={"from": source, "to": petition.status, **effect.data},
        )  # fmt: skip
        # The deadline it met and the one it started, as records that are never overwritten.
        track_deadlines(petition, action=action, user=user, source=source)
        # Inside the transaction: what receivers write commits or rolls back with the action.
        transition_performed.send(
            sender=Transition, petition=petition, action=action, user=user, event=event, source=source
        )
    return petition
