"""``/api/v1/portal/reception-days``: 领导接待日 for the public (issue #11, 《信访工作条例》第十八条):
the published sessions with their free places, booking a slot (a booking code, shown once) and
cancelling with the code and phone.  The same services as the portal's pages, so the CAPTCHA, the
throttles and the capacity rule are the same whichever door a citizen uses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from xinfang.core.net import client_ip
from xinfang.portal.services import CaptchaFailed, check_captcha
from xinfang.reception import services

from ..errors import ApiError, ErrorCode
from ..schemas import ErrorOut, InputSchema

router = Router(tags=["portal"], auth=None)  # public: the schedule and booking need no account


class PublicSlotOut(Schema):
    id: int
    starts_at: dt.time
    ends_at: dt.time
    free: int = Field(description="剩余名额")


class PublicSessionOut(Schema):
    id: int
    organisation: str
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    place: str
    leader_name: str
    leader_title: str
    free: int = Field(description="剩余名额")
    calendar_unconfirmed: bool = Field(description="该年节假日安排公布后日期可能调整")
    slots: list[PublicSlotOut]


class BookingIn(InputSchema):
    slot: int = Field(description="时段编号（slots[].id）")
    name: str = Field(max_length=50)
    id_number: str = Field(max_length=40)
    phone: str = Field(max_length=40)
    description: str = Field(max_length=2000, description="反映事项简述，500字以内")
    captcha_key: str = Field("", max_length=100, description="POST /portal/captcha 取得的验证码键")
    captcha: str = Field("", max_length=20, description="验证码答案")


class BookedOut(Schema):
    id: int
    code: str = Field(description="预约码：只在此返回一次，取消预约时需要")
    date: dt.date
    slot: str


class CancelIn(InputSchema):
    code: str = Field(max_length=40, description="预约码")
    phone: str = Field(max_length=40, description="预约时填写的手机号码")


class CancelledOut(Schema):
    date: dt.date
    status: str


def _public(session: Any) -> dict[str, Any]:
    slots = [
        {"id": s.pk, "starts_at": s.starts_at, "ends_at": s.ends_at, "free": s.free}
        for s in session.slots.all()
    ]
    return {
        "id": session.pk,
        "organisation": session.organisation.name,
        "date": session.date,
        "start_time": session.start_time,
        "end_time": session.end_time,
        "place": session.place,
        "leader_name": session.leader.full_name,
        "leader_title": session.leader_title,
        "free": max(0, session.capacity - (session.booked_total or 0)),
        "calendar_unconfirmed": session.calendar_unconfirmed,
        "slots": slots,
    }


@router.get("", response={200: list[PublicSessionOut]}, summary="领导接待日：公开的接待日")
def list_public_sessions(request: HttpRequest) -> list[dict[str, Any]]:
    """The published reception days to come (at most 200): organisation, date, time, place, the
    receiving leader's name and title, free places per slot."""
    qs = services.public_sessions().prefetch_related("slots")[:200]
    return [_public(s) for s in qs]


@router.post(
    "/{session_id}/bookings",
    response={201: BookedOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="领导接待日：预约",
)
def create_booking(request: HttpRequest, session_id: int, payload: BookingIn) -> Status:
    """Book a place.  The CAPTCHA is required as for an online petition (422 ``captcha_invalid``).
    409 ``slot_full`` when the slot has no place left; 422 for a wrong ID number or phone, an unknown
    or past session, or a second booking of the same person for the session; 429 when too many
    attempts come from one address.  The code is returned only here."""
    try:
        check_captcha(key=payload.captcha_key, answer=payload.captcha)
    except CaptchaFailed:
        message = str(CaptchaFailed.message)
        raise ApiError(422, ErrorCode.CAPTCHA_INVALID, message, fields={"captcha": [message]}) from None
    try:
        booked = services.book_slot(
            session_id=session_id,
            slot_id=payload.slot,
            name=payload.name,
            id_number=payload.id_number,
            phone=payload.phone,
            description=payload.description,
            ip=client_ip(request),
        )
    except services.SlotFull:
        raise ApiError(409, "slot_full", str(services.SlotFull.message)) from None
    b = booked.booking
    return Status(201, {"id": b.pk, "code": booked.code, "date": b.session.date, "slot": str(b.slot)})


@router.post(
    "/bookings/cancel",
    response={200: CancelledOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="领导接待日：凭预约码取消预约",
)
def cancel_booking(request: HttpRequest, payload: CancelIn) -> dict[str, Any]:
    """Cancel with the booking code and the phone given when booking.  A wrong code, a wrong phone
    and a booking already cancelled or past give the same 404; failures per address are limited (429)."""
    try:
        booking = services.cancel_booking(code=payload.code, phone=payload.phone, ip=client_ip(request))
    except services.BookingNotFound:
        raise ApiError(404, ErrorCode.NOT_FOUND, str(services.BookingNotFound.message)) from None
    return {"date": booking.session.date, "status": booking.status}


__all__ = ["router", "_"]
