"""Staff pages of campaigns: the backlog list and its rule, campaigns (list, form, detail with cases
and progress, one case, closing report) and the relief ledger.  Every ledger exports to XLSX
(``?export=xlsx``) and prints (``?print=1``) with the same columns.

Views parse input and call ``services``; the rules live there and in ``access``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinfang.audit.services import record_event
from xinfang.core.decorators import role_required
from xinfang.core.forms import add_service_errors
from xinfang.core.xlsx import xlsx_response
from xinfang.organisations.choices import CASEWORK_ROLES
from xinfang.organisations.models import Organisation
from xinfang.petitions.models import Petition, Petitioner

from . import access, backlog, forms, services
from .access import CampaignRefused
from .contracts import open_contract_of, open_contracts
from .models import Campaign, CampaignCase, CampaignStatus, ReliefApplication
from .progress import filter_cases, progress

PAGE_SIZE = 30
EXPORT_CAP = 10_000
_SPLIT = re.compile(r"[\s,，、;；]+")


def split_numbers(text: str) -> list[str]:
    return [n for n in _SPLIT.split(text or "") if n]


def _ledger(
    request: HttpRequest, *, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], what: str
) -> HttpResponse | None:
    """The XLSX download or the print view of a ledger, when asked (else None).  Capped and audited."""
    mode = "xlsx" if request.GET.get("export") == "xlsx" else "print" if request.GET.get("print") else None
    if mode is None:
        return None
    rows = list(rows)
    cut = len(rows) > EXPORT_CAP
    rows = rows[:EXPORT_CAP]
    record_event(
        actor=request.user, action="campaigns.exported", data={"list": what, "rows": len(rows), "mode": mode}
    )
    note = _("仅列出前%(n)d条，请缩小筛选范围。") % {"n": EXPORT_CAP} if cut else ""
    if mode == "xlsx":
        return xlsx_response(title=title, header=header, rows=rows, note=note)
    return render(
        request,
        "campaigns/print.html",
        {"title": title, "header": header, "rows": rows, "note": note, "printed_at": timezone.now()},
    )


def _page(request: HttpRequest, qs: Any) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


# --- backlog ----------------------------------------------------------------------------------------


@role_required(*CASEWORK_ROLES)
def backlog_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rule = backlog.rule_for(backlog.area_of(request.user))
    form = forms.BacklogFilterForm(request.GET or None)
    qs = backlog.backlog_cases(request.user, today, rule=rule).select_related(
        "office", "category", "locality"
    )
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        if reason == backlog.OVERDUE:
            qs = qs.filter(backlog_overdue=True)
        elif reason == backlog.REPEATED:
            qs = qs.filter(backlog_repeats__gt=rule.repeat_count)
        elif reason == backlog.AFTER_CONCLUSION:
            qs = qs.filter(backlog_after_conclusion=True)
        if form.cleaned_data["uncontracted"]:
            qs = qs.exclude(open_contract_of("pk"))
    exported = _ledger(
        request,
        title=_("信访积案清单"),
        header=[
            _("信访编号"),
            _("标题"),
            _("登记机构"),
            _("问题属地"),
            _("状态"),
            _("办理时限"),
            _("积案情形"),
        ],
        rows=(
            [
                p.number,
                p.title,
                p.office.name,
                p.locality.name,
                p.get_status_display(),
                p.due_on or "",
                "；".join(backlog.reasons_of(p, rule, today).labels),
            ]
            for p in qs[: EXPORT_CAP + 1]
        ),  # fmt: skip
        what="backlog",
    )
    if exported is not None:
        return exported
    page = _page(request, qs)
    rows = [(p, backlog.reasons_of(p, rule, today)) for p in page.object_list]
    contracts = open_contracts([p.pk for p, _r in rows])
    manageable = [c for c in access.visible_campaigns(request.user).exclude(status=CampaignStatus.CLOSED)
                  .select_related("organisation") if access.may_manage(request.user, c)]  # fmt: skip
    return render(
        request,
        "campaigns/backlog.html",
        {
            "form": form,
            "page": page,
            "rows": [(p, r, contracts.get(p.pk)) for p, r in rows],
            "rule": rule,
            "rule_text": backlog.rule_text(rule),
            "can_configure": access.may_configure(request.user),
            "campaigns": manageable,
        },
    )


@role_required(*access.MANAGER_ROLES)
def backlog_rule(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not access.may_configure(user):
        raise PermissionDenied(_("只有信访工作机构或本级政府的领导、督办员可以设置积案认定标准。"))
    area = backlog.area_of(user)
    rule = backlog.rule_for(area)
    form = forms.RuleForm(request.POST if request.POST.get("form") == "rule" else None, instance=rule)
    category_form = forms.CategoryForm(request.POST if request.POST.get("form") == "category" else None)
    if request.method == "POST":
        try:
            if request.POST.get("form") == "rule" and form.is_valid():
                data = form.cleaned_data
                services.save_backlog_rule(user=user, **data)
                messages.success(request, _("已保存积案认定标准；积案清单即按新标准列出。"))
                return redirect("campaigns:backlog_rule")
            if request.POST.get("form") == "category" and category_form.is_valid():
                services.add_category(user=user, name=category_form.cleaned_data["name"])
                messages.success(request, _("已新增化解类别，专项行动的案件可选用。"))
                return redirect("campaigns:backlog_rule")
        except ValidationError as exc:
            add_service_errors(form if request.POST.get("form") == "rule" else category_form, exc)
    return render(
        request,
        "campaigns/rule.html",
        {
            "form": form,
            "category_form": category_form,
            "area": area,
            "own_rule": rule.pk is not None and rule.organisation_id == area.pk,
            "rule": rule,
            "categories": services.categories_for(area),
        },
    )


# --- campaigns --------------------------------------------------------------------------------------


def _campaign_or_404(request: HttpRequest, pk: int) -> Campaign:
    try:
        return services.get_campaign(request.user, pk)
    except Campaign.DoesNotExist:
        raise Http404 from None


@role_required(*CASEWORK_ROLES)
def campaign_list(request: HttpRequest) -> HttpResponse:
    form = forms.CampaignFilterForm(request.GET or None)
    qs = access.visible_campaigns(request.user).select_related("organisation")
    status = form.cleaned_data["status"] if form.is_valid() else ""
    if status == "":
        qs = qs.exclude(status=CampaignStatus.CLOSED)
    elif status != "all":
        qs = qs.filter(status=status)
    qs = qs.order_by("-starts_on", "-id")
    exported = _ledger(
        request,
        title=_("专项行动台账"),
        header=[_("名称"), _("范围"), _("开始日期"), _("结束日期"), _("状态")],
        rows=(
            [c.name, c.organisation.name, c.starts_on, c.ends_on, c.get_status_display()]
            for c in qs[: EXPORT_CAP + 1]
        ),
        what="campaigns",
    )
    if exported is not None:
        return exported
    page = _page(request, qs)
    return render(
        request,
        "campaigns/list.html",
        {
            "form": form,
            "page": page,
            "campaigns": page.object_list,
            "can_create": access.may_create(request.user),
        },
    )


@role_required(*access.MANAGER_ROLES)
def campaign_new(request: HttpRequest) -> HttpResponse:
    if not access.may_create(request.user):
        raise PermissionDenied(_("只有领导或督办员可以发起专项行动。"))
    form = forms.CampaignForm(request.POST or None, organisations=access.scope_organisations(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = services.create_campaign(
                user=request.user, name=data["name"], starts_on=data["starts_on"], ends_on=data["ends_on"],
                description=data["description"], organisation=data["organisation"], targets=form.targets(),
            )  # fmt: skip
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已新建专项行动。下一步：在积案清单中勾选案件列入，或按编号添加。"))
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "campaign": None})


@role_required(*access.MANAGER_ROLES)
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    if not access.may_manage(request.user, campaign):
        raise PermissionDenied
    targets = {t.metric: t.threshold for t in campaign.targets.all()}
    initial = {"name": campaign.name, "starts_on": campaign.starts_on, "ends_on": campaign.ends_on,
               "description": campaign.description}  # fmt: skip
    initial.update({f"target_{k}": v for k, v in targets.items()})
    form = forms.CampaignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_campaign(
                user=request.user, campaign_id=campaign.pk, name=data["name"], starts_on=data["starts_on"],
                ends_on=data["ends_on"], description=data["description"], targets=form.targets(),
            )  # fmt: skip
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "campaign": campaign})


def _case_rows(cases: list[CampaignCase]) -> list[dict[str, Any]]:
    """Each case with its open contract (leadership), read in one query for the page."""
    contracts = open_contracts([c.petition_id for c in cases])
    rows = []
    for c in cases:
        contract = contracts.get(c.petition_id)
        leader = contract.leader if contract is not None else c.leader
        due = contract.due_on if contract is not None else c.contract_due_on
        rows.append({"case": c, "leader": leader, "due_on": due, "contract": contract})
    return rows


def _cases_export_rows(rows: list[dict[str, Any]]) -> Iterable[list[Any]]:
    for r in rows:
        c = r["case"]
        yield [c.petition.number, c.petition.title, c.unit.name, c.category.name if c.category_id else "",
               str(r["leader"] or ""), r["due_on"] or "", c.get_status_display(), c.resolved_on or "",
               c.resolution_note]  # fmt: skip


@role_required(*CASEWORK_ROLES)
def campaign_detail(request: HttpRequest, pk: int, **forms_: Any) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    user = request.user
    cases = access.visible_cases(user, campaign)
    filters = forms.CaseFilterForm(request.GET or None)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    listed = (
        filter_cases(
            cases,
            unit=chosen.get("unit") or "",
            category=chosen.get("category") or "",
            status=chosen.get("status") or "",
        )
        .select_related("petition", "unit", "category", "leader")
        .order_by("unit__path", "id")
    )
    if request.GET.get("export") or request.GET.get("print"):
        rows = _case_rows(list(listed[: EXPORT_CAP + 1]))
        exported = _ledger(
            request,
            title=_("%(name)s积案台账") % {"name": campaign.name},
            header=[
                _("信访编号"),
                _("标题"),
                _("责任单位"),
                _("化解类别"),
                _("包案领导"),
                _("包案期限"),
                _("状态"),
                _("化解日期"),
                _("化解情况"),
            ],  # fmt: skip
            rows=_cases_export_rows(rows),
            what=f"campaign:{campaign.pk}",
        )
        if exported is not None:
            return exported
    page = _page(request, listed)
    manage = access.may_manage(user, campaign)
    categories = services.category_choices(campaign) if manage else []
    context = {
        "campaign": campaign,
        "page": page,
        "rows": _case_rows(list(page.object_list)),
        "filters": filters,
        "progress": progress(campaign, cases),
        "can_manage": manage,
        "today": timezone.localdate(),
        "add_form": forms_.get("add_form") or forms.AddCasesForm(categories=categories),
        "status_form": forms_.get("status_form") or forms.StatusForm(),
        "unit_filter": _unit(chosen.get("unit") or ""),
    }  # fmt: skip
    return render(request, "campaigns/detail.html", context)


def _unit(value: str) -> Organisation | None:
    return Organisation.objects.filter(pk=int(value)).first() if value.isdigit() else None


def _refused(request: HttpRequest, exc: Exception, to: str, **kwargs: Any) -> HttpResponse:
    messages.error(request, str(exc))
    return redirect(to, **kwargs)


@require_POST
@role_required(*access.MANAGER_ROLES)
def campaign_add_cases(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    numbers = request.POST.getlist("number") + split_numbers(request.POST.get("petitions", ""))
    categories = services.category_choices(campaign)
    form = forms.AddCasesForm({"petitions": "\n".join(numbers), "category": request.POST.get("category", "")},
                              categories=categories)  # fmt: skip
    if form.is_valid():
        try:
            added = services.add_cases(
                user=request.user, campaign_id=campaign.pk, petition_numbers=numbers,
                category=form.cleaned_data["category"] or None,
            )  # fmt: skip
        except CampaignRefused as exc:
            raise PermissionDenied(str(exc)) from exc
        except ValidationError as exc:
            if request.POST.get("from") == "backlog":
                return _refused(request, "；".join(exc.messages), "campaigns:backlog")
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("已列入%(n)d件。下一步：逐件确定化解类别、落实包案领导。") % {"n": len(added)},
            )
            return redirect("campaigns:detail", pk=campaign.pk)
    return campaign_detail(request, campaign.pk, add_form=form)


@require_POST
@role_required(*access.MANAGER_ROLES)
def backlog_add(request: HttpRequest) -> HttpResponse:
    """The backlog list's bulk selection, for the campaign chosen in the form."""
    campaign_id = request.POST.get("campaign", "")
    if not campaign_id.isdigit():
        return _refused(request, _("请选择专项行动。"), "campaigns:backlog")
    return campaign_add_cases(request, int(campaign_id))


@require_POST
@role_required(*access.MANAGER_ROLES)
def campaign_status(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    form = forms.StatusForm(request.POST)
    if form.is_valid():
        try:
            services.set_campaign_status(
                user=request.user, campaign_id=campaign.pk, status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
            )  # fmt: skip
        except CampaignRefused as exc:
            raise PermissionDenied(str(exc)) from exc
        except ValidationError as exc:
            return _refused(request, "；".join(exc.messages), "campaigns:detail", pk=campaign.pk)
        done = (
            _("专项行动已开始。")
            if form.cleaned_data["status"] == CampaignStatus.RUNNING
            else _("专项行动已结束，可下载总结报告。")
        )
        messages.success(request, done)
    return redirect("campaigns:detail", pk=campaign.pk)


@role_required(*CASEWORK_ROLES)
def closing_report(request: HttpRequest, pk: int) -> HttpResponse:
    from .progress import closing_report as build

    campaign = _campaign_or_404(request, pk)
    if not access.may_manage(request.user, campaign):
        raise PermissionDenied(_("只有专项行动范围所属机关的领导或督办员可以生成总结报告。"))
    name, content = build(user=request.user, campaign=campaign)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    response["Content-Disposition"] = f"attachment; filename=\"report.docx\"; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response


@role_required(*CASEWORK_ROLES)
def my_cases(request: HttpRequest) -> HttpResponse:
    """The campaign cases of the user's unit or contracted to the user, across campaigns (the
    workbench panel's ledger); ``?late=1``: only those past the campaign's end or the contract
    deadline."""
    from .panels import late_cases

    today = timezone.localdate()
    late = request.GET.get("late") == "1"
    if late:
        qs = late_cases(request.user, today)
    else:
        qs = (
            CampaignCase.objects.filter(
                Q(unit_id=request.user.organisation_id) | Q(leader=request.user),
                campaign__in=access.visible_campaigns(request.user),
                petition__in=Petition.objects.restrict(request.user),
            )
            .select_related("petition", "campaign")
            .order_by("status", "campaign__ends_on", "id")
        )
    qs = qs.select_related("unit", "category", "leader")
    exported = _ledger(
        request,
        title=_("本单位专项行动案件"),
        header=[
            _("专项行动"),
            _("结束日期"),
            _("信访编号"),
            _("标题"),
            _("责任单位"),
            _("化解类别"),
            _("包案领导"),
            _("包案期限"),
            _("状态"),
        ],  # fmt: skip
        rows=(
            [
                c.campaign.name,
                c.campaign.ends_on,
                c.petition.number,
                c.petition.title,
                c.unit.name,
                c.category.name if c.category_id else "",
                str(c.leader or ""),
                c.contract_due_on or "",
                c.get_status_display(),
            ]
            for c in qs[: EXPORT_CAP + 1]
        ),  # fmt: skip
        what="my-cases",
    )
    if exported is not None:
        return exported
    page = _page(request, qs)
    return render(request, "campaigns/my_cases.html", {"page": page, "cases": page.object_list, "late": late,
                                                        "today": today})  # fmt: skip


# --- one case ---------------------------------------------------------------------------------------


def _case_or_404(request: HttpRequest, pk: int) -> CampaignCase:
    case = (
        CampaignCase.objects.filter(
            campaign__in=access.visible_campaigns(request.user),
            petition__in=Petition.objects.restrict(request.user),
        )
        .select_related("campaign__organisation", "petition", "unit", "category", "leader")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404
    return case


def _leaders(campaign: Campaign, user: Any) -> Any:
    try:
        from xinfang.leadership.access import leaders_for

        return leaders_for(user).select_related("organisation")
    except ImportError:  # pragma: no cover — leadership is part of the site
        return services.leader_choices(campaign)


@role_required(*CASEWORK_ROLES)
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    user = request.user
    manage = access.may_manage(user, case.campaign)
    categories = services.category_choices(case.campaign) if manage else []
    units = Organisation.objects.filter(path__startswith=case.campaign.organisation_path).order_by("path")
    which = request.POST.get("form") if request.method == "POST" else None
    case_form = forms.CaseForm(
        request.POST if which == "case" else None,
        initial={"category": case.category_id, "unit": case.unit_id}, categories=categories, units=units,
    )  # fmt: skip
    contract_form = forms.ContractForm(
        request.POST if which == "contract" else None, leaders=_leaders(case.campaign, user)
    )
    resolve_form = forms.ResolveForm(
        request.POST if which == "resolve" else None, initial={"resolved_on": timezone.localdate()}
    )
    actions: dict[str, tuple[Any, Callable[[dict[str, Any]], Any], str]] = {
        "case": (case_form, lambda d: services.update_case(
            user=user, case_id=case.pk, category=d["category"] or None, unit=d["unit"]),
            _("已保存化解类别和责任单位。")),
        "contract": (contract_form, lambda d: services.contract_case(
            user=user, case_id=case.pk, leader=d["leader"], measures=d["measures"], due_on=d["due_on"]),
            _("已落实包案。包案领导已收到提醒，将在其工作台“我包案的”中看到该案件。")),
        "resolve": (resolve_form, lambda d: services.resolve_case(
            user=user, case_id=case.pk, resolved_on=d["resolved_on"], note=d["note"]),
            _("已登记化解，专项行动进度随之更新。")),
    }  # fmt: skip
    if which in actions:
        form, act, done = actions[which]
        if form.is_valid():
            try:
                act(form.cleaned_data)
            except CampaignRefused as exc:
                raise PermissionDenied(str(exc)) from exc
            except PermissionError as exc:  # the leadership app's refusal of the contract
                messages.error(request, str(exc))
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, done)
                return redirect("campaigns:case", pk=case.pk)
    [row] = _case_rows([case])
    return render(
        request,
        "campaigns/case.html",
        {
            "case": case,
            "row": row,
            "can_manage": manage,
            "can_resolve": access.may_resolve(user, case),
            "case_form": case_form,
            "contract_form": contract_form,
            "resolve_form": resolve_form,
            "relief": list(case.relief.select_related("applicant").order_by("-recorded_at")),
        },
    )


# --- relief -----------------------------------------------------------------------------------------


def _relief_or_404(request: HttpRequest, pk: int) -> ReliefApplication:
    try:
        return services.get_relief(request.user, pk)
    except ReliefApplication.DoesNotExist:
        raise Http404 from None


@role_required(*CASEWORK_ROLES)
def relief_list(request: HttpRequest) -> HttpResponse:
    form = forms.ReliefFilterForm(request.GET or None)
    qs = access.visible_relief(request.user).select_related(
        "petition", "applicant", "decided_by", "organisation"
    )
    if form.is_valid() and form.cleaned_data["status"]:
        qs = qs.filter(status=form.cleaned_data["status"])
    qs = qs.order_by("-recorded_at", "-id")
    exported = _ledger(
        request,
        title=_("信访救助台账"),
        header=[
            _("信访编号"),
            _("申请人"),
            _("申请金额（元）"),
            _("登记日期"),
            _("状态"),
            _("批准金额（元）"),
            _("审批领导"),
            _("审批日期"),
            _("发放日期"),
        ],  # fmt: skip
        rows=(
            [
                a.petition.number,
                a.applicant.name,
                a.amount_requested,
                timezone.localdate(a.recorded_at),
                a.get_status_display(),
                a.amount_approved or "",
                str(a.decided_by or ""),
                a.decided_on or "",
                a.paid_on or "",
            ]
            for a in qs[: EXPORT_CAP + 1]
        ),  # fmt: skip
        what="relief",
    )
    if exported is not None:
        return exported
    page = _page(request, qs)
    return render(
        request,
        "campaigns/relief_list.html",
        {"form": form, "page": page, "applications": page.object_list,
         "can_record": access.may_record_relief(request.user)},
    )  # fmt: skip


@role_required(*access.RELIEF_RECORDER_ROLES)
def relief_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    data = request.POST or None
    number = (request.POST.get("petition") or request.GET.get("petition") or "").strip()
    petition = Petition.objects.restrict(user).filter(number=number).first() if number else None
    petitioners = list(Petitioner.objects.filter(petition=petition).order_by("position")) if petition else []
    cases = (
        list(CampaignCase.objects.filter(petition=petition).select_related("campaign")) if petition else []
    )
    form = forms.ReliefForm(data, initial={"petition": number}, petitioners=petitioners, cases=cases)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            application = services.apply_relief(
                user=user, petition_number=d["petition"], applicant=d["applicant"], reason=d["reason"],
                amount=d["amount"], campaign_case=d["campaign_case"],
            )  # fmt: skip
        except CampaignRefused as exc:
            raise PermissionDenied(str(exc)) from exc
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已登记救助申请。本地区领导已收到提醒，将审批后通知您发放。"))
            return redirect("campaigns:relief_detail", pk=application.pk)
    return render(request, "campaigns/relief_form.html", {"form": form, "petition": petition})


@role_required(*CASEWORK_ROLES)
def relief_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = _relief_or_404(request, pk)
    user = request.user
    which = request.POST.get("form") if request.method == "POST" else None
    approve_form = forms.ApproveForm(
        request.POST if which == "approve" else None, initial={"amount": application.amount_requested}
    )
    reject_form = forms.RejectForm(request.POST if which == "reject" else None)
    pay_form = forms.PayForm(
        request.POST if which == "pay" else None, initial={"paid_on": timezone.localdate()}
    )
    actions = {
        "approve": (approve_form,
                    lambda d: services.approve_relief(user=user, relief_id=pk, amount=d["amount"]),
                    _("已批准。登记人已收到提醒，发放后登记发放日期。")),
        "reject": (reject_form, lambda d: services.reject_relief(user=user, relief_id=pk, reason=d["reason"]),
                   _("已决定不予批准。登记人将把理由告知申请人。")),
        "pay": (pay_form, lambda d: services.pay_relief(user=user, relief_id=pk, paid_on=d["paid_on"]),
                _("已登记发放，救助办结。")),
    }  # fmt: skip
    if which in actions:
        form, act, done = actions[which]
        if form.is_valid():
            try:
                act(form.cleaned_data)
            except CampaignRefused as exc:
                raise PermissionDenied(str(exc)) from exc
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, done)
                return redirect("campaigns:relief_detail", pk=pk)
    return render(
        request,
        "campaigns/relief_detail.html",
        {
            "a": application,
            "can_decide": application.status == "applied" and access.may_decide_relief(user, application),
            "can_pay": application.status == "approved" and access.may_record_relief(user),
            "approve_form": approve_form,
            "reject_form": reject_form,
            "pay_form": pay_form,
        },
    )
