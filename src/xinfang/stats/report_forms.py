"""Forms of the report pages: which report to generate, and an office's own template."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.choices import OrganisationKind
from xinfang.organisations.models import Organisation

from .models import ReportKind

YEARS_BACK = 10


def year_choices() -> list[tuple[int, str]]:
    this_year = timezone.localdate().year
    return [(y, _("{y}年").format(y=y)) for y in range(this_year, this_year - YEARS_BACK, -1)]


def month_choices() -> list[tuple[Any, str]]:
    """Called when the form is built, so the labels are in the request's language."""
    return [("", _("请选择"))] + [(m, _("{m}月").format(m=m)) for m in range(1, 13)]


class ReportForm(forms.Form):
    """A monthly report (a year and a month) or the annual report (a year)."""

    kind = forms.ChoiceField(label=_("报告类型"), choices=ReportKind.choices)
    year = forms.TypedChoiceField(label=_("年份"), coerce=int, choices=year_choices)
    month = forms.TypedChoiceField(
        label=_("月份"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=month_choices,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == ReportKind.MONTHLY and not data.get("month"):
            self.add_error("month", _("月报请选择月份。"))
        year, month = data.get("year"), data.get("month")
        today = timezone.localdate()
        if (
            data.get("kind") == ReportKind.MONTHLY
            and year
            and month
            and (year, month) > (today.year, today.month)
        ):
            self.add_error("month", _("该月尚未开始，无法生成月报。"))
        return data


class TemplateUploadForm(forms.Form):
    """A replacement DOCX template for one petition office and one kind of report."""

    office = forms.ModelChoiceField(label=_("信访部门"), queryset=Organisation.objects.none())
    kind = forms.ChoiceField(label=_("报告类型"), choices=ReportKind.choices)
    file = forms.FileField(label=_("模板文件（.docx）"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The petition offices of the administrator's own tree (a province's sysadmin: all of it).
        offices = Organisation.objects.filter(kind=OrganisationKind.PETITION_OFFICE, is_active=True)
        org = getattr(user, "organisation", None)
        if org is not None:
            offices = offices.filter(path__startswith=org.path)
        self.fields["office"].queryset = offices.order_by("path")
