"""Staff pages of the system administrator: the deadline rules, the holiday overrides and the
routing rules.

Views parse input, call the services of deadlines.py and calendar.py (which audit every change) and
render.  The small forms live here because only these pages use them.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinfang.core.decorators import role_required
from xinfang.core.forms import add_service_errors
from xinfang.organisations.choices import Level, OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation
from xinfang.petitions.models import Category

from .calendar import (
    delete_calendar_override,
    get_calendar,
    package_years,
    save_calendar_override,
    set_year_entered,
)
from .deadlines import delete_period_rule, get_rule_book, save_period_rule, save_rule_profile
from .models import (
    STEP_STARTS,
    CalendarOverride,
    CalendarYear,
    PeriodRule,
    PeriodUnit,
    RoutingRule,
    RuleProfile,
    Step,
)
from .routing import delete_routing_rule, save_routing_rule

# --- forms ---------------------------------------------------------------------------------------


class RuleProfileForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100)
    code = forms.SlugField(label=gettext_lazy("代码"), max_length=40)
    description = forms.CharField(
        label=gettext_lazy("说明"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    province = forms.ModelChoiceField(
        label=gettext_lazy("适用省份"),
        required=False,
        empty_label=gettext_lazy("（暂不绑定）"),
        queryset=Organisation.objects.filter(
            level=Level.PROVINCE, kind__in=[OrganisationKind.GOVERNMENT, OrganisationKind.PARTY]
        ),
    )


class PeriodRuleForm(forms.Form):
    length = forms.IntegerField(label=gettext_lazy("期限"), min_value=1, max_value=366)
    unit = forms.ChoiceField(label=gettext_lazy("计算单位"), choices=PeriodUnit.choices)
    roll_forward = forms.BooleanField(label=gettext_lazy("期末遇节假日顺延"), required=False, initial=True)
    source = forms.CharField(label=gettext_lazy("依据"), max_length=200)
    confirmed = forms.BooleanField(label=gettext_lazy("已核对原文"), required=False, initial=True)
    note = forms.CharField(
        label=gettext_lazy("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class CalendarOverrideForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    is_working_day = forms.TypedChoiceField(
        label=gettext_lazy("当天"),
        choices=[("1", gettext_lazy("上班（含调休上班）")), ("0", gettext_lazy("放假"))],
        coerce=lambda value: value == "1",
    )
    note = forms.CharField(label=gettext_lazy("说明"), max_length=200, required=False)


class CalendarYearForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年份"), min_value=2000, max_value=2100)
    note = forms.CharField(label=gettext_lazy("说明"), max_length=200, required=False)


# --- rule profiles -------------------------------------------------------------------------------


@role_required(RoleCode.SYSADMIN)
def rules(request: HttpRequest) -> HttpResponse:
    """Every profile with the rules it applies, own or inherited from the national default."""
    book = get_rule_book()
    rows = [
        (
            profile,
            [
                {
                    "step": step,
                    "label": Step(step).label,
                    "start": STEP_STARTS[step],
                    "rule": rule,
                    "inherited": inherited,
                }
                for step, rule, inherited in book.effective_rules(profile)
            ],
        )
        for profile in RuleProfile.objects.select_related("province")
    ]
    return render(request, "workflow/rules.html", {"rows": rows})


@role_required(RoleCode.SYSADMIN)
def profile_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create a province profile or change the name, description and province of one."""
    profile = get_object_or_404(RuleProfile, pk=pk) if pk else None
    initial = (
        {"name": profile.name, "code": profile.code, "description": profile.description,
         "province": profile.province_id}
        if profile else {}
    )  # fmt: skip
    form = RuleProfileForm(request.POST or None, initial=initial)
    if profile is not None and profile.is_default:
        form.fields["province"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            save_rule_profile(actor=request.user, profile=profile, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("workflow:rules")
    return render(request, "workflow/profile_form.html", {"form": form, "profile": profile})


@role_required(RoleCode.SYSADMIN)
def rule_edit(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Set one step's time limit in a profile; a province may also drop its own rule to inherit."""
    profile = get_object_or_404(RuleProfile, pk=pk)
    if step not in Step.values:
        raise Http404
    rule = PeriodRule.objects.filter(profile=profile, step=step).first()
    inherited = None if rule or profile.is_default else get_rule_book().rule_for(step, None)
    template = rule or inherited
    initial = (
        {f: getattr(template, f) for f in ("length", "unit", "roll_forward", "source", "confirmed", "note")}
        if template
        else {}
    )
    form = PeriodRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and "delete" in request.POST and rule is not None:
        try:
            delete_period_rule(actor=request.user, rule=rule)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("已删除，该环节改用全国默认规则。"))
        return redirect("workflow:rules")
    if request.method == "POST" and form.is_valid():
        try:
            save_period_rule(actor=request.user, profile=profile, step=step, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("workflow:rules")
    context = {
        "form": form,
        "profile": profile,
        "step_label": Step(step).label,
        "starts": STEP_STARTS[step],
        "rule": rule,
        "inherited": inherited,
    }
    return render(request, "workflow/rule_form.html", context)


# --- the legal calendar --------------------------------------------------------------------------


@role_required(RoleCode.SYSADMIN)
def calendar(request: HttpRequest) -> HttpResponse:
    """The overrides, which years have holiday data, and forms to add an override or mark a year."""
    return _calendar_page(request)


def _calendar_page(request: HttpRequest, year_form: CalendarYearForm | None = None) -> HttpResponse:
    """The calendar page; ``year_form`` is a refused "mark a year" form, shown again as it was filled
    in (issue #7 point 31: no form loses what was typed)."""
    today = timezone.localdate()
    legal = get_calendar()
    first, last = package_years()
    entered = set(CalendarYear.objects.values_list("year", flat=True))
    # Last year to two years ahead: the years deadlines being computed now can fall in.
    years = [
        {"year": y, "package": first <= y <= last, "entered": y in entered, "known": legal.has_data(y)}
        for y in range(today.year - 1, today.year + 3)
    ]
    context = {
        "overrides": CalendarOverride.objects.filter(date__year__gte=today.year - 1),
        "years": years,
        "entered_years": CalendarYear.objects.all(),
        "package_first": first,
        "package_last": last,
        "form": CalendarOverrideForm(initial={"is_working_day": "0"}),
        "year_form": year_form or CalendarYearForm(initial={"year": last + 1}),
    }
    return render(request, "workflow/calendar.html", context)


@role_required(RoleCode.SYSADMIN)
def override_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add or change one override; the delete button removes it."""
    override = get_object_or_404(CalendarOverride, pk=pk) if pk else None
    initial = (
        {
            "date": override.date,
            "is_working_day": "1" if override.is_working_day else "0",
            "note": override.note,
        }
        if override
        else {}
    )
    form = CalendarOverrideForm(request.POST or None, initial=initial)
    if request.method == "POST" and "delete" in request.POST and override is not None:
        delete_calendar_override(actor=request.user, override=override)
        messages.success(request, _("已删除。"))
        return redirect("workflow:calendar")
    if request.method == "POST" and form.is_valid():
        try:
            save_calendar_override(actor=request.user, override=override, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("workflow:calendar")
    return render(request, "workflow/override_form.html", {"form": form, "override": override})


@require_POST
@role_required(RoleCode.SYSADMIN)
def year_entered(request: HttpRequest) -> HttpResponse:
    """Mark a year's arrangement as fully entered (``entered=1``) or take the mark back."""
    form = CalendarYearForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("年份无效。"))
        return _calendar_page(request, year_form=form)
    entered = request.POST.get("entered") == "1"
    set_year_entered(actor=request.user, entered=entered, **form.cleaned_data)
    year: int = form.cleaned_data["year"]
    if (
        entered
        and not CalendarOverride.objects.filter(
            date__gte=dt.date(year, 1, 1), date__lte=dt.date(year, 12, 31)
        ).exists()
    ):
        messages.warning(
            request, _("{year}年还没有任何节假日调整，请先录入放假和调休上班的日期。").format(year=year)
        )
    messages.success(request, _("已保存。"))
    return redirect("workflow:calendar")


# --- routing rules (分办规则) ------------------------------------------------------------------


class RoutingRuleForm(forms.Form):
    area = forms.ModelChoiceField(
        label=gettext_lazy("属地"),
        queryset=Organisation.objects.filter(
            is_active=True, kind__in=[OrganisationKind.GOVERNMENT, OrganisationKind.PARTY]
        ),
        help_text=gettext_lazy("该行政区域及其下辖区域的信访事项适用本规则；下级区域的规则优先。"),
    )
    category = forms.ModelChoiceField(
        label=gettext_lazy("问题分类"),
        queryset=Category.objects.filter(is_active=True).select_related("parent"),
        help_text=gettext_lazy("选一级分类适用其下全部细类；同一属地内细类的规则优先。"),
    )
    unit = forms.ModelChoiceField(
        label=gettext_lazy("责任单位"),
        queryset=Organisation.objects.filter(is_active=True).exclude(kind=OrganisationKind.PETITION_OFFICE),
    )


@role_required(RoleCode.SYSADMIN)
def routing_rules(request: HttpRequest) -> HttpResponse:
    """The routing rules (谁主管、谁负责), and the form to add one; adding one for an area and category
    that already has a rule changes its unit."""
    form = RoutingRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            save_routing_rule(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("workflow:routing_rules")
    rules = RoutingRule.objects.select_related("area", "category", "category__parent", "unit").order_by(
        "area__path", "category__code"
    )
    return render(request, "workflow/routing_rules.html", {"rules": rules, "form": form})


@require_POST
@role_required(RoleCode.SYSADMIN)
def routing_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one routing rule (audited)."""
    rule = get_object_or_404(RoutingRule, pk=pk)
    delete_routing_rule(actor=request.user, rule=rule)
    messages.success(request, _("已删除。"))
    return redirect("workflow:routing_rules")
