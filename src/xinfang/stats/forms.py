"""The filters of the statistics page and the parameters of the drill-down, checked against the
viewer's area (``figures.area_of``): a figure outside it is refused with a Chinese error, never a
500 and never another area's numbers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.choices import OrganisationKind
from xinfang.organisations.models import Organisation
from xinfang.petitions.choices import Channel, Purpose
from xinfang.petitions.models import Category

from .figures import Period
from .metrics import METRICS
from .tables import Query

# A custom period longer than this is refused: ten years of months is already a long page.
MAX_DAYS = 3660


PERIOD_KINDS = [
    ("day", _("日")),
    ("week", _("周")),
    ("month", _("月")),
    ("quarter", _("季")),
    ("year", _("年")),
    ("custom", _("自定义")),
]


def period_of(kind: str, day: dt.date) -> Period:
    """The period of ``kind`` that contains ``day``."""
    if kind == "day":
        return Period(day, day)
    if kind == "week":
        return Period.week(day)
    if kind == "month":
        return Period.month(day.year, day.month)
    if kind == "quarter":
        return Period.quarter(day.year, (day.month - 1) // 3 + 1)
    return Period.year(day.year)


def _inside(org: Organisation, area: Organisation) -> bool:
    return org.path.startswith(area.path)


def _scope_in_area(pk: int | None, area: Organisation) -> Organisation:
    """The organisation ``pk`` if it lies inside ``area`` (the viewer's widest scope)."""
    if pk is None:
        return area
    org = Organisation.objects.filter(pk=pk).first()
    if org is None or not _inside(org, area):
        raise forms.ValidationError(_("所选统计范围不在您的辖区内，请从列表中选择。"), code="outside_area")
    return org


class FiguresForm(forms.Form):
    """统计分析's filter: the period, the scope inside the viewer's area and an optional category."""

    period = forms.ChoiceField(label=_("统计周期"), choices=PERIOD_KINDS, initial="month")
    day = forms.DateField(
        label=_("日期"),
        required=False,
        help_text=_("按日、周、月、季、年统计时，取包含该日期的周期。"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    start = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    scope = forms.IntegerField(label=_("统计范围"), required=False, widget=forms.Select)
    category = forms.ModelChoiceField(
        label=_("问题分类"),
        queryset=Category.objects.select_related("parent"),
        required=False,
        empty_label=_("全部分类"),
    )

    def __init__(self, data: Any = None, *, area: Organisation, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.area = area
        # The area itself and the governments right under it (a city's counties); any organisation
        # inside the area is accepted (the unit tables link to departments too).
        choices = [(area.pk, _("{name}（全辖区）").format(name=area.name))]
        children = Organisation.objects.filter(parent=area, kind=OrganisationKind.GOVERNMENT).order_by("path")
        choices += [(child.pk, child.name) for child in children]
        chosen = self.data.get("scope") if self.is_bound else None
        if chosen and str(chosen).isdigit() and int(chosen) not in {c[0] for c in choices}:
            org = Organisation.objects.filter(pk=int(chosen), path__startswith=area.path).first()
            if org is not None:
                choices.append((org.pk, org.name))
        self.fields["scope"].widget.choices = choices

    @classmethod
    def with_defaults(cls, params: Any, *, area: Organisation) -> FiguresForm:
        """The form bound to ``params`` with this month as the default (so an empty page shows
        figures, and every value typed is kept when the page comes back)."""
        data = params.copy()
        data.setdefault("period", "month")
        if not data.get("day") and data.get("period") != "custom":
            data["day"] = timezone.localdate().isoformat()
        data.setdefault("scope", str(area.pk))
        return cls(data, area=area)

    def clean_scope(self) -> Organisation:
        return _scope_in_area(self.cleaned_data.get("scope"), self.area)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("period")
        if kind == "custom":
            start, end = data.get("start"), data.get("end")
            if start is None or end is None:
                raise forms.ValidationError(_("自定义周期请填写起始日期和截止日期。"), code="custom_dates")
            if end < start:
                raise forms.ValidationError(_("截止日期不能早于起始日期。"), code="reversed")
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(_("自定义周期最长十年，请缩短。"), code="too_long")
        elif kind and data.get("day") is None and "day" not in self.errors:
            raise forms.ValidationError(_("请填写日期。"), code="day")
        return data

    def query(self) -> Query:
        """The query of the valid form (call after ``is_valid()``)."""
        data = self.cleaned_data
        if data["period"] == "custom":
            period = Period(data["start"], data["end"])
        else:
            period = period_of(data["period"], data["day"])
        category: Category | None = data.get("category")
        if category is None:
            return Query(period, data["scope"])
        # A class counts its own id and every entry under it; an entry only itself.
        ids = [category.pk]
        if category.parent_id is None:
            ids += list(Category.objects.filter(parent=category).values_list("pk", flat=True))
        return Query(period, data["scope"], dimension="category", keys=tuple(str(i) for i in sorted(ids)))


DIMENSION_CHOICES = [("", _("合计")), ("category", _("问题分类")), ("channel", _("信访形式")),
                     ("purpose", _("信访目的")), ("locality", _("问题属地"))]  # fmt: skip


class DrillForm(forms.Form):
    """The drill-down's parameters, exactly as the statistics page writes them into its links."""

    metric = forms.ChoiceField(label=_("指标"), choices=[(k, m.label) for k, m in METRICS.items()])
    start = forms.DateField(label=_("起始日期"))
    end = forms.DateField(label=_("截止日期"))
    scope = forms.IntegerField(label=_("统计范围"))
    dimension = forms.ChoiceField(label=_("维度"), choices=DIMENSION_CHOICES, required=False)
    key = forms.CharField(label=_("取值"), required=False)  # repeated: read with getlist
    under = forms.IntegerField(label=_("属地范围"), required=False)
    exact = forms.BooleanField(label=_("仅本机构"), required=False)

    def __init__(self, data: Any, *, area: Organisation, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.area = area
        self.keys = tuple(data.getlist("key")) if hasattr(data, "getlist") else ()

    def clean_scope(self) -> Organisation:
        return _scope_in_area(self.cleaned_data.get("scope"), self.area)

    def clean_under(self) -> Organisation | None:
        pk = self.cleaned_data.get("under")
        if pk is None:
            return None
        org = Organisation.objects.filter(pk=pk).first()
        if org is None:
            raise forms.ValidationError(_("属地范围不存在。"), code="under")
        return org

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and (end < start or (end - start).days >= MAX_DAYS):
            raise forms.ValidationError(
                _("统计周期无效：截止日期须不早于起始日期，且不超过十年。"), code="period"
            )
        dimension = data.get("dimension") or ""
        valid = {"channel": set(Channel.values), "purpose": set(Purpose.values)}.get(dimension)
        for key in self.keys:
            ok = key in valid if valid is not None else (dimension != "" and key.isdigit())
            if not ok:
                raise forms.ValidationError(_("统计维度的取值无效，请从统计页面进入。"), code="key")
        if data.get("under") is not None and dimension != "locality":
            raise forms.ValidationError(_("属地范围只用于按问题属地统计。"), code="under")
        return data

    def query(self) -> Query:
        data = self.cleaned_data
        return Query(
            Period(data["start"], data["end"]),
            data["scope"],
            dimension=data.get("dimension") or "",
            keys=self.keys,
            exact=bool(data.get("exact")),
            under=data.get("under"),
        )
