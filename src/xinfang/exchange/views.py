"""Staff pages of exchange (``/staff/referrals/``): the ledger of referrals received (上级交办台账)
and of referrals sent, their detail pages with the actions, and the peers (system administrator).
Every list exports to XLSX and prints; every write calls ``services``."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core.decorators import role_required
from xinfang.core.xlsx import xlsx_response
from xinfang.organisations.choices import RoleCode
from xinfang.organisations.models import User
from xinfang.petitions.access import PetitionNotFound

from . import services
from .models import (
    OPEN_OUTBOUND_STATUSES,
    OPEN_REFERRAL_STATUSES,
    OutboundReferral,
    OutboundStatus,
    Peer,
    Referral,
    ReferralStatus,
)

CASEWORK = (RoleCode.INTAKE, RoleCode.HANDLER, RoleCode.SUPERVISOR, RoleCode.LEADER)
EXPORT_CAP = 10_000


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def _filtered_received(request: HttpRequest) -> tuple[Any, dict[str, str]]:
    qs = services.received_for(request.user).select_related("petition", "peer")
    status = request.GET.get("status", "open")
    if status == "open":
        qs = qs.filter(status__in=OPEN_REFERRAL_STATUSES)
    elif status in ReferralStatus.values:
        qs = qs.filter(status=status)
    if request.GET.get("overdue"):
        qs = qs.filter(status__in=OPEN_REFERRAL_STATUSES, upper_due_on__lt=timezone.localdate())
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(upper_case_number__icontains=q) | qs.filter(petition__number__icontains=q)
    return qs.order_by("upper_due_on", "pk"), {
        "status": status,
        "q": q,
        "overdue": request.GET.get("overdue", ""),
    }


def _export(
    request: HttpRequest,
    qs: Any,
    row: Callable[[Any, dt.date], list[Any]],
    *,
    header: list[str],
    today: dt.date,
    audit: dict[str, str],
    xlsx_title: str,
    print_title: str,
) -> HttpResponse | None:
    """``?format=xlsx`` (audited, up to ``EXPORT_CAP`` rows) or ``?format=print`` (the first 1000)
    of a ledger, each record made a row by ``row``; ``None`` for the page itself."""
    fmt = request.GET.get("format")
    if fmt == "xlsx":
        record_event(actor=request.user, action="exchange.export", data=audit)
        return xlsx_response(title=xlsx_title, header=header, rows=(row(r, today) for r in qs[:EXPORT_CAP]))
    if fmt == "print":
        rows = [row(r, today) for r in qs[:1000]]
        return render(
            request,
            "exchange/print.html",
            {"title": print_title, "header": header, "rows": rows, "today": today},
        )
    return None


RECEIVED_HEADER = ["上级编号", "交办单位", "本级编号", "事项", "上级期限", "状态", "报告日期", "是否逾期"]


def _received_row(r: Referral, today: dt.date) -> list[Any]:
    return [
        r.upper_case_number,
        r.upper_organisation,
        r.petition.number,
        r.petition.title,
        r.upper_due_on,
        str(r.get_status_display()),
        r.reported_on,
        "是" if r.is_overdue(today) else "否",
    ]


@role_required(*CASEWORK)
def received(request: HttpRequest) -> HttpResponse:
    qs, filters = _filtered_received(request)
    today = timezone.localdate()
    exported = _export(
        request,
        qs,
        _received_row,
        header=RECEIVED_HEADER,
        today=today,
        audit={"list": "received", **filters},
        xlsx_title="上级交办台账",
        print_title=_("上级交办台账"),
    )
    if exported is not None:
        return exported
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "exchange/received_list.html",
        {
            "page": page,
            "filters": filters,
            "today": today,
            "statuses": ReferralStatus.choices,
        },
    )


def _received_or_404(request: HttpRequest, pk: int) -> Referral:
    try:
        return services.referral_in_scope(request.user, pk)
    except Referral.DoesNotExist:
        raise Http404 from None


@role_required(*CASEWORK)
def received_detail(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _received_or_404(request, pk)
    errors: dict[str, list[str]] = {}
    data = {"process": "", "result": ""}
    if request.method == "POST":
        action = request.POST.get("action", "draft")
        data = {k: request.POST.get(k, "") for k in data}
        report = referral.reports.filter(pk=request.POST.get("report") or 0).first()
        try:
            if action == "draft":
                services.draft_report(user=request.user, referral=referral, **data)
                done = _("报告已起草。下一步：需要时由领导审批，然后“印发并报送”：编文号并由系统报送上级。")
            elif report is not None and action == "approve":
                services.approve_report(user=request.user, report=report)
                done = _("已审批。下一步：由经办人“印发并报送”。")
            elif report is not None and action == "issue":
                report = services.issue_report(user=request.user, report=report)
                done = _("已印发（{number}），系统正在报送上级；上级认可或退回后在此显示。").format(
                    number=report.document_number
                )
            else:
                raise Http404
        except PermissionDenied as exc:
            errors = {"__all__": [str(exc) or _("您无权办理该报告。")]}
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, done)
            return redirect("exchange:received_detail", referral.pk)
    reports = list(referral.reports.order_by("-created_at", "-pk"))
    context = {
        "referral": referral, "reports": reports, "errors": errors, "data": data,
        "today": timezone.localdate(),
        "can_draft": referral.status in OPEN_REFERRAL_STATUSES and referral.report_required,
    }  # fmt: skip
    return render(request, "exchange/received_detail.html", context)


@role_required(*CASEWORK)
def report_file(request: HttpRequest, pk: int, report_pk: int) -> HttpResponse:
    """The DOCX of an issued report (or a draft's preview, rendered now)."""
    from . import report_document

    referral = _received_or_404(request, pk)
    report = referral.reports.filter(pk=report_pk).first()
    if report is None:
        raise Http404
    content = base64.b64decode(report.docx) if report.docx else report_document.render(report)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    response["Content-Disposition"] = 'attachment; filename="report.docx"'
    response["Cache-Control"] = "no-store"
    return response


SENT_HEADER = [
    "本级编号",
    "事项",
    "交办对象",
    "对方编号",
    "报告期限",
    "状态",
    "报告文号",
    "收到报告时间",
    "是否逾期",
]


def _sent_row(o: OutboundReferral, today: dt.date) -> list[Any]:
    received_at = (
        timezone.localtime(o.report_received_at).strftime("%Y-%m-%d %H:%M") if o.report_received_at else ""
    )
    return [
        o.petition.number,
        o.petition.title,
        o.peer.name,
        o.remote_number,
        o.due_on,
        str(o.get_status_display()),
        o.report_number,
        received_at,
        "是" if o.is_overdue(today) else "否",
    ]


@role_required(*CASEWORK)
def sent(request: HttpRequest) -> HttpResponse:
    qs = services.sent_for(request.user).select_related("petition", "peer")
    status = request.GET.get("status", "open")
    if status == "open":
        qs = qs.filter(status__in=[*OPEN_OUTBOUND_STATUSES, OutboundStatus.REPORTED])
    elif status in OutboundStatus.values:
        qs = qs.filter(status=status)
    qs = qs.order_by("due_on", "pk")
    today = timezone.localdate()
    exported = _export(
        request,
        qs,
        _sent_row,
        header=SENT_HEADER,
        today=today,
        audit={"list": "sent", "status": status},
        xlsx_title="向下交办台账",
        print_title=_("向下交办台账"),
    )
    if exported is not None:
        return exported
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "exchange/sent_list.html",
        {
            "page": page,
            "status": status,
            "today": today,
            "statuses": OutboundStatus.choices,
        },
    )


def _sent_or_404(request: HttpRequest, pk: int) -> OutboundReferral:
    outbound = services.sent_for(request.user).select_related("petition", "peer").filter(pk=pk).first()
    if outbound is None:
        raise Http404
    return outbound


@role_required(*CASEWORK)
def sent_detail(request: HttpRequest, pk: int) -> HttpResponse:
    outbound = _sent_or_404(request, pk)
    errors: dict[str, list[str]] = {}
    reason = ""
    if request.method == "POST":
        accepted = request.POST.get("decision") == "accept"
        reason = request.POST.get("reason", "")
        try:
            services.decide_report(user=request.user, outbound=outbound, accepted=accepted, reason=reason)
        except PermissionDenied as exc:
            errors = {"__all__": [str(exc)]}
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(
                request,
                _("已认可报告，结果将发送给对方。") if accepted else _("已退回重报，对方补充后将重新报告。"),
            )
            return redirect("exchange:sent_detail", outbound.pk)
    deliveries = list(outbound.deliveries.order_by("-created_at", "-pk")[:20])
    return render(
        request,
        "exchange/sent_detail.html",
        {
            "outbound": outbound,
            "errors": errors,
            "reason": reason,
            "deliveries": deliveries,
            "today": timezone.localdate(),
        },
    )


@role_required(*CASEWORK)
def sent_file(request: HttpRequest, pk: int) -> HttpResponse:
    outbound = _sent_or_404(request, pk)
    if not outbound.report_file:
        raise Http404
    record_event(actor=request.user, action="exchange.export", obj=outbound, data={"list": "report_file"})
    response = HttpResponse(
        base64.b64decode(outbound.report_file),
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    response["Content-Disposition"] = 'attachment; filename="report.docx"'
    response["Cache-Control"] = "no-store"
    return response


@role_required(RoleCode.SUPERVISOR, RoleCode.INTAKE)
def refer_form(request: HttpRequest) -> HttpResponse:
    number = request.GET.get("number", "") or request.POST.get("number", "")
    peers = [p for p in services.open_peers() if p.token]
    data = {
        "number": number,
        "peer": request.POST.get("peer", ""),
        "due_on": request.POST.get("due_on", ""),
        "instructions": request.POST.get("instructions", ""),
        "report_required": True,
    }
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data["report_required"] = bool(request.POST.get("report_required"))
        try:
            peer = Peer.objects.get(pk=int(data["peer"] or 0))
            due_on = dt.date.fromisoformat(data["due_on"]) if data["due_on"] else None
            outbound = services.refer(
                user=request.user,
                number=number,
                peer=peer,
                due_on=due_on,
                report_required=data["report_required"],
                instructions=data["instructions"],
            )
        except (Peer.DoesNotExist, ValueError):
            errors = {"peer": [_("请选择对接平台，并按“年-月-日”填写报告期限。")]}
        except PetitionNotFound:
            errors = {"number": [_("信访事项不存在，或您无权查看。")]}
        except PermissionDenied as exc:
            errors = {"__all__": [str(exc)]}
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(
                request,
                _("已提交交办，系统将自动发送给{peer}；对方接收后显示对方编号。").format(peer=peer.name),
            )
            return redirect("exchange:sent_detail", outbound.pk)
    return render(request, "exchange/refer_form.html", {"data": data, "peers": peers, "errors": errors})


# --- peers (system administrator) ---------------------------------------------------------------


@role_required(RoleCode.SYSADMIN)
def peers(request: HttpRequest) -> HttpResponse:
    return render(
        request, "exchange/peers.html", {"peers": Peer.objects.select_related("account").order_by("name")}
    )


@role_required(RoleCode.SYSADMIN)
def peer_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    peer = Peer.objects.filter(pk=pk).first() if pk else None
    if pk and peer is None:
        raise Http404
    accounts = User.objects.filter(is_system_account=True, is_active=True).order_by("username")
    data = {
        "name": peer.name if peer else "",
        "base_url": peer.base_url if peer else "",
        "remote_office_code": peer.remote_office_code if peer else "",
        "account": str(peer.account_id or "") if peer else "",
        "is_enabled": peer.is_enabled if peer else True,
    }
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = {k: request.POST.get(k, "") for k in ("name", "base_url", "remote_office_code", "account")}
        data["is_enabled"] = bool(request.POST.get("is_enabled"))
        account = accounts.filter(pk=int(data["account"])).first() if data["account"].isdigit() else None
        try:
            saved = services.save_peer(
                user=request.user,
                peer=peer,
                name=data["name"],
                base_url=data["base_url"],
                token=request.POST.get("token", ""),
                remote_office_code=data["remote_office_code"],
                account=account,
                is_enabled=data["is_enabled"],
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(
                request, _("已保存对接平台“{name}”。令牌已加密保存，不再显示。").format(name=saved.name)
            )
            return redirect("exchange:peers")
    return render(
        request,
        "exchange/peer_form.html",
        {"peer": peer, "data": data, "errors": errors, "accounts": accounts},
    )
