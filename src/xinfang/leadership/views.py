"""Staff pages of leadership under ``/staff/leadership/``: the contract ledger (包案台账), the
instruction ledger (阅批台账), the duty rota (值班表) and the duty log (值班记录) — each filtered,
open work by default, exported to XLSX and printed (A4, no menus) from the same columns — with
the detail pages and forms.  Views parse input and call ``services``; every rule lives there.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinfang.audit.services import record_event
from xinfang.core.decorators import role_required
from xinfang.core.forms import add_service_errors
from xinfang.core.pagination import CappedPaginator
from xinfang.core.xlsx import xlsx_response
from xinfang.organisations.choices import CASEWORK_ROLES, RoleCode
from xinfang.organisations.models import Organisation, User
from xinfang.petitions.models import Petition

from . import access, forms, selectors, services
from .models import (
    ContractMilestone,
    ContractStatus,
    DutyShift,
    Instruction,
    InstructionStatus,
    LeaderContract,
)

PAGE_SIZE = 30
EXPORT_CAP = 10_000
_SPLIT = re.compile(r"[\s,，、;；]+")
casework = role_required(*CASEWORK_ROLES)


# --- ledgers: one column set for the XLSX and the print view -------------------------------------


def _ledger_output(
    request: HttpRequest, *, key: str, title: str, header: Sequence[str], qs: Any, row: Callable[[Any], list]
) -> HttpResponse | None:
    """``?format=xlsx`` or ``?format=print``: the filtered ledger, audited; otherwise None."""
    fmt = request.GET.get("format")
    if fmt not in {"xlsx", "print"}:
        return None
    rows = list(qs[: EXPORT_CAP + 1])
    cut = len(rows) > EXPORT_CAP
    rows = rows[:EXPORT_CAP]
    record_event(
        actor=request.user,
        action="leadership.export",
        data={"list": key, "format": fmt, "rows": len(rows), "filters": dict(request.GET.items())},
    )
    note = _("仅导出前%(n)d条，请缩小筛选范围。") % {"n": EXPORT_CAP} if cut else ""
    body = [row(r) for r in rows]
    if fmt == "xlsx":
        return xlsx_response(title=title, header=header, rows=body, note=note)
    return render(
        request,
        "leadership/print.html",
        {"title": title, "header": header, "rows": body, "note": note, "printed_at": timezone.now()},
    )


def _d(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def _yes(flag: bool) -> str:
    return _("是") if flag else _("否")


def _refused(request: HttpRequest, exc: Exception, target: str, *args: Any) -> HttpResponse:
    messages.error(request, str(exc))
    return redirect(target, *args)


# --- contracts (包案) ------------------------------------------------------------------------------

CONTRACT_HEADER = [
    "编号",
    "案件/纠纷",
    "包案领导",
    "责任人",
    "承办人",
    "措施",
    "期限",
    "进度",
    "状态",
    "是否逾期",
]


def _contract_row(today: dt.date) -> Callable[[LeaderContract], list]:
    def row(c: LeaderContract) -> list:
        progress = _("下一节点 %(d)s") % {"d": _d(c.next_milestone_due)} if c.next_milestone_due else ""
        return [
            c.number,
            f"{c.subject_number} {c.subject_title}",
            str(c.leader),
            str(c.official or ""),
            str(c.handler or ""),
            c.measures,
            _d(c.due_on),
            progress,
            c.get_status_display(),
            _yes(c.is_late(today)),
        ]

    return row


@casework
def contract_list(request: HttpRequest) -> HttpResponse:
    """包案台账: open contracts by default, soonest deadline first."""
    today = timezone.localdate()
    if not access.is_casework(request.user):
        raise PermissionDenied
    if request.GET.get("box") == "uncontracted":
        return _uncontracted(request)
    leaders = User.objects.filter(
        is_active=True,
        roles__code=RoleCode.LEADER,
        organisation__path__startswith=access.scope_path(request.user),
    ).select_related("organisation")
    form = forms.ContractFilterForm(request.GET or None, leaders=leaders.distinct().order_by("username"))
    qs = selectors.contract_list(request.user, today)
    data = form.cleaned_data if form.is_valid() else {}
    status = data.get("status") or ""
    if status != "all":
        qs = qs.filter(status=status or ContractStatus.OPEN)
    if data.get("late"):
        qs = qs.filter(selectors.late_q(today))
    if data.get("leader"):
        qs = qs.filter(leader=data["leader"])
    if data.get("mine"):
        me = request.user
        qs = qs.filter(Q(leader=me) | Q(official=me) | Q(handler=me))
    if data.get("q"):
        q = data["q"].strip()
        qs = qs.filter(Q(number=q) | Q(petition__number=q) | Q(dispute__number=q))
    out = _ledger_output(
        request, key="contracts", title=_("包案台账"), header=CONTRACT_HEADER, qs=qs, row=_contract_row(today)
    )
    if out is not None:
        return out
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "leadership/contracts.html",
        {"form": form, "page": page, "today": today, "can_set_policy": services.may_set_policy(request.user)},
    )


def _uncontracted(request: HttpRequest) -> HttpResponse:
    qs = selectors.uncontracted_listed(request.user)
    header = ["信访编号", "标题", "办理时限", "状态"]
    out = _ledger_output(
        request, key="uncontracted", title=_("需包案未包案"), header=header, qs=qs,
        row=lambda p: [p.number, p.title, _d(p.due_on), p.get_status_display()],
    )  # fmt: skip
    if out is not None:
        return out
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "leadership/uncontracted.html", {"page": page})


def _subject(request: HttpRequest, source: Any) -> tuple[Petition | None, Any]:
    """The petition (?petition=) or dispute (?dispute=) named, if the user may see it; else 404."""
    from xinfang.screening.models import Dispute

    number = (source.get("petition") or "").strip()
    if number:
        petition = Petition.objects.restrict(request.user).filter(number=number).first()
        if petition is None:
            raise Http404
        return petition, None
    number = (source.get("dispute") or "").strip()
    if number:
        dispute = Dispute.objects.filter(pk__in=access.visible_disputes(request.user), number=number).first()
        if dispute is None:
            raise Http404
        return None, dispute
    raise Http404


@casework
def contract_new(request: HttpRequest) -> HttpResponse:
    """包案: the leader, the team, the measures, the deadline and the steps."""
    petition, dispute = _subject(request, request.GET)
    leaders = access.leaders_for(request.user)
    if not leaders.exists():
        raise PermissionDenied(_("只有领导本人或信访工作机构的登记员、督办员可以登记领导包案。"))
    initial = {"leader": request.user.pk} if request.user.has_role(RoleCode.LEADER) else {}
    chosen = leaders.filter(pk=request.POST.get("leader") or initial.get("leader") or 0).first()
    team = access.team_choices(chosen or request.user)
    form = forms.ContractForm(request.POST or None, initial=initial, leaders=leaders, team=team)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            contract = services.open_contract(
                actor=request.user, leader=data["leader"], petition=petition, dispute=dispute,
                measures=data["measures"], due_on=data["due_on"], official=data["official"],
                handler=data["handler"], milestones=data["milestones"],
            )  # fmt: skip
        except ValidationError as exc:
            add_service_errors(form, exc)
        except services.LeadershipRefused as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            messages.success(
                request,
                _(
                    "已登记包案。%(leader)s及责任人、承办人已收到提醒；请按节点填报进展，办结时由包案领导填写办结情况。"
                )
                % {"leader": contract.leader},
            )
            return redirect("leadership:contract", pk=contract.pk)
    subject = petition or dispute
    return render(
        request, "leadership/contract_form.html", {"form": form, "subject": subject, "petition": petition}
    )


def _act(
    request: HttpRequest,
    obj: Any,
    form: Any,
    url: str,
    act: Callable[[dict], Any],
    done: str,
    page: Callable[[Any], HttpResponse],
) -> HttpResponse:
    """A POST on a contract or an instruction: ``act`` on the valid form's data, then back to the
    object's page (``url``) with ``done``; a refusal goes back with its reason, invalid data shows
    ``page`` with the form's errors."""
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except services.LeadershipRefused as exc:
            return _refused(request, exc, url, obj.pk)
        else:
            messages.success(request, done)
            return redirect(url, pk=obj.pk)
    return page(form)


def _contract_or_404(request: HttpRequest, pk: int) -> LeaderContract:
    qs = access.contracts_visible_to(request.user).select_related(
        "petition", "dispute", "leader", "official", "handler", "closed_by", "created_by"
    )
    contract = selectors.annotate_lateness(qs).filter(pk=pk).first()
    if contract is None:
        raise Http404
    return contract


def _contract_page(request: HttpRequest, contract: LeaderContract, **forms_: Any) -> HttpResponse:
    today = timezone.localdate()
    context = {
        "contract": contract,
        "today": today,
        "late": contract.is_late(today),
        "milestones": list(contract.milestones.all()),
        "progress": list(contract.progress.select_related("author")),
        "may_work": services.may_work_on(request.user, contract) and contract.status == ContractStatus.OPEN,
        "progress_form": forms_.get("progress_form") or forms.ProgressForm(),
        "close_form": forms_.get("close_form") or forms.CloseContractForm(),
    }
    return render(request, "leadership/contract_detail.html", context)


@casework
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _contract_page(request, _contract_or_404(request, pk))


@require_POST
@casework
def contract_progress(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _contract_or_404(request, pk)
    return _act(
        request, contract, forms.ProgressForm(request.POST), "leadership:contract",
        lambda d: services.add_progress(actor=request.user, contract=contract, text=d["text"], on=d["on"]),
        _("已填报进展，包案领导可在包案详情中查看。"),
        lambda form: _contract_page(request, contract, progress_form=form),
    )  # fmt: skip


@require_POST
@casework
def milestone_done(request: HttpRequest, pk: int, milestone_id: int) -> HttpResponse:
    contract = _contract_or_404(request, pk)
    milestone = ContractMilestone.objects.filter(contract=contract, pk=milestone_id).first()
    if milestone is None:
        raise Http404
    milestone.contract = contract
    try:
        services.complete_milestone(actor=request.user, milestone=milestone)
    except (ValidationError, services.LeadershipRefused) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("节点“%(t)s”已完成。") % {"t": milestone.title})
    return redirect("leadership:contract", pk=contract.pk)


@require_POST
@casework
def contract_close(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _contract_or_404(request, pk)
    return _act(
        request, contract, forms.CloseContractForm(request.POST), "leadership:contract",
        lambda d: services.close_contract(actor=request.user, contract=contract, result=d["result"]),
        _("包案已办结，办结情况已记入包案台账。"),
        lambda form: _contract_page(request, contract, close_form=form),
    )  # fmt: skip


@casework
def policy(request: HttpRequest) -> HttpResponse:
    """包案要求 of the user's area: listed supervision and backlog cases must be contracted."""
    if not services.may_set_policy(request.user):
        raise PermissionDenied(_("只有督办员或领导可以设置包案要求。"))
    current = services.policy_for(request.user.organisation)
    initial = {
        "require_for_listed": bool(current and current.require_for_listed),
        "require_for_backlog": bool(current and current.require_for_backlog),
    }
    form = forms.PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.set_policy(actor=request.user, **form.cleaned_data)
        messages.success(
            request, _("包案要求已保存：未包案的事项将出现在领导和信访工作机构工作台的“需包案未包案”中。")
        )
        return redirect("leadership:policy")
    return render(request, "leadership/policy.html", {"form": form, "current": current})


# --- instructions (阅批) ---------------------------------------------------------------------------

INSTRUCTION_HEADER = ["编号", "信访编号", "标题", "批示领导", "批示内容", "承办单位", "批示日期", "办理期限",
                      "状态", "是否逾期", "办理结果"]  # fmt: skip


def _instruction_row(today: dt.date) -> Callable[[Instruction], list]:
    def row(i: Instruction) -> list:
        return [
            i.number, i.petition.number, i.petition.title, str(i.leader), i.text, i.unit.name,
            _d(timezone.localtime(i.created_at)), _d(i.due_on), i.get_status_display(),
            _yes(i.is_overdue(today)), i.answer,
        ]  # fmt: skip

    return row


@casework
def instruction_list(request: HttpRequest) -> HttpResponse:
    """阅批台账: instructions still being worked on by default (待办理, 已回复待阅)."""
    today = timezone.localdate()
    form = forms.InstructionFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    box = data.get("box") or ""
    boxes: dict[str, Callable[[Any], QuerySet[Instruction]]] = {
        "todo": selectors.instructions_to_answer,
        "answered": selectors.instructions_answered,
        "issued": lambda user: selectors.instruction_list(user).filter(leader=user),
    }
    qs = boxes.get(box, selectors.instruction_list)(request.user)
    if box == "":
        qs = qs.exclude(status=InstructionStatus.CLOSED)
    if data.get("status"):
        qs = qs.filter(status=data["status"])
    if data.get("overdue"):
        qs = qs.filter(status=InstructionStatus.OPEN, due_on__lt=today)
    qs = qs.select_related("petition", "leader", "unit")
    out = _ledger_output(
        request, key="instructions", title=_("阅批台账"), header=INSTRUCTION_HEADER, qs=qs,
        row=_instruction_row(today),
    )  # fmt: skip
    if out is not None:
        return out
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "leadership/instructions.html", {"form": form, "page": page, "today": today})


@role_required(RoleCode.LEADER)
def instruction_new(request: HttpRequest) -> HttpResponse:
    petition, _dispute = _subject(request, {"petition": request.GET.get("petition", "")})
    form = forms.InstructionForm(request.POST or None, units=access.unit_choices(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            instruction = services.issue_instruction(
                actor=request.user,
                petition=petition,
                unit=data["unit"],
                text=data["text"],
                due_on=data["due_on"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except services.LeadershipRefused as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            messages.success(
                request,
                _(
                    "已批示。%(unit)s的工作人员已收到提醒，须于%(due)s前办理并回复；回复后将出现在您工作台的“阅批已回复”中。"
                )
                % {"unit": instruction.unit.name, "due": _d(instruction.due_on)},
            )
            return redirect("leadership:instruction", pk=instruction.pk)
    return render(request, "leadership/instruction_form.html", {"form": form, "petition": petition})


def _instruction_or_404(request: HttpRequest, pk: int) -> Instruction:
    instruction = (
        selectors.instruction_list(request.user).filter(pk=pk).prefetch_related("entries__actor").first()
    )
    if instruction is None:
        raise Http404
    return instruction


def _instruction_page(request: HttpRequest, instruction: Instruction, **forms_: Any) -> HttpResponse:
    user = request.user
    context = {
        "instruction": instruction,
        "today": timezone.localdate(),
        "petition_visible": Petition.objects.restrict(user).filter(pk=instruction.petition_id).exists(),
        "may_answer": access.may_answer(user, instruction) and instruction.status == InstructionStatus.OPEN,
        "may_decide": user.pk == instruction.leader_id and instruction.status == InstructionStatus.ANSWERED,
        "answer_form": forms_.get("answer_form") or forms.AnswerForm(),
        "return_form": forms_.get("return_form") or forms.ReturnForm(),
        "close_form": forms_.get("close_form") or forms.CloseInstructionForm(),
    }
    return render(request, "leadership/instruction_detail.html", context)


@casework
def instruction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _instruction_page(request, _instruction_or_404(request, pk))


def _instruction_action(
    request: HttpRequest,
    pk: int,
    form_class: type,
    form_name: str,
    act: Callable[[Instruction, dict], Any],
    done: str,
) -> HttpResponse:
    instruction = _instruction_or_404(request, pk)
    return _act(
        request, instruction, form_class(request.POST), "leadership:instruction",
        lambda d: act(instruction, d), done,
        lambda form: _instruction_page(request, instruction, **{form_name: form}),
    )  # fmt: skip


@require_POST
@casework
def instruction_answer(request: HttpRequest, pk: int) -> HttpResponse:
    return _instruction_action(
        request, pk, forms.AnswerForm, "answer_form",
        lambda i, d: services.answer_instruction(actor=request.user, instruction=i, text=d["text"]),
        _("已回复，批示领导已收到提醒；领导阅后办结或要求继续办理。"),
    )  # fmt: skip


@require_POST
@casework
def instruction_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _instruction_action(
        request, pk, forms.ReturnForm, "return_form",
        lambda i, d: services.return_instruction(
            actor=request.user, instruction=i, text=d["text"], due_on=d["due_on"]
        ),
        _("已要求继续办理，承办单位已收到提醒，须再次回复。"),
    )  # fmt: skip


@require_POST
@casework
def instruction_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _instruction_action(
        request, pk, forms.CloseInstructionForm, "close_form",
        lambda i, d: services.close_instruction(actor=request.user, instruction=i, note=d["note"]),
        _("已阅办结。"),
    )  # fmt: skip


# --- duty rota and log (值班) ----------------------------------------------------------------------


def _month(request: HttpRequest) -> tuple[dt.date, dt.date]:
    try:
        first = dt.date.fromisoformat((request.GET.get("month") or "") + "-01")
    except ValueError:
        first = timezone.localdate().replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first, last


def _neighbours(first: dt.date) -> tuple[str, str]:
    prev = (first - dt.timedelta(days=1)).strftime("%Y-%m")
    nxt = (first + dt.timedelta(days=32)).strftime("%Y-%m")
    return prev, nxt


ROTA_HEADER = ["日期", "星期", "班次", "值班单位", "带班领导", "值班人员", "值班电话", "值班记录条数"]
WEEKDAYS = "一二三四五六日"


@casework
def rota(request: HttpRequest) -> HttpResponse:
    """值班表: a month of shifts in the user's scope (?month=YYYY-MM)."""
    first, last = _month(request)
    month = access.shifts_visible_to(request.user).filter(date__range=(first, last))
    # The organisations with a rota this month, for the filter (a few per area).
    units = Organisation.objects.filter(pk__in=month.values("organisation_id")).order_by("path")
    unit = request.GET.get("organisation") or ""
    if unit.isdigit():
        month = month.filter(organisation_id=int(unit))
    qs = (
        month.select_related("organisation", "leader")
        .annotate(entries=Count("log_entries"))
        .order_by("date", "kind", "organisation__path")
    )
    title = _("%(y)d年%(m)d月值班表") % {"y": first.year, "m": first.month}
    out = _ledger_output(
        request, key="rota", title=title, header=ROTA_HEADER, qs=qs,
        row=lambda s: [_d(s.date), WEEKDAYS[s.date.weekday()], s.get_kind_display(), s.organisation.name,
                       str(s.leader), s.staff_on_duty, s.phone, s.entries],
    )  # fmt: skip
    if out is not None:
        return out
    prev, nxt = _neighbours(first)
    return render(
        request,
        "leadership/rota.html",
        {"shifts": qs, "title": title, "month": first.strftime("%Y-%m"), "prev": prev, "next": nxt,
         "may_plan": access.may_plan_rota(request.user), "units": units, "unit": unit},
    )  # fmt: skip


def _shift_leaders(user: Any) -> QuerySet[User]:
    return (
        User.objects.filter(
            is_active=True,
            roles__code=RoleCode.LEADER,
            organisation__path__startswith=access.scope_path(user),
        )
        .distinct()
        .order_by("username")
    )


@casework
def shift_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Put a shift on the rota, or change one."""
    if not access.may_plan_rota(request.user):
        raise PermissionDenied(_("只有督办员、领导或信访工作机构可以安排值班。"))
    shift = None
    initial: dict[str, Any] = {"organisation": request.user.organisation_id, "date": request.GET.get("date")}
    if pk is not None:
        shift = access.shifts_visible_to(request.user).filter(pk=pk).first()
        if shift is None:
            raise Http404
        initial = {f: getattr(shift, f) for f in ("date", "kind", "staff_on_duty", "phone")}
        initial |= {"organisation": shift.organisation_id, "leader": shift.leader_id}
    form = forms.ShiftForm(
        request.POST or None,
        initial=initial,
        units=access.rota_units(request.user),
        leaders=_shift_leaders(request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            shift = services.save_shift(actor=request.user, shift=shift, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except services.LeadershipRefused as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            messages.success(
                request, _("值班安排已保存，已列入%(m)s的值班表。") % {"m": shift.date.strftime("%Y-%m")}
            )
            return redirect("leadership:shift", pk=shift.pk)
    return render(request, "leadership/shift_form.html", {"form": form, "shift": shift})


def _shift_page(request: HttpRequest, shift: DutyShift, form: Any = None) -> HttpResponse:
    entries = shift.log_entries.select_related("recorded_by").prefetch_related("petitions")
    context = {
        "shift": shift,
        "entries": entries,
        "may_plan": access.may_plan_rota(request.user),
        "form": form
        or forms.DutyLogForm(initial={"at": timezone.localtime().replace(second=0, microsecond=0)}),
    }
    return render(request, "leadership/shift_detail.html", context)


@casework
def shift_detail(request: HttpRequest, pk: int) -> HttpResponse:
    shift = (
        access.shifts_visible_to(request.user).select_related("organisation", "leader").filter(pk=pk).first()
    )
    if shift is None:
        raise Http404
    if request.method != "POST":
        return _shift_page(request, shift)
    form = forms.DutyLogForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        numbers = [n for n in _SPLIT.split(data["petitions"] or "") if n]
        petitions = list(Petition.objects.restrict(request.user).filter(number__in=numbers))
        if len(petitions) != len(set(numbers)):
            form.add_error("petitions", _("有信访编号不存在或不在您的工作范围内。"))
        else:
            try:
                services.log_duty(
                    actor=request.user, shift=shift, at=data["at"], happened=data["happened"],
                    action_taken=data["action_taken"], handed_over_to=data["handed_over_to"],
                    petitions=petitions,
                )  # fmt: skip
            except ValidationError as exc:
                add_service_errors(form, exc)
            except services.LeadershipRefused as exc:
                raise PermissionDenied(str(exc)) from exc
            else:
                messages.success(request, _("已记入领导值班记录。"))
                return redirect("leadership:shift", pk=shift.pk)
    return _shift_page(request, shift, form)


DUTYLOG_HEADER = [
    "时间",
    "值班单位",
    "班次",
    "带班领导",
    "值班情况",
    "涉及信访事项",
    "处理情况",
    "交接给",
    "记录人",
]


@casework
def duty_log(request: HttpRequest) -> HttpResponse:
    """领导值班记录: the month's log entries in the user's scope."""
    first, last = _month(request)
    qs = (
        access.log_visible_to(request.user)
        .filter(shift__date__range=(first, last))
        .select_related("shift__organisation", "shift__leader", "recorded_by")
        .prefetch_related("petitions")
        .order_by("-at", "-id")
    )
    title = _("%(y)d年%(m)d月领导值班记录") % {"y": first.year, "m": first.month}
    out = _ledger_output(
        request, key="duty_log", title=title, header=DUTYLOG_HEADER, qs=qs,
        row=lambda e: [timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M"), e.shift.organisation.name,
                       e.shift.get_kind_display(), str(e.shift.leader), e.happened,
                       "、".join(p.number for p in e.petitions.all()), e.action_taken, e.handed_over_to,
                       str(e.recorded_by)],
    )  # fmt: skip
    if out is not None:
        return out
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    prev, nxt = _neighbours(first)
    return render(
        request,
        "leadership/duty_log.html",
        {"page": page, "title": title, "month": first.strftime("%Y-%m"), "prev": prev, "next": nxt},
    )
