"""Staff pages of 考核 (assessment): the assessing office lists, defines and edits schemes, runs a
preview on the live figures, publishes (after a confirmation page) and reads the ranking of every
unit (XLSX, print on A4); a unit's staff read their own unit's published score, with the petitions
behind each figure one click away (the drill-down).  Views parse input and call
``stats.assessment``; every rule lives there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinfang.audit.services import record_event
from xinfang.core.decorators import role_required
from xinfang.core.forms import add_service_errors
from xinfang.core.xlsx import xlsx_response
from xinfang.organisations.choices import CASEWORK_ROLES

from . import assessment as services
from . import figures
from .assessment_forms import BonusForm, DeductionForm, IndicatorForm, PublishForm, SchemeForm
from .metrics import RATES
from .models import AssessmentPublication, AssessmentResult, AssessmentScheme


def _scheme_or_404(request: HttpRequest, pk: int) -> AssessmentScheme:
    """A scheme the user manages: 403 for staff who manage none, 404 for another office's scheme."""
    if services.managing_office(request.user) is None:
        raise PermissionDenied(_("只有信访工作机构的督办员或领导可以管理考核方案。"))
    try:
        return services.access_scheme(request.user, pk)
    except AssessmentScheme.DoesNotExist:
        raise Http404 from None


# --- the drill-down links ----------------------------------------------------------------------


def drill_url(metric: str, start: str, end: str, scope: int) -> str:
    """The list of petitions behind ``metric`` for one unit (``scope``: its id) and period: the
    statistics pages' drill-down, ``stats:drill``, with the parameters its own links carry (the
    total: no dimension, no key — an empty key would be read as a breakdown's value)."""
    query = {"metric": metric, "start": start, "end": end, "scope": scope}
    return f"{reverse('stats:drill')}?{urlencode(query)}"


def with_links(detail: dict[str, Any], *, start: str, end: str, scope: int | None) -> dict[str, Any]:
    """A unit's detail (as stored in a result) with the drill-down link of every count in it;
    no links when ``scope`` is None (the viewer's figures do not reach that unit)."""

    def link(metric: str | None) -> str:
        return drill_url(metric, start, end, scope) if metric and scope is not None else ""

    indicators = []
    for entry in detail.get("indicators", []):
        rate = RATES.get(entry["figure"])
        indicators.append(
            {
                **entry,
                "numerator_url": link(rate.numerator if rate else entry["figure"]),
                "denominator_url": link(rate.denominator if rate else None),
            }
        )
    deductions = [{**entry, "drill_url": link(entry["metric"])} for entry in detail.get("deductions", [])]
    return {**detail, "indicators": indicators, "deductions": deductions}


def _drillable(user: Any, unit_path: str, unit_id: int) -> int | None:
    """The unit's id when ``user``'s figures reach it (the drill-down refuses a scope outside the
    viewer's area: a department's handler sees the county's score but not the county's lists)."""
    area = figures.area_of(user)
    return unit_id if area is not None and unit_path.startswith(area.path) else None


# --- the list --------------------------------------------------------------------------------


@role_required(*CASEWORK_ROLES)
def assessment_list(request: HttpRequest) -> HttpResponse:
    """Schemes of the user's office (managers) and the published results of the user's own unit."""
    office = services.managing_office(request.user)
    schemes = services.managed_schemes(request.user).annotate(
        latest_version=Max("publications__version"), latest_at=Max("publications__published_at")
    )
    return render(
        request,
        "stats/assessment_list.html",
        {"office": office, "schemes": schemes, "results": services.latest_results(request.user)},
    )


# --- defining a scheme -----------------------------------------------------------------------


def _scheme_args(form: SchemeForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "assessor": data["assessor"],
        "start": data["start"],
        "end": data["end"],
        "units": list(data["units"]),
    }


@role_required(*services.MANAGER_ROLES)
def assessment_new(request: HttpRequest) -> HttpResponse:
    office = services.managing_office(request.user)
    if office is None:
        raise PermissionDenied(_("只有信访工作机构的督办员或领导可以管理考核方案。"))
    form = SchemeForm(request.POST or None, office=office, initial={"assessor": office.pk})
    if request.method == "POST" and form.is_valid():
        try:
            scheme = services.create_scheme(user=request.user, **_scheme_args(form))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已新建考核方案，请添加考核指标和扣分规则。"))
            return redirect("stats:assessment_detail", pk=scheme.pk)
    return render(request, "stats/assessment_form.html", {"form": form, "scheme": None})


@role_required(*services.MANAGER_ROLES)
def assessment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = _scheme_or_404(request, pk)
    form = SchemeForm(request.POST or None, office=scheme.office, initial=SchemeForm.initial_for(scheme))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_scheme(user=request.user, scheme_id=scheme.pk, **_scheme_args(form))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("stats:assessment_detail", pk=scheme.pk)
    return render(request, "stats/assessment_form.html", {"form": form, "scheme": scheme})


def _detail(request: HttpRequest, scheme: AssessmentScheme, **bound: forms.Form) -> HttpResponse:
    indicators = list(scheme.indicators.all())
    for item in indicators:
        item.label = services.figure_label(item.figure)
        item.is_rate = services.is_rate(item.figure)
    deductions = list(scheme.deductions.all())
    for item in deductions:
        item.label = services.figure_label(item.metric)
    context = {
        "scheme": scheme,
        "units": services.units_of(scheme),
        "units_listed": scheme.units.exists(),
        "indicators": indicators,
        "weights": sum((i.weight for i in indicators), 0),
        "deductions": deductions,
        "bonuses": list(scheme.bonuses.select_related("unit", "created_by")),
        "publications": list(scheme.publications.select_related("published_by").order_by("-version")),
        "indicator_form": bound.get("indicator_form") or IndicatorForm(),
        "deduction_form": bound.get("deduction_form") or DeductionForm(),
        "bonus_form": bound.get("bonus_form") or BonusForm(scheme=scheme),
        "today": timezone.localdate(),
    }
    return render(request, "stats/assessment_detail.html", context)


@role_required(*services.MANAGER_ROLES)
def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _scheme_or_404(request, pk))


def _post_item(
    request: HttpRequest,
    scheme: AssessmentScheme,
    form: forms.Form,
    form_name: str,
    act: Callable[[dict[str, Any]], Any],
    done: str,
) -> HttpResponse:
    """Post one of the definition's forms: success goes back to the scheme, invalid input shows
    the scheme page again with what was typed and the errors on their fields."""
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("stats:assessment_detail", pk=scheme.pk)
    return _detail(request, scheme, **{form_name: form})


@require_POST
@role_required(*services.MANAGER_ROLES)
def assessment_indicator_add(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = _scheme_or_404(request, pk)
    form = IndicatorForm(request.POST)
    return _post_item(
        request, scheme, form, "indicator_form",
        lambda data: services.set_indicator(
            user=request.user, scheme_id=scheme.pk, figure=data["figure"], weight=data["weight"],
            target=data["target"], higher_is_better=form.higher_is_better(),
        ),
        _("已添加考核指标。"),
    )  # fmt: skip


@role_required(*services.MANAGER_ROLES)
def assessment_indicator_edit(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    scheme = _scheme_or_404(request, pk)
    indicator = scheme.indicators.filter(pk=item).first()
    if indicator is None:
        raise Http404
    direction = "higher" if indicator.higher_is_better else "lower"
    initial = {
        "figure": indicator.figure,
        "weight": indicator.weight,
        "target": indicator.target,
        "direction": direction,
    }
    form = IndicatorForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_indicator(
                user=request.user, scheme_id=scheme.pk, indicator_id=indicator.pk,
                figure=form.cleaned_data["figure"], weight=form.cleaned_data["weight"],
                target=form.cleaned_data["target"],
                higher_is_better=form.higher_is_better(),
            )  # fmt: skip
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存考核指标。"))
            return redirect("stats:assessment_detail", pk=scheme.pk)
    return render(
        request, "stats/assessment_item.html", {"scheme": scheme, "form": form, "title": _("修改考核指标")}
    )


@role_required(*services.MANAGER_ROLES)
def assessment_deduction_edit(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    scheme = _scheme_or_404(request, pk)
    deduction = scheme.deductions.filter(pk=item).first()
    if deduction is None:
        raise Http404
    initial = {"metric": deduction.metric, "points_per_item": deduction.points_per_item, "cap": deduction.cap}
    form = DeductionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_deduction(
                user=request.user, scheme_id=scheme.pk, deduction_id=deduction.pk, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存扣分规则。"))
            return redirect("stats:assessment_detail", pk=scheme.pk)
    return render(
        request, "stats/assessment_item.html", {"scheme": scheme, "form": form, "title": _("修改扣分规则")}
    )


@require_POST
@role_required(*services.MANAGER_ROLES)
def assessment_deduction_add(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = _scheme_or_404(request, pk)
    return _post_item(
        request, scheme, DeductionForm(request.POST), "deduction_form",
        lambda data: services.set_deduction(user=request.user, scheme_id=scheme.pk, **data),
        _("已添加扣分规则。"),
    )  # fmt: skip


@require_POST
@role_required(*services.MANAGER_ROLES)
def assessment_bonus_add(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = _scheme_or_404(request, pk)
    return _post_item(
        request, scheme, BonusForm(request.POST, scheme=scheme), "bonus_form",
        lambda data: services.add_bonus(user=request.user, scheme_id=scheme.pk, **data),
        _("已录入加分项。"),
    )  # fmt: skip


def _remove(
    request: HttpRequest, pk: int, remove: Callable[[AssessmentScheme], None], done: str
) -> HttpResponse:
    scheme = _scheme_or_404(request, pk)
    try:
        remove(scheme)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("stats:assessment_detail", pk=scheme.pk)


@require_POST
@role_required(*services.MANAGER_ROLES)
def assessment_indicator_delete(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    return _remove(
        request, pk,
        lambda scheme: services.remove_indicator(user=request.user, scheme_id=scheme.pk, indicator_id=item),
        _("已删除考核指标。"),
    )  # fmt: skip


@require_POST
@role_required(*services.MANAGER_ROLES)
def assessment_deduction_delete(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    return _remove(
        request, pk,
        lambda scheme: services.remove_deduction(user=request.user, scheme_id=scheme.pk, deduction_id=item),
        _("已删除扣分规则。"),
    )  # fmt: skip


@require_POST
@role_required(*services.MANAGER_ROLES)
def assessment_bonus_delete(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    return _remove(
        request, pk,
        lambda scheme: services.remove_bonus(user=request.user, scheme_id=scheme.pk, bonus_id=item),
        _("已删除加分项。"),
    )  # fmt: skip


# --- running, publishing, the ranking --------------------------------------------------------


def _linked_rows(user: Any, rows: list[Any], start: str, end: str) -> list[Any]:
    for row in rows:
        scope = _drillable(user, row.unit_path, row.unit_id)
        row.linked = with_links(row.detail, start=start, end=end, scope=scope)
    return rows


@role_required(*services.MANAGER_ROLES)
def assessment_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The ranking on the figures as they are now; nothing is stored."""
    scheme = _scheme_or_404(request, pk)
    ranking = services.run(scheme)
    start, end = scheme.start.isoformat(), scheme.end.isoformat()
    context = {
        "scheme": scheme,
        "definition": ranking.definition,
        "rows": _linked_rows(request.user, ranking.units, start, end),
        "as_of": ranking.as_of,
        "publication": None,
        "preview": True,
    }
    return render(request, "stats/assessment_ranking.html", context)


@role_required(*services.MANAGER_ROLES)
def assessment_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what publishing does (the confirmation page); POST: publish the next version."""
    scheme = _scheme_or_404(request, pk)
    latest = services.latest_publication(scheme)
    form = PublishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            publication = services.publish(
                user=request.user, scheme_id=scheme.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已发布第%(v)d版考核结果。") % {"v": publication.version})
            ranking = reverse("stats:assessment_ranking", kwargs={"pk": scheme.pk})
            return redirect(f"{ranking}?version={publication.version}")
    context = {"scheme": scheme, "latest": latest, "form": form, "ended": scheme.end < timezone.localdate()}
    return render(request, "stats/assessment_publish.html", context)


def _publication(scheme: AssessmentScheme, version: str | None) -> AssessmentPublication:
    publications = scheme.publications.select_related("published_by")
    try:
        chosen = (
            publications.get(version=int(version)) if version else publications.order_by("-version").first()
        )
    except (ValueError, AssessmentPublication.DoesNotExist):
        chosen = None
    if chosen is None:
        raise Http404
    return chosen


@role_required(*services.MANAGER_ROLES)
def assessment_ranking(request: HttpRequest, pk: int) -> HttpResponse:
    """A published version's ranking of every unit (the latest unless ``?version=``); ``?format=xlsx``."""
    scheme = _scheme_or_404(request, pk)
    try:
        publication = _publication(scheme, request.GET.get("version"))
    except Http404:
        messages.info(request, _("该方案尚未发布考核结果，请先预览并发布。"))
        return redirect("stats:assessment_detail", pk=scheme.pk)
    rows = list(publication.results.order_by("rank", "unit_path"))
    definition = publication.snapshot
    if request.GET.get("format") == "xlsx":
        return _ranking_xlsx(request, scheme, publication, rows)
    context = {
        "scheme": scheme,
        "definition": definition,
        "rows": _linked_rows(request.user, rows, definition["start"], definition["end"]),
        "as_of": publication.as_of,
        "publication": publication,
        "versions": list(scheme.publications.order_by("-version").values_list("version", flat=True)),
        "preview": False,
    }
    return render(request, "stats/assessment_ranking.html", context)


def _ranking_xlsx(
    request: HttpRequest,
    scheme: AssessmentScheme,
    publication: AssessmentPublication,
    rows: list[AssessmentResult],
) -> HttpResponse:
    """The same table as the page: rank, unit, each indicator's score, the sums and the total."""
    definition = publication.snapshot
    record_event(
        actor=request.user,
        action="stats.assessment_exported",
        obj=scheme,
        data={"name": scheme.name, "version": publication.version, "rows": len(rows)},
    )
    header = [_("名次"), _("单位")]
    header += [i["label"] for i in definition["indicators"]]
    header += [_("指标得分"), _("扣分"), _("加分"), _("总分")]
    return xlsx_response(
        title=_("%(name)s 第%(v)d版") % {"name": scheme.name, "v": publication.version},
        header=header,
        rows=(
            [r.rank, r.unit_name]
            + [float(e["score"]) for e in r.detail["indicators"]]
            + [float(r.indicator_points), float(r.deduction_points), float(r.bonus_points), float(r.total)]
            for r in rows
        ),
        note=_("%(assessor)s · 考核期 %(start)s 至 %(end)s · 数据截至 %(as_of)s")
        % {
            "assessor": definition["assessor"],
            "start": definition["start"],
            "end": definition["end"],
            "as_of": publication.as_of.isoformat(),
        },
    )


@role_required(*CASEWORK_ROLES)
def assessment_result(request: HttpRequest, pk: int) -> HttpResponse:
    """One unit's published score with its figures, deductions (each a link to the petitions
    behind it) and bonuses.  Another unit's result is "not found"."""
    try:
        result = services.access_result(request.user, pk)
    except AssessmentResult.DoesNotExist:
        raise Http404 from None
    publication = result.publication
    definition = publication.snapshot
    scope = _drillable(request.user, result.unit_path, result.unit_id)
    context = {
        "result": result,
        "publication": publication,
        "scheme": publication.scheme,
        "definition": definition,
        "unit_count": publication.results.count(),
        "detail": with_links(result.detail, start=definition["start"], end=definition["end"], scope=scope),
        "drillable": scope is not None,
        "superseded": publication.scheme.publications.filter(version__gt=publication.version).exists(),
    }
    return render(request, "stats/assessment_result.html", context)


urlpatterns: list[URLPattern] = [
    path("assessment/", assessment_list, name="assessment_list"),
    path("assessment/new/", assessment_new, name="assessment_new"),
    path("assessment/<int:pk>/", assessment_detail, name="assessment_detail"),
    path("assessment/<int:pk>/edit/", assessment_edit, name="assessment_edit"),
    path("assessment/<int:pk>/indicators/", assessment_indicator_add, name="assessment_indicator_add"),
    path(
        "assessment/<int:pk>/indicators/<int:item>/",
        assessment_indicator_edit,
        name="assessment_indicator_edit",
    ),
    path(
        "assessment/<int:pk>/indicators/<int:item>/delete/",
        assessment_indicator_delete,
        name="assessment_indicator_delete",
    ),
    path("assessment/<int:pk>/deductions/", assessment_deduction_add, name="assessment_deduction_add"),
    path(
        "assessment/<int:pk>/deductions/<int:item>/",
        assessment_deduction_edit,
        name="assessment_deduction_edit",
    ),
    path(
        "assessment/<int:pk>/deductions/<int:item>/delete/",
        assessment_deduction_delete,
        name="assessment_deduction_delete",
    ),
    path("assessment/<int:pk>/bonuses/", assessment_bonus_add, name="assessment_bonus_add"),
    path(
        "assessment/<int:pk>/bonuses/<int:item>/delete/",
        assessment_bonus_delete,
        name="assessment_bonus_delete",
    ),
    path("assessment/<int:pk>/preview/", assessment_preview, name="assessment_preview"),
    path("assessment/<int:pk>/publish/", assessment_publish, name="assessment_publish"),
    path("assessment/<int:pk>/ranking/", assessment_ranking, name="assessment_ranking"),
    path("assessment/results/<int:pk>/", assessment_result, name="assessment_result"),
]
