"""Staff pages of the dispute screening ledger (``/staff/disputes/``): the ledger (filters, XLSX,
print), a dispute's page with its actions, the forms, screening rounds and returns, briefings and
the figures.  Views parse input and call ``services``; the rules live there."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinfang.audit.services import record_event
from xinfang.core.decorators import role_required
from xinfang.core.forms import add_service_errors
from xinfang.core.pagination import CappedPaginator
from xinfang.core.xlsx import xlsx_response
from xinfang.organisations.choices import CASEWORK_ROLES

from . import access, briefings, figures, services
from .filters import ledger, parse
from .forms import (
    BriefingForm,
    DisputeForm,
    LeaderForm,
    LedgerFilterForm,
    LinkForm,
    PeriodForm,
    ReturnForm,
    RoundForm,
    TransitionForm,
)
from .models import Briefing, Dispute, DisputeParty, DisputeStatus, RoundReturn, ScreeningRound

PAGE_SIZE = 30
EXPORT_CAP = 10_000
_SPLIT = re.compile(r"[\s,，、;；]+")
casework = role_required(*CASEWORK_ROLES)


def _parties_text(dispute: Dispute) -> str:
    """The masked parties of a list row (prefetched: no query)."""
    return "；".join(
        " ".join(x for x in (p.name, p.id_number_mask, p.phone_mask) if x) for p in dispute.parties.all()
    )


# --- the ledger -----------------------------------------------------------------------------------

LEDGER_HEADER = [
    gettext_lazy("编号"),
    gettext_lazy("纠纷名称"),
    gettext_lazy("类别"),
    gettext_lazy("属地"),
    gettext_lazy("当事人"),
    gettext_lazy("风险等级"),
    gettext_lazy("来源"),
    gettext_lazy("包案领导"),
    gettext_lazy("责任单位"),
    gettext_lazy("排查日期"),
    gettext_lazy("化解期限"),
    gettext_lazy("状态"),
    gettext_lazy("是否逾期"),
    gettext_lazy("化解方案"),
]


def _row(d: Dispute, today: dt.date) -> list[Any]:
    locality = d.locality.name if d.locality_id else ""
    leader = str(d.leader) if d.leader_id else ""
    overdue = _("是") if d.is_overdue(today) else _("否")
    return [
        d.number, d.title, d.get_kind_display(), locality, _parties_text(d), d.get_risk_display(),
        d.get_source_display(), leader, d.organisation.name, d.screened_on, d.deadline or "",
        d.get_status_display(), overdue, d.plan,
    ]  # fmt: skip


@casework
def ledger_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = LedgerFilterForm(request.GET or None, user=request.user)
    form.is_valid()
    flt = parse(request.GET)
    qs = ledger(request.user, flt, today=today)
    fmt = request.GET.get("format")
    if fmt == "xlsx":
        return _export(request, qs, flt, today)
    if fmt == "print":
        rows = list(qs[:1000])
        return render(request, "screening/ledger_print.html", {"rows": rows, "today": today, "flt": flt,
                      "cut": len(rows) == 1000, "title": _("矛盾纠纷排查化解台账")})  # fmt: skip
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "screening/ledger.html",
        {
            "form": form,
            "page": page,
            "rows": page.object_list,
            "today": today,
            "can_create": access.may_write_for(request.user, request.user.organisation)
            or access.writable_units(request.user).exists(),
            "may_issue": access.may_issue(request.user),
        },
    )


def _export(request: HttpRequest, qs: Any, flt: Any, today: dt.date) -> HttpResponse:
    rows = list(qs[: EXPORT_CAP + 1])
    cut = len(rows) > EXPORT_CAP
    rows = rows[:EXPORT_CAP]
    record_event(
        actor=request.user, action="dispute.exported", data={"rows": len(rows), "filters": flt.query()}
    )
    return xlsx_response(
        title=_("矛盾纠纷排查化解台账"),
        header=[str(h) for h in LEDGER_HEADER],
        rows=(_row(d, today) for d in rows),
        note=_("仅导出前%(n)d条，请缩小筛选范围。") % {"n": EXPORT_CAP} if cut else "",
    )


# --- one dispute ----------------------------------------------------------------------------------


def _dispute_or_404(request: HttpRequest, number: str) -> Dispute:
    qs = access.restrict_disputes(Dispute.objects.all(), request.user)
    try:
        return qs.select_related("organisation", "locality", "leader", "round", "office", "created_by").get(
            number=number
        )
    except Dispute.DoesNotExist:
        raise Http404 from None


def _detail(request: HttpRequest, dispute: Dispute, **forms_: Any) -> HttpResponse:
    linked = dispute.petitions.all()
    visible = list(linked.restrict(request.user).order_by("number").only("id", "number", "title", "status"))
    can_write = access.may_write_for(request.user, dispute.organisation)
    context = {
        "dispute": dispute,
        "parties": list(dispute.parties.all()),
        "events": list(dispute.events.select_related("actor")),
        "petitions": visible,
        "hidden_petitions": linked.count() - len(visible),
        "can_write": can_write,
        "is_open": dispute.is_open,
        "overdue": dispute.is_overdue(timezone.localdate()),
        "transition_form": forms_.get("transition_form") or TransitionForm(status=dispute.status),
        "link_form": forms_.get("link_form") or LinkForm(),
        "leader_form": forms_.get("leader_form")
        or LeaderForm(user=request.user, initial={"leader": dispute.leader_id}),
        "status_labels": dict(DisputeStatus.choices),
        "revealed": forms_.get("revealed"),
    }
    return render(request, "screening/detail.html", context)


@casework
def detail(request: HttpRequest, number: str) -> HttpResponse:
    return _detail(request, _dispute_or_404(request, number))


def _form_values(form: DisputeForm) -> dict[str, Any]:
    data = form.cleaned_data
    keys = ("title", "kind", "risk", "source", "round", "organisation", "locality", "description", "plan",
            "deadline", "screened_on")  # fmt: skip
    return {k: data[k] for k in keys}


@casework
def create(request: HttpRequest) -> HttpResponse:
    if not access.writable_units(request.user).exists():
        raise PermissionDenied(_("您的账号不能登记矛盾纠纷。"))
    initial = {"round": request.GET.get("round") or None, "organisation": request.GET.get("unit") or None}
    form = DisputeForm(request.POST or None, user=request.user, initial=initial, parties_required=True)
    if request.method == "POST" and form.is_valid():
        try:
            dispute = services.create_dispute(
                actor=request.user,
                leader=form.cleaned_data["leader"],
                parties=form.parties(),
                **_form_values(form),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except services.ScreeningRefused as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            messages.success(
                request,
                _("已登记为%(number)s。责任单位%(unit)s负责化解；到期未化解的将显示为逾期。")
                % {"number": dispute.number, "unit": dispute.organisation.name},
            )
            return redirect("screening:detail", number=dispute.number)
    return render(request, "screening/form.html", {"form": form, "title": _("登记矛盾纠纷")})


@casework
def edit(request: HttpRequest, number: str) -> HttpResponse:
    dispute = _dispute_or_404(request, number)
    if not access.may_write_for(request.user, dispute.organisation):
        raise PermissionDenied(_("您不能修改这条矛盾纠纷。"))
    initial = {k: getattr(dispute, k) for k in services.EDITABLE}
    form = DisputeForm(request.POST or None, user=request.user, initial=initial, with_leader=False)
    if request.method == "POST" and form.is_valid():
        parties = form.parties()
        try:
            services.update_dispute(
                actor=request.user, dispute=dispute, parties=parties or None, **_form_values(form)
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except services.ScreeningRefused as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            messages.success(request, _("已保存修改。"))
            return redirect("screening:detail", number=dispute.number)
    return render(
        request,
        "screening/form.html",
        {
            "form": form,
            "title": _("修改矛盾纠纷 %(n)s") % {"n": dispute.number},
            "dispute": dispute,
        },  # fmt: skip
    )


def _act(request: HttpRequest, number: str, form: Any, form_name: str, act: Any, done: str) -> HttpResponse:
    dispute = _dispute_or_404(request, number)
    if form.is_valid():
        try:
            act(dispute, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except services.ScreeningRefused as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            messages.success(request, done)
            return redirect("screening:detail", number=dispute.number)
    return _detail(request, dispute, **{form_name: form})


@require_POST
@casework
def change_status(request: HttpRequest, number: str) -> HttpResponse:
    status = _dispute_or_404(request, number).status
    return _act(
        request, number, TransitionForm(request.POST, status=status), "transition_form",
        lambda d, data: services.transition(
            actor=request.user, dispute=d, to=data["to"], note=data["note"], petition_number=data["petition"]
        ),
        _("状态已变更，已记入办理过程。"),
    )  # fmt: skip


@require_POST
@casework
def link(request: HttpRequest, number: str) -> HttpResponse:
    return _act(
        request, number, LinkForm(request.POST), "link_form",
        lambda d, data: services.link_petition(
            actor=request.user, dispute=d, petition_number=data["petition"]
        ),
        _("已关联信访事项。"),
    )  # fmt: skip


@require_POST
@casework
def leader(request: HttpRequest, number: str) -> HttpResponse:
    return _act(
        request, number, LeaderForm(request.POST, user=request.user), "leader_form",
        lambda d, data: services.set_leader(dispute=d, leader=data["leader"], actor=request.user),
        _("已确定包案领导，领导会收到提醒。"),
    )  # fmt: skip


@require_POST
@casework
def reveal(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    dispute = _dispute_or_404(request, number)
    party = get_object_or_404(DisputeParty, pk=pk, dispute=dispute)
    try:
        values = services.reveal_party(actor=request.user, party=party)
    except services.ScreeningRefused as exc:
        raise PermissionDenied(str(exc)) from exc
    return _detail(request, dispute, revealed={"pk": party.pk, **values})


# --- rounds and returns ---------------------------------------------------------------------------


@casework
def rounds(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    qs = (
        access.restrict_rounds(ScreeningRound.objects.all(), request.user)
        .select_related("office")
        .annotate(
            units=Count("returns", distinct=True),
            done=Count("returns", filter=Q(returns__completed_at__isnull=False), distinct=True),
            found=Count("returns__disputes", distinct=True),
        )
        .order_by("-due_on", "-pk")
    )
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    mine = list(
        RoundReturn.objects.filter(
            unit_id__in=access.reporting_units_of(request.user), completed_at__isnull=True
        )
        .select_related("round", "unit")
        .order_by("round__due_on")[:20]
    )
    return render(
        request, "screening/rounds.html",
        {"page": page, "rounds": page.object_list, "today": today, "mine": mine,
         "may_issue": access.may_issue(request.user)},
    )  # fmt: skip


@casework
def round_new(request: HttpRequest) -> HttpResponse:
    if not access.may_issue(request.user):
        raise PermissionDenied(_("只有信访工作机构的督办员或领导可以下发排查任务。"))
    today = timezone.localdate()
    first = today.replace(day=1)
    initial = {
        "title": _("%(y)d年%(m)d月矛盾纠纷排查") % {"y": today.year, "m": today.month},
        "period_start": first,
        "period_end": today,
        "due_on": today + dt.timedelta(days=7),
    }
    form = RoundForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            rnd = services.issue_round(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("已下发，%(n)d个单位须在%(due)s前报送，各单位人员已收到提醒。")
                % {"n": rnd.returns.count(), "due": rnd.due_on.isoformat()},
            )  # fmt: skip
            return redirect("screening:round", pk=rnd.pk)
    return render(request, "screening/round_form.html", {"form": form})


def _round_or_404(request: HttpRequest, pk: int) -> ScreeningRound:
    qs = access.restrict_rounds(ScreeningRound.objects.all(), request.user)
    rnd = qs.select_related("office", "issued_by").filter(pk=pk).first()
    if rnd is None:
        raise Http404
    return rnd


@casework
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rnd = _round_or_404(request, pk)
    path = access.scope_path(request.user) or "-"
    returns = list(
        rnd.returns.filter(Q(unit_path__startswith=path) | Q(round__area_path__startswith=path))
        .select_related("unit", "completed_by")
        .annotate(linked=Count("disputes"))
        .order_by("unit__path")
    )
    return render(
        request, "screening/round.html",
        {"round": rnd, "returns": returns, "today": timezone.localdate(),
         "mine": {r.unit_id for r in returns if access.may_report_for(request.user, r.unit)}},
    )  # fmt: skip


def _returns_qs(request: HttpRequest) -> tuple[Any, dict[str, str]]:
    """The returns list behind the workbench panels and the 排查率 links."""
    today = timezone.localdate()
    g = request.GET
    path = access.scope_path(request.user)
    if path is None:
        return RoundReturn.objects.none(), {}
    visible = access.restrict_rounds(ScreeningRound.objects.all(), request.user).values("pk")
    qs = RoundReturn.objects.filter(round__in=visible).filter(
        Q(unit_path__startswith=path) | Q(round__area_path__startswith=path)
    )
    if g.get("mine"):
        qs = qs.filter(unit_id__in=access.reporting_units_of(request.user))
    if g.get("issued"):
        qs = qs.filter(round__office_id=request.user.organisation_id)
    if g.get("pending"):
        qs = qs.filter(completed_at__isnull=True)
    if g.get("late"):
        qs = qs.filter(completed_at__isnull=True, round__due_on__lt=today)
    if g.get("unit", "").isdigit():
        qs = qs.filter(unit_id=int(g["unit"]))
    try:
        if g.get("due_from"):
            period = figures.Period(
                dt.date.fromisoformat(g["due_from"]), dt.date.fromisoformat(g.get("due_to") or g["due_from"])
            )
            qs = qs & figures.due_returns(request.user, period, today)
    except ValueError:
        pass
    if g.get("on_time"):
        qs = qs.filter(figures.ON_TIME)
    return qs.select_related("round", "unit", "completed_by").order_by("round__due_on", "unit__path"), dict(
        g.items()
    )


@casework
def returns(request: HttpRequest) -> HttpResponse:
    qs, params = _returns_qs(request)
    today = timezone.localdate()
    if request.GET.get("format") == "xlsx":
        rows = list(qs[:EXPORT_CAP])
        record_event(actor=request.user, action="screening.returns_exported", data={"rows": len(rows)})
        return xlsx_response(
            title=_("排查报送情况"),
            header=[
                _("排查任务"),
                _("报送单位"),
                _("报送期限"),
                _("报送时间"),
                _("是否按时"),
                _("发现纠纷数"),
                _("零报告"),
                _("说明"),
            ],  # fmt: skip
            rows=(
                [
                    r.round.title,
                    r.unit.name,
                    r.round.due_on,
                    timezone.localtime(r.completed_at).strftime("%Y-%m-%d %H:%M") if r.completed_at else "",
                    _("按时")
                    if r.on_time
                    else (
                        _("逾期未报")
                        if r.is_late(today)
                        else (_("逾期报送") if r.completed_at else _("未到期"))
                    ),
                    r.disputes_found,
                    _("是") if r.is_zero else "",
                    r.note,
                ]
                for r in rows
            ),  # fmt: skip
        )
    page = CappedPaginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "screening/returns.html", {"page": page, "rows": page.object_list, "today": today})


@casework
def return_form(request: HttpRequest, pk: int) -> HttpResponse:
    path = access.scope_path(request.user) or "-"
    ret = get_object_or_404(
        RoundReturn.objects.select_related("round", "unit", "completed_by").filter(
            Q(unit_path__startswith=path) | Q(round__area_path__startswith=path)
        ),
        pk=pk,
    )
    may_report = access.may_report_for(request.user, ret.unit)
    numbers = ret.disputes.order_by("number").values_list("number", flat=True)
    initial = {"zero": ret.is_zero, "note": ret.note, "disputes": "\n".join(numbers)}
    form = ReturnForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not may_report:
            raise PermissionDenied(_("只有本单位可以报送本单位的排查情况。"))
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.complete_return(
                    actor=request.user, round_return=ret, zero=data["zero"], note=data["note"],
                    dispute_numbers=[n for n in _SPLIT.split(data["disputes"]) if n],
                )  # fmt: skip
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("已报送，发出排查任务的机关可以看到本单位的排查情况。"))
                return redirect("screening:round", pk=ret.round_id)
    found = list(ret.disputes.select_related("organisation").order_by("number"))
    return render(
        request, "screening/return_form.html",
        {"ret": ret, "form": form, "may_report": may_report, "found": found, "today": timezone.localdate()},
    )  # fmt: skip


# --- briefings and figures ------------------------------------------------------------------------


@casework
def briefing_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    year, quarter = figures.previous_quarter(today)
    form = BriefingForm(request.POST or None, initial={"year": year, "quarter": quarter})
    if request.method == "POST":
        if not access.may_issue(request.user):
            raise PermissionDenied(_("只有信访工作机构的督办员或领导可以生成排查通报。"))
        if form.is_valid():
            try:
                b = briefings.generate_briefing(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("通报已生成，数字已固定；以后下载内容不变。"))
                return redirect("screening:briefing", pk=b.pk)
    items = briefings.visible_briefings(request.user)[:100]
    return render(
        request,
        "screening/briefings.html",
        {"form": form, "items": items, "may_issue": access.may_issue(request.user)},
    )


def _briefing_or_404(request: HttpRequest, pk: int) -> Briefing:
    b = briefings.visible_briefings(request.user).filter(pk=pk).first()
    if b is None:
        raise Http404
    return b


@casework
def briefing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    b = _briefing_or_404(request, pk)
    template = (
        "screening/briefing_print.html" if request.GET.get("format") == "print" else "screening/briefing.html"
    )
    return render(request, template, {"b": b, "f": b.figures, "summary": briefings.summary(b),
                                      "risk": briefings.risk_label, "title": b.title})  # fmt: skip


@casework
def briefing_docx(request: HttpRequest, pk: int) -> HttpResponse:
    from urllib.parse import quote

    b = _briefing_or_404(request, pk)
    response = HttpResponse(briefings.render_docx(b), content_type=briefings.DOCX_TYPE)
    response["Content-Disposition"] = (
        f"attachment; filename=\"briefing.docx\"; filename*=UTF-8''{quote(briefings.file_name(b))}"
    )
    response["Cache-Control"] = "no-store"
    return response


@casework
def figures_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    year, quarter = figures.current_quarter(today)
    default = figures.Period.quarter(year, quarter)
    form = PeriodForm(request.GET or None, initial={"start": default.start, "end": default.end})
    start, end = default.start, default.end
    if form.is_valid():
        start = form.cleaned_data["start"] or start
        end = form.cleaned_data["end"] or end
    period = figures.Period(start, end)
    rows = figures.unit_figures(request.user, period, today)
    for r in rows:
        r.links = {
            "due": figures.returns_url(r.unit_id, period),
            "on_time": figures.returns_url(r.unit_id, period, on_time=True),
            "screened": figures.ledger_url(figures.cohort_filter(r.unit_id, period, resolved=False)),
            "resolved": figures.ledger_url(figures.cohort_filter(r.unit_id, period, resolved=True)),
        }
    return render(request, "screening/figures.html", {"form": form, "rows": rows, "period": period})
