"""信访信息报送: the life of an information report, and who may do what with it.

Who (one rule each, used by the staff pages, the API and the workbench alike):

* **draft, edit, submit, send** — an intake clerk or supervisor *of a petition office* (the clerks of
  the sending office; any of them, so a colleague can take over a returned draft);
* **sign off (签发) or return** — a leader of the sending office or of the government it belongs
  to (the approver; if the clerk named one, only that leader);
* **read, use (采用), instruct (批示), note (阅知)** — the receiving office's staff and the leaders of
  its government; 批示 is a leader's;
* **see** — the sending side (the office's casework staff, its government's leaders) always; the
  receiving side once the report is sent; nobody else (the same 404 for missing and forbidden).

The flow: draft → submitted (待签发) → signed (已签发) → sent (已报送), with "returned" (退回修改)
from submitted back to the clerk.  The issue number (期号) is taken when the report is sent, gap-free
per office and year.  An urgent report (紧急信息, 《信访工作条例》第二十五条: 重大、紧急信访事项和信访
信息 reported at once) rings the approver's bell and phone as soon as it is submitted, is sent in
the same transaction as its sign-off, and rings the receiving office's supervisors and leaders by
SMS too.

Each write is one transaction with its audit event; notifications are written in it (the outbox
rule: SMS leave after the commit).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinfang.audit.services import record_event
from xinfang.organisations.choices import CASEWORK_ROLES, OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation, User
from xinfang.petitions.models import Petition
from xinfang.petitions.validators import ascii_digits, mask_id_number
from xinfang.screening.models import Dispute

from .models import InformationReport, IssueSequence, ReportKind, ReportStatus, ReportUse

CLERK_ROLES = (RoleCode.INTAKE, RoleCode.SUPERVISOR)
MAX_LINKS = 50
MAX_BODY = 20_000  # a page or two of 仿宋 三号 is about 1,500 characters; room for a long 动态
EDITABLE = (ReportStatus.DRAFT, ReportStatus.RETURNED)
# What the figures snapshot counts (stats.metrics names), in the order a report lists them.
FIGURE_METRICS = ("received", "persons", "first_time", "repeat", "collective", "skip_level", "closed")

AUDIT_ACTIONS = {
    "information.drafted": gettext_lazy("拟写信访信息"),
    "information.edited": gettext_lazy("修改信访信息"),
    "information.submitted": gettext_lazy("信访信息送签"),
    "information.signed": gettext_lazy("签发信访信息"),
    "information.returned": gettext_lazy("退回信访信息"),
    "information.sent": gettext_lazy("报送信访信息"),
    "information.read": gettext_lazy("阅读下级报送的信访信息"),
    "information.feedback": gettext_lazy("反馈信访信息采用情况"),
    "information.exported": gettext_lazy("导出信访信息台账"),
}


class ReportRefused(PermissionError):
    """The user may not do this now (the API answers 403, the pages show the message)."""


class ReportStateError(ReportRefused):
    """The report is not in a state that allows this (the API answers 409)."""


# --- personal data in the text ---------------------------------------------------------------------

# An 18-character resident ID number (17 digits and a digit or X) with a plausible birth date, or
# the 15-digit form of the first-generation cards; not part of a longer run of digits or letters.
_ID18 = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])",
    re.ASCII,
)
_ID15 = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![0-9A-Za-z])", re.ASCII
)


def id_numbers_in(text: str) -> list[str]:
    """The resident ID numbers written in ``text`` (fullwidth digits count as digits)."""
    plain = ascii_digits(text or "")
    return [m.group(0) for m in _ID18.finditer(plain)] + [m.group(0) for m in _ID15.finditer(plain)]


def _check_no_id_numbers(errors: dict[str, list[str]], **texts: str) -> None:
    # A report travels up the chain and is circulated (汇编、转发) beyond the offices that may see
    # the petitioner's file: it names a person at most by surname, never by ID number.
    for field, text in texts.items():
        found = id_numbers_in(text)
        if found:
            errors.setdefault(field, []).append(
                _(
                    "内容中含有身份证号码（%(masked)s）。信访信息要逐级报送并可能被转发、汇编，"
                    "不得载有信访人的身份证号码等个人信息，请删除后再保存。"
                )
                % {"masked": "、".join(mask_id_number(n) for n in found[:3])}
            )


# --- the tree -------------------------------------------------------------------------------------


def _active(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.organisation_id)


def drafting_office(user: Any) -> Organisation | None:
    """The petition office ``user`` drafts for (an intake clerk or supervisor of it), or None."""
    if not _active(user) or not user.has_role(*CLERK_ROLES):
        return None
    org = user.organisation
    return org if org.kind == OrganisationKind.PETITION_OFFICE else None


def can_draft(user: Any) -> bool:
    return drafting_office(user) is not None


def _government_of(org: Organisation) -> Organisation | None:
    """The nearest level of government at or above ``org`` (the office's own government)."""
    if org.kind == OrganisationKind.GOVERNMENT:
        return org
    for ancestor in reversed(list(org.ancestors())):
        if ancestor.kind == OrganisationKind.GOVERNMENT:
            return ancestor
    return None


def receiver_choices(office: Organisation) -> QuerySet[Organisation]:
    """The petition offices a report of ``office`` may go to: those of the governments above its
    own, nearest first (the level above by default; a level may be skipped, e.g. an urgent matter
    reported to the province as well as to the city is a second report)."""
    government = _government_of(office)
    if government is None:
        return Organisation.objects.none()
    above = [int(p) for p in government.path.strip("/").split("/") if p][:-1]
    return Organisation.objects.filter(
        parent_id__in=above, kind=OrganisationKind.PETITION_OFFICE, is_active=True
    ).order_by("-depth", "pk")


def default_receiver(office: Organisation) -> Organisation | None:
    """The petition office of the level above (for a county 信访局: the city's), or None at the top."""
    return receiver_choices(office).first()


def _side_orgs(office_id: int, parent_id: int | None) -> tuple[int, ...]:
    return (office_id, parent_id) if parent_id else (office_id,)


def _on_side(user: Any, office: Organisation) -> bool:
    """Staff of ``office`` (any casework role), or a leader of the government it belongs to."""
    if not _active(user) or not user.role_codes & CASEWORK_ROLES:
        return False
    if user.organisation_id == office.pk:
        return True
    return user.organisation_id == office.parent_id and user.has_role(RoleCode.LEADER)


def is_sender(user: Any, report: InformationReport) -> bool:
    return _on_side(user, report.office)


def is_receiver(user: Any, report: InformationReport) -> bool:
    return report.status == ReportStatus.SENT and _on_side(user, report.receiver)


def visible_to(user: Any) -> QuerySet[InformationReport]:
    """The reports ``user`` may read (see the module docstring)."""
    if not _active(user) or not user.role_codes & CASEWORK_ROLES:
        return InformationReport.objects.none()
    org_id = user.organisation_id
    scope = Q(office_id=org_id) | Q(receiver_id=org_id, status=ReportStatus.SENT)
    if user.has_role(RoleCode.LEADER):
        scope |= Q(office__parent_id=org_id) | Q(receiver__parent_id=org_id, status=ReportStatus.SENT)
    return InformationReport.objects.filter(scope)


def mine(user: Any) -> QuerySet[InformationReport]:
    """The reports of the user's own office (drafts included): the sending side's ledger."""
    if not _active(user) or not user.role_codes & CASEWORK_ROLES:
        return InformationReport.objects.none()
    scope = Q(office_id=user.organisation_id)
    if user.has_role(RoleCode.LEADER):
        scope |= Q(office__parent_id=user.organisation_id)
    return InformationReport.objects.filter(scope)


def inbox(user: Any) -> QuerySet[InformationReport]:
    """The reports sent from below to the user's office (or, for a leader, to its government's)."""
    if not _active(user) or not user.role_codes & CASEWORK_ROLES:
        return InformationReport.objects.none()
    scope = Q(receiver_id=user.organisation_id)
    if user.has_role(RoleCode.LEADER):
        scope |= Q(receiver__parent_id=user.organisation_id)
    return InformationReport.objects.filter(scope, status=ReportStatus.SENT)


def awaiting_signature(user: Any) -> QuerySet[InformationReport]:
    """Submitted reports ``user`` may sign off: a leader of the office or of its government, and
    either named by the clerk or none named."""
    if not _active(user) or not user.has_role(RoleCode.LEADER):
        return InformationReport.objects.none()
    org_id = user.organisation_id
    return InformationReport.objects.filter(
        Q(office_id=org_id) | Q(office__parent_id=org_id),
        Q(approver__isnull=True) | Q(approver_id=user.pk),
        status=ReportStatus.SUBMITTED,
    )


def get_visible(user: Any, pk: int) -> InformationReport:
    """One report the user may read; a missing and a forbidden one look the same (DoesNotExist)."""
    try:
        return visible_to(user).select_related(*RELATED).get(pk=pk)
    except (InformationReport.DoesNotExist, ValueError, TypeError):
        raise InformationReport.DoesNotExist(pk) from None


RELATED = ("office", "receiver", "drafted_by", "approver", "signed_by", "sent_by", "returned_by",
           "read_by", "feedback_by")  # fmt: skip


def _locked(user: Any, pk: int) -> InformationReport:
    """The report under a row lock, if the user may read it (else DoesNotExist: a 404)."""
    try:
        qs = visible_to(user).select_for_update(of=("self",))
        return qs.select_related("office", "receiver").get(pk=pk)
    except (InformationReport.DoesNotExist, ValueError, TypeError):
        raise InformationReport.DoesNotExist(pk) from None


def can_edit(user: Any, report: InformationReport) -> bool:
    return (
        report.status in EDITABLE
        and drafting_office(user) is not None
        and user.organisation_id == report.office_id
    )


def can_submit(user: Any, report: InformationReport) -> bool:
    return can_edit(user, report)


def can_sign(user: Any, report: InformationReport) -> bool:
    return (
        report.status == ReportStatus.SUBMITTED
        and _active(user)
        and user.has_role(RoleCode.LEADER)
        and user.organisation_id in _side_orgs(report.office_id, report.office.parent_id)
        and report.approver_id in (None, user.pk)
    )


def can_send(user: Any, report: InformationReport) -> bool:
    return (
        report.status == ReportStatus.SIGNED
        and drafting_office(user) is not None
        and user.organisation_id == report.office_id
    )


def can_feedback(user: Any, report: InformationReport) -> bool:
    return is_receiver(user, report)


def approver_choices(office: Organisation) -> QuerySet[User]:
    """The leaders who may sign off the office's reports: of the office and of its government."""
    return (
        User.objects.filter(
            organisation_id__in=_side_orgs(office.pk, office.parent_id),
            is_active=True,
            roles__code=RoleCode.LEADER,
        )
        .distinct()
        .order_by("organisation__depth", "pk")
    )


# --- figures --------------------------------------------------------------------------------------


def snapshot_figures(office: Organisation, start: dt.date, end: dt.date) -> dict[str, Any]:
    """The office's area's intake figures for the period, as JSON to keep in the report (frozen:
    a later recount of the statistics never changes what was reported)."""
    from xinfang.petitions.access import scope_root
    from xinfang.stats.figures import Period, Slice, counts
    from xinfang.stats.metrics import METRICS

    area = scope_root(office)
    totals = counts(FIGURE_METRICS, Period(start, end), Slice(scope=area.path)).get(None, {})
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "area": area.name,
        "rows": [
            {
                "metric": name,
                "label": str(METRICS[name].label),
                "unit": str(METRICS[name].unit or ""),
                "value": int(totals.get(name, 0)),
            }
            for name in FIGURE_METRICS
        ],
    }


# --- validation of what was typed ------------------------------------------------------------------


def _clean(
    user: Any,
    office: Organisation,
    *,
    kind: str,
    title: str,
    body: str,
    receiver: Organisation | int | None,
    petition_numbers: Iterable[str],
    dispute_numbers: Iterable[str],
    period_start: dt.date | None,
    period_end: dt.date | None,
) -> dict[str, Any]:
    """Check everything typed; raise one ValidationError with every field's message."""
    errors: dict[str, list[str]] = {}
    if kind not in ReportKind.values:
        errors["kind"] = [_("请选择信息类别：信访摘报、信访工作动态、重要信访事项报告或紧急信息。")]
    title = (title or "").strip()
    body = (body or "").strip()
    if not title:
        errors["title"] = [_("请填写标题。")]
    elif len(title) > 200:
        errors["title"] = [_("标题不超过200字。")]
    if not body:
        errors["body"] = [_("请填写正文：事由、基本情况、处置情况和下一步工作。")]
    elif len(body) > MAX_BODY:
        errors["body"] = [_("正文不超过%(n)d字。") % {"n": MAX_BODY}]
    _check_no_id_numbers(errors, title=title, body=body)
    choices = receiver_choices(office)
    receiver_id = receiver.pk if isinstance(receiver, Organisation) else receiver
    receiver_obj = choices.filter(pk=receiver_id).first() if receiver_id else choices.first()
    if receiver_obj is None:
        errors["receiver"] = [
            _("请选择上级信访工作机构。") if receiver_id else _("本机关没有上一级信访工作机构，无法报送。")
        ]
    numbers = list(dict.fromkeys(n.strip() for n in petition_numbers if n and n.strip()))
    petitions: list[Petition] = []
    if len(numbers) > MAX_LINKS:
        errors["petitions"] = [_("最多关联%(n)d件信访事项。") % {"n": MAX_LINKS}]
    elif numbers:
        petitions = list(Petition.objects.restrict(user).filter(number__in=numbers).only("id", "number"))
        missing = sorted(set(numbers) - {p.number for p in petitions})
        if missing:
            errors["petitions"] = [
                _("以下编号不存在或不在本机关查看范围内：%(numbers)s") % {"numbers": "、".join(missing)}
            ]
    codes = list(dict.fromkeys(n.strip() for n in dispute_numbers if n and n.strip()))
    disputes: list[Dispute] = []
    if len(codes) > MAX_LINKS:
        errors["disputes"] = [_("最多关联%(n)d件矛盾纠纷。") % {"n": MAX_LINKS}]
    elif codes:
        from xinfang.petitions.access import scope_root

        # The disputes of the office's area (the same subtree its staff see petitions of).
        disputes = list(
            Dispute.objects.filter(
                number__in=codes, organisation_path__startswith=scope_root(office).path
            ).only("id", "number")
        )
        missing = sorted(set(codes) - {d.number for d in disputes})
        if missing:
            errors["disputes"] = [
                _("以下矛盾纠纷编号不存在或不在本机关范围内：%(numbers)s") % {"numbers": "、".join(missing)}
            ]
    if (period_start is None) != (period_end is None):
        errors["period_end" if period_end is None else "period_start"] = [_("附带数据须同时填写起止日期。")]
    elif period_start and period_end:
        if period_end < period_start:
            errors["period_end"] = [_("截止日期不能早于起始日期。")]
        elif period_end > timezone.localdate():
            errors["period_end"] = [_("截止日期不能晚于今天。")]
    if errors:
        raise ValidationError(errors)
    return {
        "kind": kind, "title": title, "body": body, "receiver": receiver_obj,
        "petitions": petitions, "disputes": disputes,
    }  # fmt: skip


def _notify(
    users: Iterable[Any], *, report: InformationReport, title: str, body: str, key: str, sms: bool = False
) -> int:
    from xinfang.notifications.services import notify

    return notify(
        users,
        kind="information",
        title=title,
        body=body,
        url=reverse("information:detail", args=[report.pk]),
        dedupe_key=f"information:{report.pk}:{key}",
        sms=sms,
    )


def _kind_tag(report: InformationReport) -> str:
    return _("【紧急】") if report.is_urgent else f"【{report.get_kind_display()}】"


# --- services -------------------------------------------------------------------------------------


def create_draft(
    *,
    user: Any,
    kind: str,
    title: str,
    body: str,
    receiver: Organisation | int | None = None,
    petition_numbers: Iterable[str] = (),
    dispute_numbers: Iterable[str] = (),
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    copy_to: str = "",
) -> InformationReport:
    """A clerk of a petition office writes a draft (nobody else is told yet)."""
    office = drafting_office(user)
    if office is None:
        raise ReportRefused(_("只有信访工作机构的登记员或督办员可以拟写信访信息。"))
    data = _clean(
        user, office, kind=kind, title=title, body=body, receiver=receiver,
        petition_numbers=petition_numbers, dispute_numbers=dispute_numbers,
        period_start=period_start, period_end=period_end,
    )  # fmt: skip
    figures = snapshot_figures(office, period_start, period_end) if period_start and period_end else {}
    now = timezone.now()
    with transaction.atomic():
        report = InformationReport.objects.create(
            kind=data["kind"], title=data["title"], body=data["body"], office=office,
            receiver=data["receiver"], figures=figures, drafted_by=user, created_at=now, updated_at=now,
            copy_to=(copy_to or "").strip()[:200],
        )  # fmt: skip
        report.petitions.set(data["petitions"])
        report.disputes.set(data["disputes"])
        record_event(
            actor=user, action="information.drafted", obj=report,
            data={"kind": report.kind, "receiver": report.receiver_id,
                  "petitions": [p.number for p in data["petitions"]]},
        )  # fmt: skip
    return report


def update_draft(
    *,
    user: Any,
    report_id: int,
    kind: str,
    title: str,
    body: str,
    receiver: Organisation | int | None = None,
    petition_numbers: Iterable[str] = (),
    dispute_numbers: Iterable[str] = (),
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    copy_to: str = "",
) -> InformationReport:
    """Rewrite a draft or a returned report (the figures are taken again if a period is given)."""
    with transaction.atomic():
        report = _locked(user, report_id)
        if report.status not in EDITABLE:
            raise ReportStateError(
                _("该信息的状态为“%(status)s”，不能再修改。") % {"status": report.get_status_display()}
            )
        if not can_edit(user, report):
            raise ReportRefused(_("只有报送单位的登记员或督办员可以修改草稿。"))
        data = _clean(
            user, report.office, kind=kind, title=title, body=body, receiver=receiver,
            petition_numbers=petition_numbers, dispute_numbers=dispute_numbers,
            period_start=period_start, period_end=period_end,
        )  # fmt: skip
        report.kind, report.title, report.body = data["kind"], data["title"], data["body"]
        report.receiver = data["receiver"]
        report.copy_to = (copy_to or "").strip()[:200]
        report.figures = (
            snapshot_figures(report.office, period_start, period_end) if period_start and period_end else {}
        )
        report.updated_at = timezone.now()
        report.save(update_fields=["kind", "title", "body", "receiver", "copy_to", "figures", "updated_at"])
        report.petitions.set(data["petitions"])
        report.disputes.set(data["disputes"])
        record_event(actor=user, action="information.edited", obj=report, data={"kind": report.kind})
    return report


def submit(*, user: Any, report_id: int, approver: User | int | None = None) -> InformationReport:
    """送签: the clerk asks for sign-off (of a named leader, or of any approver of the office).
    An urgent report rings the approvers' phones at once (Art. 25)."""
    with transaction.atomic():
        report = _locked(user, report_id)
        if report.status not in EDITABLE:
            raise ReportStateError(
                _("该信息的状态为“%(status)s”，不能送签。") % {"status": report.get_status_display()}
            )
        if not can_submit(user, report):
            raise ReportRefused(_("只有报送单位的登记员或督办员可以送签。"))
        choices = approver_choices(report.office)
        approver_id = approver.pk if isinstance(approver, User) else approver
        if approver_id:
            named = choices.filter(pk=approver_id).first()
            if named is None:
                raise ValidationError({"approver": [_("请选择本机关或本级政府的领导签发。")]})
            approvers = [named]
        else:
            named = None
            approvers = list(choices)
            if not approvers:
                raise ValidationError(
                    {"approver": [_("本机关和本级政府没有可签发的领导账号，请联系系统管理员。")]}
                )
        report.status = ReportStatus.SUBMITTED
        report.approver = named
        report.submitted_at = report.updated_at = timezone.now()
        report.save(update_fields=["status", "approver", "submitted_at", "updated_at"])
        _notify(
            approvers, report=report, key=f"submitted:{report.submitted_at.timestamp()}",
            title=_("%(tag)s待签发：%(title)s") % {"tag": _kind_tag(report), "title": report.title},
            body=_("%(office)s报送%(receiver)s的信息请您签发。") % {"office": report.office.name,
                                                              "receiver": report.receiver.name},
            sms=report.is_urgent,
        )  # fmt: skip
        record_event(
            actor=user, action="information.submitted", obj=report,
            data={"approver": named.pk if named else None, "urgent": report.is_urgent},
        )  # fmt: skip
    return report


def return_report(*, user: Any, report_id: int, reason: str) -> InformationReport:
    """The approver sends the report back to the clerks with a reason (退回修改)."""
    reason = (reason or "").strip()
    with transaction.atomic():
        report = _locked(user, report_id)
        if report.status != ReportStatus.SUBMITTED:
            raise ReportStateError(
                _("该信息的状态为“%(status)s”，不能退回。") % {"status": report.get_status_display()}
            )
        if not can_sign(user, report):
            raise ReportRefused(_("只有送签的领导（本机关或本级政府的领导）可以退回。"))
        if not reason:
            raise ValidationError({"reason": [_("请填写退回理由，拟稿人将据此修改。")]})
        report.status = ReportStatus.RETURNED
        report.return_reason = reason
        report.returned_by = user
        report.returned_at = report.updated_at = timezone.now()
        report.save(update_fields=["status", "return_reason", "returned_by", "returned_at", "updated_at"])
        _notify(
            [report.drafted_by_id], report=report, key=f"returned:{report.returned_at.timestamp()}",
            title=_("信息被退回修改：%(title)s") % {"title": report.title},
            body=_("%(leader)s退回：%(reason)s") % {"leader": user, "reason": reason},
        )  # fmt: skip
        record_event(actor=user, action="information.returned", obj=report, data={"reason": reason})
    return report


def sign_off(*, user: Any, report_id: int) -> InformationReport:
    """签发.  An urgent report is sent in the same transaction (Art. 25: at once); another waits
    for a clerk to send it, and the drafter is told it may go."""
    with transaction.atomic():
        report = _locked(user, report_id)
        if report.status != ReportStatus.SUBMITTED:
            raise ReportStateError(
                _("该信息的状态为“%(status)s”，不能签发。") % {"status": report.get_status_display()}
            )
        if not can_sign(user, report):
            raise ReportRefused(_("只有送签的领导（本机关或本级政府的领导）可以签发。"))
        report.status = ReportStatus.SIGNED
        report.signed_by = user
        report.signed_at = report.updated_at = timezone.now()
        report.save(update_fields=["status", "signed_by", "signed_at", "updated_at"])
        record_event(actor=user, action="information.signed", obj=report, data={"urgent": report.is_urgent})
        if report.is_urgent:
            _send(user, report)
        else:
            _notify(
                [report.drafted_by_id], report=report, key="signed",
                title=_("信息已签发，请报送：%(title)s") % {"title": report.title},
                body=_("%(leader)s已签发，请报送%(receiver)s。")
                % {"leader": user, "receiver": report.receiver.name},
            )  # fmt: skip
    return report


def send(*, user: Any, report_id: int) -> InformationReport:
    """报送: a clerk sends a signed report to the receiving office; the 期号 is taken now."""
    with transaction.atomic():
        report = _locked(user, report_id)
        if report.status != ReportStatus.SIGNED:
            raise ReportStateError(
                _("该信息的状态为“%(status)s”，签发后才能报送。") % {"status": report.get_status_display()}
            )
        if not can_send(user, report):
            raise ReportRefused(_("只有报送单位的登记员或督办员可以报送。"))
        _send(user, report)
    return report


def next_sequence(office: Organisation, year: int) -> int:
    """The next 期号 of ``office`` in ``year``: the UPDATE takes the row lock (PostgreSQL) or the
    write lock (SQLite), so two sends of one office queue behind each other."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_sequence() must run inside the sending transaction")
    rows = IssueSequence.objects.filter(office=office, year=year)
    if not rows.update(last=F("last") + 1):
        try:
            with transaction.atomic():  # savepoint: a racing first send of the year must not abort us
                IssueSequence.objects.create(office=office, year=year, last=1)
        except IntegrityError:
            rows.update(last=F("last") + 1)
    return rows.values_list("last", flat=True).get()


def _receiving_staff(receiver: Organisation, *, urgent: bool) -> list[int]:
    """Who is told of a report that arrives: the office's clerks, supervisors and leaders (urgent:
    its supervisors and leaders and its government's leaders, who must act at once)."""
    roles = (
        (RoleCode.SUPERVISOR, RoleCode.LEADER)
        if urgent
        else (RoleCode.INTAKE, RoleCode.SUPERVISOR, RoleCode.LEADER)
    )
    people = Q(organisation_id=receiver.pk, roles__code__in=roles)
    if urgent and receiver.parent_id:
        people |= Q(organisation_id=receiver.parent_id, roles__code=RoleCode.LEADER)
    return list(User.objects.filter(people, is_active=True).values_list("pk", flat=True).distinct())


def _send(user: Any, report: InformationReport) -> None:
    now = timezone.now()
    year = timezone.localdate(now).year
    report.year, report.sequence = year, next_sequence(report.office, year)
    report.status = ReportStatus.SENT
    report.sent_by = user
    report.sent_at = report.updated_at = now
    report.save(update_fields=["year", "sequence", "status", "sent_by", "sent_at", "updated_at"])
    _notify(
        _receiving_staff(report.receiver, urgent=report.is_urgent), report=report, key="sent",
        title=_("%(tag)s%(office)s报送：%(title)s") % {"tag": _kind_tag(report), "office": report.office.name,
                                                     "title": report.title},
        body=(_("重大紧急信息，请立即阅处（《信访工作条例》第二十五条）。") if report.is_urgent
              else _("下级报送的信访信息，请阅处并反馈采用情况。")),
        sms=report.is_urgent,
    )  # fmt: skip
    record_event(
        actor=user, action="information.sent", obj=report,
        data={"issue": report.issue_label, "receiver": report.receiver_id, "urgent": report.is_urgent},
    )  # fmt: skip


def mark_read(*, user: Any, report_id: int) -> InformationReport:
    """The receiving side reads the report: the first reader is recorded (and audited) once."""
    report = get_visible(user, report_id)
    if not is_receiver(user, report):
        raise ReportRefused(_("只有接收单位可以签收下级报送的信息。"))
    if report.read_at is not None:
        return report
    with transaction.atomic():
        now = timezone.now()
        # A concurrent first read is harmless: only the row still unread is updated.
        if InformationReport.objects.filter(pk=report.pk, read_at__isnull=True).update(
            read_by=user, read_at=now
        ):
            record_event(actor=user, action="information.read", obj=report)
            report.read_by, report.read_at = user, now
    return report


def give_feedback(*, user: Any, report_id: int, use: str, feedback: str = "") -> InformationReport:
    """The receiving office says what it did with the report (采用 / 批示 / 阅知), with a comment
    returned to the sender, whose clerks and drafter are told.  A later feedback replaces the
    earlier one (a 采用 followed by a leader's 批示); each is audited."""
    feedback = (feedback or "").strip()
    with transaction.atomic():
        report = _locked(user, report_id)
        if not can_feedback(user, report):
            raise ReportRefused(_("只有接收单位可以反馈采用情况。"))
        errors: dict[str, list[str]] = {}
        if use not in (ReportUse.USED, ReportUse.INSTRUCTED, ReportUse.NOTED):
            errors["use"] = [_("请选择采用、领导批示或阅知。")]
        elif use == ReportUse.INSTRUCTED and not user.has_role(RoleCode.LEADER):
            errors["use"] = [_("批示须由领导作出；其他工作人员可选择采用或阅知。")]
        if use == ReportUse.INSTRUCTED and not feedback:
            errors["feedback"] = [_("请填写批示内容。")]
        if len(feedback) > 5000:
            errors["feedback"] = [_("反馈意见不超过5000字。")]
        if errors:
            raise ValidationError(errors)
        now = timezone.now()
        report.use, report.feedback, report.feedback_by, report.feedback_at = use, feedback, user, now
        fields = ["use", "feedback", "feedback_by", "feedback_at"]
        if report.read_at is None:
            report.read_by, report.read_at = user, now
            fields += ["read_by", "read_at"]
        report.save(update_fields=fields)
        senders = set(
            User.objects.filter(
                organisation_id=report.office_id, is_active=True, roles__code__in=CLERK_ROLES
            ).values_list("pk", flat=True)
        ) | {report.drafted_by_id}
        _notify(
            senders, report=report, key=f"feedback:{now.timestamp()}",
            title=_("%(receiver)s%(use)s：%(title)s")
            % {"receiver": report.receiver.name, "use": report.get_use_display(), "title": report.title},
            body=feedback,
        )  # fmt: skip
        record_event(actor=user, action="information.feedback", obj=report, data={"use": use})
    return report
