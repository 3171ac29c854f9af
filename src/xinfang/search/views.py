"""The system administrator's page of the search dictionary (检索词典)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinfang.core.decorators import role_required
from xinfang.core.forms import add_service_errors
from xinfang.organisations.choices import RoleCode

from . import services
from .forms import TermForm
from .models import SearchTerm


@role_required(RoleCode.SYSADMIN)
def terms(request: HttpRequest) -> HttpResponse:
    """The words the segmenter keeps whole, and a form to add one."""
    form = TermForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_term(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("已添加。此后登记或修改的信访件按新词切分；已有信访件需重建检索索引后生效。")
            )
            return redirect("search:terms")
    return render(request, "search/terms.html", {"form": form, "terms": SearchTerm.objects.order_by("word")})


@role_required(RoleCode.SYSADMIN)
@require_POST
def delete_term(request: HttpRequest, pk: int) -> HttpResponse:
    services.remove_term(actor=request.user, term=get_object_or_404(SearchTerm, pk=pk))
    messages.success(request, _("已删除。"))
    return redirect("search:terms")
