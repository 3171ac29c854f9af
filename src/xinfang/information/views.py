"""Staff pages of 信访信息: my office's ledger and the inbox of reports from below (filters, XLSX,
A4 print of the ledger), the drafting form, the detail page with the step each person may take
next, and the report's own A4 print page and DOCX.

Views parse input and call ``services``; every rule lives there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinfang.audit.services import record_event
from xinfang.core.decorators import role_required
from xinfang.core.forms import add_service_errors
from xinfang.core.xlsx import xlsx_response
from xinfang.organisations.choices import CASEWORK_ROLES
from xinfang.petitions.models import Petition

from . import rendering, services
from .forms import FeedbackForm, InboxFilter, MineFilter, ReportForm, ReturnForm, SubmitForm, split_numbers
from .models import InformationReport, ReportKind, ReportStatus

PAGE_SIZE = 30
EXPORT_CAP = 10_000
LEDGER_RELATED = ("office", "receiver", "signed_by", "read_by", "feedback_by", "drafted_by")
OPEN = (ReportStatus.DRAFT, ReportStatus.RETURNED, ReportStatus.SUBMITTED, ReportStatus.SIGNED)


def _period(qs: QuerySet, data: dict[str, Any]) -> QuerySet:
    if data.get("kind"):
        qs = qs.filter(kind=data["kind"])
    if data.get("start"):
        qs = qs.filter(sent_at__date__gte=data["start"])
    if data.get("end"):
        qs = qs.filter(sent_at__date__lte=data["end"])
    return qs


def mine_queryset(user: Any, form: MineFilter) -> QuerySet[InformationReport]:
    qs = services.mine(user).select_related(*LEDGER_RELATED)
    data = form.cleaned_data if form.is_valid() else {}
    qs = _period(qs, data)
    status = data.get("status") or "open"
    if status == "open":
        qs = qs.filter(status__in=OPEN)
    elif status != "all":
        qs = qs.filter(status=status)
    return qs.order_by("-updated_at", "-pk")


def inbox_queryset(user: Any, form: InboxFilter) -> QuerySet[InformationReport]:
    qs = services.inbox(user).select_related(*LEDGER_RELATED)
    data = form.cleaned_data if form.is_valid() else {}
    qs = _period(qs, data)
    if data.get("office"):
        qs = qs.filter(office=data["office"])
    state = data.get("state") or "pending"
    if state == "pending":
        qs = qs.filter(use="")
    elif state == "unread":
        qs = qs.filter(read_at__isnull=True)
    elif state == "done":
        qs = qs.exclude(use="")
    return qs.order_by("-sent_at", "-pk")


def reading_label(report: InformationReport) -> str:
    """阅读/采用情况 in one phrase, as the ledger column shows it."""
    if report.status != ReportStatus.SENT:
        return ""
    if report.use:
        text = f"{report.get_use_display()}（{report.feedback_by}）"
        return f"{text}：{report.feedback}" if report.feedback else text
    if report.read_at:
        return _("已阅（%(who)s %(when)s）") % {
            "who": report.read_by, "when": timezone.localtime(report.read_at).strftime("%Y-%m-%d"),
        }  # fmt: skip
    return _("未读")


HEADER = ("期号", "类别", "标题", "报送单位", "签发人", "报送日期", "接收单位", "阅读/采用情况")


def ledger_rows(reports: list[InformationReport]) -> list[list[Any]]:
    return [
        [
            r.issue_label,
            r.get_kind_display(),
            r.title,
            r.office.name,
            str(r.signed_by) if r.signed_by_id else "",
            timezone.localdate(r.sent_at).isoformat() if r.sent_at else r.get_status_display(),
            r.receiver.name,
            reading_label(r),
        ]
        for r in reports
    ]


def _ledger(
    request: HttpRequest, qs: QuerySet, *, title: str, which: str, template: str, form: Any
) -> HttpResponse:
    """One ledger: the page, its XLSX (audited) or its A4 print, from the same filtered rows."""
    if request.GET.get("export") == "xlsx" or request.GET.get("print"):
        rows = list(qs[: EXPORT_CAP + 1])
        cut = len(rows) > EXPORT_CAP
        rows = rows[:EXPORT_CAP]
        note = _("仅列出前%(n)d条，请缩小筛选范围。") % {"n": EXPORT_CAP} if cut else ""
        if request.GET.get("export") == "xlsx":
            with_transaction_audit(request, which, len(rows))
            return xlsx_response(
                title=title, header=[_(h) for h in HEADER], rows=ledger_rows(rows), note=note
            )
        return render(
            request, "information/ledger_print.html",
            {"title": title, "header": [_(h) for h in HEADER], "rows": ledger_rows(rows), "note": note,
             "today": timezone.localdate()},
        )  # fmt: skip
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "reports": [(r, reading_label(r)) for r in page.object_list],
            "can_draft": services.can_draft(request.user),
            "title": title,
        },
    )


def with_transaction_audit(request: HttpRequest, which: str, rows: int) -> None:
    from django.db import transaction

    with transaction.atomic():
        record_event(
            actor=request.user, action="information.exported",
            data={"list": which, "rows": rows,
                  "filters": {k: v for k, v in request.GET.items() if k not in {"export", "page"}}},
        )  # fmt: skip


@role_required(*CASEWORK_ROLES)
def report_list(request: HttpRequest) -> HttpResponse:
    form = MineFilter(request.GET or None)
    return _ledger(
        request, mine_queryset(request.user, form), title=_("本机关报送的信访信息"), which="mine",
        template="information/list.html", form=form,
    )  # fmt: skip


@role_required(*CASEWORK_ROLES)
def report_inbox(request: HttpRequest) -> HttpResponse:
    form = InboxFilter(request.GET or None, user=request.user)
    return _ledger(
        request, inbox_queryset(request.user, form), title=_("下级报送的信访信息"), which="inbox",
        template="information/inbox.html", form=form,
    )  # fmt: skip


def _report_args(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": data["kind"],
        "title": data["title"],
        "body": data["body"],
        "receiver": data["receiver"],
        "petition_numbers": split_numbers(data["petitions"]),
        "dispute_numbers": split_numbers(data["disputes"]),
        "period_start": data["period_start"],
        "period_end": data["period_end"],
        "copy_to": data["copy_to"],
    }


@role_required(*services.CLERK_ROLES)
def report_new(request: HttpRequest) -> HttpResponse:
    office = services.drafting_office(request.user)
    if office is None:
        raise PermissionDenied(_("只有信访工作机构的登记员或督办员可以拟写信访信息。"))
    initial: dict[str, Any] = {
        "receiver": services.default_receiver(office),
        "kind": request.GET.get("kind", ""),
    }
    initial.update(_from_petition(request.user, request.GET.get("petition", "")))
    form = ReportForm(request.POST or None, initial=initial, office=office)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.create_draft(user=request.user, **_report_args(form.cleaned_data))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("草稿已保存。核对无误后请送签，签发领导会收到提醒。"))
            return redirect("information:detail", pk=report.pk)
    return render(request, "information/form.html", {"form": form, "report": None})


def _from_petition(user: Any, number: str) -> dict[str, Any]:
    """A draft "based on this petition": its number, and a title and opening paragraph from its
    facts (never its content or the petitioner's particulars, which may hold personal data); an
    urgent petition (report_urgent, Art. 25) proposes a 紧急信息."""
    petition = Petition.objects.restrict(user).filter(number=number.strip()).select_related(
        "locality", "category", "office"
    ).first() if number.strip() else None  # fmt: skip
    if petition is None:
        return {"petitions": number}
    text = _("%(date)s，%(office)s登记信访事项%(number)s（%(category)s，问题属地%(locality)s）：%(title)s。")
    opening = text % {
        "date": petition.received_on.isoformat(), "office": petition.office.name, "number": petition.number,
        "category": petition.category, "locality": petition.locality.name, "title": petition.title,
    }  # fmt: skip
    return {
        "petitions": petition.number,
        "title": petition.title,
        "body": opening,
        **({"kind": ReportKind.URGENT} if petition.is_urgent else {}),
    }


def _report_or_404(request: HttpRequest, pk: int) -> InformationReport:
    try:
        return services.get_visible(request.user, pk)
    except InformationReport.DoesNotExist:
        raise Http404 from None


@role_required(*services.CLERK_ROLES)
def report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report_or_404(request, pk)
    if not services.can_edit(request.user, report):
        messages.error(request, _("该信息现在不能修改（已送签、已签发或您不是报送单位的工作人员）。"))
        return redirect("information:detail", pk=report.pk)
    figures = report.figures or {}
    initial = {
        "kind": report.kind, "title": report.title, "body": report.body, "receiver": report.receiver,
        "petitions": "\n".join(report.petitions.values_list("number", flat=True)),
        "disputes": "\n".join(report.disputes.values_list("number", flat=True)),
        "period_start": figures.get("start"), "period_end": figures.get("end"), "copy_to": report.copy_to,
    }  # fmt: skip
    form = ReportForm(request.POST or None, initial=initial, office=report.office)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_draft(user=request.user, report_id=report.pk, **_report_args(form.cleaned_data))
        except ValidationError as exc:
            add_service_errors(form, exc)
        except services.ReportRefused as exc:
            messages.error(request, str(exc))
            return redirect("information:detail", pk=report.pk)
        else:
            messages.success(request, _("已保存修改。"))
            return redirect("information:detail", pk=report.pk)
    return render(request, "information/form.html", {"form": form, "report": report})


def _detail(request: HttpRequest, report: InformationReport, **forms_: Any) -> HttpResponse:
    user = request.user
    linked = report.petitions.all()
    petitions = list(linked.restrict(user).order_by("number").only("id", "number", "title", "status"))
    context = {
        "report": report,
        "petitions": petitions,
        "hidden_petitions": linked.count() - len(petitions),
        "disputes": list(report.disputes.order_by("number").only("id", "number", "title")),
        "figures": report.figures or {},
        "reading": reading_label(report),
        "is_sender": services.is_sender(user, report),
        "is_receiver": services.is_receiver(user, report),
        "can_edit": services.can_edit(user, report),
        "can_sign": services.can_sign(user, report),
        "can_send": services.can_send(user, report),
        "can_feedback": services.can_feedback(user, report),
        "submit_form": forms_.get("submit_form") or SubmitForm(office=report.office),
        "return_form": forms_.get("return_form") or ReturnForm(),
        "feedback_form": forms_.get("feedback_form")
        or FeedbackForm(initial={"use": report.use, "feedback": report.feedback}),
    }
    return render(request, "information/detail.html", context)


@role_required(*CASEWORK_ROLES)
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report_or_404(request, pk)
    if services.is_receiver(request.user, report) and report.read_at is None:
        report = services.mark_read(user=request.user, report_id=report.pk)  # 签收: who read it, once
    return _detail(request, report)


def _act(
    request: HttpRequest, pk: int, form_class: type[forms.Form] | None, form_name: str,
    act: Callable[[InformationReport, dict[str, Any]], Any], done: str,
) -> HttpResponse:  # fmt: skip
    """Post one form about a report: a refusal goes back to the report with its reason, invalid
    input re-renders the page with what was typed."""
    report = _report_or_404(request, pk)
    if form_class is SubmitForm:
        form = SubmitForm(request.POST, office=report.office)
    elif form_class is not None:
        form = form_class(request.POST)
    else:
        form = forms.Form(request.POST)
    if form.is_valid():
        try:
            act(report, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except services.ReportRefused as exc:
            messages.error(request, str(exc))
            return redirect("information:detail", pk=report.pk)
        else:
            messages.success(request, done)
            return redirect("information:detail", pk=report.pk)
    return _detail(request, services.get_visible(request.user, report.pk), **{form_name: form})


@require_POST
@role_required(*services.CLERK_ROLES)
def report_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, SubmitForm, "submit_form",
        lambda r, d: services.submit(user=request.user, report_id=r.pk, approver=d["approver"]),
        _("已送签，签发领导已收到提醒；签发或退回后您会收到通知。"),
    )  # fmt: skip


@require_POST
@role_required("leader")
def report_sign(request: HttpRequest, pk: int) -> HttpResponse:
    def act(report: InformationReport, data: dict[str, Any]) -> Any:
        return services.sign_off(user=request.user, report_id=report.pk)

    report = _report_or_404(request, pk)
    done = (
        _("已签发并立即报送上级信访工作机构，对方督办员和领导已收到短信提醒。")
        if report.is_urgent
        else _("已签发。报送单位的工作人员将把信息报送上级。")
    )
    return _act(request, pk, None, "_", act, done)


@require_POST
@role_required("leader")
def report_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, ReturnForm, "return_form",
        lambda r, d: services.return_report(user=request.user, report_id=r.pk, reason=d["reason"]),
        _("已退回，拟稿人将修改后重新送签。"),
    )  # fmt: skip


@require_POST
@role_required(*services.CLERK_ROLES)
def report_send(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, None, "_",
        lambda r, d: services.send(user=request.user, report_id=r.pk),
        _("已报送，接收单位已收到提醒；对方反馈采用情况后会通知您。"),
    )  # fmt: skip


@require_POST
@role_required(*CASEWORK_ROLES)
def report_feedback(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, FeedbackForm, "feedback_form",
        lambda r, d: services.give_feedback(
            user=request.user, report_id=r.pk, use=d["use"], feedback=d["feedback"]
        ),
        _("已反馈，报送单位会收到通知。"),
    )  # fmt: skip


@role_required(*CASEWORK_ROLES)
def report_print(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report_or_404(request, pk)
    return render(request, "information/print.html", {"report": report, **rendering.context(report)})


@role_required(*CASEWORK_ROLES)
def report_docx(request: HttpRequest, pk: int) -> HttpResponse:
    from urllib.parse import quote

    report = _report_or_404(request, pk)
    response = HttpResponse(
        rendering.render_docx(report),
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    name = f"{report.get_kind_display()}-{report.issue_label or _('草稿')}-{report.pk}.docx"
    response["Content-Disposition"] = f"attachment; filename=\"report.docx\"; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response
