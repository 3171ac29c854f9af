"""``/api/v1/reception-days``: 领导接待日 for staff (issue #11, 《信访工作条例》第十八条).

Thin over ``reception.services``: the same scope as the staff pages (a schedule, session or
booking outside the caller's subtree is the usual 404), the same rules (only the organisation's own
intake clerks and supervisors mark bookings: 403 otherwise), the same Chinese messages (422).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Sum
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from xinfang.reception import services
from xinfang.reception.models import ReceptionBooking, ReceptionSession

from ..auth import auth_user, token_auth
from ..errors import ApiError, ErrorCode
from ..schemas import ErrorOut, InputSchema, OrganisationOut

router = Router(tags=["reception"], auth=token_auth)


def _missing() -> ApiError:
    return ApiError(404, ErrorCode.NOT_FOUND, _("记录不存在，或您无权查看。"))


class LeaderOut(Schema):
    id: int
    name: str
    title: str = Field(description="职务（公开显示）")


class RotaOut(Schema):
    position: int
    leader: LeaderOut


class ScheduleOut(Schema):
    id: int
    organisation: OrganisationOut
    title: str
    rule: str = Field(
        description=(
            "first_working_day 每月第一个工作日，nth_working_day 第N个工作日，"
            "weekday 每周固定星期，dates 指定日期"
        )
    )
    nth: int
    weekday: int | None = Field(description="0 星期一 … 6 星期日")
    dates: list[str]
    starts_on: dt.date
    ends_on: dt.date | None
    start_time: dt.time
    end_time: dt.time
    place: str
    slot_minutes: int
    capacity_per_slot: int
    published: bool
    is_active: bool
    rota: list[RotaOut]


class SlotOut(Schema):
    id: int
    starts_at: dt.time
    ends_at: dt.time
    capacity: int
    booked: int


class SessionOut(Schema):
    id: int
    schedule: int
    organisation: OrganisationOut
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    place: str
    leader: LeaderOut
    capacity: int
    booked: int
    status: str = Field(description="scheduled 已安排，cancelled 已取消")
    cancel_reason: str
    calendar_unconfirmed: bool = Field(description="该年节假日安排尚未公布，日期按周一至周五推算")


class BookingOut(Schema):
    id: int
    session: int
    date: dt.date
    slot: str
    name: str
    id_number_mask: str
    phone_mask: str
    description: str
    status: str = Field(description="booked 已预约，arrived 已到场，no_show 未到场，cancelled 已取消")
    status_label: str
    petition: str | None = Field(description="来访登记的信访编号")
    received_by: str | None = Field(description="接待领导")


class MarkIn(InputSchema):
    status: Literal["arrived", "no_show"] = Field(description="arrived 已到场，no_show 未到场")


def _org(o: Any) -> dict[str, Any]:
    return {"id": o.pk, "name": o.name, "code": o.code}


def _leader(user: Any, title: str) -> dict[str, Any]:
    return {"id": user.pk, "name": user.full_name or user.username, "title": title}


def schedule_body(s: Any) -> dict[str, Any]:
    return {
        "id": s.pk,
        "organisation": _org(s.organisation),
        "title": s.title,
        "rule": s.rule,
        "nth": s.nth,
        "weekday": s.weekday,
        "dates": list(s.dates),
        "starts_on": s.starts_on,
        "ends_on": s.ends_on,
        "start_time": s.start_time,
        "end_time": s.end_time,
        "place": s.place,
        "slot_minutes": s.slot_minutes,
        "capacity_per_slot": s.capacity_per_slot,
        "published": s.published,
        "is_active": s.is_active,
        "rota": [{"position": r.position, "leader": _leader(r.leader, r.title)} for r in s.rota.all()],
    }


def session_body(s: Any) -> dict[str, Any]:
    return {
        "id": s.pk,
        "schedule": s.schedule_id,
        "organisation": _org(s.organisation),
        "date": s.date,
        "start_time": s.start_time,
        "end_time": s.end_time,
        "place": s.place,
        "leader": _leader(s.leader, s.leader_title),
        "capacity": s.capacity,
        "booked": s.booked_total or 0,
        "status": s.status,
        "cancel_reason": s.cancel_reason,
        "calendar_unconfirmed": s.calendar_unconfirmed,
    }


def booking_body(b: Any) -> dict[str, Any]:
    return {
        "id": b.pk,
        "session": b.session_id,
        "date": b.session.date,
        "slot": str(b.slot),
        "name": b.name,
        "id_number_mask": b.id_number_mask,
        "phone_mask": b.phone_mask,
        "description": b.description,
        "status": b.status,
        "status_label": str(b.get_status_display()),
        "petition": b.petition.number if b.petition_id else None,
        "received_by": (b.received_by.full_name or b.received_by.username) if b.received_by_id else None,
    }


def _bookings() -> Any:
    return ReceptionBooking.objects.select_related("session", "slot", "petition", "received_by")


@router.get("/schedules", response={200: list[ScheduleOut], 401: ErrorOut}, summary="接待日安排列表")
def list_schedules(request: HttpRequest) -> list[dict[str, Any]]:
    """The schedules of the caller's subtree, with the rota of leaders (轮班接待)."""
    qs = (
        services.visible_schedules(auth_user(request))
        .select_related("organisation")
        .prefetch_related("rota__leader")
        .order_by("organisation__path", "id")
    )
    return [schedule_body(s) for s in qs[:500]]


@router.get("/sessions", response={200: list[SessionOut], 401: ErrorOut, 422: ErrorOut}, summary="接待日列表")
def list_sessions(
    request: HttpRequest,
    date_from: Query[dt.date | None] = None,
    date_to: Query[dt.date | None] = None,
    mine: Query[bool] = False,
) -> list[dict[str, Any]]:
    """Sessions of the caller's subtree from ``date_from`` (default today) to ``date_to`` (default
    90 days later), at most 500; ``mine=true``: only those the caller receives at."""
    user = auth_user(request)
    first = date_from or timezone.localdate()
    last = date_to or first + dt.timedelta(days=90)
    qs = services.visible_sessions(user).filter(date__gte=first, date__lte=last)
    if mine:
        qs = qs.filter(leader=user)
    qs = qs.select_related("organisation", "leader").annotate(booked_total=Sum("slots__booked"))
    return [session_body(s) for s in qs.order_by("date", "start_time", "id")[:500]]


@router.get(
    "/bookings", response={200: list[BookingOut], 401: ErrorOut, 422: ErrorOut}, summary="当日接待预约"
)
def day_bookings(request: HttpRequest, date: Query[dt.date | None] = None) -> list[dict[str, Any]]:
    """The bookings of a day's sessions (default today) in the caller's subtree, masked."""
    day = date or timezone.localdate()
    qs = services.visible_bookings(auth_user(request)).filter(session__date=day)
    qs = qs.select_related("session", "slot", "petition", "received_by").order_by(
        "session__start_time", "slot__starts_at", "id"
    )
    return [booking_body(b) for b in qs[:2000]]


@router.get(
    "/sessions/{session_id}",
    response={200: SessionOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="接待日详情",
)
def get_session(request: HttpRequest, session_id: int) -> dict[str, Any]:
    session = (
        services.visible_sessions(auth_user(request))
        .filter(pk=session_id)
        .select_related("organisation", "leader")
        .annotate(booked_total=Sum("slots__booked"))
        .first()
    )
    if session is None:
        raise _missing()
    return session_body(session)


@router.get(
    "/sessions/{session_id}/bookings",
    response={200: list[BookingOut], 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="接待日的预约",
)
def session_bookings(request: HttpRequest, session_id: int) -> list[dict[str, Any]]:
    session = (
        services.visible_sessions(auth_user(request))
        .filter(pk=session_id)
        .prefetch_related(Prefetch("bookings", queryset=_bookings().order_by("slot__starts_at", "id")))
        .first()
    )
    if session is None:
        raise _missing()
    return [booking_body(b) for b in session.bookings.all()]


@router.post(
    "/bookings/{booking_id}/mark",
    response={200: BookingOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="标记到场情况",
)
def mark_booking(request: HttpRequest, booking_id: int, payload: MarkIn) -> dict[str, Any]:
    """Mark a booking ``arrived`` (已到场) or ``no_show`` (未到场), on or after the session's day.
    Only the organisation's own intake clerks and supervisors (403 otherwise)."""
    user = auth_user(request)
    try:
        services.mark_booking(user=user, booking_id=booking_id, status=payload.status)
    except ReceptionBooking.DoesNotExist:
        raise _missing() from None
    except services.ReceptionRefused as exc:
        raise ApiError(403, ErrorCode.FORBIDDEN, str(exc)) from None
    return booking_body(_bookings().get(pk=booking_id))


__all__ = ["ReceptionSession", "ValidationError", "router"]
