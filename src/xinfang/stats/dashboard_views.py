"""/staff/stats/dashboard/: the dashboard of each casework role (issue #9 §4).

The data comes from ``stats.dashboard`` (one function per chart); the page passes it to the
chart script as JSON (``json_script``: the Content-Security-Policy allows no inline script) and
renders the same rows as tables, the charts' text for screen readers and for print.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from xinfang.core.decorators import role_required
from xinfang.core.replica import stale_ok
from xinfang.organisations.choices import CASEWORK_ROLES, OrganisationKind
from xinfang.organisations.models import Organisation
from xinfang.petitions.models import Category

from . import dashboard, figures
from .figures import Period
from .models import DirtyDay, RefreshState

PERIOD_KINDS = [("year", _("年度")), ("quarter", _("季度")), ("month", _("月度"))]
VIEW_CHOICES = [("leader", _("领导综合")), ("supervisor", _("督办考核")), ("office", _("登记受理"))]


class DashboardForm(forms.Form):
    """The dashboard's filters; anything invalid falls back to the default (this year, the
    viewer's whole area) with the form's Chinese errors shown."""

    view = forms.ChoiceField(label=_("看板"), choices=VIEW_CHOICES, required=False)
    kind = forms.ChoiceField(label=_("统计周期"), choices=PERIOD_KINDS, required=False)
    year = forms.IntegerField(label=_("年份"), min_value=2000, max_value=2100, required=False)
    # Left empty: the current quarter or month (of the year chosen).
    quarter = forms.TypedChoiceField(
        label=_("季度"),
        choices=[("", _("本季度")), *[(q, str(q)) for q in range(1, 5)]],
        coerce=int,
        empty_value=None,
        required=False,
    )
    month = forms.TypedChoiceField(
        label=_("月份"),
        choices=[("", _("本月")), *[(m, str(m)) for m in range(1, 13)]],
        coerce=int,
        empty_value=None,
        required=False,
    )
    scope = forms.ModelChoiceField(label=_("统计范围"), queryset=Organisation.objects.none(), required=False)
    category = forms.ModelChoiceField(
        label=_("问题分类"),
        queryset=Category.objects.filter(parent__isnull=True),
        required=False,
        empty_label=_("全部"),
    )

    def __init__(self, data: Any, *, area: Organisation, today: dt.date) -> None:
        super().__init__(data)
        self.area, self.today = area, today
        # The area, the areas inside it and the units directly below it: the levels worth choosing.
        self.fields["scope"].queryset = Organisation.objects.filter(path__startswith=area.path).filter(
            Q(pk=area.pk) | Q(kind=OrganisationKind.GOVERNMENT) | Q(parent_id=area.pk)
        )
        self.fields["scope"].empty_label = None
        self.fields["year"].widget.attrs["placeholder"] = str(today.year)
        # Named in the language of the request (a lazy string formatted at import would not be).
        self.fields["quarter"].choices = [("", _("本季度"))] + [
            (q, gettext("第%(q)s季度") % {"q": q}) for q in range(1, 5)
        ]
        self.fields["month"].choices = [("", _("本月"))] + [
            (m, gettext("%(m)s月") % {"m": m}) for m in range(1, 13)
        ]

    def _valid(self) -> dict[str, Any]:
        """The fields that were valid: a wrong one falls back to its default, the others stay."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return getattr(self, "cleaned_data", {})

    def period(self) -> Period:
        data = self._valid()
        year = data.get("year") or self.today.year
        kind = data.get("kind") or "year"
        if kind == "quarter":
            return Period.quarter(year, data.get("quarter") or (self.today.month - 1) // 3 + 1)
        if kind == "month":
            return Period.month(year, data.get("month") or self.today.month)
        return Period.year(year)

    def filters(self) -> dashboard.Filters:
        data = self._valid()
        scope = data.get("scope") or self.area
        return dashboard.Filters.make(self.period(), scope, data.get("category"), self.today)


@role_required(*CASEWORK_ROLES)
@stale_ok()
def dashboard_page(request: HttpRequest) -> HttpResponse:
    area = figures.area_of(request.user)
    if area is None:
        return render(request, "stats/dashboard.html", {"no_area": True}, status=200)
    today = timezone.localdate()
    form = DashboardForm(request.GET or None, area=area, today=today)
    f = form.filters()
    chosen = form._valid().get("view")
    view = chosen or dashboard.view_for(request.user.role_codes)
    data = dashboard.build(f, view)
    refresh = RefreshState.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()
    context = {
        "form": form,
        "filters": f,
        "data": data,
        "views": [(key, label, key == view) for key, label in VIEW_CHOICES],
        "refreshed_at": refresh,
        "updating": DirtyDay.objects.exists(),
        "query": _without(request.GET, "view"),
    }
    return render(request, "stats/dashboard.html", context)


def _without(params: Any, name: str) -> str:
    copy = params.copy()
    copy.pop(name, None)
    return copy.urlencode()


urlpatterns: list[URLPattern] = [path("dashboard/", dashboard_page, name="dashboard")]
