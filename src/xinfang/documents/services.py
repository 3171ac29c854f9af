"""The life of a document: draft → (approve) → issue → serve (issue #10 points 1, 7 and 8).

Every function validates completely, then writes in one transaction with its audit event.  Views,
the portal and the API call these; nobody writes a ``Document`` otherwise.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core.files import encrypted_content
from xinfang.core.jobs import enqueue
from xinfang.organisations.choices import RoleCode
from xinfang.petitions.access import access_petition
from xinfang.petitions.models import Petition
from xinfang.workflow.engine import Citizen, acts_for, leader_line

from . import kinds as kinds_module
from .choices import Addressee, DocumentKind, DocumentStatus, ServiceMethod
from .models import Document, DocumentTemplate, KindSetting
from .numbering import format_reference, next_sequence, prefix_for

DRAFTING_ROLES = (RoleCode.INTAKE, RoleCode.HANDLER, RoleCode.SUPERVISOR, RoleCode.LEADER)


class DocumentRefused(ValidationError):
    """A document action that is not allowed now; carries a stable ``code`` for the API."""


# --- reading ------------------------------------------------------------------------------------


def documents_of(petition: Petition) -> list[Document]:
    return list(
        Document.objects.filter(petition=petition)
        .select_related("organisation", "template", "drafted_by", "approved_by", "issued_by")
        .order_by("drafted_at", "pk")
    )


def requires_approval(document: Document) -> bool:
    return approval_rules([document])[(document.organisation_id, document.kind)]


def approval_rules(documents: list[Document]) -> dict[tuple[int, str], bool]:
    """Whether a leader approves before issue, per (organisation, kind) of ``documents``, in one
    query: the organisation's ``KindSetting``, else the kind's default."""
    keys = {(d.organisation_id, d.kind) for d in documents}
    rules = {key: kinds_module.kind(key[1]).requires_approval for key in keys}
    settings_ = KindSetting.objects.filter(organisation_id__in={org for org, _kind in keys})
    for org, kind, required in settings_.values_list("organisation_id", "kind", "requires_approval"):
        if (org, kind) in rules:
            rules[org, kind] = required
    return rules


def current_template(kind: str) -> DocumentTemplate | None:
    """The newest uploaded version of ``kind``'s template; None means the built-in default."""
    return DocumentTemplate.objects.filter(kind=kind).order_by("-version").first()


# --- checks -------------------------------------------------------------------------------------


def _check_staff(user: Any, document_or_issuer: Any, *roles: str) -> None:
    """Only staff of the issuing organisation (or the office acting for its government) with one of
    ``roles`` act on its documents."""
    issuer = getattr(document_or_issuer, "organisation", document_or_issuer)
    org = getattr(user, "organisation", None)
    if org is None or not user.has_role(*roles) or not acts_for(org, issuer):
        raise PermissionDenied(_("只有发文机关的工作人员可以办理该文书。"))


def _clean_body(kind: kinds_module.Kind, body: dict[str, Any]) -> dict[str, Any]:
    """The editable fields, stripped; a required field left empty is refused with its label."""
    cleaned = dict(body)
    errors: dict[str, str] = {}
    for spec in kind.fields:
        value = str(body.get(spec.name, "") or "").strip()
        if spec.choices and value and value not in {code for code, _label in spec.choices}:
            errors[spec.name] = _("请从列表中选择{label}。").format(label=spec.label)
        elif spec.required and not value:
            errors[spec.name] = _("请填写{label}。").format(label=spec.label)
        cleaned[spec.name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_approver(user: Any, document: Document) -> None:
    """A leader of the issuing organisation or of a body above it up to its government."""
    org = getattr(user, "organisation", None)
    line = {o.pk for o in leader_line(document.organisation)}
    leads = org is not None and (org.pk in line or acts_for(org, document.organisation))
    if not leads or not user.has_role(RoleCode.LEADER):
        raise PermissionDenied(_("只有发文机关或其上级的领导可以审批该文书。"))


# --- draft, approve, issue ----------------------------------------------------------------------


def draft(
    *,
    user: Any,
    number: str,
    kind: str,
    body: dict[str, Any] | None = None,
    supersedes: Document | None = None,
) -> Document:
    """起草: a new document of ``kind`` for the petition, its body drawn from the record and the
    drafter's edits.  A correction names the issued document it ``supersedes``."""
    if kind not in kinds_module.KINDS:
        raise DocumentRefused(_("请选择文书种类。"), code="unknown_kind")
    spec = kinds_module.kind(kind)
    petition = access_petition(user, number, "change")
    if not spec.available(petition):
        raise DocumentRefused(
            _("该信访事项尚未到需要{kind}的环节。").format(kind=spec.label), code="not_available"
        )
    issuer = spec.issuer(petition)
    _check_staff(user, issuer, *DRAFTING_ROLES)
    if supersedes is not None and (supersedes.petition_id != petition.pk or not supersedes.is_issued
                                   or supersedes.kind != kind):  # fmt: skip
        raise DocumentRefused(_("只能更正本事项已印发的同类文书。"), code="bad_supersedes")
    with translation.override(settings.LANGUAGE_CODE):  # the document's text is Chinese, whoever drafts
        initial = spec.build(petition)
    cleaned = _clean_body(spec, {**initial, **(body or {})})
    unit = spec.addressee_unit(petition)
    document = Document(
        petition=petition, kind=kind, organisation=issuer, addressee_kind=spec.addressee,
        addressee=unit.name if unit is not None else kinds_module.for_petitioner(petition),
        addressee_unit=unit, drafted_by=user, supersedes=supersedes,
    )  # fmt: skip
    document.body = cleaned
    with transaction.atomic():
        document.save()
        record_event(actor=user, action="document.draft", obj=document,
                     data={"petition": petition.number, "kind": kind})  # fmt: skip
    return document


def update_draft(*, user: Any, document: Document, body: dict[str, Any]) -> Document:
    """修改草稿: only before issue; an approved draft that is changed needs approving again."""
    _check_staff(user, document, *DRAFTING_ROLES)
    if document.is_issued:
        raise DocumentRefused(_("文书已印发，不能修改；如需更正，请起草更正文书。"), code="issued")
    spec = kinds_module.kind(document.kind)
    document.body = _clean_body(spec, {**document.body, **body})
    with transaction.atomic():
        document.status, document.approved_by, document.approved_at = DocumentStatus.DRAFT, None, None
        document.save()
        record_event(actor=user, action="document.update", obj=document, data={"kind": document.kind})
    return document


def approve(*, user: Any, document: Document, note: str = "") -> Document:
    """审批: a leader of the issuing organisation or of a body above it up to its government
    (``engine.leader_line``, the same leaders who approve an extension)."""
    _check_approver(user, document)
    if document.status != DocumentStatus.DRAFT:
        raise DocumentRefused(_("只有草稿可以审批。"), code="wrong_state")
    with transaction.atomic():
        document.status, document.approved_by, document.approved_at = (
            DocumentStatus.APPROVED,
            user,
            timezone.now(),
        )
        document.approval_note = (note or "").strip()
        document.save(update_fields=["status", "approved_by", "approved_at", "approval_note"])
        record_event(actor=user, action="document.approve", obj=document, data={"kind": document.kind})
    return document


def return_draft(*, user: Any, document: Document, note: str) -> Document:
    """退回修改: the leader sends the draft back with what to change; the drafter's bell rings.
    The draft stays a draft (an approved one loses its approval) and is approved again after the
    changes."""
    from django.urls import reverse

    from xinfang.notifications.services import notify

    _check_approver(user, document)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("退回修改的，请在审批意见中写明需要修改的内容。")})
    if document.is_issued:
        raise DocumentRefused(_("文书已印发，不能退回修改。"), code="issued")
    with transaction.atomic():
        document.status, document.approved_by, document.approved_at = DocumentStatus.DRAFT, None, None
        document.approval_note = note
        document.save(update_fields=["status", "approved_by", "approved_at", "approval_note"])
        notify(
            [document.drafted_by_id], kind="document.returned",
            title=_("{kind}草稿被退回修改").format(kind=document.get_kind_display()), body=note,
            url=reverse("documents:detail", args=[document.pk]), petition=document.petition,
        )  # fmt: skip
        record_event(actor=user, action="document.return", obj=document, data={"kind": document.kind})
    return document


def issue(*, user: Any, document: Document) -> Document:
    """印发: number the document, perform the procedure step it completes (the reply, the review or
    recheck opinion), render and keep its DOCX, all in one transaction; the PDF follows on the
    worker.  A kind that needs approval is refused until a leader has approved it."""
    _check_staff(user, document, *DRAFTING_ROLES)
    if document.is_issued:
        raise DocumentRefused(_("该文书已印发。"), code="issued")
    if requires_approval(document) and document.status != DocumentStatus.APPROVED:
        raise DocumentRefused(_("该文书须经领导审批后才能印发。"), code="approval_required")
    from .rendering import render_docx

    spec = kinds_module.kind(document.kind)
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        if document.is_issued:  # a double click that raced the first
            raise DocumentRefused(_("该文书已印发。"), code="issued")
        if spec.on_issue is not None:
            with translation.override(settings.LANGUAGE_CODE):  # the letter's own texts, as above
                spec.on_issue(document, user)
        today = timezone.localdate()
        document.year, document.issued_on = today.year, today
        document.sequence = next_sequence(document.organisation, document.kind, today.year)
        document.reference = format_reference(
            prefix_for(document.organisation, document.kind), today.year, document.sequence
        )
        document.template = current_template(document.kind)
        document.status, document.issued_by, document.issued_at = DocumentStatus.ISSUED, user, timezone.now()
        docx = render_docx(document)
        document.docx_file.save(f"{document.kind}.docx", encrypted_content(ContentFile(docx)), save=False)
        document.save()
        record_event(actor=user, action="document.issue", obj=document,
                     data={"kind": document.kind, "reference": document.reference})  # fmt: skip
        enqueue("xinfang.documents.tasks.render_pdf", document.pk)
    return document


# --- service ------------------------------------------------------------------------------------


def _service_detail(method: str, detail: dict[str, Any]) -> dict[str, Any]:
    """What each way of service must record (domain.md §5, "送达 record")."""
    detail = {k: str(v).strip() for k, v in (detail or {}).items() if str(v or "").strip()}
    needed = {
        ServiceMethod.IN_PERSON: {"recipient": _("签收人")},
        ServiceMethod.POST: {"tracking_number": _("邮件单号")},
        ServiceMethod.ANNOUNCEMENT: {"announcement": _("公告方式及载体")},
        ServiceMethod.ELECTRONIC: {},
    }[ServiceMethod(method)]
    errors = {
        name: _("请填写{label}。").format(label=label) for name, label in needed.items() if name not in detail
    }
    if errors:
        raise ValidationError(errors)
    return detail


def record_service(
    *, user: Any, document: Document, method: str, served_on: dt.date, detail: dict[str, Any] | None = None
) -> Document:
    """送达: how and when the document reached the addressee.  Recorded once: the windows of the
    review, the recheck and the evaluation start from this day (``kinds.Kind.on_service``)."""
    if method not in ServiceMethod.values:
        raise ValidationError({"method": _("请选择送达方式。")})
    if not isinstance(user, Citizen):
        _check_staff(user, document, *DRAFTING_ROLES)
    if not document.is_issued:
        raise DocumentRefused(_("文书尚未印发，不能登记送达。"), code="not_issued")
    today = timezone.localdate()
    if served_on > today:
        raise ValidationError({"served_on": _("送达日期不能晚于今天。")})
    if served_on < document.issued_on:
        raise ValidationError(
            {"served_on": _("送达日期不能早于成文日期{date}。").format(date=document.issued_on)}
        )
    cleaned = _service_detail(method, detail or {})
    spec = kinds_module.kind(document.kind)
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        if document.is_served:
            raise DocumentRefused(
                _("该文书已于{date}送达。").format(date=document.served_on), code="already_served"
            )
        document.served_on, document.service_method, document.service_detail = served_on, method, cleaned
        document.service_recorded_by = None if isinstance(user, Citizen) else user
        document.service_recorded_at = timezone.now()
        document.save()
        if spec.on_service is not None:
            spec.on_service(document)
        record_event(actor=user, action="document.service", obj=document,
                     data={"kind": document.kind, "method": method, "served_on": served_on})  # fmt: skip
    return document


def confirm_receipt(*, petition: Petition, document: Document) -> Document:
    """The petitioner confirms on the portal that the downloaded document reached them: electronic
    service on that day (issue #10 point 9)."""
    if document.petition_id != petition.pk or document.addressee_kind != Addressee.PETITIONER:
        raise DocumentRefused(_("未找到该文书。"), code="not_found")
    return record_service(
        user=Citizen(petition_id=petition.pk), document=document, method=ServiceMethod.ELECTRONIC,
        served_on=timezone.localdate(), detail={"channel": "portal"},
    )  # fmt: skip


__all__ = [
    "DocumentKind", "DocumentRefused", "approve", "confirm_receipt", "current_template", "documents_of",
    "approval_rules", "draft", "issue", "record_service", "requires_approval", "return_draft", "update_draft",
]  # fmt: skip
