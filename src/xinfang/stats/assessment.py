"""考核 (assessment, issue #9 §5): defining a scheme, running it on the live figures, publishing a
frozen, versioned result, and who may see what.

Who may do what (one rule each, for the pages and any later API):

* **manage** (define, edit, run, publish, export) — a supervisor or leader of a petition office,
  for the schemes kept by that office.  The units assessed lie in the office's area (the
  government it belongs to, ``petitions.access.scope_root``).
* **read a published result** — the staff (any casework role) of the unit assessed or of an
  organisation inside it: a county's departments see the county's score, a county never sees
  another county's.  The managing office sees every unit.

The scoring rules (docs/statistics.md, "考核 (assessment)"), all in ``Decimal`` and rounded to
0.01 half up per item, the total being the sum of the rounded items:

* an **indicator** worth ``w`` points with target ``t`` and the unit's value ``x`` (a rate in
  percent, or a count): higher is better — ``w`` if ``x >= t``, else ``w × x / t``; lower is
  better — ``w`` if ``x <= t``, else ``w × t / x``.  A rate with no denominator (nothing to judge)
  scores ``w`` and is marked "无数据".
* a **deduction** of ``p`` points per item for ``n`` items: ``min(n × p, cap)``.
* **bonus items**: added as entered.
* total = indicator points − deductions + bonuses; units ranked by total, equal totals share a
  rank (1, 1, 3).

Every write is one transaction with its audit event; services validate everything first and raise
one ``ValidationError`` keyed by field, in Chinese, before writing anything.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinfang.audit.services import record_event
from xinfang.organisations.choices import CASEWORK_ROLES, OrganisationKind, RoleCode
from xinfang.organisations.models import PATH_STEP, Organisation
from xinfang.petitions.access import scope_root

from . import figures
from .figures import Period, Slice
from .metrics import METRICS, RATES
from .models import (
    AssessmentPublication,
    AssessmentResult,
    AssessmentScheme,
    BonusItem,
    Deduction,
    Indicator,
    SchemeStatus,
)

MANAGER_ROLES = (RoleCode.SUPERVISOR, RoleCode.LEADER)
CENT = Decimal("0.01")
MAX_POINTS = Decimal("1000")
MAX_DAYS = 3653
# The counts a deduction is most often made for, offered first in the form.
SUGGESTED_DEDUCTIONS = ("deadlines_missed", "review_changed", "recheck_changed")

# The audit page's Chinese for what this module writes (registered in StatsConfig.ready).
AUDIT_ACTIONS = {
    "stats.assessment_created": gettext_lazy("新建考核方案"),
    "stats.assessment_changed": gettext_lazy("修改考核方案"),
    "stats.assessment_indicator_set": gettext_lazy("设置考核指标"),
    "stats.assessment_indicator_removed": gettext_lazy("删除考核指标"),
    "stats.assessment_deduction_set": gettext_lazy("设置考核扣分规则"),
    "stats.assessment_deduction_removed": gettext_lazy("删除考核扣分规则"),
    "stats.assessment_bonus_added": gettext_lazy("录入考核加分"),
    "stats.assessment_bonus_removed": gettext_lazy("删除考核加分"),
    "stats.assessment_published": gettext_lazy("发布考核结果"),
    "stats.assessment_republished": gettext_lazy("重新发布考核结果"),
    "stats.assessment_exported": gettext_lazy("导出考核排名"),
}


class AssessmentRefused(PermissionError):
    """The user may not do this (the pages answer 403)."""


# --- who may ---------------------------------------------------------------------------------


def managing_office(user: Any) -> Organisation | None:
    """The petition office whose schemes ``user`` manages, or None."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    org = user.organisation
    if org is None or org.kind != OrganisationKind.PETITION_OFFICE or not user.has_role(*MANAGER_ROLES):
        return None
    return org


def _office_or_refuse(user: Any) -> Organisation:
    office = managing_office(user)
    if office is None:
        raise AssessmentRefused(_("只有信访工作机构的督办员或领导可以管理考核方案。"))
    return office


def managed_schemes(user: Any) -> QuerySet[AssessmentScheme]:
    """The schemes kept by ``user``'s office (none if they manage none)."""
    office = managing_office(user)
    if office is None:
        return AssessmentScheme.objects.none()
    return AssessmentScheme.objects.filter(office=office).select_related("assessor")


def access_scheme(user: Any, pk: int) -> AssessmentScheme:
    """A scheme ``user`` manages; another office's scheme is "not found", like a missing one."""
    return managed_schemes(user).get(pk=pk)


def _ancestor_ids(org: Organisation) -> list[int]:
    return [int(p) for p in org.path.strip("/").split("/") if p]


def visible_results(user: Any) -> QuerySet[AssessmentResult]:
    """Published results of the units ``user`` belongs to (the unit or an organisation inside it)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return AssessmentResult.objects.none()
    if user.organisation is None or not user.role_codes & CASEWORK_ROLES:
        return AssessmentResult.objects.none()
    return AssessmentResult.objects.filter(unit_id__in=_ancestor_ids(user.organisation)).select_related(
        "publication__scheme__assessor"
    )


def latest_results(user: Any) -> QuerySet[AssessmentResult]:
    """The visible results of each scheme's latest version (a re-publication supersedes the earlier)."""
    latest = (
        AssessmentPublication.objects.filter(scheme=OuterRef("publication__scheme"))
        .order_by("-version")
        .values("version")[:1]
    )
    return (
        visible_results(user)
        .filter(publication__version=Subquery(latest))
        .order_by("-publication__scheme__start", "unit_path")
    )


def access_result(user: Any, pk: int) -> AssessmentResult:
    """A published result ``user`` may read: their own unit's, or any of their office's schemes."""
    own = visible_results(user).filter(pk=pk).first()
    if own is not None:
        return own
    office = managing_office(user)
    if office is None:
        raise AssessmentResult.DoesNotExist
    return AssessmentResult.objects.select_related("publication__scheme__assessor").get(
        pk=pk, publication__scheme__office=office
    )


# --- choices ---------------------------------------------------------------------------------


def figure_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The figures an indicator may score: the rates, then the counts."""
    return [
        (_("比率"), [(r.name, str(r.label)) for r in RATES.values()]),
        (_("数量"), [(m.name, str(m.label)) for m in METRICS.values()]),
    ]


def deduction_choices() -> list[tuple[str, str]]:
    """The counts a deduction may be made for, the usual ones first."""
    first = [(n, str(METRICS[n].label)) for n in SUGGESTED_DEDUCTIONS]
    rest = [(m.name, str(m.label)) for m in METRICS.values() if m.name not in SUGGESTED_DEDUCTIONS]
    return first + rest


def area_of_office(office: Organisation) -> Organisation:
    return scope_root(office)


def assessor_choices(office: Organisation) -> list[Organisation]:
    """The office itself, or the government it belongs to."""
    area = area_of_office(office)
    return [office] if area.pk == office.pk else [office, area]


def unit_choices(office: Organisation) -> QuerySet[Organisation]:
    """The organisations of the office's area that may be assessed (not the area or the office),
    down to two levels below the area."""
    area = area_of_office(office)
    # Two levels down (a city's counties and their departments and townships): a unit is a body
    # that answers for its work, and a whole city's villages would make the list unusable.
    return (
        Organisation.objects.filter(path__startswith=area.path, is_active=True, depth__lte=area.depth + 2)
        .exclude(pk__in=[area.pk, office.pk])
        .order_by("path")
    )


def default_units(office: Organisation) -> QuerySet[Organisation]:
    """Every active child of the office's government except the office itself."""
    area = area_of_office(office)
    return Organisation.objects.filter(parent=area, is_active=True).exclude(pk=office.pk).order_by("path")


def units_of(scheme: AssessmentScheme) -> list[Organisation]:
    listed = list(scheme.units.order_by("path"))
    return listed or list(default_units(scheme.office))


def figure_label(name: str) -> str:
    return figures.describe(name)


def is_rate(name: str) -> bool:
    return name in RATES


# --- defining a scheme -----------------------------------------------------------------------


def _check_scheme(
    office: Organisation,
    *,
    name: str,
    assessor: Organisation | None,
    start: dt.date | None,
    end: dt.date | None,
    units: list[Organisation],
) -> None:
    errors: dict[str, list[str]] = defaultdict(list)
    if not (name or "").strip():
        errors["name"].append(_("请填写方案名称。"))
    elif len(name.strip()) > 100:
        errors["name"].append(_("方案名称不能超过100个字。"))
    if assessor is None or assessor.pk not in {o.pk for o in assessor_choices(office)}:
        errors["assessor"].append(_("考核机关须为本信访工作机构或其所属人民政府。"))
    if start is None:
        errors["start"].append(_("请填写考核期起始日期。"))
    if end is None:
        errors["end"].append(_("请填写考核期截止日期。"))
    if start and end and end < start:
        errors["end"].append(_("考核期截止日期不能早于起始日期。"))
    elif start and end and (end - start).days >= MAX_DAYS:
        # The drill-down behind every figure reads at most ten years.
        errors["end"].append(_("考核期不能超过十年。"))
    allowed = set(unit_choices(office).filter(pk__in=[u.pk for u in units]).values_list("pk", flat=True))
    if any(u.pk not in allowed for u in units):
        errors["units"].append(_("被考核单位须为本机关辖区内两级以内的单位（不含本机关）。"))
    if not units and not default_units(office).exists():
        errors["units"].append(_("本机关辖区内没有下级单位，请列明被考核单位。"))
    if errors:
        raise ValidationError(dict(errors))


def create_scheme(
    *,
    user: Any,
    name: str,
    assessor: Organisation | None,
    start: dt.date | None,
    end: dt.date | None,
    units: list[Organisation] | None = None,
) -> AssessmentScheme:
    """A new draft scheme kept by ``user``'s office."""
    office = _office_or_refuse(user)
    units = list(units or [])
    _check_scheme(office, name=name, assessor=assessor, start=start, end=end, units=units)
    with transaction.atomic():
        scheme = AssessmentScheme.objects.create(
            office=office, assessor=assessor, name=name.strip(), start=start, end=end, created_by=user
        )
        scheme.units.set(units)
        record_event(
            actor=user,
            action="stats.assessment_created",
            obj=scheme,
            data={"name": scheme.name, "date_from": start, "date_to": end, "units": [u.pk for u in units]},
        )
    return scheme


def update_scheme(
    *,
    user: Any,
    scheme_id: int,
    name: str,
    assessor: Organisation | None,
    start: dt.date | None,
    end: dt.date | None,
    units: list[Organisation] | None = None,
) -> AssessmentScheme:
    """Change a scheme's name, assessor, period or units (a published result stays as published)."""
    scheme = access_scheme(user, scheme_id)
    units = list(units or [])
    _check_scheme(scheme.office, name=name, assessor=assessor, start=start, end=end, units=units)
    with transaction.atomic():
        scheme.name, scheme.assessor, scheme.start, scheme.end = name.strip(), assessor, start, end
        scheme.save(update_fields=["name", "assessor", "start", "end"])
        scheme.units.set(units)
        record_event(
            actor=user,
            action="stats.assessment_changed",
            obj=scheme,
            data={"name": scheme.name, "date_from": start, "date_to": end, "units": [u.pk for u in units]},
        )
    return scheme


def _points(
    value: Any, field_name: str, errors: dict[str, list[str]], *, allow_zero: bool = False
) -> Decimal:
    """A number of points: positive (or zero), at most 1000, at most two decimals."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        errors[field_name].append(_("请填写数字。"))
        return Decimal(0)
    if not number.is_finite() or number < 0 or (number == 0 and not allow_zero):
        errors[field_name].append(_("须为大于0的数。") if not allow_zero else _("不能为负数。"))
    elif number > MAX_POINTS:
        errors[field_name].append(_("不能超过1000。"))
    elif number != number.quantize(CENT):
        errors[field_name].append(_("最多保留两位小数。"))
    return number


def set_indicator(
    *,
    user: Any,
    scheme_id: int,
    figure: str,
    weight: Any,
    target: Any,
    higher_is_better: bool | None = None,
    indicator_id: int | None = None,
) -> Indicator:
    """Add an indicator to a scheme, or change one (``indicator_id``).  ``target`` is a percentage
    for a rate, a number for a count; ``higher_is_better`` defaults to the rate's own direction."""
    scheme = access_scheme(user, scheme_id)
    errors: dict[str, list[str]] = defaultdict(list)
    if figure not in RATES and figure not in METRICS:
        errors["figure"].append(_("请选择考核指标。"))
    weight_value = _points(weight, "weight", errors)
    target_value = _number(target, "target", errors)
    if figure in RATES and target_value > 100:
        errors["target"].append(_("比率的目标值为百分数，不能超过100。"))
    existing = scheme.indicators.filter(figure=figure)
    if indicator_id is not None:
        existing = existing.exclude(pk=indicator_id)
    if existing.exists():
        errors["figure"].append(_("该指标已在方案中。"))
    instance = None
    if indicator_id is not None:
        instance = scheme.indicators.filter(pk=indicator_id).first()
        if instance is None:
            errors["figure"].append(_("该指标已不在方案中，请刷新页面。"))
    if errors:
        raise ValidationError(dict(errors))
    if higher_is_better is None:
        higher_is_better = RATES[figure].higher_is_better if figure in RATES else True
    with transaction.atomic():
        if instance is None:
            instance = Indicator(scheme=scheme)
        instance.figure, instance.weight, instance.target = figure, weight_value, target_value
        instance.higher_is_better = higher_is_better
        instance.save()
        record_event(
            actor=user,
            action="stats.assessment_indicator_set",
            obj=scheme,
            data={
                "figure": figure,
                "weight": weight_value,
                "target": target_value,
                "higher": higher_is_better,
            },
        )
    return instance


def _number(value: Any, field_name: str, errors: dict[str, list[str]]) -> Decimal:
    """A target: zero or more, at most two decimals."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        errors[field_name].append(_("请填写数字。"))
        return Decimal(0)
    if not number.is_finite() or number < 0:
        errors[field_name].append(_("不能为负数。"))
    elif number >= Decimal("1e10"):
        errors[field_name].append(_("数值过大。"))
    elif number != number.quantize(CENT):
        errors[field_name].append(_("最多保留两位小数。"))
    return number


def _remove_part(user: Any, scheme_id: int, parts: str, pk: int, gone: str, action: str, data: Any) -> None:
    """Remove one part of a scheme (an indicator, a deduction, a bonus) and audit what it was;
    ``gone`` is the message when someone else removed it first."""
    scheme = access_scheme(user, scheme_id)
    with transaction.atomic():
        part = getattr(scheme, parts).filter(pk=pk).first()
        if part is None:
            raise ValidationError(gone)
        part.delete()
        record_event(actor=user, action=action, obj=scheme, data=data(part))


def remove_indicator(*, user: Any, scheme_id: int, indicator_id: int) -> None:
    _remove_part(
        user, scheme_id, "indicators", indicator_id, _("该指标已不在方案中，请刷新页面。"),
        "stats.assessment_indicator_removed", lambda part: {"figure": part.figure},
    )  # fmt: skip


def set_deduction(
    *,
    user: Any,
    scheme_id: int,
    metric: str,
    points_per_item: Any,
    cap: Any = None,
    deduction_id: int | None = None,
) -> Deduction:
    """Add a deduction rule (points per item of a count, optional cap), or change one."""
    scheme = access_scheme(user, scheme_id)
    errors: dict[str, list[str]] = defaultdict(list)
    if metric not in METRICS:
        errors["metric"].append(_("请选择扣分事项。"))
    per_item = _points(points_per_item, "points_per_item", errors)
    cap_value = None if cap in (None, "") else _points(cap, "cap", errors)
    existing = scheme.deductions.filter(metric=metric)
    if deduction_id is not None:
        existing = existing.exclude(pk=deduction_id)
    if existing.exists():
        errors["metric"].append(_("该扣分事项已在方案中。"))
    instance = None
    if deduction_id is not None:
        instance = scheme.deductions.filter(pk=deduction_id).first()
        if instance is None:
            errors["metric"].append(_("该扣分规则已不在方案中，请刷新页面。"))
    if errors:
        raise ValidationError(dict(errors))
    with transaction.atomic():
        if instance is None:
            instance = Deduction(scheme=scheme)
        instance.metric, instance.points_per_item, instance.cap = metric, per_item, cap_value
        instance.save()
        record_event(
            actor=user,
            action="stats.assessment_deduction_set",
            obj=scheme,
            data={"metric": metric, "points_per_item": per_item, "cap": cap_value},
        )
    return instance


def remove_deduction(*, user: Any, scheme_id: int, deduction_id: int) -> None:
    _remove_part(
        user, scheme_id, "deductions", deduction_id, _("该扣分规则已不在方案中，请刷新页面。"),
        "stats.assessment_deduction_removed", lambda part: {"metric": part.metric},
    )  # fmt: skip


def add_bonus(*, user: Any, scheme_id: int, unit: Organisation | None, points: Any, reason: str) -> BonusItem:
    """Points added by hand for one of the scheme's units; the reason is required."""
    scheme = access_scheme(user, scheme_id)
    errors: dict[str, list[str]] = defaultdict(list)
    if unit is None or unit.pk not in {u.pk for u in units_of(scheme)}:
        errors["unit"].append(_("请选择本方案的被考核单位。"))
    value = _points(points, "points", errors)
    reason = (reason or "").strip()
    if not reason:
        errors["reason"].append(_("请填写加分理由。"))
    elif len(reason) > 300:
        errors["reason"].append(_("加分理由不能超过300个字。"))
    if errors:
        raise ValidationError(dict(errors))
    with transaction.atomic():
        bonus = BonusItem.objects.create(
            scheme=scheme, unit=unit, points=value, reason=reason, created_by=user
        )
        record_event(
            actor=user,
            action="stats.assessment_bonus_added",
            obj=scheme,
            data={"unit": unit.pk, "points": value, "reason": reason},
        )
    return bonus


def remove_bonus(*, user: Any, scheme_id: int, bonus_id: int) -> None:
    _remove_part(
        user, scheme_id, "bonuses", bonus_id, _("该加分项已不在方案中，请刷新页面。"),
        "stats.assessment_bonus_removed",
        lambda part: {"unit": part.unit_id, "points": part.points, "reason": part.reason},
    )  # fmt: skip


# --- scoring ---------------------------------------------------------------------------------


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def score_indicator(
    value: Decimal | None, *, target: Decimal, weight: Decimal, higher_is_better: bool
) -> Decimal:
    """Points for one indicator (module docstring): full at or beyond the target, proportional short
    of it; no value (a rate with nothing to judge) scores full."""
    if value is None:
        return _round(weight)
    if higher_is_better:
        return _round(weight) if value >= target else _round(weight * value / target)
    return _round(weight) if value <= target else _round(weight * target / value)


def deduction_points(count: int, *, points_per_item: Decimal, cap: Decimal | None) -> Decimal:
    """``count`` items at ``points_per_item`` each, at most ``cap``."""
    points = points_per_item * count
    return _round(min(points, cap) if cap is not None else points)


@dataclass
class UnitScore:
    """One unit's score as computed now, in the shape a published ``AssessmentResult`` keeps."""

    unit: Organisation
    detail: dict[str, Any]
    indicator_points: Decimal
    deduction_points: Decimal
    bonus_points: Decimal
    total: Decimal
    rank: int = 0

    @property
    def unit_name(self) -> str:
        return self.unit.name

    @property
    def unit_path(self) -> str:
        return self.unit.path

    @property
    def unit_id(self) -> int:
        return self.unit.pk


@dataclass
class Ranking:
    scheme: AssessmentScheme
    period: Period
    as_of: dt.date
    definition: dict[str, Any]
    units: list[UnitScore] = field(default_factory=list)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def definition_of(scheme: AssessmentScheme) -> dict[str, Any]:
    """The scheme's rules as plain data (what a publication keeps)."""
    return {
        "name": scheme.name,
        "assessor": scheme.assessor.name,
        "start": scheme.start.isoformat(),
        "end": scheme.end.isoformat(),
        "indicators": [
            {
                "figure": i.figure,
                "label": figure_label(i.figure),
                "kind": "rate" if is_rate(i.figure) else "count",
                "weight": str(i.weight),
                "target": str(i.target),
                "higher_is_better": i.higher_is_better,
            }
            for i in scheme.indicators.all()
        ],
        "deductions": [
            {
                "metric": d.metric,
                "label": figure_label(d.metric),
                "points_per_item": str(d.points_per_item),
                "cap": _text(d.cap),
            }
            for d in scheme.deductions.all()
        ],
    }


def _totals_per_unit(
    names: set[str], period: Period, units: list[Organisation], area: Organisation, today: dt.date
):
    """The summed counts of ``names`` per unit: one read of the area grouped by organisation, each
    organisation's counts added to every unit whose subtree holds it (the same sums as reading
    ``Slice(scope=unit.path)`` unit by unit, without a query per unit)."""
    per_unit: dict[int, dict[str, int]] = {u.pk: defaultdict(int) for u in units}
    if not names or not units:
        return per_unit
    by_path = {u.path: u.pk for u in units}
    step = PATH_STEP + 1  # eight digits and the "/"
    rows = figures.counts(sorted(names), period, Slice(scope=area.path), by="organisation", today=today)
    for path, totals in rows.items():
        for end in range(step, len(path) + 1, step):
            pk = by_path.get(path[:end])
            if pk is not None:
                for name, value in totals.items():
                    per_unit[pk][name] += value
    return per_unit


def _indicator_entry(spec: dict[str, Any], totals: dict[str, int]) -> tuple[dict[str, Any], Decimal]:
    weight, target = Decimal(spec["weight"]), Decimal(spec["target"])
    if spec["kind"] == "rate":
        rate = RATES[spec["figure"]]
        numerator, denominator = totals.get(rate.numerator, 0), totals.get(rate.denominator, 0)
        value = Decimal(numerator * 100) / denominator if denominator else None
    else:
        numerator, denominator = totals.get(spec["figure"], 0), None
        value = Decimal(numerator)
    score = score_indicator(value, target=target, weight=weight, higher_is_better=spec["higher_is_better"])
    entry = {
        **spec,
        "numerator": numerator,
        "denominator": denominator,
        "value": _text(_round(value)) if value is not None else None,
        "no_data": value is None,
        "score": str(score),
    }
    return entry, score


def _deduction_entry(spec: dict[str, Any], totals: dict[str, int]) -> tuple[dict[str, Any], Decimal]:
    count = totals.get(spec["metric"], 0)
    cap = Decimal(spec["cap"]) if spec["cap"] is not None else None
    points = deduction_points(count, points_per_item=Decimal(spec["points_per_item"]), cap=cap)
    return {**spec, "count": count, "points": str(points)}, points


def run(scheme: AssessmentScheme, *, today: dt.date | None = None) -> Ranking:
    """Score every unit of ``scheme`` on the figures as they are now (the preview, and what a
    publication freezes).  Reads the pre-aggregated counts once for the whole area."""
    today = today or timezone.localdate()
    period = Period(scheme.start, scheme.end)
    definition = definition_of(scheme)
    units = units_of(scheme)
    names = {d["metric"] for d in definition["deductions"]}
    for spec in definition["indicators"]:
        rate = RATES.get(spec["figure"])
        names |= {rate.numerator, rate.denominator} if rate else {spec["figure"]}
    per_unit = _totals_per_unit(names, period, units, area_of_office(scheme.office), today)
    bonuses: dict[int, list[BonusItem]] = defaultdict(list)
    for bonus in scheme.bonuses.select_related("created_by").order_by("pk"):
        bonuses[bonus.unit_id].append(bonus)
    ranking = Ranking(scheme=scheme, period=period, as_of=today, definition=definition)
    for unit in units:
        ranking.units.append(_unit_score(unit, definition, per_unit[unit.pk], bonuses.get(unit.pk, [])))
    _rank(ranking.units)
    return ranking


def _unit_score(
    unit: Organisation, definition: dict[str, Any], totals: dict[str, int], bonuses: list[BonusItem]
) -> UnitScore:
    indicators = [_indicator_entry(spec, totals) for spec in definition["indicators"]]
    deductions = [_deduction_entry(spec, totals) for spec in definition["deductions"]]
    indicator_points = _round(sum((s for _e, s in indicators), Decimal(0)))
    deducted = _round(sum((s for _e, s in deductions), Decimal(0)))
    bonus_points = _round(sum((b.points for b in bonuses), Decimal(0)))
    detail = {
        "indicators": [e for e, _s in indicators],
        "deductions": [e for e, _s in deductions],
        "bonuses": [{"points": str(b.points), "reason": b.reason, "by": str(b.created_by)} for b in bonuses],
    }
    return UnitScore(
        unit=unit,
        detail=detail,
        indicator_points=indicator_points,
        deduction_points=deducted,
        bonus_points=bonus_points,
        total=indicator_points - deducted + bonus_points,
    )


def _rank(scores: list[UnitScore]) -> None:
    """Order by total, highest first; equal totals share a rank and the next rank skips (1, 1, 3)."""
    scores.sort(key=lambda s: (-s.total, s.unit.path))
    for place, score in enumerate(scores, start=1):
        previous = scores[place - 2] if place > 1 else None
        score.rank = previous.rank if previous is not None and previous.total == score.total else place


# --- publishing ------------------------------------------------------------------------------


def publish(
    *, user: Any, scheme_id: int, reason: str = "", today: dt.date | None = None
) -> AssessmentPublication:
    """Freeze the scheme's result as the next version: the definition, every unit's figures,
    deductions, bonuses, total and rank.  A second or later version needs a reason.  Nothing is
    written unless everything is valid; one transaction with its audit event."""
    office = _office_or_refuse(user)
    today = today or timezone.localdate()
    with transaction.atomic():
        # The scheme's row lock orders two publications of one scheme (versions 2 and 3, not two 2s).
        scheme = (
            AssessmentScheme.objects.select_for_update()
            .select_related("assessor", "office")
            .get(pk=scheme_id, office=office)
        )
        last = scheme.publications.aggregate(v=Max("version"))["v"] or 0
        reason = (reason or "").strip()
        _check_publishable(scheme, reason=reason, republishing=last > 0, today=today)
        ranking = run(scheme, today=today)
        publication = AssessmentPublication.objects.create(
            scheme=scheme,
            version=last + 1,
            reason=reason,
            as_of=today,
            snapshot={**ranking.definition, "units": [s.unit.pk for s in ranking.units]},
            published_by=user,
        )
        AssessmentResult.objects.bulk_create(
            AssessmentResult(
                publication=publication,
                unit=s.unit,
                unit_name=s.unit.name,
                unit_path=s.unit.path,
                rank=s.rank,
                indicator_points=s.indicator_points,
                deduction_points=s.deduction_points,
                bonus_points=s.bonus_points,
                total=s.total,
                detail=s.detail,
            )
            for s in ranking.units
        )
        if scheme.status != SchemeStatus.PUBLISHED:
            scheme.status = SchemeStatus.PUBLISHED
            scheme.save(update_fields=["status"])
        data = {"name": scheme.name, "version": publication.version, "rows": len(ranking.units)}
        if last:
            record_event(
                actor=user, action="stats.assessment_republished", obj=scheme, data={**data, "reason": reason}
            )
        else:
            record_event(actor=user, action="stats.assessment_published", obj=scheme, data=data)
    return publication


def _check_publishable(scheme: AssessmentScheme, *, reason: str, republishing: bool, today: dt.date) -> None:
    errors: dict[str, list[str]] = defaultdict(list)
    if scheme.end >= today:
        errors[None].append(_("考核期尚未结束（截止日期须早于今天），结束后才能发布结果。"))
    if not scheme.indicators.exists() and not scheme.deductions.exists():
        errors[None].append(_("方案中还没有考核指标或扣分规则，请先添加。"))
    if not units_of(scheme):
        errors[None].append(_("没有被考核单位，请在方案中列明。"))
    if republishing and not reason:
        errors["reason"].append(_("已发布过的结果重新发布，须说明理由。"))
    if len(reason) > 1000:
        errors["reason"].append(_("理由不能超过1000个字。"))
    if errors:
        raise ValidationError({k or "__all__": v for k, v in errors.items()})


def latest_publication(scheme: AssessmentScheme) -> AssessmentPublication | None:
    return scheme.publications.order_by("-version").first()


def register_audit_labels() -> None:
    """The audit page's Chinese for the assessment's actions (called from StatsConfig.ready)."""
    from xinfang.audit import labels

    names = {**{m.name: m.label for m in METRICS.values()}, **{r.name: r.label for r in RATES.values()}}
    labels.register(actions=AUDIT_ACTIONS, values={"figure": names, "metric": names})
