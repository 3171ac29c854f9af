"""Business rules of the exchange between installations (上级交办与报告).

Receiving side: ``receive_referral`` (a peer's system account registers the petition with channel
``referral`` through ``workflow.services.register``), ``draft_report`` → ``approve_report`` (a
leader, where the office wants it) → ``issue_report`` (the report back is a document with its own
文号 and DOCX, ``report_document``; issuing it is the step that sends it), ``receive_decision`` (the
upper level accepts or returns the report).

Sending side: ``save_peer`` (system administrator), ``refer`` (a supervisor or intake clerk of the
office refers an open petition to a peer), ``receive_report`` (the peer reports back) and
``decide_report`` (we accept it or return it for more).

Every write is one transaction with its audit event; every call to a peer is a ``Delivery`` row
written in that transaction and handed to the worker after the commit (``core.jobs.enqueue``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core.jobs import enqueue
from xinfang.notifications.services import notify
from xinfang.organisations.choices import OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation, User
from xinfang.petitions.access import access_petition
from xinfang.petitions.choices import FINAL_STATUSES, Channel, EventKind
from xinfang.petitions.drafts import PetitionDraft, PetitionerDraft
from xinfang.petitions.models import Category, Petition, PetitionEvent
from xinfang.petitions.services import localities
from xinfang.workflow import services as workflow

from .models import (
    OPEN_REFERRAL_STATUSES,
    Delivery,
    DeliveryKind,
    OutboundReferral,
    OutboundStatus,
    Peer,
    Referral,
    ReferralReport,
    ReferralStatus,
    ReportDecision,
    ReportStatus,
)

REPORT_KIND = "referral_report"
REFERRING_ROLES = (RoleCode.SUPERVISOR, RoleCode.INTAKE)
# Timeline event kinds of this app (shown on the petition's internal timeline).
EVENT_REFERRED_OUT = EventKind.EXCHANGE_REFERRED
EVENT_REPORT_RECEIVED = EventKind.EXCHANGE_REPORTED
EVENT_REPORT_DECIDED = EventKind.EXCHANGE_DECIDED


class ExchangeRefused(ValidationError):
    """An exchange action not allowed now; ``code`` is stable for the API (409 unless mapped)."""


# --- reading (scoped) --------------------------------------------------------------------------


def received_for(user: Any) -> QuerySet[Referral]:
    """The referrals received whose petition the user may see (the petitions' scope)."""
    return Referral.objects.filter(petition__in=Petition.objects.restrict(user).values("pk"))


def sent_for(user: Any) -> QuerySet[OutboundReferral]:
    return OutboundReferral.objects.filter(petition__in=Petition.objects.restrict(user).values("pk"))


def peer_for_account(user: Any) -> Peer:
    """The enabled peer whose system account made this request; 403 for any other account."""
    peer = Peer.objects.filter(account=user, is_enabled=True).first() if user is not None else None
    if peer is None:
        raise PermissionDenied(_("该账号不是已启用的对接平台系统账号。"))
    return peer


# --- peers (system administrator) --------------------------------------------------------------


def _check_sysadmin(user: Any) -> None:
    if user is None or not user.has_role(RoleCode.SYSADMIN):
        raise PermissionDenied(_("只有系统管理员可以管理对接平台。"))


def save_peer(
    *,
    user: Any,
    peer: Peer | None = None,
    name: str,
    base_url: str,
    token: str = "",
    remote_office_code: str = "",
    account: User | None = None,
    is_enabled: bool = True,
) -> Peer:
    """Create or change a peer.  An empty ``token`` keeps the stored one (it is never shown again)."""
    _check_sysadmin(user)
    errors: dict[str, str] = {}
    name, base_url, token = (name or "").strip(), (base_url or "").strip().rstrip("/"), (token or "").strip()
    if not name:
        errors["name"] = _("请填写名称。")
    if base_url and (urlsplit(base_url).scheme not in {"http", "https"} or not urlsplit(base_url).netloc):
        errors["base_url"] = _("接口地址应以 https:// 开头。")
    if account is not None and not account.is_system_account:
        errors["account"] = _("请选择系统账号。")
    if errors:
        raise ValidationError(errors)
    target = peer or Peer()
    target.name, target.base_url, target.remote_office_code = (
        name,
        base_url,
        (remote_office_code or "").strip(),
    )
    target.account, target.is_enabled = account, is_enabled
    if token:
        target.token, target.token_hint = token, token[:6]
    try:
        with transaction.atomic():
            target.save()
            record_event(
                actor=user,
                action="exchange.peer" if peer else "exchange.peer_create",
                obj=target,
                data={
                    "name": name,
                    "base_url": base_url,
                    "token_changed": bool(token),
                    "account": account.pk if account else None,
                    "enabled": is_enabled,
                },
            )
    except IntegrityError:
        raise ValidationError({"name": _("已有同名对接平台，或该系统账号已被其他平台使用。")}) from None
    return target


# --- receiving side ------------------------------------------------------------------------------


@dataclass
class IncomingReferral:
    """What the upper level sends (``POST /api/v1/referrals``)."""

    case_number: str
    upper_organisation: str
    title: str
    content: str
    purpose: str
    category: str  # category code
    locality: str  # administrative area code; unknown: our own government's area
    due_on: dt.date | None
    report_required: bool
    petitioners: list[PetitionerDraft] = field(default_factory=list)
    headcount: int = 1
    received_on: dt.date | None = None
    reference: str = ""


def _locality_id(code: str, office: Organisation) -> int | None:
    found = list(localities().filter(code=code.strip()).values_list("pk", flat=True)[:2]) if code else []
    if len(found) == 1:
        return found[0]
    return office.parent_id if office.kind == OrganisationKind.PETITION_OFFICE else office.pk


def receive_referral(*, user: Any, incoming: IncomingReferral) -> tuple[Referral, bool]:
    """Register the referred petition at the account's office; (referral, created).  The same case
    number from the same peer returns the referral already made, so a retry never makes two."""
    peer = peer_for_account(user)
    case_number = (incoming.case_number or "").strip()
    if not case_number:
        raise ValidationError({"case_number": _("请填写上级编号。")})
    existing = (
        Referral.objects.filter(peer=peer, upper_case_number=case_number).select_related("petition").first()
    )
    if existing is not None:
        return existing, False
    office = user.organisation
    category_id = (
        Category.objects.filter(code=(incoming.category or "").strip()).values_list("pk", flat=True).first()
    )
    draft = PetitionDraft(
        channel=Channel.REFERRAL,
        purpose=incoming.purpose,
        title=incoming.title,
        content=incoming.content,
        category_id=category_id,
        locality_id=_locality_id(incoming.locality, office),
        received_on=timezone.localdate(),
        petitioners=incoming.petitioners,
        headcount=incoming.headcount,
        no_subject_organisation=True,
    )
    with transaction.atomic():
        petition = workflow.register(draft=draft, office=office, actor=user).petition
        referral = Referral.objects.create(
            petition=petition,
            peer=peer,
            upper_organisation=(incoming.upper_organisation or peer.name)[:100],
            upper_case_number=case_number[:60],
            upper_reference=(incoming.reference or "")[:100],
            upper_due_on=incoming.due_on,
            report_required=incoming.report_required,
        )
        notify(
            _office_staff(office),
            kind="exchange.received",
            title=_("上级交办：{title}").format(title=petition.title[:60]),
            body=_("{upper}交办（编号{case}），请按期办理并报告结果。").format(
                upper=referral.upper_organisation, case=case_number
            ),
            url=reverse("exchange:received_detail", args=[referral.pk]),
            petition=petition,
            dedupe_key=f"exchange.received:{referral.pk}",
        )
        record_event(
            actor=user,
            action="exchange.receive",
            obj=referral,
            data={"petition": petition.number, "case_number": case_number, "peer": peer.pk},
        )
    return referral, True


def _office_staff(office: Organisation) -> list[int]:
    return list(
        User.objects.filter(
            organisation=office,
            is_active=True,
            is_system_account=False,
            roles__code__in=[RoleCode.INTAKE, RoleCode.SUPERVISOR, RoleCode.LEADER],
        )
        .values_list("pk", flat=True)
        .distinct()
    )


def referral_in_scope(user: Any, pk: int) -> Referral:
    referral = received_for(user).select_related("petition", "peer").filter(pk=pk).first()
    if referral is None:
        raise Referral.DoesNotExist
    return referral


DRAFTING_ROLES = (RoleCode.INTAKE, RoleCode.HANDLER, RoleCode.SUPERVISOR, RoleCode.LEADER)


def _check_office_staff(user: Any, referral: Referral, *roles: str) -> None:
    """Staff of the receiving office (or a leader of its government) with one of ``roles``."""
    from xinfang.workflow.engine import acts_for, leader_line

    org = getattr(user, "organisation", None)
    office = referral.petition.office
    allowed = org is not None and (acts_for(org, office) or org.pk in {o.pk for o in leader_line(office)})
    if not allowed or not user.has_role(*roles):
        raise PermissionDenied(_("只有承办该交办事项的信访工作机构的工作人员可以办理报告。"))


def draft_report(*, user: Any, referral: Referral, process: str, result: str) -> ReferralReport:
    """起草: the report back (上级交办事项办理情况报告); a leader may approve it, and issuing it
    (``issue_report``) numbers it, renders its DOCX and sends it."""
    _check_office_staff(user, referral, *DRAFTING_ROLES)
    errors = {}
    if not (process or "").strip():
        errors["process"] = _("请填写办理过程。")
    if not (result or "").strip():
        errors["result"] = _("请填写办理结果。")
    if errors:
        raise ValidationError(errors)
    if not referral.report_required:
        raise ExchangeRefused(_("该交办事项无需报告结果。"), code="no_report_required")
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("petition__office")
            .get(pk=referral.pk)
        )
        if referral.status not in OPEN_REFERRAL_STATUSES:
            raise ExchangeRefused(_("该交办事项已报告，等待上级审核或已办结。"), code="already_reported")
        ReferralReport.objects.filter(referral=referral).exclude(status=ReportStatus.ISSUED).delete()
        report = ReferralReport.objects.create(
            referral=referral,
            process=process.strip(),
            result=result.strip(),
            text=f"{process.strip()}\n{result.strip()}",
            handled_on=timezone.localdate(),
            drafted_by=user,
        )
        referral.status = ReferralStatus.DRAFTED
        referral.save(update_fields=["status"])
        record_event(actor=user, action="exchange.draft_report", obj=referral, data={"report": report.pk})
    return report


def approve_report(*, user: Any, report: ReferralReport) -> ReferralReport:
    """审批: a leader of the office or of its government approves the draft."""
    _check_office_staff(user, report.referral, RoleCode.LEADER)
    if report.status != ReportStatus.DRAFT:
        raise ExchangeRefused(_("只有草稿可以审批。"), code="wrong_state")
    with transaction.atomic():
        report.status, report.approved_by = ReportStatus.APPROVED, user
        report.save(update_fields=["status", "approved_by"])
        record_event(
            actor=user, action="exchange.approve_report", obj=report.referral, data={"report": report.pk}
        )
    return report


def issue_report(*, user: Any, report: ReferralReport) -> ReferralReport:
    """印发并报送: number the report (文号), render and keep its DOCX, mark the referral reported and
    queue the delivery to the upper level, in one transaction; the worker sends it after the commit."""
    from xinfang.documents.numbering import format_reference, next_sequence

    from . import report_document

    _check_office_staff(user, report.referral, *DRAFTING_ROLES)
    with transaction.atomic():
        report = (
            ReferralReport.objects.select_for_update(of=("self",))
            .select_related("referral__peer")
            .get(pk=report.pk)
        )
        referral = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("petition__office", "peer")
            .get(pk=report.referral_id)
        )
        if report.status == ReportStatus.ISSUED or referral.status not in OPEN_REFERRAL_STATUSES:
            raise ExchangeRefused(_("该报告已印发。"), code="already_reported")
        report.referral = referral
        office = referral.petition.office
        today = timezone.localdate()
        sequence = next_sequence(office, report_document.CODE, today.year)
        report.document_number = format_reference(report_document.prefix(office), today.year, sequence)
        report.handled_on, report.status, report.issued_by, report.issued_at = (
            today,
            ReportStatus.ISSUED,
            user,
            timezone.now(),
        )
        report.docx = base64.b64encode(report_document.render(report)).decode()
        report.save()
        referral.status, referral.reported_on, referral.return_reason = ReferralStatus.REPORTED, today, ""
        referral.save(update_fields=["status", "reported_on", "return_reason"])
        if referral.peer is not None and referral.peer.is_enabled:
            path = f"/api/v1/referrals/{quote(referral.upper_case_number, safe='')}/report"
            _queue(referral.peer, DeliveryKind.REPORT, path, {}, key=f"report-{report.pk}", report=report)
        record_event(
            actor=user, action="exchange.report", obj=referral,
            data={"report": report.pk, "reference": report.document_number},
        )  # fmt: skip
    return report


def report_payload(report: ReferralReport) -> dict[str, Any]:
    """The report as sent (read at delivery time from the issued report)."""
    return {
        "text": report.text,
        "handled_on": report.handled_on.isoformat(),
        "document_number": report.document_number,
        "file_name": f"{report.document_number or 'report'}.docx" if report.docx else "",
        "file_base64": report.docx or "",
    }


def receive_decision(*, user: Any, case_number: str, accepted: bool, reason: str = "") -> Referral:
    """The upper level accepted the report, or returned it for more (退回重报) with a reason."""
    peer = peer_for_account(user)
    reason = (reason or "").strip()
    if not accepted and not reason:
        raise ValidationError({"reason": _("请填写退回理由。")})
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update(of=("self",))
            .filter(peer=peer, upper_case_number=case_number)
            .first()
        )
        if referral is None:
            raise Referral.DoesNotExist
        if referral.status != ReferralStatus.REPORTED:
            raise ExchangeRefused(_("该交办事项没有待审核的报告。"), code="no_pending_report")
        referral.status = ReferralStatus.ACCEPTED if accepted else ReferralStatus.RETURNED
        referral.return_reason = "" if accepted else reason
        referral.save(update_fields=["status", "return_reason"])
        ReferralReport.objects.filter(referral=referral, decision=ReportDecision.PENDING).update(
            decision=ReportDecision.ACCEPTED if accepted else ReportDecision.RETURNED,
            decision_reason=reason,
            decided_at=timezone.now(),
        )
        title = _("上级已认可办理情况报告") if accepted else _("上级退回重报：请补充后重新报告")
        notify(
            _office_staff(referral.petition.office),
            kind="exchange.decided",
            title=title,
            body=reason,
            url=reverse("exchange:received_detail", args=[referral.pk]),
            petition=referral.petition,
        )
        record_event(
            actor=user,
            action="exchange.decision",
            obj=referral,
            data={"accepted": accepted, "reason": reason},
        )
    return referral


# --- sending side --------------------------------------------------------------------------------


def _queue(peer: Peer, kind: str, path: str, payload: dict[str, Any], *, key: str, **links: Any) -> Delivery:
    delivery = Delivery.objects.create(
        peer=peer,
        kind=kind,
        path=path,
        payload=json.dumps(payload, ensure_ascii=False, default=str),
        idempotency_key=key,
        **links,
    )
    enqueue("xinfang.exchange.tasks.deliver", delivery.pk)
    return delivery


def _check_referrer(user: Any, petition: Petition) -> None:
    org = getattr(user, "organisation", None)
    if org is None or not user.has_role(*REFERRING_ROLES) or org.pk != petition.office_id:
        raise PermissionDenied(_("只有受理该事项的信访工作机构的督办员或登记员可以向下级平台交办。"))


def referral_payload(
    petition: Petition, *, due_on: dt.date, report_required: bool, instructions: str
) -> dict:
    """What crosses to the peer: only what registration there needs (docs/api.md, "what data crosses")."""
    people = sorted(petition.petitioners.all(), key=lambda p: p.position)
    content = petition.content + (f"\n\n交办要求：{instructions}" if instructions else "")
    return {
        "case_number": petition.number,
        "upper_organisation": petition.office.name,
        "title": petition.title,
        "content": content,
        "purpose": petition.purpose,
        "category": petition.category.code if petition.category_id else "",
        "locality": petition.locality.code if petition.locality_id else "",
        "headcount": petition.headcount,
        "due_on": due_on.isoformat(),
        "report_required": report_required,
        "petitioners": [
            {
                "name": p.name,
                "id_number": p.id_number or "",
                "phone": p.phone or "",
                "address": p.address or "",
                "is_representative": p.is_representative,
            }
            for p in people
        ],
    }


def refer(
    *,
    user: Any,
    number: str,
    peer: Peer,
    due_on: dt.date | None,
    report_required: bool = True,
    instructions: str = "",
) -> OutboundReferral:
    """向下级平台交办: queue the referral for the peer; the worker delivers it (and retries)."""
    petition = access_petition(user, number)
    _check_referrer(user, petition)
    errors: dict[str, str] = {}
    if not peer.is_enabled or not peer.base_url or not peer.token:
        errors["peer"] = _("请选择已启用且已配置接口地址和令牌的对接平台。")
    if due_on is None or due_on <= timezone.localdate():
        errors["due_on"] = _("报告期限应晚于今天。")
    if petition.status in FINAL_STATUSES:
        errors["__all__"] = _("该信访事项已办结，不能再交办。")
    if errors:
        raise ValidationError(errors)
    instructions = (instructions or "").strip()
    with transaction.atomic():
        if OutboundReferral.objects.filter(petition=petition, peer=peer).exists():
            raise ExchangeRefused(
                _("该事项已向{peer}交办过。").format(peer=peer.name), code="already_referred"
            )
        outbound = OutboundReferral.objects.create(
            petition=petition,
            peer=peer,
            sent_by=user,
            due_on=due_on,
            report_required=report_required,
            instructions=instructions,
        )
        payload = referral_payload(
            petition, due_on=due_on, report_required=report_required, instructions=instructions
        )
        _queue(
            peer,
            DeliveryKind.REFER,
            "/api/v1/referrals",
            payload,
            key=f"referral-{outbound.pk}",
            outbound=outbound,
        )
        PetitionEvent.objects.create(
            petition=petition,
            kind=EVENT_REFERRED_OUT,
            actor=user,
            organisation=user.organisation,
            comment=_("向{peer}交办，报告期限{due}").format(peer=peer.name, due=due_on),
            data={"peer": peer.pk, "outbound": outbound.pk},
        )
        record_event(
            actor=user,
            action="exchange.refer",
            obj=outbound,
            data={"petition": petition.number, "peer": peer.pk, "due_on": due_on},
        )
    return outbound


@dataclass
class IncomingReport:
    text: str
    document_number: str = ""
    handled_on: dt.date | None = None
    file_name: str = ""
    file_base64: str = ""


def receive_report(*, user: Any, case_number: str, report: IncomingReport) -> OutboundReferral:
    """The peer reports its handling back: recorded on our petition (timeline event, petition page)."""
    peer = peer_for_account(user)
    text = (report.text or "").strip()
    if not text:
        raise ValidationError({"text": _("请填写报告内容。")})
    if report.file_base64:
        try:
            base64.b64decode(report.file_base64, validate=True)
        except ValueError:
            raise ValidationError({"file_base64": _("报告文件不是有效的base64编码。")}) from None
    with transaction.atomic():
        outbound = (
            OutboundReferral.objects.select_for_update(of=("self",))
            .filter(peer=peer, petition__number=case_number)
            .select_related("petition")
            .first()
        )
        if outbound is None:
            raise OutboundReferral.DoesNotExist
        if outbound.status in {OutboundStatus.REPORTED, OutboundStatus.ACCEPTED}:
            raise ExchangeRefused(_("该交办事项已报告。"), code="already_reported")
        outbound.status = OutboundStatus.REPORTED
        outbound.report_text, outbound.report_number = text, (report.document_number or "")[:60]
        outbound.report_handled_on = report.handled_on or timezone.localdate()
        outbound.report_received_at = timezone.now()
        outbound.report_file, outbound.report_filename = (
            report.file_base64 or "",
            (report.file_name or "")[:200],
        )
        outbound.save()
        PetitionEvent.objects.create(
            petition=outbound.petition,
            kind=EVENT_REPORT_RECEIVED,
            actor=user,
            comment=_("{peer}报告办理结果（{number}）：{text}").format(
                peer=peer.name, number=outbound.report_number or _("无文号"), text=text[:500]
            ),
            data={"outbound": outbound.pk, "document_number": outbound.report_number},
        )
        notify(
            [outbound.sent_by_id],
            kind="exchange.reported",
            title=_("{peer}已报告交办事项办理结果").format(peer=peer.name),
            body=_("请审核报告：认可，或退回重报。"),
            url=reverse("exchange:sent_detail", args=[outbound.pk]),
            petition=outbound.petition,
        )
        record_event(
            actor=user,
            action="exchange.report_received",
            obj=outbound,
            data={"petition": outbound.petition.number, "document_number": outbound.report_number},
        )
    return outbound


def decide_report(
    *, user: Any, outbound: OutboundReferral, accepted: bool, reason: str = ""
) -> OutboundReferral:
    """认可 or 退回重报 the peer's report; the decision is delivered to the peer by the worker."""
    petition = access_petition(user, outbound.petition.number)
    _check_referrer(user, petition)
    reason = (reason or "").strip()
    if not accepted and not reason:
        raise ValidationError({"reason": _("请填写退回理由：需要补充哪些情况。")})
    with transaction.atomic():
        locked = OutboundReferral.objects.select_for_update(of=("self",)).get(pk=outbound.pk)
        if locked.status != OutboundStatus.REPORTED:
            raise ExchangeRefused(_("没有待审核的报告。"), code="no_pending_report")
        locked.status = OutboundStatus.ACCEPTED if accepted else OutboundStatus.RETURNED
        locked.return_reason = "" if accepted else reason
        locked.save(update_fields=["status", "return_reason"])
        verb = "accept" if accepted else "return"
        case = quote(petition.number, safe="")
        _queue(
            locked.peer,
            DeliveryKind.ACCEPT if accepted else DeliveryKind.RETURN,
            f"/api/v1/referrals/{case}/report/{verb}",
            {} if accepted else {"reason": reason},
            key=f"decision-{locked.pk}-{timezone.now().timestamp()}",
            outbound=locked,
        )
        PetitionEvent.objects.create(
            petition=petition,
            kind=EVENT_REPORT_DECIDED,
            actor=user,
            organisation=user.organisation,
            comment=_("认可{peer}的报告").format(peer=locked.peer.name)
            if accepted
            else _("退回{peer}重报：{reason}").format(peer=locked.peer.name, reason=reason),
        )
        record_event(actor=user, action=f"exchange.{verb}", obj=locked, data={"reason": reason})
    return locked


def open_peers() -> QuerySet[Peer]:
    return Peer.objects.filter(is_enabled=True).exclude(base_url="")
