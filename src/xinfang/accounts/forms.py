"""Forms of the login sequence and of the security administrator's account page."""

from __future__ import annotations

import math

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from xinfang.core.net import client_ip
from xinfang.core.throttle import Throttled

from .services import LoginFailed, login_with_password


class StaffLoginForm(AuthenticationForm):
    """The password step: account lock, per-address throttle and audit (services.login_with_password)."""

    def clean(self) -> dict:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = login_with_password(
                    username=username, password=password, ip=client_ip(self.request), channel="web"
                )
            except Throttled as exc:  # the account's lock or the address's throttle: one message
                raise forms.ValidationError(
                    _("登录失败次数过多，请{minutes}分钟后再试。").format(
                        minutes=math.ceil(exc.retry_after / 60)
                    ),
                    code="throttled",
                ) from None
            except LoginFailed:
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class OtpForm(forms.Form):
    code = forms.CharField(
        label=_("验证码"),
        max_length=20,
        strip=True,
        help_text=_("手机验证器上的6位数字，或一个恢复码"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label=_("验证码"),
        max_length=6,
        help_text=_("扫码后验证器显示的6位数字"),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label=_("原密码"), strip=False, widget=forms.PasswordInput)
    new_password = forms.CharField(label=_("新密码"), strip=False, widget=forms.PasswordInput)
    new_password2 = forms.CharField(label=_("再次输入新密码"), strip=False, widget=forms.PasswordInput)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", _("两次输入的新密码不一致。"))
        return data


class AdminPasswordForm(forms.Form):
    password = forms.CharField(label=_("新密码"), strip=False, widget=forms.PasswordInput)
