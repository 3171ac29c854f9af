"""时限违规 (``stats:violations``) and 承办人统计 (``stats:handlers``): the deadlines the bodies of
the viewer's area missed, per unit and as a list, and one unit's figures per handler with the rows
behind each number.  The figures come from ``violations`` and ``handlers``; this module validates
the filters against the viewer's area, renders and exports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinfang.audit.services import record_event
from xinfang.core.decorators import role_required
from xinfang.core.replica import stale_ok
from xinfang.core.xlsx import xlsx_response
from xinfang.organisations.choices import RoleCode
from xinfang.organisations.models import Organisation
from xinfang.petitions.models import Petition
from xinfang.workflow.models import DeadlineKind

from . import figures, handlers, violations
from .forms import FiguresForm
from .tables import Query

PAGE_SIZE = 30
EXPORT_CAP = 10_000
# Shown instead of the number of a petition the viewer may not open.
HIDDEN = gettext_lazy("（保密或回避，不显示）")
# Supervisors and leaders see their area (figures.area_of); a unit's handler sees the unit's own.
ROLES = (RoleCode.SUPERVISOR, RoleCode.LEADER, RoleCode.HANDLER)


class ViolationsForm(FiguresForm):
    """The statistics page's period and scope (inside the viewer's area), and a deadline kind."""

    kind = forms.ChoiceField(
        label=gettext_lazy("时限类别"),
        choices=[("", gettext_lazy("全部类别")), *DeadlineKind.choices],
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _units_to_choose(self)


class HandlersForm(FiguresForm):
    """One unit (the viewer's own, or one inside their area) and the period."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _units_to_choose(self)


def _units_to_choose(form: FiguresForm) -> None:
    """No category; the scope is a unit: the area's governments (the statistics page's list), then
    the bodies two levels under the area (a county's offices and departments …), in one query."""
    del form.fields["category"]
    scope = form.fields["scope"]
    scope.label = gettext_lazy("单位")
    area = form.area
    units = Organisation.objects.filter(path__startswith=area.path, depth__lte=area.depth + 2)
    known = {c[0] for c in scope.widget.choices}
    extra = [(o.pk, o.name) for o in units.order_by("path") if o.pk not in known]
    scope.widget.choices = [*scope.widget.choices, *extra]


def _outside_area(form: FiguresForm) -> bool:
    return any(e.code == "outside_area" for e in form.errors.as_data().get("scope", []))


def _filtered(request: HttpRequest, form_class: type[FiguresForm], template: str) -> Any:
    """The bound form of the viewer's area, or the response refusing it (no area, scope outside
    the area: 403 with the reason in Chinese; other invalid input: the form's errors)."""
    area = figures.area_of(request.user)
    if area is None:
        message = _("您的账号未归属任何机构，无法查看统计数据，请联系安全管理员。")
        return render(request, template, {"area_error": message}, status=403)
    form = form_class.with_defaults(request.GET, area=area)
    if not form.is_valid():
        status = 403 if _outside_area(form) else 200
        return render(request, template, {"form": form, "area": area}, status=status)
    return form


# --- 时限违规 ------------------------------------------------------------------------------------


def _visible(user: Any, petition_ids: Iterable[int]) -> set[int]:
    """Which of these petitions the viewer may open (the rest are shown without number or title:
    a confidential report stays hidden from the body it accuses, a recusal from the person)."""
    ids = list(set(petition_ids))
    seen: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        seen.update(Petition.objects.restrict(user).filter(pk__in=chunk).values_list("pk", flat=True))
    return seen


def _line(record: Any, visible: set[int], today: Any) -> dict[str, Any]:
    return {
        "record": record,
        "number": record.petition.number if record.petition_id in visible else "",
        "days_late": violations.days_late(record, today),
        "status": violations.status_of(record),
        "how": violations.how_closed(record),
        "closed_by": (record.closed_by.full_name or record.closed_by.username) if record.closed_by else "",
    }


def _violations_xlsx(request: HttpRequest, query: Query, records: Any, kind: str) -> HttpResponse:
    rows = list(violations.listed(records)[: EXPORT_CAP + 1])
    capped = len(rows) > EXPORT_CAP
    rows = rows[:EXPORT_CAP]
    visible = _visible(request.user, (r.petition_id for r in rows))
    today = timezone.localdate()
    header = [_("单位"), _("信访编号"), _("时限类别"), _("起算日期"), _("期限届满日"), _("完成日期"),
              _("超期天数"), _("结果"), _("完成方式"), _("完成人")]  # fmt: skip
    values = []
    for record in rows:
        line = _line(record, visible, today)
        values.append([
            record.organisation.name, line["number"] or str(HIDDEN), record.get_kind_display(),
            record.started_on, record.due_on, record.closed_on, line["days_late"], str(line["status"]),
            line["how"], line["closed_by"],
        ])  # fmt: skip
    record_event(
        actor=request.user,
        action="petition.export",
        data={"count": len(values), "capped": capped, "section": "stats.violations",
              "filters": {"scope": query.scope.pk, "start": str(query.period.start),
                          "end": str(query.period.end), "kind": kind}},
    )  # fmt: skip
    note = _("仅导出前{n}条，请缩小范围后分批导出。").format(n=EXPORT_CAP) if capped else ""
    title = _("时限违规-{scope}-{start:%Y%m%d}-{end:%Y%m%d}").format(
        scope=query.scope.name, start=query.period.start, end=query.period.end
    )
    return xlsx_response(title=title, header=header, rows=values, note=note)


def _units_xlsx(query: Query, units: list[violations.UnitViolations]) -> HttpResponse:
    header = [_("单位"), _("合计"), *[str(label) for label in DeadlineKind.labels]]
    values = [[u.organisation.name, u.total, *[n for _k, n in u.cells()]] for u in units]
    totals = violations.kinds_total(units)
    values.append([_("合计"), sum(totals.values()), *[totals[k] for k in DeadlineKind.values]])
    title = _("时限违规汇总-{scope}-{start:%Y%m%d}-{end:%Y%m%d}").format(
        scope=query.scope.name, start=query.period.start, end=query.period.end
    )
    return xlsx_response(title=title, header=header, rows=values)


@role_required(*ROLES)
@stale_ok()
def violation_list(request: HttpRequest) -> HttpResponse:
    """The missed deadlines of the chosen scope and period: per unit (with a column per kind), then
    the records, 30 a page; ``?format=xlsx`` the records, ``?format=xlsx&table=units`` the units."""
    form = _filtered(request, ViolationsForm, "stats/violations.html")
    if isinstance(form, HttpResponse):
        return form
    query = form.query()
    kind = form.cleaned_data.get("kind") or ""
    all_kinds = violations.missed(query.scope.path, query.period)
    records = all_kinds.filter(kind=kind) if kind else all_kinds
    if request.GET.get("format") == "xlsx":
        if request.GET.get("table") == "units":
            return _units_xlsx(query, violations.per_unit(all_kinds))
        return _violations_xlsx(request, query, records, kind)
    units = violations.per_unit(all_kinds)
    page = Paginator(violations.listed(records), PAGE_SIZE).get_page(request.GET.get("page"))
    visible = _visible(request.user, (r.petition_id for r in page))
    today = timezone.localdate()
    context = {
        "form": form,
        "query": query,
        "kind": kind,
        "kind_label": DeadlineKind(kind).label if kind else "",
        "kinds": DeadlineKind.choices,
        "units": units,
        "total_cells": list(violations.kinds_total(units).items()),
        "total": sum(u.total for u in units),
        "page": page,
        "lines": [_line(r, visible, today) for r in page],
        "last_day": violations.last_countable_day(query.period),
    }
    return render(request, "stats/violations.html", context)


# --- 承办人统计 ------------------------------------------------------------------------------------


@role_required(*ROLES)
@stale_ok()
def handler_table(request: HttpRequest) -> HttpResponse:
    """One unit's figures per handler; every number links to its rows (``stats:handler_rows``)."""
    form = _filtered(request, HandlersForm, "stats/handlers.html")
    if isinstance(form, HttpResponse):
        return form
    query = form.query()
    rows = handlers.table(query.scope, query.period)
    columns = list(handlers.COLUMNS.values())
    if request.GET.get("format") == "xlsx":
        header = [_("承办人"), *[str(c.label) for c in columns], _("按期办结率"), _("满意率")]
        values = [
            [_name(r), *[r.counts.get(c.key, 0) for c in columns], r.on_time_rate, r.satisfaction_rate]
            for r in rows
        ]
        title = _("承办人统计-{scope}-{start:%Y%m%d}-{end:%Y%m%d}").format(
            scope=query.scope.name, start=query.period.start, end=query.period.end
        )
        return xlsx_response(title=title, header=header, rows=values)
    context = {
        "form": form,
        "query": query,
        "columns": columns,
        "rows": [(r, _name(r), [(c.key, r.counts.get(c.key, 0)) for c in columns]) for r in rows],
        "totals": handlers.totals(rows),
    }
    return render(request, "stats/handlers.html", context)


def _name(row: handlers.HandlerRow) -> str:
    if row.person is None:
        return _("未指定承办人")
    return row.person.full_name or row.person.username


class HandlerRowsForm(forms.Form):
    column = forms.ChoiceField(choices=[(k, c.label) for k, c in handlers.COLUMNS.items()])
    person = forms.IntegerField(min_value=0)
    start = forms.DateField()
    end = forms.DateField()
    scope = forms.IntegerField()


@role_required(*ROLES)
def handler_rows(request: HttpRequest) -> HttpResponse:
    """The rows behind one number of the handler table: the petitions (open, overdue), the deadline
    records, letters or evaluations, each with its petition."""
    area = figures.area_of(request.user)
    form = HandlerRowsForm(request.GET)
    if area is None or not form.is_valid():
        return render(request, "stats/handler_rows.html", {"invalid": True}, status=400)
    data = form.cleaned_data
    unit = Organisation.objects.filter(pk=data["scope"], path__startswith=area.path).first()
    if unit is None:
        return render(request, "stats/handler_rows.html", {"outside": True}, status=403)
    if data["end"] < data["start"]:
        return render(request, "stats/handler_rows.html", {"invalid": True}, status=400)
    period = figures.Period(data["start"], data["end"])
    column = handlers.COLUMNS[data["column"]]
    rows = handlers.rows(column.key, unit, period, data["person"])
    is_petition = rows.model is Petition
    ordered = (
        rows.select_related("office").order_by("due_on", "pk")
        if is_petition
        else rows.select_related("petition").order_by("pk")
    )
    page = Paginator(ordered, PAGE_SIZE).get_page(request.GET.get("page"))
    petitions = [obj if is_petition else obj.petition for obj in page]
    visible = _visible(request.user, (p.pk for p in petitions))
    context = {
        "column": column,
        "unit": unit,
        "period": period,
        "person": _person_name(data["person"]),
        "page": page,
        "lines": [
            (p, p.pk in visible, _detail(obj, is_petition)) for p, obj in zip(petitions, page, strict=True)
        ],
        "back": _back(unit, period),
    }
    return render(request, "stats/handler_rows.html", context)


def _person_name(pk: int) -> str:
    from xinfang.organisations.models import User

    if pk == handlers.NOBODY:
        return _("未指定承办人")
    user = User.objects.filter(pk=pk).only("full_name", "username").first()
    return (user.full_name or user.username) if user is not None else str(pk)


def _detail(obj: Any, is_petition: bool) -> str:
    """What the row is, beside its petition: the deadline and its outcome, the letter's date, the
    rating, or the petition's own deadline."""
    if is_petition:
        return obj.due_on.isoformat() if obj.due_on else ""
    if hasattr(obj, "due_on"):
        return _("{kind}，期限{due}，{outcome}").format(
            kind=obj.get_kind_display(), due=obj.due_on, outcome=obj.get_outcome_display() or _("未完成")
        )
    if hasattr(obj, "unit_rating"):
        return _("对办理单位：{rating}").format(rating=obj.get_unit_rating_display())
    return _("答复于{day}").format(day=timezone.localtime(obj.issued_at).date())


def _back(unit: Organisation, period: figures.Period) -> str:
    from urllib.parse import urlencode

    from django.urls import reverse

    params = {"period": "custom", "start": period.start, "end": period.end, "scope": unit.pk}
    return reverse("stats:handlers") + "?" + urlencode(params)


urlpatterns: list[URLPattern] = [
    path("violations/", violation_list, name="violations"),
    path("handlers/", handler_table, name="handlers"),
    path("handlers/rows/", handler_rows, name="handler_rows"),
]
