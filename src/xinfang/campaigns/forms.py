"""Forms of the campaigns pages: they parse input; every rule is in ``services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.models import Organisation

from .backlog import REASON_LABELS
from .models import BacklogRule, CampaignStatus, CaseStatus, ReliefStatus, TargetMetric

DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class NamedChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return getattr(obj, "name", None) or str(obj)


class RuleForm(forms.ModelForm):
    class Meta:
        model = BacklogRule
        fields = ["overdue_enabled", "overdue_days", "repeat_enabled", "repeat_count", "concluded_enabled"]


class CategoryForm(forms.Form):
    name = forms.CharField(
        label=_("新增化解类别"), max_length=30, help_text=_("如“化解一批”“依法处理一批”。")
    )


class BacklogFilterForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("积案情形"), required=False, choices=[("", _("全部"))] + list(REASON_LABELS.items())
    )
    uncontracted = forms.BooleanField(label=_("仅未包案"), required=False)


class CampaignForm(forms.Form):
    name = forms.CharField(
        label=_("名称"), max_length=100, help_text=_("如“百日攻坚”“信访积案化解专项行动”。")
    )
    organisation = NamedChoiceField(
        label=_("范围"), queryset=Organisation.objects.none(), required=False,
        help_text=_("该地区（含下辖单位）的信访积案；不选为本地区。"),
    )  # fmt: skip
    starts_on = forms.DateField(label=_("开始日期"), widget=DATE)
    ends_on = forms.DateField(label=_("结束日期"), widget=DATE)
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    target_resolution_rate = forms.DecimalField(
        label=_("目标化解率（%）"), required=False, max_digits=5, decimal_places=1,
        help_text=_("如95，即化解率≥95%；不填为不设目标。"),
    )  # fmt: skip
    target_contract_rate = forms.DecimalField(
        label=_("目标包案率（%）"), required=False, max_digits=5, decimal_places=1
    )

    def __init__(self, *args: Any, organisations: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if organisations is None:
            del self.fields["organisation"]
        else:
            self.fields["organisation"].queryset = organisations

    def targets(self) -> dict[str, Any]:
        return {m: self.cleaned_data.get(f"target_{m}") for m in TargetMetric.values}


class CampaignFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"), required=False,
        choices=[("", _("筹备中和进行中")), ("all", _("全部"))] + list(CampaignStatus.choices),
    )  # fmt: skip


class AddCasesForm(forms.Form):
    petitions = forms.CharField(
        label=_("信访编号"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一个或用逗号分隔；也可在积案清单中勾选后列入。"),
    )  # fmt: skip
    category = forms.ChoiceField(label=_("化解类别"), required=False)

    def __init__(self, *args: Any, categories: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("暂不分类"))] + [(c.pk, c.name) for c in categories]


class CaseFilterForm(forms.Form):
    unit = forms.CharField(required=False, widget=forms.HiddenInput)
    category = forms.CharField(required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label=_("状态"), required=False,
        choices=[("", _("全部")), *CaseStatus.choices,
                 ("concluded", _("已办结")), ("contracted", _("已包案"))],
    )  # fmt: skip


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=CampaignStatus.choices, widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("总结"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("结束时填写：主要做法和成效，将写入总结报告。"),
    )  # fmt: skip


class CaseForm(forms.Form):
    category = forms.ChoiceField(label=_("化解类别"), required=False)
    unit = NamedChoiceField(label=_("责任单位"), queryset=Organisation.objects.none(), required=False)

    def __init__(self, *args: Any, categories: list[Any] = (), units: Any = None, **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("未分类"))] + [(c.pk, c.name) for c in categories]
        if units is not None:
            self.fields["unit"].queryset = units


class ContractForm(forms.Form):
    leader = NamedChoiceField(label=_("包案领导"), queryset=Organisation.objects.none())
    measures = forms.CharField(
        label=_("化解措施"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("定领导、定措施、定时间、定责任：写明谁做什么。"),
    )  # fmt: skip
    due_on = forms.DateField(label=_("包案期限"), widget=DATE)

    def __init__(self, *args: Any, leaders: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if leaders is not None:
            self.fields["leader"].queryset = leaders
            self.fields["leader"].label_from_instance = lambda u: f"{u}（{u.organisation.name}）"


class ResolveForm(forms.Form):
    resolved_on = forms.DateField(label=_("化解日期"), widget=DATE)
    note = forms.CharField(
        label=_("化解情况"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("做了什么、信访人是否息访。"),
    )  # fmt: skip


class ReliefFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部"))] + list(ReliefStatus.choices)
    )


class ReliefForm(forms.Form):
    petition = forms.CharField(label=_("信访编号"), max_length=40, help_text=_("通常为已终结的信访事项。"))
    applicant = forms.TypedChoiceField(label=_("申请人"), coerce=int, required=False)
    reason = forms.CharField(
        label=_("申请理由"), widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("生活困难情况、救助依据（《信访工作条例》第三十七条）。"),
    )  # fmt: skip
    amount = forms.DecimalField(label=_("申请金额（元）"), max_digits=12, decimal_places=2, min_value=0)
    campaign_case = forms.TypedChoiceField(
        label=_("关联专项行动案件"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, petitioners: list[Any] = (), cases: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["applicant"].choices = [("", _("请先填写信访编号"))] + [
            (p.pk, p.name) for p in petitioners
        ]
        self.fields["campaign_case"].choices = [("", _("不关联"))] + [(c.pk, c.campaign.name) for c in cases]


class ApproveForm(forms.Form):
    amount = forms.DecimalField(label=_("批准金额（元）"), max_digits=12, decimal_places=2)


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("不予批准理由"), widget=forms.Textarea(attrs={"rows": 3}))


class PayForm(forms.Form):
    paid_on = forms.DateField(label=_("发放日期"), widget=DATE)
