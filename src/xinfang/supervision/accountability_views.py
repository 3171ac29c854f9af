"""Staff pages of 约谈 / 通报 / 改进工作建议: the list (filters, XLSX export), the form to issue one,
and the detail page with the unit's response form and the issuer's close form.

Views parse input and call ``accountability.py``; every rule lives there.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinfang.audit.services import record_event
from xinfang.core.decorators import role_required
from xinfang.core.forms import add_service_errors
from xinfang.core.xlsx import xlsx_response
from xinfang.organisations.choices import CASEWORK_ROLES
from xinfang.organisations.models import Organisation

from . import accountability as services
from .models import Accountability, AccountabilityKind, AccountabilityStatus

PAGE_SIZE = 30
EXPORT_CAP = 10_000
_NUMBER_SPLIT = re.compile(r"[\s,，、;；]+")


def split_numbers(text: str) -> list[str]:
    """Petition numbers typed one per line or separated by commas (either width) or 、."""
    return [n for n in _NUMBER_SPLIT.split(text or "") if n]


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        return obj.name


class AccountabilityForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("类别"), choices=[("", "—")] + list(AccountabilityKind.choices)
    )
    unit = UnitChoiceField(
        label=gettext_lazy("对象单位"), queryset=Organisation.objects.none(), empty_label="—"
    )
    title = forms.CharField(label=gettext_lazy("标题"), max_length=200)
    content = forms.CharField(
        label=gettext_lazy("内容"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("存在的问题、依据（《信访工作条例》第三十九条、第四十条）和要求。"),
    )
    response_due_on = forms.DateField(
        label=gettext_lazy("书面回复期限"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text=gettext_lazy("约谈和改进工作建议必填；通报可不要求回复。"),
    )
    petitions = forms.CharField(
        label=gettext_lazy("涉及信访事项"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "信访编号，每行一个或用逗号分隔；每件事项的内部记录中将记载本次约谈、通报或建议。"
        ),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = services.unit_choices(user)


class ResponseForm(forms.Form):
    response = forms.CharField(
        label=gettext_lazy("书面回复"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("整改措施、完成情况和责任人；提交后发出机关将收到提醒并审阅办结。"),
    )


class CloseForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("办结意见"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("对方尚未回复而办结的，须说明理由。"),
    )


class FilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("类别"),
        required=False,
        choices=[("", gettext_lazy("全部"))] + list(AccountabilityKind.choices),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("状态"),
        required=False,
        choices=[("", gettext_lazy("全部"))] + list(AccountabilityStatus.choices),
    )


def _filtered(request: HttpRequest) -> tuple[FilterForm, Any]:
    form = FilterForm(request.GET or None)
    qs = services.visible_to(request.user).select_related("office", "unit", "issued_by")
    if form.is_valid():
        if form.cleaned_data["kind"]:
            qs = qs.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data["status"]:
            qs = qs.filter(status=form.cleaned_data["status"])
    return form, qs.order_by("-issued_at", "-id")


@role_required(*CASEWORK_ROLES)
def accountability_list(request: HttpRequest) -> HttpResponse:
    form, qs = _filtered(request)
    if request.GET.get("export") == "xlsx":
        return _export(request, qs)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/accountability_list.html",
        {
            "form": form,
            "page": page,
            "records": page.object_list,
            "can_issue": services.can_issue(request.user),
            "today": timezone.localdate(),
        },
    )


def _export(request: HttpRequest, qs: Any) -> HttpResponse:
    """The filtered list as XLSX: the same columns as the page, one audit row per export."""
    rows = list(qs[: EXPORT_CAP + 1])
    cut = len(rows) > EXPORT_CAP
    rows = rows[:EXPORT_CAP]
    record_event(
        actor=request.user,
        action="supervision.accountability_exported",
        data={
            "rows": len(rows),
            "filters": {k: v for k, v in request.GET.items() if k in {"kind", "status"}},
        },
    )
    header = [_("类别"), _("标题"), _("发出机关"), _("对象单位"), _("发出人"), _("发出时间"), _("回复期限"),
              _("状态"), _("回复时间")]  # fmt: skip
    return xlsx_response(
        title=_("约谈通报"),
        header=header,
        rows=(
            [
                r.get_kind_display(),
                r.title,
                r.office.name,
                r.unit.name,
                str(r.issued_by),
                timezone.localtime(r.issued_at).strftime("%Y-%m-%d %H:%M"),
                r.response_due_on or "",
                r.get_status_display(),
                timezone.localtime(r.responded_at).strftime("%Y-%m-%d %H:%M") if r.responded_at else "",
            ]
            for r in rows
        ),
        note=_("仅导出前%(n)d条，请缩小筛选范围。") % {"n": EXPORT_CAP} if cut else "",
    )


@role_required(*services.ISSUER_ROLES)
def accountability_new(request: HttpRequest) -> HttpResponse:
    if not services.can_issue(request.user):
        raise PermissionDenied(_("只有信访工作机构的督办员或领导可以发出约谈、通报或改进工作建议。"))
    initial = {"petitions": request.GET.get("petition", "")}
    form = AccountabilityForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = services.record_accountability(
                user=request.user,
                kind=data["kind"],
                unit=data["unit"],
                title=data["title"],
                content=data["content"],
                response_due_on=data["response_due_on"],
                petition_numbers=split_numbers(data["petitions"]),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except services.AccountabilityRefused as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            messages.success(
                request,
                _("已发出%(kind)s，%(unit)s的领导已收到提醒。")
                % {"kind": record.get_kind_display(), "unit": record.unit.name},
            )
            return redirect("accountability:detail", pk=record.pk)
    return render(request, "supervision/accountability_form.html", {"form": form})


def _record_or_404(request: HttpRequest, pk: int) -> Accountability:
    try:
        return services.get_visible(request.user, pk)
    except Accountability.DoesNotExist:
        raise Http404 from None


def _detail(request: HttpRequest, record: Accountability, **forms_: Any) -> HttpResponse:
    linked = record.petitions.all()
    visible = list(linked.restrict(request.user).order_by("number").only("id", "number", "title", "status"))
    hidden = linked.count() - len(visible)
    context = {
        "record": record,
        "petitions": visible,
        "hidden_petitions": hidden,
        "can_respond": services.can_respond(request.user, record),
        "can_close": services.can_close(request.user, record),
        "response_form": forms_.get("response_form") or ResponseForm(),
        "close_form": forms_.get("close_form") or CloseForm(),
        "overdue": record.is_overdue(),
    }
    return render(request, "supervision/accountability_detail.html", context)


@role_required(*CASEWORK_ROLES)
def accountability_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _record_or_404(request, pk))


def _act_on_record(
    request: HttpRequest, pk: int, form_class: type[forms.Form], form_name: str, act: Any, done: str
) -> HttpResponse:
    """Post one form about a record: ``act(record, cleaned_data)`` calls the service; a refusal
    goes back to the record with its reason, invalid input re-renders the page with what was typed."""
    record = _record_or_404(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            act(record, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except services.AccountabilityRefused as exc:
            messages.error(request, str(exc))
            return redirect("accountability:detail", pk=record.pk)
        else:
            messages.success(request, done)
            return redirect("accountability:detail", pk=record.pk)
    return _detail(request, record, **{form_name: form})


@require_POST
@role_required(*CASEWORK_ROLES)
def accountability_respond(request: HttpRequest, pk: int) -> HttpResponse:
    return _act_on_record(
        request, pk, ResponseForm, "response_form",
        lambda record, data: services.respond_accountability(
            user=request.user, accountability_id=record.pk, response=data["response"]
        ),
        _("已提交书面回复，发出机关将审阅后办结。"),
    )  # fmt: skip


@require_POST
@role_required(*services.ISSUER_ROLES)
def accountability_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _act_on_record(
        request, pk, CloseForm, "close_form",
        lambda record, data: services.close_accountability(
            user=request.user, accountability_id=record.pk, note=data["note"]
        ),
        _("已办结。"),
    )  # fmt: skip
