"""Forms of the information pages: what people type, checked again by the services."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from xinfang.organisations.models import Organisation, User

from . import services
from .models import ReportKind, ReportStatus, ReportUse

_NUMBER_SPLIT = re.compile(r"[\s,，、;；]+")


def split_numbers(text: str) -> list[str]:
    """Numbers typed one per line or separated by commas (either width), 、 or semicolons."""
    return [n for n in _NUMBER_SPLIT.split(text or "") if n]


class _OrgField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        return obj.name


class _LeaderField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj}（{obj.organisation.name}）" if obj.organisation_id else str(obj)


_DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class ReportForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("类别"),
        choices=[("", "—")] + list(ReportKind.choices),
        help_text=gettext_lazy(
            "紧急信息（重大、紧急信访事项，《信访工作条例》第二十五条）送签后立即短信提醒签发领导，签发即报送。"
        ),
    )
    receiver = _OrgField(
        label=gettext_lazy("报送单位（接收）"),
        queryset=Organisation.objects.none(),
        empty_label=None,
        help_text=gettext_lazy("默认为上一级信访工作机构。"),
    )
    title = forms.CharField(label=gettext_lazy("标题"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("正文"),
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=gettext_lazy(
            "每段一行。写明事由、基本情况、已采取的处置措施和下一步工作。"
            "不得写入信访人的身份证号码：信息要逐级报送并可能被转发、汇编。"
        ),
    )
    petitions = forms.CharField(
        label=gettext_lazy("涉及信访事项"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("信访编号，每行一个或用逗号分隔（可不填）。"),
    )
    disputes = forms.CharField(
        label=gettext_lazy("涉及矛盾纠纷"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("矛盾纠纷编号，每行一个或用逗号分隔（可不填）。"),
    )
    period_start = forms.DateField(label=gettext_lazy("附带数据：起始日期"), required=False, widget=_DATE)
    period_end = forms.DateField(
        label=gettext_lazy("附带数据：截止日期"),
        required=False,
        widget=_DATE,
        help_text=gettext_lazy(
            "填写后附上本地区该期间的信访总量、初信初访、重复信访、集体访等数据；送签后数据固定不变。"
        ),
    )
    copy_to = forms.CharField(label=gettext_lazy("抄送"), max_length=200, required=False)

    def __init__(self, *args: Any, office: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["receiver"].queryset = services.receiver_choices(office)


class SubmitForm(forms.Form):
    approver = _LeaderField(
        label=gettext_lazy("送签领导"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("本机关或本级政府任一领导"),
        help_text=gettext_lazy("送签后，领导会收到提醒并签发或退回；紧急信息同时短信提醒。"),
    )

    def __init__(self, *args: Any, office: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["approver"].queryset = services.approver_choices(office).select_related("organisation")


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("退回理由"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("拟稿人会收到提醒，修改后重新送签。"),
    )


class FeedbackForm(forms.Form):
    use = forms.ChoiceField(
        label=gettext_lazy("采用情况"),
        choices=[("", "—")] + [c for c in ReportUse.choices if c[0]],
        help_text=gettext_lazy("批示须由领导作出。反馈意见将返回报送单位。"),
    )
    feedback = forms.CharField(
        label=gettext_lazy("反馈意见 / 批示内容"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


MINE_STATES = [
    ("open", gettext_lazy("未报送（草稿、退回、待签发、待报送）")),
    *[(s, label) for s, label in ReportStatus.choices],
    ("all", gettext_lazy("全部")),
]
INBOX_STATES = [
    ("pending", gettext_lazy("未反馈")),
    ("unread", gettext_lazy("未读")),
    ("done", gettext_lazy("已反馈")),
    ("all", gettext_lazy("全部")),
]


class _LedgerFilter(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("类别"),
        required=False,
        choices=[("", gettext_lazy("全部"))] + list(ReportKind.choices),
    )
    start = forms.DateField(label=gettext_lazy("报送日期自"), required=False, widget=_DATE)
    end = forms.DateField(label=gettext_lazy("至"), required=False, widget=_DATE)


class MineFilter(_LedgerFilter):
    status = forms.ChoiceField(label=gettext_lazy("状态"), required=False, choices=MINE_STATES)


class InboxFilter(_LedgerFilter):
    state = forms.ChoiceField(label=gettext_lazy("阅处情况"), required=False, choices=INBOX_STATES)
    office = _OrgField(
        label=gettext_lazy("报送单位"), queryset=Organisation.objects.none(), required=False,
        empty_label=gettext_lazy("全部"),
    )  # fmt: skip

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        senders = services.inbox(user).values("office_id")
        self.fields["office"].queryset = Organisation.objects.filter(pk__in=senders).order_by("path")
