"""Staff page for the security administrator: API tokens of system accounts (12345 platforms,
upper-level systems).  A new token is requested here and issued when a second administrator
approves (organisations.grants, four-eyes); the clear token is shown once, to the approver."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinfang.core.decorators import role_required
from xinfang.core.forms import add_service_errors
from xinfang.organisations.choices import RoleCode
from xinfang.organisations.models import User

from .models import ApiToken
from .services import request_token, revoke_token


class TokenRequestForm(forms.Form):
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
    reason = forms.CharField(
        label=gettext_lazy("事由"),
        max_length=200,
        help_text=gettext_lazy("令牌须经另一名安全管理员或系统管理员批准后签发，并只向审批人显示一次"),
    )


@role_required(RoleCode.SECADMIN)
def tokens(request: HttpRequest) -> HttpResponse:
    """The tokens, and the request for a new one (four-eyes: organisations.grants)."""
    form = TokenRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant = request_token(
                user=form.cleaned_data["user"],
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已提交审批。须由另一名安全管理员或系统管理员批准后签发令牌。"))
            return redirect("organisations:grant", grant.pk)
    listing = ApiToken.objects.select_related("user", "created_by").order_by("-created_at")
    page = Paginator(listing, 50).get_page(request.GET.get("page"))
    return render(request, "api/tokens.html", {"form": form, "page": page})


@require_POST
@role_required(RoleCode.SECADMIN)
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk)
    revoke_token(token=token, actor=request.user)
    messages.success(request, _("已吊销令牌 {prefix}…").format(prefix=token.prefix))
    return redirect("api-staff:tokens")
