"""Forms of the screening pages: they parse input; every rule is in ``services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.choices import OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation, User

from . import access
from .filters import ALL, CLOSED, OPEN
from .models import DisputeKind, DisputeSource, DisputeStatus, RiskLevel, RoundKind, ScreeningRound
from .services import MAX_PARTIES, NOTE_LABELS, TRANSITIONS, PartyData

DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
PARTY_ROWS = 3


class OrgChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        return obj.name


class UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj} （{obj.organisation.name}）" if obj.organisation_id else str(obj)


def leaders_of(user: Any) -> Any:
    path = access.scope_path(user)
    if path is None:
        return User.objects.none()
    return (
        User.objects.filter(is_active=True, roles__code=RoleCode.LEADER, organisation__path__startswith=path)
        .select_related("organisation")
        .distinct()
        .order_by("organisation__path", "username")
    )


class DisputeForm(forms.Form):
    title = forms.CharField(label=_("纠纷名称"), max_length=200)
    kind = forms.ChoiceField(label=_("类别"), choices=[("", "—"), *DisputeKind.choices])
    risk = forms.ChoiceField(label=_("风险等级"), choices=RiskLevel.choices, initial=RiskLevel.LOW)
    source = forms.ChoiceField(label=_("来源"), choices=DisputeSource.choices, initial=DisputeSource.ROUND)
    round = forms.ModelChoiceField(
        label=_("排查任务"), queryset=ScreeningRound.objects.none(), required=False, empty_label="—",
        help_text=_("来源为排查任务的必选。"),
    )  # fmt: skip
    organisation = OrgChoice(
        label=_("责任单位"), queryset=Organisation.objects.none(), empty_label="—",
        help_text=_("负责化解的单位；其承办人可以更新化解进展。"),
    )  # fmt: skip
    locality = OrgChoice(
        label=_("属地"), queryset=Organisation.objects.none(), required=False, empty_label="—",
        help_text=_("纠纷发生地；不选则同责任单位。"),
    )  # fmt: skip
    screened_on = forms.DateField(
        label=_("排查日期"), required=False, widget=DATE, help_text=_("不填为今天。")
    )
    description = forms.CharField(
        label=_("基本情况"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    plan = forms.CharField(
        label=_("化解方案"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
        help_text=_("定措施、定时间、定责任：由谁、采取什么措施、何时化解。"),
    )  # fmt: skip
    deadline = forms.DateField(label=_("化解期限"), required=False, widget=DATE)
    leader = UserChoice(
        label=_("包案领导"), queryset=User.objects.none(), required=False, empty_label="—",
        help_text=_("确定后，包案领导会收到提醒。"),
    )  # fmt: skip

    def __init__(
        self, *args: Any, user: Any, with_leader: bool = True, parties_required: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        path = access.scope_path(user) or "-"
        self.fields["organisation"].queryset = access.writable_units(user)
        self.fields["locality"].queryset = Organisation.objects.filter(
            path__startswith=path, kind=OrganisationKind.GOVERNMENT
        ).order_by("path")
        self.fields["round"].queryset = access.restrict_rounds(ScreeningRound.objects.all(), user).order_by(
            "-due_on"
        )
        if with_leader:
            self.fields["leader"].queryset = leaders_of(user)
        else:
            del self.fields["leader"]
        help_first = (
            _("姓名或单位名称；身份证号码和电话加密保存，列表中只显示部分号码。")
            if parties_required
            else _("填写则替换全部当事人；留空则不变。")
        )
        for i in range(1, PARTY_ROWS + 1):
            self.fields[f"party{i}_name"] = forms.CharField(
                label=_("当事人%(n)d") % {"n": i}, max_length=100, required=False,
                help_text=help_first if i == 1 else "",
            )  # fmt: skip
            self.fields[f"party{i}_id_number"] = forms.CharField(
                label=_("身份证号码"), max_length=30, required=False
            )
            self.fields[f"party{i}_phone"] = forms.CharField(
                label=_("联系电话"), max_length=30, required=False
            )

    def parties(self) -> list[PartyData]:
        data = self.cleaned_data
        return [
            PartyData(data[f"party{i}_name"], data[f"party{i}_id_number"], data[f"party{i}_phone"])
            for i in range(1, PARTY_ROWS + 1)
            if data[f"party{i}_name"] or data[f"party{i}_id_number"] or data[f"party{i}_phone"]
        ][:MAX_PARTIES]

    def main_fields(self) -> list[Any]:
        return [f for f in self if not f.name.startswith("party")]

    def party_rows(self) -> list[list[Any]]:
        return [
            [self[f"party{i}_name"], self[f"party{i}_id_number"], self[f"party{i}_phone"]]
            for i in range(1, PARTY_ROWS + 1)
        ]


class TransitionForm(forms.Form):
    to = forms.ChoiceField(label=_("变更为"))
    note = forms.CharField(
        label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("化解中：化解措施；已化解：化解结果；转信访：原因；移交：移交的法院、仲裁机构等及理由。"),
    )  # fmt: skip
    petition = forms.CharField(
        label=_("信访事项编号"), required=False, max_length=40,
        help_text=_("转为信访事项的，填写已登记的信访编号，两者将关联。"),
    )  # fmt: skip

    def __init__(self, *args: Any, status: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [
            (s, f"{DisputeStatus(s).label}（{NOTE_LABELS[s]}）") for s in TRANSITIONS.get(status, ())
        ]


class LinkForm(forms.Form):
    petition = forms.CharField(label=_("信访事项编号"), max_length=40)


class LeaderForm(forms.Form):
    leader = UserChoice(
        label=_("包案领导"), queryset=User.objects.none(), required=False, empty_label=_("（不设）")
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = leaders_of(user)


STATUS_FILTER = [
    (OPEN, _("未办结（排查、化解中）")),
    (ALL, _("全部")),
    (CLOSED, _("已办结")),
    *DisputeStatus.choices,
]


class LedgerFilterForm(forms.Form):
    q = forms.CharField(label=_("编号或名称"), required=False, max_length=100)
    unit = OrgChoice(
        label=_("责任单位"), queryset=Organisation.objects.none(), required=False, empty_label=_("全部")
    )
    kind = forms.ChoiceField(label=_("类别"), required=False, choices=[("", _("全部")), *DisputeKind.choices])
    risk = forms.ChoiceField(
        label=_("风险等级"), required=False, choices=[("", _("全部")), *RiskLevel.choices]
    )
    status = forms.ChoiceField(label=_("状态"), required=False, choices=STATUS_FILTER)
    overdue = forms.BooleanField(label=_("只看逾期"), required=False)
    screened_from = forms.DateField(label=_("排查日期自"), required=False, widget=DATE)
    screened_to = forms.DateField(label=_("排查日期至"), required=False, widget=DATE)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        path = access.scope_path(user) or "-"
        self.fields["unit"].queryset = Organisation.objects.filter(path__startswith=path).order_by("path")


class RoundForm(forms.Form):
    title = forms.CharField(
        label=_("名称"),
        max_length=200,
        help_text=_("如“2026年12月矛盾纠纷排查”或“元旦春节前矛盾纠纷集中排查”。"),
    )
    kind = forms.ChoiceField(label=_("类型"), choices=RoundKind.choices)
    period_start = forms.DateField(label=_("排查期间自"), widget=DATE)
    period_end = forms.DateField(label=_("排查期间至"), widget=DATE)
    due_on = forms.DateField(
        label=_("报送期限"), widget=DATE, help_text=_("各单位须在此日期前（含当日）报送。")
    )
    unit_kinds = forms.MultipleChoiceField(
        label=_("报送单位"),
        choices=[
            (OrganisationKind.GOVERNMENT, _("乡镇（街道）人民政府")),
            (OrganisationKind.DEPARTMENT, _("职能部门")),
            (OrganisationKind.COURT, _("人民法院")),
            (OrganisationKind.POLITICAL_LEGAL, _("政法委")),
        ],
        initial=[OrganisationKind.GOVERNMENT, OrganisationKind.DEPARTMENT],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("本辖区内这些类型的单位都须报送；下发后各单位人员会收到提醒。"),
    )
    instructions = forms.CharField(
        label=_("排查要求"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )


class ReturnForm(forms.Form):
    zero = forms.BooleanField(label=_("零报告（本期未排查发现矛盾纠纷）"), required=False)
    disputes = forms.CharField(
        label=_("排查发现的矛盾纠纷"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("矛盾纠纷编号，每行一个或用逗号分隔；请先在台账中登记（来源选本次排查任务）。"),
    )  # fmt: skip
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class BriefingForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        label=_("季度"),
        coerce=int,
        choices=[(1, _("第一季度")), (2, _("第二季度")), (3, _("第三季度")), (4, _("第四季度"))],
    )


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("期间自"), required=False, widget=DATE)
    end = forms.DateField(label=_("期间至"), required=False, widget=DATE)
