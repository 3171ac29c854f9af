"""Staff page for the security administrator: API tokens of system accounts (12345 platforms,
upper-level systems).  The clear token is shown once, right after it is issued."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinfang.core.decorators import role_required
from xinfang.core.forms import add_service_errors
from xinfang.organisations.choices import RoleCode
from xinfang.organisations.models import User

from .models import ApiToken
from .services import issue_token, revoke_token


class IssueTokenForm(forms.Form):
    user = forms.ModelChoiceField(
        label=gettext_lazy("系统账号"), queryset=User.objects.filter(is_system_account=True, is_active=True)
    )
    name = forms.CharField(label=gettext_lazy("用途"), max_length=100)
    days = forms.IntegerField(
        label=gettext_lazy("有效天数"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=gettext_lazy("留空表示长期有效，直到吊销"),
    )


@role_required(RoleCode.SECADMIN)
def tokens(request: HttpRequest) -> HttpResponse:
    form = IssueTokenForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["days"]
        try:
            issued = issue_token(
                user=form.cleaned_data["user"],
                name=form.cleaned_data["name"],
                actor=request.user,
                expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            form = IssueTokenForm()
    listing = ApiToken.objects.select_related("user", "created_by").order_by("-created_at")
    page = Paginator(listing, 50).get_page(request.GET.get("page"))
    return render(request, "api/tokens.html", {"form": form, "issued": issued, "page": page})


@require_POST
@role_required(RoleCode.SECADMIN)
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk)
    revoke_token(token=token, actor=request.user)
    messages.success(request, _("已吊销令牌 {prefix}…").format(prefix=token.prefix))
    return redirect("api-staff:tokens")
