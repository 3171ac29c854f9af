"""Public forms of the portal (网上信访).  Only public fields; validation rules stay in the services."""

from __future__ import annotations

from captcha.fields import CaptchaField
from django import forms
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from xinfang.core.forms import MultipleFileField
from xinfang.petitions import attachments as att
from xinfang.petitions.choices import Channel, Purpose
from xinfang.petitions.drafts import PetitionDraft, PetitionerDraft
from xinfang.petitions.forms import CategoryChoiceField, leaf_categories
from xinfang.petitions.services import localities
from xinfang.petitions.validators import check_id_number, check_phone
from xinfang.workflow.models import Rating

from .services import PORTAL_ATTACHMENT_LIMIT


class SubmitForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=18,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    phone = forms.CharField(
        label=_("手机号码"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    address = forms.CharField(label=_("联系地址"), max_length=200, required=False)
    purpose = forms.ChoiceField(label=_("信访目的"), choices=Purpose.choices)
    locality = forms.ModelChoiceField(label=_("问题发生地"), queryset=localities(), empty_label=_("请选择"))
    category = CategoryChoiceField(label=_("问题类别"), queryset=leaf_categories(), empty_label=_("请选择"))
    title = forms.CharField(label=_("标题"), max_length=200)
    content = forms.CharField(
        label=_("诉求内容"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("请写明您的诉求、事实和理由。"),
    )
    # A report's accused, in the citizen's own words only: the office confirms whom it accuses before
    # the report goes anywhere (issue #7 point 1), and never reveals it to them (条例 Art. 30 ¶3).
    subject_name = forms.CharField(
        label=_("被反映（检举控告）的单位或人员"),
        max_length=200,
        required=False,
        help_text=_("选填。检举控告的，请写明被检举控告的单位或人员；我们依法为您保密。"),
    )
    attachments = MultipleFileField(
        label=_("附件"),
        required=False,
        # format_lazy: formatted per request, in the reader's language (not once at import).
        help_text=format_lazy(
            _("最多{n}个，单个不超过10MB：{types}"),
            n=PORTAL_ATTACHMENT_LIMIT,
            types=" ".join(att.ALLOWED_SUFFIXES),
        ),
    )
    # The library's own Chinese says 认证码; the label says 验证码: one word on the page.
    captcha = CaptchaField(
        label=_("验证码"),
        error_messages={
            "invalid": _("验证码错误，请重新输入（看不清可点“换一张”）。"),
            "required": _("请输入验证码。"),
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["locality"].queryset = localities()
        self.fields["category"].queryset = leaf_categories()

    # The service checks all of this again; checking here too shows every error at once.
    def clean_id_number(self) -> str:
        return check_id_number(self.cleaned_data["id_number"])

    def clean_phone(self) -> str:
        return check_phone(self.cleaned_data["phone"])

    def clean_attachments(self) -> list:
        uploads = self.cleaned_data["attachments"]
        att.check_attachments(uploads, limit=PORTAL_ATTACHMENT_LIMIT)
        return uploads

    def to_draft(self) -> PetitionDraft:
        data = self.cleaned_data
        return PetitionDraft(
            channel=Channel.ONLINE,
            purpose=data["purpose"],
            title=data["title"],
            content=data["content"],
            category_id=data["category"].pk,
            locality_id=data["locality"].pk,
            received_on=timezone.localdate(),
            subject_name=data.get("subject_name", ""),
            petitioners=[
                PetitionerDraft(
                    name=data["name"],
                    id_number=data["id_number"],
                    phone=data["phone"],
                    address=data.get("address", ""),
                )
            ],
            attachments=data.get("attachments") or [],
        )


class TrackForm(forms.Form):
    number = forms.CharField(label=_("信访编号"), max_length=40)
    code = forms.CharField(
        label=_("查询码"), max_length=20, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )


# --- the petitioner's actions on the tracking page (issue #3) ---------------------------------------
# Each form posts to its own URL; the field names are the service's keyword arguments.  What the
# workflow checks (a reason for "dissatisfied", a non-blank request, the state and the windows) is
# left to the service, whose Chinese refusal is shown at the field it names.

_REASONS_MAX = 5000


class EvaluateForm(forms.Form):
    """满意度评价: the petition office and the handling unit are rated separately."""

    office_rating = forms.ChoiceField(
        label=_("对信访部门的评价"),
        choices=Rating.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择对信访部门的评价。")},
    )
    unit_rating = forms.ChoiceField(
        label=_("对办理单位的评价"),
        choices=Rating.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择对办理单位的评价。")},
    )
    reasons = forms.CharField(
        label=_("理由"),
        required=False,
        max_length=_REASONS_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("评价为不满意的，请填写理由。"),
    )


class ReviewRequestForm(forms.Form):
    """请求复查 / 请求复核: the request and its reasons (the service refuses a blank one)."""

    reasons = forms.CharField(
        label=_("请求及理由"),
        required=False,
        max_length=_REASONS_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class WithdrawForm(forms.Form):
    """撤回: the petitioner needs to give no reason."""

    reasons = forms.CharField(
        label=_("撤回理由（可不填）"),
        required=False,
        max_length=_REASONS_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


ACTION_FORMS: dict[str, type[forms.Form]] = {
    "evaluate": EvaluateForm,
    "request_review": ReviewRequestForm,
    "request_recheck": ReviewRequestForm,
    "withdraw": WithdrawForm,
}


def action_form(action: str, data: dict | None = None) -> forms.Form:
    """The form of ``action``, with ids prefixed by the action: several forms share a page."""
    return ACTION_FORMS[action](data, auto_id=action + "-%s")
