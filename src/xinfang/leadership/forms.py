"""Forms of the leadership pages.  They parse input only; the services hold every rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.models import Organisation, User

from .models import ContractStatus, InstructionStatus, ShiftKind

DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        org = obj.organisation.name if obj.organisation_id else ""
        return f"{obj}（{org}）" if org else str(obj)


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        return obj.name


class ContractForm(forms.Form):
    leader = StaffChoiceField(label=_("包案领导"), queryset=User.objects.none(), empty_label="—")
    official = StaffChoiceField(
        label=_("责任人"), queryset=User.objects.none(), required=False, empty_label="—"
    )
    handler = StaffChoiceField(
        label=_("承办人"), queryset=User.objects.none(), required=False, empty_label="—"
    )
    measures = forms.CharField(
        label=_("化解措施"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("定措施：走访、约谈、协调会、依法处理等具体安排。"),
    )
    due_on = forms.DateField(
        label=_("办结期限"), widget=DATE, help_text=_("定时间：包案领导承诺办结的日期。")
    )
    milestones = forms.CharField(
        label=_("工作节点"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "2026-12-10 走访信访人"}),
        help_text=_("每行一个：日期（YYYY-MM-DD）空格 节点名称；节点日期不得晚于办结期限。"),
    )

    def __init__(self, *args: Any, leaders: Any, team: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = leaders
        self.fields["official"].queryset = team
        self.fields["handler"].queryset = team

    def clean_milestones(self) -> list[tuple[str, dt.date]]:
        rows = []
        for line in (self.cleaned_data.get("milestones") or "").splitlines():
            line = line.strip()
            if not line:
                continue
            day, _sep, title = line.partition(" ")
            try:
                due = dt.date.fromisoformat(day.strip())
            except ValueError:
                raise forms.ValidationError(
                    _("“%(line)s”的格式不对：应为 日期（YYYY-MM-DD）空格 节点名称。"), params={"line": line}
                ) from None
            rows.append((title.strip() or _("节点"), due))
        return rows


class ProgressForm(forms.Form):
    on = forms.DateField(label=_("日期"), widget=DATE, required=False, help_text=_("不填为今天。"))
    text = forms.CharField(label=_("进展情况"), widget=forms.Textarea(attrs={"rows": 3}))


class CloseContractForm(forms.Form):
    result = forms.CharField(
        label=_("办结情况"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("必填：问题如何解决、信访人是否息诉罢访、有无遗留问题。"),
    )


class ContractFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("包案中（默认）")), ("all", _("全部"))] + list(ContractStatus.choices[1:]),
    )
    leader = StaffChoiceField(
        label=_("包案领导"), queryset=User.objects.none(), required=False, empty_label="—"
    )
    late = forms.BooleanField(label=_("仅看逾期"), required=False)
    mine = forms.BooleanField(label=_("仅看我参与的"), required=False)
    q = forms.CharField(label=_("编号"), required=False, max_length=40)

    def __init__(self, *args: Any, leaders: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = leaders


class PolicyForm(forms.Form):
    require_for_listed = forms.BooleanField(label=_("挂牌督办事项须领导包案"), required=False)
    require_for_backlog = forms.BooleanField(
        label=_("信访积案须领导包案"), required=False, help_text=_("积案的认定见专项行动（积案化解）。")
    )


class InstructionForm(forms.Form):
    unit = UnitChoiceField(label=_("承办单位"), queryset=Organisation.objects.none(), empty_label="—")
    text = forms.CharField(
        label=_("批示内容"),
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "请人社局于12月10日前办理并报结果。"}),
    )
    due_on = forms.DateField(label=_("办理期限"), widget=DATE)

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


class AnswerForm(forms.Form):
    text = forms.CharField(
        label=_("办理结果"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("提交后送回批示领导阅示。"),
    )


class ReturnForm(forms.Form):
    text = forms.CharField(label=_("继续办理的要求"), widget=forms.Textarea(attrs={"rows": 3}))
    due_on = forms.DateField(
        label=_("新的办理期限"), widget=DATE, required=False, help_text=_("不填则不变。")
    )


class CloseInstructionForm(forms.Form):
    note = forms.CharField(label=_("阅示意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class InstructionFilterForm(forms.Form):
    box = forms.ChoiceField(
        label=_("范围"),
        required=False,
        choices=[
            ("", _("办理中（默认）")),
            ("todo", _("交本单位办理")),
            ("answered", _("已回复待阅（我批示的）")),
            ("issued", _("我批示的")),
            ("all", _("全部")),
        ],
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部"))] + list(InstructionStatus.choices)
    )
    overdue = forms.BooleanField(label=_("仅看逾期"), required=False)


class ShiftForm(forms.Form):
    organisation = UnitChoiceField(label=_("值班单位"), queryset=Organisation.objects.none(), empty_label="—")
    date = forms.DateField(label=_("值班日期"), widget=DATE)
    kind = forms.ChoiceField(label=_("班次"), choices=ShiftKind.choices)
    leader = StaffChoiceField(label=_("带班领导"), queryset=User.objects.none(), empty_label="—")
    staff_on_duty = forms.CharField(label=_("值班人员"), required=False, max_length=200)
    phone = forms.CharField(label=_("值班电话"), required=False, max_length=40)

    def __init__(self, *args: Any, units: Any, leaders: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = units
        self.fields["leader"].queryset = leaders


class DutyLogForm(forms.Form):
    at = forms.DateTimeField(
        label=_("时间"), widget=forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"})
    )
    happened = forms.CharField(label=_("值班情况"), widget=forms.Textarea(attrs={"rows": 3}))
    petitions = forms.CharField(
        label=_("涉及信访事项"), required=False, help_text=_("信访编号，多个用逗号或空格分隔。")
    )
    action_taken = forms.CharField(
        label=_("处理情况"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    handed_over_to = forms.CharField(label=_("交接给"), required=False, max_length=100)
