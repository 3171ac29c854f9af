"""Staff pages of 批量打印: request a merged PDF, see the organisation's batches, download one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinfang.audit.services import record_event
from xinfang.core.decorators import role_required
from xinfang.core.files import open_plaintext

from . import batches
from .choices import DocumentKind
from .models import BatchStatus
from .services import DRAFTING_ROLES


class BatchForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("文书种类"), choices=DocumentKind.choices)
    start = forms.DateField(label=gettext_lazy("成文日期自"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("至"), widget=forms.DateInput(attrs={"type": "date"}))


def _initial() -> dict[str, object]:
    today = timezone.localdate()
    return {"kind": DocumentKind.RECEIPT, "start": today.replace(day=1), "end": today}


@role_required(*DRAFTING_ROLES)
def batch_list(request: HttpRequest) -> HttpResponse:
    """The request form and the organisation's batches, newest first."""
    if not batches.can_request(request.user):
        raise PermissionDenied
    form = BatchForm(request.POST or None, initial=_initial())
    if request.method == "POST" and form.is_valid():
        try:
            batch = batches.request_batch(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(
                request,
                _("已提交：{count} 份文书将在后台合并为一个 PDF，完成后会通知您，届时在下表中下载。").format(
                    count=batch.count
                ),
            )
            return redirect("document_batches:list")
    page = Paginator(batches.batches_of(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "documents/batches.html", {"form": form, "page": page, "Status": BatchStatus})


@role_required(*DRAFTING_ROLES)
def batch_download(request: HttpRequest, pk: int) -> FileResponse:
    """The merged PDF of a finished batch of the user's organisation; audited (it holds names)."""
    if not batches.can_request(request.user):
        raise PermissionDenied
    batch = get_object_or_404(batches.batches_of(request.user), pk=pk)
    if batch.status != BatchStatus.DONE or not batch.pdf_file:
        raise Http404
    record_event(actor=request.user, action="document.batch_download", obj=batch, data={"count": batch.count})
    response = FileResponse(
        open_plaintext(batch.pdf_file),
        as_attachment=True,
        filename=f"{batch.get_kind_display()}-{batch.start}-{batch.end}.pdf",
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
