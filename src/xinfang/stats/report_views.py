"""/staff/stats/reports/: the monthly report and the annual report (Art. 41) as DOCX, and the
system administrator's page for each petition office's own report templates.

The views only read forms and call ``stats.reports`` (content, rendering, templates, audit)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinfang.core.decorators import role_required
from xinfang.organisations.choices import RoleCode

from . import figures, reports
from .models import ReportKind, ReportTemplate
from .report_forms import ReportForm, TemplateUploadForm

REPORT_ROLES = (RoleCode.LEADER, RoleCode.SUPERVISOR, RoleCode.INTAKE)


def _allowed(request: HttpRequest) -> None:
    """Leaders, supervisors and a petition office's intake staff (an intake clerk of a unit
    registers petitions but does not report for the area)."""
    if not reports.may_generate(request.user):
        raise PermissionDenied


def _initial() -> tuple[dict, dict]:
    """Defaults: last month's report, and last year's annual report (due by the end of January)."""
    today = timezone.localdate()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    return (
        {"kind": ReportKind.MONTHLY, "year": last_month.year, "month": last_month.month},
        {"kind": ReportKind.ANNUAL, "year": today.year - 1},
    )


def _index(
    request: HttpRequest, *, monthly: ReportForm, annual: ReportForm, status: int = 200
) -> HttpResponse:
    area = figures.area_of(request.user)
    office = reports.office_of(area) if area is not None else None
    own = set()
    if office is not None:
        own = set(ReportTemplate.objects.filter(office=office).values_list("kind", flat=True))
    context = {
        "area": area,
        "office": office,
        "monthly": monthly,
        "annual": annual,
        "own_monthly": ReportKind.MONTHLY in own,
        "own_annual": ReportKind.ANNUAL in own,
    }
    return render(request, "stats/reports.html", context, status=status)


@role_required(*REPORT_ROLES)
def report_index(request: HttpRequest) -> HttpResponse:
    _allowed(request)
    monthly, annual = _initial()
    return _index(
        request,
        monthly=ReportForm(initial=monthly, prefix="m"),
        annual=ReportForm(initial=annual, prefix="a"),
    )


@role_required(*REPORT_ROLES)
def report_download(request: HttpRequest) -> HttpResponse:
    """The DOCX of the report chosen on the index page (GET: a download changes nothing but the
    audit log)."""
    _allowed(request)
    prefix = "a" if request.GET.get("a-kind") == ReportKind.ANNUAL else "m"
    form = ReportForm(request.GET, prefix=prefix)
    monthly, annual = _initial()
    if not form.is_valid():
        forms = {
            "monthly": ReportForm(initial=monthly, prefix="m"),
            "annual": ReportForm(initial=annual, prefix="a"),
        }
        forms["annual" if prefix == "a" else "monthly"] = form
        return _index(request, **forms, status=400)
    data = form.cleaned_data
    try:
        report = reports.generate(
            user=request.user, kind=data["kind"], year=data["year"], month=data.get("month")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("stats:report_index")
    return docx_response(reports.render_docx(report), report.filename)


def docx_response(content: bytes, filename: str) -> HttpResponse:
    """A download named in RFC 5987 form, so the Chinese title survives in every browser."""
    response = HttpResponse(content, content_type=reports.DOCX_TYPE)
    response["Content-Disposition"] = (
        f"attachment; filename=\"report.docx\"; filename*=UTF-8''{quote(filename)}"
    )
    response["Cache-Control"] = "no-store"
    return response


# --- the system administrator's templates ---------------------------------------------------------


@role_required(RoleCode.SYSADMIN)
def report_templates(request: HttpRequest) -> HttpResponse:
    """List the offices' own templates and upload a replacement (validated before it is saved)."""
    form = TemplateUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            reports.save_template(
                user=request.user, office=form.cleaned_data["office"], kind=form.cleaned_data["kind"],
                filename=upload.name, content=upload.read(reports.MAX_TEMPLATE_BYTES + 1),
            )  # fmt: skip
        except ValidationError as error:
            for message in error.messages:
                form.add_error("file", message)
        else:
            messages.success(request, _("模板已保存，该信访部门此后生成的报告使用新模板。"))
            return redirect("stats:report_templates")
    org = request.user.organisation
    templates = ReportTemplate.objects.select_related("office", "uploaded_by").order_by(
        "office__path", "kind"
    )
    if org is not None:
        templates = templates.filter(office__path__startswith=org.path)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "stats/report_templates.html", {"form": form, "templates": templates}, status=status
    )


@role_required(RoleCode.SYSADMIN)
def report_template_default(request: HttpRequest, kind: str) -> HttpResponse:
    """The default template, to start an office's own from."""
    if kind not in ReportKind.values:
        raise PermissionDenied
    return docx_response(
        reports.default_template(kind), _("{kind}默认模板.docx").format(kind=ReportKind(kind).label)
    )


@role_required(RoleCode.SYSADMIN)
def report_template_file(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(_templates_of(request), pk=pk)
    return docx_response(bytes(template.content), template.filename)


@require_POST
@role_required(RoleCode.SYSADMIN)
def report_template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(_templates_of(request), pk=pk)
    reports.delete_template(user=request.user, template=template)
    messages.success(request, _("已删除该模板，该信访部门此后生成的报告使用默认模板。"))
    return redirect("stats:report_templates")


def _templates_of(request: HttpRequest):  # noqa: ANN202
    org = request.user.organisation
    qs = ReportTemplate.objects.all()
    return qs.filter(office__path__startswith=org.path) if org is not None else qs


urlpatterns = [
    path("reports/", report_index, name="report_index"),
    path("reports/download/", report_download, name="report_download"),
    path("reports/templates/", report_templates, name="report_templates"),
    path("reports/templates/default/<str:kind>/", report_template_default, name="report_template_default"),
    path("reports/templates/<int:pk>/", report_template_file, name="report_template_file"),
    path("reports/templates/<int:pk>/delete/", report_template_delete, name="report_template_delete"),
]
