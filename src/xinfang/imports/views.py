"""Staff pages of the history import (/staff/imports/): upload a file, check it, import it on the
worker with a progress bar, download the rejected rows, see past runs.

Intake clerks of a petition office import into their own office (``services.may_import``); a run
of another office is "not found", as a petition outside the scope is."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinfang.audit.services import record_event
from xinfang.core.decorators import role_required
from xinfang.core.jobs import enqueue
from xinfang.core.xlsx import XLSX_TYPE, xlsx_response
from xinfang.organisations.choices import RoleCode

from . import columns, services
from .models import ImportRun, RunStatus

MAX_FILE_SIZE = 100 * 1024 * 1024  # 100 MB: some 200,000 rows of CSV
TASK = "xinfang.imports.tasks.run_import"


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("导入文件（CSV或XLSX）"))
    source = forms.CharField(
        label=gettext_lazy("来源系统"),
        max_length=50,
        required=False,
        help_text=gettext_lazy("原系统的名称，同一来源的来源编号不重复；缺省为 legacy"),
    )
    dry_run = forms.BooleanField(label=gettext_lazy("先校验，不导入"), required=False, initial=True)

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("label_suffix", "")  # the form renderer ends Chinese labels in "："
        super().__init__(*args, **kwargs)

    def clean_file(self):  # noqa: ANN201
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_SIZE:
            raise ValidationError(_("文件不能超过100MB，请分成几个文件导入。"))
        return upload


def _office_of(request: HttpRequest):  # noqa: ANN202
    if not services.may_import(request.user):
        raise PermissionDenied
    return request.user.organisation


def _run(request: HttpRequest, pk: int) -> ImportRun:
    office = _office_of(request)
    return get_object_or_404(ImportRun.objects.select_related("created_by"), pk=pk, office=office)


@role_required(RoleCode.INTAKE)
def run_list(request: HttpRequest) -> HttpResponse:
    """The upload form and the office's past runs, newest first."""
    office = _office_of(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.create_run(
                office=office,
                actor=request.user,
                upload=form.cleaned_data["file"],
                source=form.cleaned_data["source"],
                dry_run=form.cleaned_data["dry_run"],
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            enqueue(TASK, run.pk)
            messages.success(request, _("文件已上传，正在后台处理。"))
            return redirect("imports:detail", run.pk)
    runs = ImportRun.objects.filter(office=office).select_related("created_by")
    page = Paginator(runs, 20).get_page(request.GET.get("page"))
    return render(request, "imports/list.html", {"form": form, "page": page, "Status": RunStatus})


@role_required(RoleCode.INTAKE)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    return render(
        request,
        "imports/detail.html",
        {
            "run": run,
            "Status": RunStatus,
            "errors": run.errors[:200],
            "running": run.status in (RunStatus.QUEUED, RunStatus.RUNNING),
            "can_start": run.status == RunStatus.CHECKED and bool(run.file),
            "valid": max(0, run.total - run.rejected - run.skipped),
        },
    )


@role_required(RoleCode.INTAKE)
def run_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """What the progress bar polls."""
    run = _run(request, pk)
    return JsonResponse(
        {
            "status": run.status,
            "status_label": run.get_status_display(),
            "total": run.total,
            "processed": run.processed,
            "imported": run.imported,
            "skipped": run.skipped,
            "rejected": run.rejected,
            "percent": run.percent,
            "finished": run.finished_at is not None,
        }
    )


@require_POST
@role_required(RoleCode.INTAKE)
def run_start(request: HttpRequest, pk: int) -> HttpResponse:
    """Import a checked file (the check was the dry run)."""
    run = _run(request, pk)
    if services.start_import(run):
        record_event(actor=request.user, action="import.start", obj=run, data={"source": run.source})
        enqueue(TASK, run.pk)
        messages.success(request, _("已开始导入。"))
    else:
        messages.error(request, _("该批次不能开始导入（未校验完成或文件已删除）。"))
    return redirect("imports:detail", run.pk)


@require_POST
@role_required(RoleCode.INTAKE)
def run_discard(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a checked run's file without importing it."""
    run = _run(request, pk)
    if run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
        messages.error(request, _("正在处理的批次不能删除文件。"))
    else:
        services.discard_file(run)
        messages.success(request, _("上传的文件已删除。"))
    return redirect("imports:detail", run.pk)


@role_required(RoleCode.INTAKE)
def run_report(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The rejected rows: row number, source id, column and reason (no cell values)."""
    run = _run(request, pk)
    if fmt == "xlsx":
        title = _("导入被拒绝的行-{pk}").format(pk=run.pk)
        return xlsx_response(title=title, header=services.REPORT_HEADER, rows=services.report_rows(run))
    if fmt != "csv":
        raise Http404
    response = HttpResponse(services.report_csv(run), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-rejected.csv"'
    response["Cache-Control"] = "no-store"
    return response


@role_required(RoleCode.INTAKE)
def template(request: HttpRequest) -> HttpResponse:
    """The template to fill in: headers, an example row, the allowed values."""
    _office_of(request)
    response = HttpResponse(columns.template_xlsx(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = 'attachment; filename="petition-import-template.xlsx"'
    return response
