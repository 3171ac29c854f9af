"""Admin forms: the organisation tree and staff accounts (the login form is in ``accounts``)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from .choices import Level, OrganisationKind, RoleCode
from .models import Organisation, User


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    code = forms.CharField(label=_("代码"), max_length=20, required=False)
    kind = forms.ChoiceField(label=_("类型"), choices=OrganisationKind.choices)
    level = forms.ChoiceField(label=_("层级"), choices=Level.choices)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)


class OrganisationImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV 文件"), help_text=_("UTF-8 编码，列：name, code, kind, level, parent_code, parent_name")
    )


class StaffForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    full_name = forms.CharField(label=_("姓名"), max_length=50)
    organisation = forms.ModelChoiceField(
        label=_("所属机构"), queryset=Organisation.objects.filter(is_active=True)
    )
    roles = forms.MultipleChoiceField(
        label=_("角色"), choices=RoleCode.choices, widget=forms.CheckboxSelectMultiple
    )
    password = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput, strip=False)
    email = forms.EmailField(label=_("电子邮箱"), required=False, help_text=_("接收催办、督办等提醒邮件"))
    mobile = forms.CharField(
        label=_("手机号码"),
        required=False,
        max_length=20,
        help_text=_("接收挂牌督办、督办升级、超期等紧急短信提醒"),
    )
    is_system_account = forms.BooleanField(
        label=_("系统账号"), required=False, help_text=_("供12345平台等系统对接使用，凭接口令牌访问")
    )
    reason = forms.CharField(
        label=_("事由"),
        max_length=200,
        required=False,
        help_text=_("所选角色须经另一名安全管理员或系统管理员审批后才生效"),
    )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username=username).exists():
            raise forms.ValidationError(_("用户名已存在。"))
        return username

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        validate_password(password)
        return password


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("角色"), choices=RoleCode.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    is_active = forms.BooleanField(label=_("启用"), required=False)
    reason = forms.CharField(
        label=_("事由"),
        max_length=200,
        help_text=_(
            "增加角色、调整管理员或重新启用账号，须经另一名安全管理员或系统管理员审批后生效；"
            "撤销业务角色、停用业务账号立即生效"
        ),
    )


class GrantDecisionForm(forms.Form):
    """Approve or reject a grant request; a rejection needs its reason (checked by the service)."""

    reason = forms.CharField(label=_("审批意见"), max_length=200, required=False)
