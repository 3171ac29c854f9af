"""Staff pages of the login sequence (second factor, enrolment, password change) and the security
administrator's page for one account (lock, second factor, password)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device

from xinfang.core.decorators import role_required
from xinfang.core.forms import add_service_errors
from xinfang.core.net import client_ip
from xinfang.organisations.choices import RoleCode
from xinfang.organisations.models import User
from xinfang.organisations.services import set_contact

from . import services
from .forms import AdminPasswordForm, EnrolForm, OtpForm, PasswordChangeForm
from .middleware import PASSWORD_OK_SESSION_KEY
from .models import LoginState
from .qr import qr_svg


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return wanted
    return resolve_url(settings.LOGIN_REDIRECT_URL)  # the first page the user's role may see


def _locked_out(request: HttpRequest, exc: services.AccountLocked) -> HttpResponse:
    """A lock reached during the second step ends the half-open session."""
    logout(request)
    messages.error(request, exc.message)
    return redirect("login")


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of login: a TOTP code or a recovery code."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.verify_second_factor(
                user=request.user, code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except services.AccountLocked as exc:
            return _locked_out(request, exc)
        except services.SecondFactorWait as exc:
            form.add_error("code", exc.message)
            return render(request, "accounts/verify.html", {"form": form, "next": _next_url(request)})
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("code", _("验证码不正确。"))
    return render(request, "accounts/verify.html", {"form": form, "next": _next_url(request)})


@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    """Bind a TOTP authenticator (the first login of anyone who needs a second factor); the
    recovery codes are shown once, on the page that confirms the binding."""
    if user_has_device(request.user):
        return redirect("accounts:verify")
    device = services.start_enrolment(user=request.user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.confirm_enrolment(
                user=request.user, device=device, code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            otp_login(request, device)
            context = {"codes": codes, "next": _next_url(request)}
            return render(request, "accounts/recovery_codes.html", context)
    context = {
        "form": form,
        # The SVG is drawn here from data of this site only (no user input but the user name).
        "qr": mark_safe(qr_svg(device.config_url)),  # noqa: S308
        "secret": services.totp_secret(device),
        "next": _next_url(request),
    }
    return render(request, "accounts/enrol.html", context)


@login_required
def password(request: HttpRequest) -> HttpResponse:
    """Change one's own password (also where an initial or expired password sends the user)."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_own_password(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            update_session_auth_hash(request, request.user)  # stay logged in with the new hash
            request.session[PASSWORD_OK_SESSION_KEY] = True
            messages.success(request, _("密码已修改。"))
            return redirect(_next_url(request))
    due = services.password_change_due(request.user)
    return render(request, "accounts/password.html", {"form": form, "due": due, "next": _next_url(request)})


@role_required(RoleCode.SECADMIN)
def member(request: HttpRequest, pk: int) -> HttpResponse:
    """The security administrator's view of one account: lock, second factor and password."""
    member = get_object_or_404(User, pk=pk)
    context = {
        "member": member,
        "state": LoginState.objects.filter(user=member).first(),
        "has_device": user_has_device(member),
        "password_form": AdminPasswordForm(),
    }
    return render(request, "accounts/member.html", context)


@require_POST
@role_required(RoleCode.SECADMIN)
def member_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """``unlock``, ``reset-2fa`` or ``password`` on one account, by the security administrator."""
    member = get_object_or_404(User, pk=pk)
    try:
        if action == "unlock":
            services.unlock_account(user=member, actor=request.user)
            messages.success(request, _("已解除锁定。"))
        elif action == "reset-2fa":
            services.reset_second_factor(user=member, actor=request.user)
            messages.success(request, _("已重置双因素认证，该账号下次登录时须重新绑定验证器。"))
        elif action == "contact":
            set_contact(
                user=member,
                email=request.POST.get("email", ""),
                # blank keeps the number on record, unless the box to remove it is ticked
                mobile=""
                if request.POST.get("remove_mobile")
                else (request.POST.get("mobile", "").strip() or None),
                actor=request.user,
            )
            messages.success(request, _("已保存联系方式：催办和督办提醒将发往新的邮箱和手机号码。"))
        elif action == "password":
            form = AdminPasswordForm(request.POST)
            if form.is_valid():
                services.set_password_by_admin(
                    user=member, new_password=form.cleaned_data["password"], actor=request.user
                )
                messages.success(request, _("已设置新密码，该账号下次登录时须修改密码。"))
            else:
                messages.error(request, _("请填写新密码。"))
        else:
            raise PermissionDenied
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from None
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    return redirect("accounts:member", pk=member.pk)
