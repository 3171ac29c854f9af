"""约谈、通报、改进工作建议 (《信访工作条例》第三十九条、第四十条): the record of a summons, a circulated
notice or a recommendation to improve work, issued by a petition office to an organisation in its
scope, with the petitions concerned and the organisation's written response.

Who may do what (one rule each, used by the staff pages and the API alike):

* **issue** — a supervisor or leader *of a petition office* (信访工作机构), to an organisation inside
  the office's scope (the subtree of the government it belongs to, ``petitions.access.scope_root``)
  other than the office itself; the petitions named must be ones the issuer may see.
* **respond** — a leader of the organisation concerned, while the record is open.
* **close** — a supervisor or leader of the issuing office, once answered (or at any time with a
  note saying why, e.g. a circular that asked for no answer).
* **read** — the issuing office, the organisation concerned, and the petition offices above the
  issuer (their scope includes it).

Each write is one transaction with its audit event; issuing also writes one internal
``accountability`` event on each petition's timeline (bulk-created) and rings the bell of the
organisation's leaders; a response rings the issuer's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinfang.audit.services import record_event
from xinfang.organisations.choices import CASEWORK_ROLES, OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation, User
from xinfang.petitions.access import scope_root
from xinfang.petitions.choices import EventKind
from xinfang.petitions.models import Petition, PetitionEvent

from .models import Accountability, AccountabilityKind, AccountabilityStatus

ISSUER_ROLES = (RoleCode.SUPERVISOR, RoleCode.LEADER)
# A record names at most this many petitions (a circular about a whole year's work names a few
# typical cases, not the year's ledger).
MAX_PETITIONS = 50
# Kinds that always ask for a written answer by a date (a summons is followed up in writing; a
# recommendation must be answered, Art. 40).  A circular may be for information only.
RESPONSE_REQUIRED = frozenset({AccountabilityKind.RECOMMENDATION, AccountabilityKind.SUMMONS})


# The audit page's Chinese for what this module writes (registered in SupervisionConfig.ready).
AUDIT_ACTIONS = {
    "supervision.accountability_recorded": gettext_lazy("发出约谈、通报或改进工作建议"),
    "supervision.accountability_answered": gettext_lazy("书面回复约谈、通报或建议"),
    "supervision.accountability_closed": gettext_lazy("办结约谈、通报或建议"),
    "supervision.accountability_exported": gettext_lazy("导出约谈、通报和建议清单"),
}


class AccountabilityRefused(PermissionError):
    """The user may not do this (the API answers 403, the pages show the message)."""


# --- who may ----------------------------------------------------------------------------------


def issuing_office(user: Any) -> Organisation | None:
    """The petition office ``user`` issues for, or None if they may not issue at all."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    org = user.organisation
    if org is None or org.kind != OrganisationKind.PETITION_OFFICE or not user.has_role(*ISSUER_ROLES):
        return None
    return org


def can_issue(user: Any) -> bool:
    return issuing_office(user) is not None


def unit_choices(user: Any) -> QuerySet[Organisation]:
    """The organisations ``user`` may address: the office's scope, without the office itself."""
    office = issuing_office(user)
    if office is None:
        return Organisation.objects.none()
    return (
        Organisation.objects.filter(path__startswith=scope_root(office).path)
        .exclude(pk=office.pk)
        .order_by("path")
    )


def can_respond(user: Any, record: Accountability) -> bool:
    return (
        record.status == AccountabilityStatus.OPEN
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.organisation_id == record.unit_id
        and user.has_role(RoleCode.LEADER)
    )


def can_close(user: Any, record: Accountability) -> bool:
    return (
        record.status != AccountabilityStatus.CLOSED
        and issuing_office(user) is not None
        and user.organisation_id == record.office_id
    )


def visible_to(user: Any) -> QuerySet[Accountability]:
    """The records ``user`` may read (see the module docstring)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Accountability.objects.none()
    org = user.organisation
    if org is None or not user.role_codes & CASEWORK_ROLES:
        return Accountability.objects.none()
    scope = Q(office=org) | Q(unit=org)
    if org.kind == OrganisationKind.PETITION_OFFICE:
        # Offices above oversee the petition work below them: they see what lower offices issued.
        scope |= Q(office__path__startswith=scope_root(org).path)
    return Accountability.objects.filter(scope)


def get_visible(user: Any, pk: int) -> Accountability:
    """One record the user may read; a missing and a forbidden one look the same (404)."""
    try:
        return (
            visible_to(user)
            .select_related("office", "unit", "issued_by", "responded_by", "closed_by")
            .get(pk=pk)
        )
    except Accountability.DoesNotExist:
        raise Accountability.DoesNotExist(pk) from None


def to_answer(user: Any) -> QuerySet[Accountability]:
    """Open records the user's organisation must answer, for its leaders (the workbench can list
    them), soonest deadline first."""
    if not getattr(user, "is_authenticated", False) or not user.has_role(RoleCode.LEADER):
        return Accountability.objects.none()
    return Accountability.objects.filter(
        unit_id=user.organisation_id, status=AccountabilityStatus.OPEN
    ).order_by("response_due_on", "id")


def to_close(user: Any) -> QuerySet[Accountability]:
    """Answered records the user's petition office issued, waiting to be read and closed."""
    office = issuing_office(user)
    if office is None:
        return Accountability.objects.none()
    return Accountability.objects.filter(office=office, status=AccountabilityStatus.ANSWERED).order_by(
        "responded_at", "id"
    )


# --- services ---------------------------------------------------------------------------------


def _leaders_of(org_id: int) -> list[int]:
    return list(
        User.objects.filter(organisation_id=org_id, is_active=True, roles__code=RoleCode.LEADER).values_list(
            "pk", flat=True
        )
    )


def _notify(users: Iterable[int], *, record: Accountability, title: str, body: str, key: str) -> None:
    # Notifications sit on the same floor; imported here so the models never depend on them.
    from xinfang.notifications.services import notify

    notify(
        users,
        kind="accountability",
        title=title,
        body=body,
        url=reverse("accountability:detail", args=[record.pk]),
        dedupe_key=f"accountability:{record.pk}:{key}",
        email=True,
    )


def record_accountability(
    *,
    user: Any,
    kind: str,
    unit: Organisation | int | None,
    title: str,
    content: str,
    response_due_on: dt.date | None = None,
    petition_numbers: Iterable[str] = (),
) -> Accountability:
    """Issue a summons, circular or recommendation; returns the saved record.

    Raises ``AccountabilityRefused`` when the user may not issue at all, ``ValidationError`` (with
    field errors) for anything wrong in what was filled in.
    """
    office = issuing_office(user)
    if office is None:
        raise AccountabilityRefused(_("只有信访工作机构的督办员或领导可以发出约谈、通报或改进工作建议。"))
    errors: dict[str, list[str]] = {}
    if kind not in AccountabilityKind.values:
        errors["kind"] = [_("请选择约谈、通报或改进工作建议。")]
    unit_id = unit.pk if isinstance(unit, Organisation) else unit
    unit_obj = unit_choices(user).filter(pk=unit_id).first() if unit_id else None
    if unit_obj is None:
        errors["unit"] = [_("请选择本机关管辖范围内的单位（不能是本机关自己）。")]
    title = (title or "").strip()
    content = (content or "").strip()
    if not title:
        errors["title"] = [_("请填写标题。")]
    if not content:
        errors["content"] = [_("请填写内容：存在的问题、依据和要求。")]
    today = timezone.localdate()
    if response_due_on is None and kind in RESPONSE_REQUIRED:
        errors["response_due_on"] = [_("约谈和改进工作建议须规定书面回复期限。")]
    elif response_due_on is not None and response_due_on <= today:
        errors["response_due_on"] = [_("书面回复期限须晚于今天。")]
    numbers = list(dict.fromkeys(n.strip() for n in petition_numbers if n and n.strip()))
    petitions: list[Petition] = []
    if len(numbers) > MAX_PETITIONS:
        errors["petitions"] = [_("最多列出%(n)d件信访事项。") % {"n": MAX_PETITIONS}]
    elif numbers:
        petitions = list(Petition.objects.restrict(user).filter(number__in=numbers).only("id", "number"))
        missing = sorted(set(numbers) - {p.number for p in petitions})
        if missing:
            errors["petitions"] = [
                _("以下编号不存在或不在本机关查看范围内：%(numbers)s") % {"numbers": "、".join(missing)}
            ]
    if errors:
        raise ValidationError(errors)
    assert unit_obj is not None
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Check the timeline events' foreign keys as they go in, not at commit after the audit
            # row: otherwise this would wait for a petition a user's action holds FOR UPDATE while
            # holding the audit chain's head that action waits for (see urging.run_urge_pass).
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        record = Accountability.objects.create(
            kind=kind,
            office=office,
            unit=unit_obj,
            title=title[:200],
            content=content,
            issued_by=user,
            response_due_on=response_due_on,
        )
        if petitions:
            record.petitions.set(petitions)
            now = timezone.now()
            label = record.get_kind_display()
            PetitionEvent.objects.bulk_create(
                [
                    PetitionEvent(
                        petition_id=p.pk,
                        at=now,
                        kind=EventKind.ACCOUNTABILITY,
                        actor=user,
                        organisation=office,
                        is_public=False,
                        comment=_("%(kind)s %(unit)s：%(title)s")
                        % {"kind": label, "unit": unit_obj.name, "title": record.title},
                        data={"accountability": record.pk, "kind": kind, "unit": unit_obj.pk},
                    )
                    for p in petitions
                ]
            )
        due = (
            _("请于%(date)s前书面回复。") % {"date": response_due_on.isoformat()}
            if response_due_on
            else _("无需书面回复。")
        )
        _notify(
            _leaders_of(unit_obj.pk),
            record=record,
            title=_("【%(kind)s】%(office)s：%(title)s")
            % {"kind": record.get_kind_display(), "office": office.name, "title": record.title},
            body=_("%(office)s向本单位发出%(kind)s。%(due)s")
            % {"office": office.name, "kind": record.get_kind_display(), "due": due},
            key="issued",
        )
        record_event(
            actor=user,
            action="supervision.accountability_recorded",
            obj=record,
            data={
                "kind": kind,
                "unit": unit_obj.pk,
                "petitions": [p.number for p in petitions],
                "response_due_on": response_due_on.isoformat() if response_due_on else None,
            },
        )
    return record


def _locked(user: Any, pk: int) -> Accountability:
    """The record under a row lock, if the user may read it (else DoesNotExist: a 404)."""
    try:
        return visible_to(user).select_for_update().get(pk=pk)
    except Accountability.DoesNotExist:
        raise Accountability.DoesNotExist(pk) from None


def respond_accountability(*, user: Any, accountability_id: int, response: str) -> Accountability:
    """The organisation's leader answers in writing; the issuing office is told."""
    response = (response or "").strip()
    with transaction.atomic():
        record = _locked(user, accountability_id)
        if record.status != AccountabilityStatus.OPEN:
            raise AccountabilityRefused(
                _("该记录的状态为“%(status)s”，不能再回复。") % {"status": record.get_status_display()}
            )
        if not can_respond(user, record):
            raise AccountabilityRefused(_("只有被约谈、通报或收到建议的单位的领导可以回复。"))
        if not response:
            raise ValidationError({"response": [_("请填写书面回复：整改措施和结果。")]})
        record.response = response
        record.responded_by = user
        record.responded_at = timezone.now()
        record.status = AccountabilityStatus.ANSWERED
        record.save(update_fields=["response", "responded_by", "responded_at", "status"])
        issuers = list(
            User.objects.filter(
                organisation_id=record.office_id, is_active=True, roles__code__in=ISSUER_ROLES
            ).values_list("pk", flat=True)
        )
        _notify(
            set(issuers),
            record=record,
            title=_("【已回复】%(unit)s：%(title)s") % {"unit": record.unit.name, "title": record.title},
            body=_("%(unit)s已书面回复，请审阅后办结。") % {"unit": record.unit.name},
            key="answered",
        )
        record_event(
            actor=user,
            action="supervision.accountability_answered",
            obj=record,
            data={"response_chars": len(response)},
        )
    return record


def close_accountability(*, user: Any, accountability_id: int, note: str = "") -> Accountability:
    """The issuing office closes the record (after the answer, or with a note saying why not)."""
    note = (note or "").strip()
    with transaction.atomic():
        record = _locked(user, accountability_id)
        if record.status == AccountabilityStatus.CLOSED:
            raise AccountabilityRefused(_("该记录已办结。"))
        if not can_close(user, record):
            raise AccountabilityRefused(_("只有发出机关的督办员或领导可以办结。"))
        if record.status == AccountabilityStatus.OPEN and record.response_due_on is not None and not note:
            raise ValidationError({"note": [_("对方尚未书面回复：请在办结意见中说明理由。")]})
        record.status = AccountabilityStatus.CLOSED
        record.closed_by = user
        record.closed_at = timezone.now()
        record.close_note = note
        record.save(update_fields=["status", "closed_by", "closed_at", "close_note"])
        record_event(
            actor=user,
            action="supervision.accountability_closed",
            obj=record,
            data={"note": note} if note else {},
        )
    return record
