"""The forms of the documents pages.  Parsing only: what a body, a service or a template must
satisfy is decided in ``services`` and ``templates_admin``, whose errors the views put back on
these forms (``core.forms.add_service_errors``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.models import Organisation

from .choices import DocumentKind, ServiceMethod
from .kinds import Kind


class BodyForm(forms.Form):
    """The editable fields of a kind's body (``Kind.fields``): a list for a choice, a text area
    for multi-line text.  Required fields are checked by ``services`` (its message names the field)."""

    def __init__(self, *args: Any, kind: Kind, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for spec in kind.fields:
            if spec.choices:
                field: forms.Field = forms.ChoiceField(
                    label=spec.label, required=False, choices=[("", _("请选择")), *spec.choices]
                )
            elif spec.multiline:
                field = forms.CharField(
                    label=spec.label, required=False, widget=forms.Textarea(attrs={"rows": 4})
                )
            else:
                field = forms.CharField(label=spec.label, required=False)
            field.widget.attrs.setdefault("id", f"id_{spec.name}")
            self.fields[spec.name] = field


class ApproveForm(forms.Form):
    note = forms.CharField(
        label=_("审批意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class ServiceForm(forms.Form):
    """登记送达: how, when, and what each way of service records (``services._service_detail``)."""

    method = forms.ChoiceField(label=_("送达方式"), choices=[("", _("请选择")), *ServiceMethod.choices])
    served_on = forms.DateField(
        label=_("送达日期"),
        help_text=_("邮寄送达填写信访人收到邮件的日期；公告送达填写公告期满之日。"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    recipient = forms.CharField(label=_("签收人（直接送达）"), required=False, max_length=100)
    tracking_number = forms.CharField(label=_("邮件单号（邮寄送达）"), required=False, max_length=100)
    announcement = forms.CharField(label=_("公告方式及载体（公告送达）"), required=False, max_length=200)
    note = forms.CharField(label=_("备注"), required=False, max_length=500)

    DETAIL_FIELDS = ("recipient", "tracking_number", "announcement", "note")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"served_on": timezone.localdate()})
        super().__init__(*args, **kwargs)

    def detail(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in self.DETAIL_FIELDS}


class TemplateUploadForm(forms.Form):
    file = forms.FileField(label=_("模板文件（.docx）"))
    note = forms.CharField(label=_("版本说明"), required=False, max_length=200)


class KindSettingForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("发文机关"), queryset=Organisation.objects.none())
    kind = forms.ChoiceField(label=_("文书种类"), choices=[("", _("请选择")), *DocumentKind.choices])
    prefix = forms.CharField(
        label=_("文号前缀"), max_length=20, help_text=_("例如“青信受”，文号为 青信受〔2026〕1号。")
    )
    requires_approval = forms.BooleanField(label=_("印发前须领导审批"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.order_by("path")
