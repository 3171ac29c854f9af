"""Forms of reception days: they parse input; every rule is checked again by ``services``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from captcha.fields import CaptchaField
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.petitions.choices import Purpose
from xinfang.petitions.forms import CategoryChoiceField, leaf_categories
from xinfang.petitions.services import localities
from xinfang.petitions.validators import check_id_number, check_phone

from .models import OutreachKind, RuleKind, Weekday
from .services import (
    MAX_DESCRIPTION,
    SCHEDULE_FIELDS,
    OutreachInput,
    ScheduleInput,
    VisitInput,
    leader_choices,
)

ROTA_ROWS = 4
_SPLIT = re.compile(r"[\s,，、;；]+")
DATE = {"widget": forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})}
TIME = {"widget": forms.TimeInput(format="%H:%M", attrs={"type": "time"})}


class LeaderField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name or obj.username}（{obj.organisation.name}）"


class ScheduleForm(forms.Form):
    title = forms.CharField(label=_("名称"), max_length=100, initial=_("领导接待日"))
    rule = forms.ChoiceField(
        label=_("接待日规则"), choices=RuleKind.choices, initial=RuleKind.FIRST_WORKING_DAY
    )
    nth = forms.IntegerField(
        label=_("第几个工作日"),
        min_value=1,
        max_value=23,
        initial=1,
        required=False,
        help_text=_("规则为“每月的第N个工作日”时填写。"),
    )
    weekday = forms.TypedChoiceField(
        label=_("星期"),
        choices=[("", "—"), *Weekday.choices],
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("规则为“每周固定星期”时填写；遇节假日当周不安排。"),
    )
    dates = forms.CharField(
        label=_("指定日期"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("规则为“指定日期”时填写，如 2026-12-10，多个用逗号或换行分隔。"),
    )
    starts_on = forms.DateField(label=_("起始日期"), **DATE)
    ends_on = forms.DateField(label=_("截止日期"), required=False, help_text=_("不填为长期有效。"), **DATE)
    start_time = forms.TimeField(label=_("开始时间"), initial=dt.time(9, 0), **TIME)
    end_time = forms.TimeField(label=_("结束时间"), initial=dt.time(12, 0), **TIME)
    place = forms.CharField(label=_("接待地点"), max_length=200)
    slot_minutes = forms.IntegerField(label=_("每时段分钟数"), min_value=5, max_value=480, initial=60)
    capacity_per_slot = forms.IntegerField(label=_("每时段可预约人数"), min_value=1, max_value=200, initial=3)
    published = forms.BooleanField(label=_("在网上信访公开（群众可预约）"), required=False, initial=True)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, organisation: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["starts_on"].initial = timezone.localdate()
        leaders = leader_choices(organisation).select_related("organisation")
        for i in range(1, ROTA_ROWS + 1):
            self.fields[f"leader_{i}"] = LeaderField(
                label=_("第{n}班接待领导").format(n=i), queryset=leaders, required=i == 1, empty_label="—"
            )
            self.fields[f"title_{i}"] = forms.CharField(
                label=_("职务"),
                max_length=50,
                required=False,
                help_text=_("如：县长、副县长、局长（公开显示）"),
            )

    def rota_fields(self) -> list[tuple[Any, Any]]:
        return [(self[f"leader_{i}"], self[f"title_{i}"]) for i in range(1, ROTA_ROWS + 1)]

    def clean_dates(self) -> list[dt.date]:
        found = []
        for part in _SPLIT.split(self.cleaned_data.get("dates") or ""):
            if not part:
                continue
            try:
                found.append(dt.date.fromisoformat(part))
            except ValueError:
                raise forms.ValidationError(
                    _("日期“{value}”的格式应为 YYYY-MM-DD。").format(value=part)
                ) from None
        return found

    def to_input(self) -> ScheduleInput:
        d = self.cleaned_data
        rota = [
            (d[f"leader_{i}"].pk, d.get(f"title_{i}") or "")
            for i in range(1, ROTA_ROWS + 1)
            if d.get(f"leader_{i}") is not None
        ]
        return ScheduleInput(
            title=d["title"],
            rule=d["rule"],
            nth=d.get("nth") or 1,
            weekday=d.get("weekday"),
            dates=d["dates"],
            starts_on=d["starts_on"],
            ends_on=d.get("ends_on"),
            start_time=d["start_time"],
            end_time=d["end_time"],
            place=d["place"],
            slot_minutes=d["slot_minutes"],
            capacity_per_slot=d["capacity_per_slot"],
            published=d["published"],
            is_active=d["is_active"],
            rota=rota,
        )

    @staticmethod
    def initial_from(schedule: Any) -> dict[str, Any]:
        initial = {name: getattr(schedule, name) for name in SCHEDULE_FIELDS}
        initial["dates"] = "\n".join(schedule.dates)
        for i, entry in enumerate(schedule.rota.order_by("position")[:ROTA_ROWS], start=1):
            initial[f"leader_{i}"], initial[f"title_{i}"] = entry.leader_id, entry.title
        return initial


class CancelSessionForm(forms.Form):
    reason = forms.CharField(
        label=_("取消原因"), max_length=200, help_text=_("已预约的群众将收到短信告知，预约随之取消。")
    )


class SwapLeaderForm(forms.Form):
    leader = LeaderField(label=_("改由哪位领导接待"), queryset=None, empty_label="—")
    title = forms.CharField(label=_("职务"), max_length=50)

    def __init__(self, *args: Any, organisation: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = leader_choices(organisation).select_related("organisation")


class DayFilterForm(forms.Form):
    date = forms.DateField(label=_("接待日期"), required=False, **DATE)


class VisitForm(forms.Form):
    """The petition part of a visit received at a reception day; the petitioner is the booker."""

    purpose = forms.ChoiceField(label=_("信访目的"), choices=Purpose.choices)
    title = forms.CharField(label=_("标题"), max_length=200)
    content = forms.CharField(
        label=_("信访内容"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("诉求、事实和理由；接待领导的意见可一并记入。"),
    )
    category = CategoryChoiceField(label=_("问题分类"), queryset=leaf_categories(), empty_label=_("请选择"))
    locality = forms.ModelChoiceField(label=_("问题属地"), queryset=localities(), empty_label=_("请选择"))
    address = forms.CharField(label=_("住址"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = leaf_categories()
        self.fields["locality"].queryset = localities()

    def to_input(self) -> VisitInput:
        d = self.cleaned_data
        return VisitInput(
            purpose=d["purpose"],
            title=d["title"],
            content=d["content"],
            category_id=d["category"].pk,
            locality_id=d["locality"].pk,
            address=d.get("address", ""),
        )


class OutreachForm(forms.Form):
    kind = forms.ChoiceField(label=_("类别"), choices=[("", "—"), *OutreachKind.choices])
    date = forms.DateField(label=_("日期"), **DATE)
    place = forms.CharField(label=_("地点"), max_length=200)
    leaders = forms.ModelMultipleChoiceField(
        label=_("带队领导"), queryset=None, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    staff = forms.ModelMultipleChoiceField(
        label=_("参加人员（本系统用户）"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    other_participants = forms.CharField(
        label=_("其他参加人员"),
        max_length=300,
        required=False,
        help_text=_("未使用本系统的人员、单位，用逗号分隔。"),
    )
    petitions = forms.CharField(
        label=_("涉及信访事项"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("信访编号，每行一个或用逗号分隔。"),
    )
    notes = forms.CharField(label=_("情况记录"), required=False, widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        from xinfang.organisations.models import User
        from xinfang.petitions.access import scope_root

        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate()
        org = user.organisation
        self.fields["leaders"].queryset = leader_choices(org)
        self.fields["leaders"].label_from_instance = lambda u: u.full_name or u.username
        self.fields["staff"].queryset = (
            User.objects.filter(
                is_active=True, organisation__path__startswith=scope_root(org).path, is_system_account=False
            )
            .exclude(roles__code__in=["sysadmin", "secadmin", "auditor"])
            .distinct()
            .order_by("organisation__path", "full_name")
        )
        self.fields["staff"].label_from_instance = lambda u: u.full_name or u.username

    def to_input(self) -> OutreachInput:
        d = self.cleaned_data
        return OutreachInput(
            kind=d["kind"],
            date=d["date"],
            place=d["place"],
            leader_ids=[u.pk for u in d["leaders"]],
            staff_ids=[u.pk for u in d["staff"]],
            other_participants=d["other_participants"],
            petition_numbers=[n for n in _SPLIT.split(d["petitions"] or "") if n],
            notes=d["notes"],
        )


# --- the portal ----------------------------------------------------------------------------------


class SlotChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return (
            _("{time}（余{free}个名额）").format(time=str(obj), free=obj.free)
            if obj.free
            else _("{time}（已约满）").format(time=str(obj))
        )


class BookingForm(forms.Form):
    slot = SlotChoiceField(label=_("接待时段"), queryset=None, empty_label=_("请选择"))
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = forms.CharField(
        label=_("身份证号码"), max_length=18, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    phone = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
        help_text=_("接待日前一天将向此号码发送提醒短信；取消预约时也需核对。"),
    )
    description = forms.CharField(
        label=_("反映事项简述"),
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("请简要说明要反映的问题（{n}字以内）。").format(n=MAX_DESCRIPTION),
    )
    captcha = CaptchaField(
        label=_("验证码"),
        error_messages={
            "invalid": _("验证码错误，请重新输入（看不清可点“换一张”）。"),
            "required": _("请输入验证码。"),
        },
    )

    def __init__(self, *args: Any, session: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slot"].queryset = session.slots.order_by("starts_at")

    def clean_id_number(self) -> str:
        return check_id_number(self.cleaned_data["id_number"])

    def clean_phone(self) -> str:
        return check_phone(self.cleaned_data["phone"])


class CancelBookingForm(forms.Form):
    code = forms.CharField(
        label=_("预约码"), max_length=20, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    phone = forms.CharField(
        label=_("预约时填写的手机号码"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
