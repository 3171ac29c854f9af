"""Forms of the assessment pages.  They parse what was typed; every rule is checked again (and
only) in stats.assessment, whose Chinese errors land on the same fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.models import Organisation

from . import assessment as services
from .models import AssessmentScheme

DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class OrganisationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        return obj.name


class OrganisationsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        return obj.name


class SchemeForm(forms.Form):
    name = forms.CharField(label=_("方案名称"), max_length=100, help_text=_("例如：2026年度信访工作考核"))
    assessor = OrganisationChoiceField(
        label=_("考核机关"), queryset=Organisation.objects.none(), empty_label=None
    )
    start = forms.DateField(label=_("考核期起"), widget=DATE)
    end = forms.DateField(label=_("考核期止"), widget=DATE)
    units = OrganisationsField(
        label=_("被考核单位"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("不选则考核本级人民政府的全部下级单位（不含本机关）；按住Ctrl可多选。"),
    )

    def __init__(self, *args: Any, office: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assessor"].queryset = Organisation.objects.filter(
            pk__in=[o.pk for o in services.assessor_choices(office)]
        ).order_by("-depth")
        self.fields["units"].queryset = services.unit_choices(office)

    @classmethod
    def initial_for(cls, scheme: AssessmentScheme) -> dict[str, Any]:
        return {
            "name": scheme.name,
            "assessor": scheme.assessor_id,
            "start": scheme.start,
            "end": scheme.end,
            "units": list(scheme.units.values_list("pk", flat=True)),
        }


DIRECTIONS = [("", _("按指标默认")), ("higher", _("越高越好")), ("lower", _("越低越好"))]


class IndicatorForm(forms.Form):
    figure = forms.ChoiceField(label=_("指标"))
    weight = forms.DecimalField(label=_("分值"), max_digits=6, decimal_places=2, min_value=0)
    target = forms.DecimalField(
        label=_("目标值"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        help_text=_("比率填百分数（如 95 表示 95%）；数量填件数。达到目标得满分，未达到按比例得分。"),
    )
    direction = forms.ChoiceField(label=_("方向"), choices=DIRECTIONS, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["figure"].choices = [("", _("请选择"))] + services.figure_choices()

    def higher_is_better(self) -> bool | None:
        direction = self.cleaned_data.get("direction")
        return None if not direction else direction == "higher"


class DeductionForm(forms.Form):
    metric = forms.ChoiceField(label=_("扣分事项"))
    points_per_item = forms.DecimalField(label=_("每件扣分"), max_digits=6, decimal_places=2, min_value=0)
    cap = forms.DecimalField(
        label=_("扣分上限"),
        max_digits=6,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("本项最多扣的分数；不填则不设上限。"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = [("", _("请选择"))] + services.deduction_choices()


class BonusForm(forms.Form):
    unit = OrganisationChoiceField(label=_("单位"), queryset=Organisation.objects.none())
    points = forms.DecimalField(label=_("加分"), max_digits=6, decimal_places=2, min_value=0)
    reason = forms.CharField(label=_("加分理由"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, scheme: AssessmentScheme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Organisation.objects.filter(
            pk__in=[u.pk for u in services.units_of(scheme)]
        ).order_by("path")


class PublishForm(forms.Form):
    reason = forms.CharField(
        label=_("重新发布理由"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("首次发布可不填；已发布过的结果重新发布必须说明理由（如更正数据、补录加分）。"),
    )
