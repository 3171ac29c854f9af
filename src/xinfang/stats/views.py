"""统计分析: the statistics page (``stats:figures``) and the drill-down behind every figure
(``stats:drill``), each downloadable as XLSX.  The tables come from ``tables`` (the same ones the
API reads), the list from ``drill``; this module only validates and renders."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from xinfang.core.decorators import role_required
from xinfang.core.pagination import CappedPaginator
from xinfang.core.replica import stale_ok
from xinfang.core.xlsx import xlsx_response
from xinfang.organisations.choices import CASEWORK_ROLES

from . import drill, figures, tables
from .forms import DrillForm, FiguresForm
from .metrics import METRICS
from .models import DirtyDay, RefreshState

PAGE_SIZE = 30


def freshness() -> dict[str, Any]:
    """When the counts were last brought up to date, and whether days wait to be recomputed."""
    state = RefreshState.objects.filter(pk=1).only("refreshed_at").first()
    return {
        "refreshed_at": state.refreshed_at if state is not None else None,
        "updating": DirtyDay.objects.exists(),
    }


def _no_area(request: HttpRequest, template: str) -> HttpResponse:
    message = _("您的账号未归属任何机构，无法查看统计数据，请联系安全管理员。")
    return render(request, template, {"area_error": message}, status=403)


@role_required(*CASEWORK_ROLES)
@stale_ok()
def statistics(request: HttpRequest) -> HttpResponse:
    """Counts and rates of the chosen period and scope with 同比 and 环比, and the breakdowns;
    ``?format=xlsx&table=<key>`` downloads one table exactly as shown."""
    area = figures.area_of(request.user)
    if area is None:
        return _no_area(request, "stats/figures.html")
    form = FiguresForm.with_defaults(request.GET, area=area)
    context: dict[str, Any] = {"form": form, "area": area, **freshness()}
    if not form.is_valid():
        return render(request, "stats/figures.html", context)
    query = form.query()
    overview, all_tables = tables.statistics_tables(query)
    if request.GET.get("format") == "xlsx":
        chosen = next((t for t in all_tables if t.key == request.GET.get("table")), all_tables[0])
        title = f"{chosen.title}-{query.scope.name}-{query.period.start:%Y%m%d}-{query.period.end:%Y%m%d}"
        return xlsx_response(title=title, header=chosen.header(), rows=chosen.sheet_rows(), note=chosen.note)
    context.update(
        query=query,
        overview=overview,
        tables=all_tables,
        by_category=query.dimension == "category",
    )
    return render(request, "stats/figures.html", context)


@role_required(*CASEWORK_ROLES)
@stale_ok()
def drill_down(request: HttpRequest) -> HttpResponse:
    """The rows behind one figure: its label, definition and total, then the rows the viewer may
    see, 30 a page (``?format=xlsx``: all of them, up to the export cap, audited)."""
    area = figures.area_of(request.user)
    if area is None:
        return _no_area(request, "stats/drill.html")
    form = DrillForm(request.GET, area=area)
    if not form.is_valid():
        return render(request, "stats/drill.html", {"form": form}, status=400)
    metric = form.cleaned_data["metric"]
    query = form.query()
    rows = tables.drill_rows(metric, query)
    total = figures.drill_total(metric, rows)
    listed = drill.ordered(drill.restricted(rows, metric, request.user), metric)
    definition = METRICS[metric]
    title = _("{label}-{scope}-{start:%Y%m%d}-{end:%Y%m%d}").format(
        label=definition.label, scope=query.scope.name, start=query.period.start, end=query.period.end
    )
    if request.GET.get("format") == "xlsx":
        filters = {
            k: request.GET.getlist(k) if k == "key" else v for k, v in request.GET.items() if k != "format"
        }
        return drill.drill_xlsx(listed, metric, request.user, title=title, filters=filters)
    # Counted no further than core.pagination's cap, as every list; what the viewer may not see is
    # said only when both counts are exact.
    page = CappedPaginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    row_count = rows.count() if definition.persons else total
    hidden = row_count - page.paginator.count if page.paginator.count_exact else 0
    cols = drill.extras(metric)
    context = {
        "form": form,
        "metric": definition,
        "query": query,
        "total": total,
        "source_note": drill.source_note(metric),
        "row_count": row_count,
        "hidden": hidden,
        "page": page,
        "columns": drill.columns(metric),
        "lines": [(drill.petition_of(obj, metric), [c.value(obj) for c in cols]) for obj in page],
        "back": _figures_link(query),
    }
    return render(request, "stats/drill.html", context)


def _figures_link(query: tables.Query) -> str:
    """Back to the statistics page for the figure's period and scope."""
    params = {
        "period": "custom",
        "start": query.period.start.isoformat(),
        "end": query.period.end.isoformat(),
        "scope": query.scope.pk,
    }
    return reverse("stats:figures") + "?" + urlencode(params)


urlpatterns: list[URLPattern] = [
    path("", statistics, name="figures"),
    path("drill/", drill_down, name="drill"),
]
