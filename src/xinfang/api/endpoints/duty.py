"""``/api/v1/duty``: the duty rota (值班表, ``DutyShift``) and the duty log (领导值班记录,
``DutyLogEntry``) — issue #11 §1.

Thin over ``leadership.services`` with the pages' scope (``leadership.access``): casework staff read
the shifts and entries of their scope (others 403); a shift out of scope is the usual 404; planning
the rota is for supervisors, leaders and petition-office clerks (403 otherwise); bad input is 422
with Chinese field messages.  Creations take an ``Idempotency-Key``; the services write the audit.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Annotated, Any

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema
from pydantic import field_validator

from xinfang.core.pagination import capped_count
from xinfang.leadership import access, services
from xinfang.leadership.models import DutyLogEntry, DutyShift, ShiftKind
from xinfang.organisations.models import User
from xinfang.petitions.models import Petition

from ..auth import auth_user, token_auth
from ..errors import ApiError, ErrorCode
from ..idempotency import IdempotentResult
from ..presenters import idempotent_response
from ..schemas import BoundedIntegers, ErrorOut, InputSchema, OrganisationOut, StaffOut

router = Router(tags=["duty"], auth=token_auth)

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=100, description="幂等键：重试时携带同一键，返回首次结果"),
]
READ = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
# Dates outside these years are typing mistakes, and a datetime near year 1 cannot be moved to UTC.
YEARS = (2000, 2100)
WEEKDAYS = "一二三四五六日"


def _month_of(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        first = dt.date.fromisoformat(f"{value}-01")
    except ValueError:
        raise ValueError(_("月份格式应为 YYYY-MM。")) from None
    if not YEARS[0] <= first.year <= YEARS[1] or len(value) != 7:
        raise ValueError(_("月份格式应为 YYYY-MM。"))
    return value


def _in_years(value: dt.date | None, message: str) -> None:
    if value is not None and not YEARS[0] <= value.year <= YEARS[1]:
        raise ValueError(message)


class DutyShiftOut(Schema):
    id: int
    organisation: OrganisationOut = Field(description="值班单位")
    date: dt.date = Field(description="值班日期")
    weekday: str = Field(description="星期（一至日）")
    kind: str = Field(
        json_schema_extra={"enum": list(ShiftKind.values)}, description="day 白班，night 夜班，holiday 节假日"
    )
    kind_label: str
    leader: StaffOut = Field(description="带班领导")
    staff_on_duty: str = Field(description="值班人员")
    phone: str = Field(description="值班电话")
    entries: int = Field(description="值班记录条数")


class DutyShiftListOut(Schema):
    month: str = Field(description="月份 YYYY-MM")
    count: int
    count_exact: bool
    results: list[DutyShiftOut]


class DutyShiftFilters(BoundedIntegers):
    month: str | None = Field(None, max_length=7, description="月份 YYYY-MM，不填为本月")
    organisation: int | None = Field(None, description="值班单位编号")
    limit: int = Field(200, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=100_000)

    @field_validator("month")
    @classmethod
    def _month(cls, value: str | None) -> str | None:
        return _month_of(value)


class DutyShiftIn(InputSchema):
    id: int | None = Field(None, description="修改已有的值班安排时填其编号；不填为新增")
    organisation: int = Field(description="值班单位编号（本辖区内）")
    date: dt.date = Field(description="值班日期")
    kind: str = Field(
        ShiftKind.DAY, json_schema_extra={"enum": list(ShiftKind.values)}, description="班次，默认白班"
    )
    leader: int | str = Field(description="带班领导（用户编号或用户名），须为本辖区的领导")
    staff_on_duty: str = Field("", max_length=200, description="值班人员")
    phone: str = Field("", max_length=40, description="值班电话")

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in ShiftKind.values:
            raise ValueError(_("班次应为 day（白班）、night（夜班）或 holiday（节假日）。"))
        return value

    @field_validator("date")
    @classmethod
    def _date(cls, value: dt.date) -> dt.date:
        _in_years(value, _("值班日期超出范围。"))
        return value


class DutyLogOut(Schema):
    id: int
    shift: int = Field(description="值班安排编号")
    shift_date: dt.date
    organisation: OrganisationOut = Field(description="值班单位")
    kind: str
    kind_label: str
    leader: StaffOut = Field(description="带班领导")
    at: dt.datetime = Field(description="时间")
    happened: str = Field(description="值班情况")
    petitions: list[str] = Field(description="涉及信访事项（信访编号）")
    action_taken: str = Field(description="处理情况")
    handed_over_to: str = Field(description="交接给")
    recorded_by: StaffOut = Field(description="记录人")
    created_at: dt.datetime


class DutyLogPageOut(Schema):
    month: str
    count: int
    count_exact: bool
    results: list[DutyLogOut]


class DutyLogFilters(BoundedIntegers):
    month: str | None = Field(None, max_length=7, description="月份 YYYY-MM（按值班日期），不填为本月")
    organisation: int | None = Field(None, description="值班单位编号")
    shift: int | None = Field(None, description="值班安排编号：只看这一班的记录")
    limit: int = Field(30, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)

    @field_validator("month")
    @classmethod
    def _month(cls, value: str | None) -> str | None:
        return _month_of(value)


class DutyLogIn(InputSchema):
    shift: int = Field(description="值班安排编号")
    at: dt.datetime = Field(description="时间")
    happened: str = Field(max_length=5000, description="值班情况（必填）")
    action_taken: str = Field("", max_length=5000, description="处理情况")
    handed_over_to: str = Field("", max_length=100, description="交接给")
    petitions: list[Annotated[str, Field(max_length=40)]] = Field(
        [], max_length=50, description="涉及信访事项的信访编号"
    )

    @field_validator("at")
    @classmethod
    def _at(cls, value: dt.datetime) -> dt.datetime:
        _in_years(value, _("时间超出范围。"))
        return value


# --- helpers --------------------------------------------------------------------------------------


def _caller(request: HttpRequest) -> Any:
    user = auth_user(request)
    if not access.is_casework(user):
        raise services.LeadershipRefused(_("值班表和值班记录只对登记员、承办人、督办员和领导开放。"))
    return user


def _range(month: str | None) -> tuple[dt.date, dt.date]:
    first = dt.date.fromisoformat(f"{month}-01") if month else timezone.localdate().replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, ErrorCode.VALIDATION, _("提交的数据有误，请检查。"), fields={field: [message]})


def _staff(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "name": str(user)}


def _shift_out(s: DutyShift) -> dict[str, Any]:
    return {
        "id": s.pk, "organisation": s.organisation, "date": s.date, "weekday": WEEKDAYS[s.date.weekday()],
        "kind": s.kind, "kind_label": str(s.get_kind_display()), "leader": _staff(s.leader),
        "staff_on_duty": s.staff_on_duty, "phone": s.phone, "entries": getattr(s, "entries", 0),
    }  # fmt: skip


def _entry_out(e: DutyLogEntry) -> dict[str, Any]:
    s = e.shift
    return {
        "id": e.pk, "shift": s.pk, "shift_date": s.date, "organisation": s.organisation, "kind": s.kind,
        "kind_label": str(s.get_kind_display()), "leader": _staff(s.leader), "at": e.at,
        "happened": e.happened, "petitions": [p.number for p in e.petitions.all()],
        "action_taken": e.action_taken, "handed_over_to": e.handed_over_to,
        "recorded_by": _staff(e.recorded_by), "created_at": e.created_at,
    }  # fmt: skip


def _shifts(user: Any) -> Any:
    return (
        access.shifts_visible_to(user)
        .select_related("organisation", "leader")
        .annotate(entries=Count("log_entries"))
        .order_by("date", "kind", "organisation__path", "id")
    )


def _shift(user: Any, pk: int) -> DutyShift:
    shift = access.shifts_visible_to(user).select_related("organisation", "leader").filter(pk=pk).first()
    if shift is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, _("值班安排不存在，或您无权查看。"))
    return shift


def _leader(value: int | str) -> User | None:
    lookup = Q(pk=value) if isinstance(value, int) else Q(username=value)
    return User.objects.filter(lookup, is_active=True).first()


# --- the rota -------------------------------------------------------------------------------------


@router.get("/shifts", response={200: DutyShiftListOut, **READ}, summary="值班表")
def duty_shifts(request: HttpRequest, filters: Query[DutyShiftFilters]) -> dict[str, Any]:
    """The month's shifts in the caller's scope (as the 值班表 page), by date and shift, optionally
    of one organisation, each with its number of log entries."""
    user = _caller(request)
    first, last = _range(filters.month)
    qs = _shifts(user).filter(date__range=(first, last))
    if filters.organisation is not None:
        qs = qs.filter(organisation_id=filters.organisation)
    count, exact = capped_count(qs)
    page = qs[filters.offset : filters.offset + filters.limit]
    return {"month": first.strftime("%Y-%m"), "count": count, "count_exact": exact,
            "results": [_shift_out(s) for s in page]}  # fmt: skip


@router.post(
    "/shifts",
    response={200: DutyShiftOut, 201: DutyShiftOut, **READ},
    summary="安排值班（新增或修改值班安排）",
)
def duty_shift_save(
    request: HttpRequest, payload: DutyShiftIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """Put a shift on the rota (201), or change the shift ``id`` (200).  Supervisors, leaders and
    petition-office clerks only (403); the organisation must be in the caller's scope and the
    leader on duty a leader of it (422); one shift per organisation, day and kind (422)."""
    user = _caller(request)
    if not access.may_plan_rota(user):
        raise services.LeadershipRefused(_("只有督办员、领导或信访工作机构可以安排值班。"))
    shift = _shift(user, payload.id) if payload.id is not None else None
    organisation = access.rota_units(user).filter(pk=payload.organisation).first()
    if organisation is None:
        raise _invalid("organisation", _("请选择本辖区内的单位。"))
    leader = _leader(payload.leader)

    def action() -> IdempotentResult:
        saved = services.save_shift(
            actor=user, organisation=organisation, date=payload.date, kind=payload.kind, leader=leader,
            staff_on_duty=payload.staff_on_duty, phone=payload.phone, shift=shift,
        )  # fmt: skip
        body = DutyShiftOut.model_validate(_shift_out(_shifts(user).get(pk=saved.pk)))
        return IdempotentResult(status=200 if shift else 201, body=body.model_dump(mode="json"))

    return idempotent_response(request, user=user, key=idempotency_key, payload=payload, action=action)


# --- the log --------------------------------------------------------------------------------------


@router.get("/log", response={200: DutyLogPageOut, **READ}, summary="领导值班记录")
def duty_log(request: HttpRequest, filters: Query[DutyLogFilters]) -> dict[str, Any]:
    """The entries of the month's shifts in the caller's scope (as the 领导值班记录 page), newest
    first; ``organisation`` or ``shift`` narrow it (a shift out of scope is 404)."""
    user = _caller(request)
    first, last = _range(filters.month)
    qs = (
        access.log_visible_to(user)
        .select_related("shift__organisation", "shift__leader", "recorded_by")
        .prefetch_related("petitions")
        .order_by("-at", "-id")
    )
    if filters.shift is not None:
        qs = qs.filter(shift=_shift(user, filters.shift))
    else:
        qs = qs.filter(shift__date__range=(first, last))
    if filters.organisation is not None:
        qs = qs.filter(shift__organisation_id=filters.organisation)
    count, exact = capped_count(qs)
    page = qs[filters.offset : filters.offset + filters.limit]
    return {"month": first.strftime("%Y-%m"), "count": count, "count_exact": exact,
            "results": [_entry_out(e) for e in page]}  # fmt: skip


@router.post("/log", response={201: DutyLogOut, **READ}, summary="填写领导值班记录")
def duty_log_add(
    request: HttpRequest, payload: DutyLogIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """An entry on a shift of the caller's scope (404 otherwise): what happened, what was done,
    handed over to whom, and the petitions concerned (numbers the caller may see, else 422)."""
    user = _caller(request)
    shift = _shift(user, payload.shift)
    numbers = set(payload.petitions)
    petitions = list(Petition.objects.restrict(user).filter(number__in=numbers))
    if len(petitions) != len(numbers):
        raise _invalid("petitions", _("有信访编号不存在或不在您的工作范围内。"))

    def action() -> IdempotentResult:
        entry = services.log_duty(
            actor=user, shift=shift, at=payload.at, happened=payload.happened,
            action_taken=payload.action_taken, handed_over_to=payload.handed_over_to, petitions=petitions,
        )  # fmt: skip
        loaded = (
            DutyLogEntry.objects.select_related("shift__organisation", "shift__leader", "recorded_by")
            .prefetch_related("petitions")
            .get(pk=entry.pk)
        )
        body = DutyLogOut.model_validate(_entry_out(loaded)).model_dump(mode="json")
        return IdempotentResult(status=201, body=body)

    return idempotent_response(request, user=user, key=idempotency_key, payload=payload, action=action)
