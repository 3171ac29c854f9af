"""``/api/v1/reception-days``: 领导接待日 for staff (issue #11, 《信访工作条例》第十八条).

Thin over ``reception.services``: the same scope as the staff pages (a schedule, session or
booking outside the caller's subtree is the usual 404), the same rules (only the organisation's own
intake clerks and supervisors mark bookings: 403 otherwise), the same Chinese messages (422).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema

from xinfang.organisations.choices import RoleCode
from xinfang.petitions.choices import Purpose
from xinfang.petitions.forms import leaf_categories
from xinfang.petitions.models import Petition
from xinfang.petitions.services import localities
from xinfang.reception import services
from xinfang.reception.models import (
    BookingStatus,
    OutreachKind,
    OutreachVisit,
    ReceptionBooking,
    ReceptionSchedule,
    ReceptionSession,
    RuleKind,
    SessionStatus,
)

from ..auth import auth_user, token_auth
from ..errors import ApiError, ErrorCode
from ..idempotency import IdempotentResult
from ..presenters import idempotent_response, jsonable
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


# --- writes: schedules, sessions, visits, outreach (the staff pages' actions) ---------------------

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=100, description="幂等键：重试时携带同一键，返回首次结果"),
]
_WRITE = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
_STATEFUL = {**_WRITE, 409: ErrorOut}
WRONG_STATE = "wrong_state"


class ReceptionRotaIn(InputSchema):
    leader: int = Field(description="接待领导的用户编号（本级政府辖区内的在职领导）")
    title: str = Field(max_length=50, description="职务（公开显示），如：县长、副县长")


class ReceptionScheduleIn(InputSchema):
    title: str = Field(max_length=100, description="名称")
    rule: Literal[tuple(RuleKind.values)] = Field(  # type: ignore[valid-type]
        description=(
            "first_working_day 每月第一个工作日，nth_working_day 第N个工作日，"
            "weekday 每周固定星期，dates 指定日期"
        )
    )
    nth: int = Field(1, ge=1, le=23, description="第几个工作日（规则为 nth_working_day 时）")
    weekday: int | None = Field(None, ge=0, le=6, description="0 星期一 … 6 星期日（规则为 weekday 时）")
    dates: list[dt.date] = Field([], max_length=100, description="指定日期（规则为 dates 时）")
    starts_on: dt.date = Field(description="起始日期")
    ends_on: dt.date | None = Field(None, description="截止日期，不填为长期有效")
    start_time: dt.time = Field(description="开始时间")
    end_time: dt.time = Field(description="结束时间")
    place: str = Field(max_length=200, description="接待地点")
    slot_minutes: int = Field(60, ge=5, le=480, description="每时段分钟数")
    capacity_per_slot: int = Field(3, ge=1, le=200, description="每时段可预约人数")
    published: bool = Field(False, description="在网上信访公开（群众可预约）")
    is_active: bool = Field(True, description="启用")
    rota: list[ReceptionRotaIn] = Field(max_length=20, description="轮班接待领导，按轮班顺序")

    def to_input(self) -> services.ScheduleInput:
        return services.ScheduleInput(
            **{name: getattr(self, name) for name in services.SCHEDULE_FIELDS},
            dates=list(self.dates),
            rota=[(r.leader, r.title) for r in self.rota],
        )


class ReceptionCancelIn(InputSchema):
    reason: str = Field(max_length=200, description="取消原因（已预约的群众将收到短信告知）")


class ReceptionSwapIn(InputSchema):
    leader: int = Field(description="改由哪位领导接待（用户编号，本级政府辖区内的在职领导）")
    title: str = Field(max_length=50, description="职务（公开显示）")


class ReceptionVisitIn(InputSchema):
    purpose: Literal[tuple(Purpose.values)] = Field(description="信访目的")  # type: ignore[valid-type]
    title: str = Field(max_length=200, description="标题")
    content: str = Field(max_length=20000, description="信访内容：诉求、事实和理由；接待领导的意见可一并记入")
    category: int = Field(description="问题分类（末级分类编号）")
    locality: int = Field(description="问题属地（行政区划编号）")
    address: str = Field("", max_length=200, description="住址")


class ReceptionVisitOut(Schema):
    petition: str = Field(description="信访编号")
    query_code: str = Field(description="查询码：只在本响应中出现，请转告信访人，系统不保存明文")
    booking: BookingOut


class OutreachIn(InputSchema):
    kind: Literal[tuple(OutreachKind.values)] = Field(  # type: ignore[valid-type]
        description="down 下访，appointment 约访，with_case 带案下访，circuit 巡回接访，joint 联合接访"
    )
    date: dt.date = Field(description="日期")
    place: str = Field(max_length=200, description="地点")
    leaders: list[int] = Field(max_length=20, description="带队领导（用户编号，本级政府辖区内的在职领导）")
    staff: list[int] = Field([], max_length=50, description="参加人员（本系统用户编号）")
    other_participants: str = Field(
        "", max_length=300, description="其他参加人员（未使用本系统的人员、单位）"
    )
    petitions: list[str] = Field([], max_length=100, description="涉及信访事项的信访编号（须为您可查看的）")
    notes: str = Field("", max_length=20000, description="情况记录")


class OutreachPersonOut(Schema):
    id: int
    name: str


class OutreachOut(Schema):
    id: int
    organisation: OrganisationOut
    kind: str = Field(
        description="down 下访，appointment 约访，with_case 带案下访，circuit 巡回接访，joint 联合接访"
    )
    kind_label: str
    date: dt.date
    place: str
    leaders: list[OutreachPersonOut] = Field(description="带队领导")
    staff: list[OutreachPersonOut] = Field(description="参加人员（本系统用户）")
    other_participants: str
    petitions: list[str] = Field(description="涉及信访事项中您可查看的信访编号")
    hidden_petitions: int = Field(description="涉及信访事项中您无权查看的件数")
    notes: str
    created_by: OutreachPersonOut
    created_at: dt.datetime


class OutreachListOut(Schema):
    count: int
    results: list[OutreachOut]


class OutreachFilters(Schema):
    kind: Literal[tuple(OutreachKind.values)] | None = Field(None, description="类别")  # type: ignore[valid-type]
    date_from: dt.date | None = Field(None, description="起始日期")
    date_to: dt.date | None = Field(None, description="截止日期")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


def _json(schema: type[Schema], body: dict[str, Any]) -> dict[str, Any]:
    """A body as stored for an idempotent replay: validated against its schema and encoded as ninja
    encodes its own responses (datetimes to the millisecond), so the first answer and a replay match
    what the GET of the same record answers."""
    return jsonable(schema.model_validate(body).model_dump())


def _schedule(user: Any, schedule_id: int) -> ReceptionSchedule:
    schedule = (
        services.visible_schedules(user)
        .select_related("organisation")
        .prefetch_related("rota__leader")
        .filter(pk=schedule_id)
        .first()
    )
    if schedule is None:
        raise _missing()
    return schedule


def _refuse_unless_manager(user: Any, organisation_id: int | None) -> None:
    """403 as the pages answer: only the organisation's own intake clerks and supervisors."""
    if not services.may_manage(user, organisation_id):
        raise ApiError(403, ErrorCode.FORBIDDEN, _("只有本机构的登记员或督办员可以安排接待日、处理预约。"))


@router.post("/schedules", response={201: ScheduleOut, **_WRITE}, summary="新建接待日安排")
def create_schedule(
    request: HttpRequest, payload: ReceptionScheduleIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """A schedule of the caller's own organisation (rule, time window, place, slots, rota of
    leaders, published flag); its sessions of the coming three months are generated at once.
    Only the organisation's intake clerks and supervisors (403 otherwise)."""
    user = auth_user(request)
    _refuse_unless_manager(user, user.organisation_id)

    def action() -> IdempotentResult:
        saved = services.save_schedule(user=user, organisation=user.organisation, data=payload.to_input())
        return IdempotentResult(status=201, body=_json(ScheduleOut, schedule_body(_schedule(user, saved.pk))))

    return idempotent_response(request, user=user, key=idempotency_key, payload=payload, action=action)


@router.put("/schedules/{schedule_id}", response={200: ScheduleOut, **_WRITE}, summary="修改接待日安排")
def update_schedule(request: HttpRequest, schedule_id: int, payload: ReceptionScheduleIn) -> dict[str, Any]:
    """Replace a schedule and its rota.  Future sessions that no longer fit and hold no booking are
    removed, the missing ones generated; sessions with bookings stay (cancel them one by one)."""
    user = auth_user(request)
    try:
        services.save_schedule(user=user, schedule_id=schedule_id, data=payload.to_input())
    except ReceptionSchedule.DoesNotExist:
        raise _missing() from None
    return schedule_body(_schedule(user, schedule_id))


def _managed_session(user: Any, session_id: int) -> ReceptionSession:
    """The session in scope (404), arranged by the caller's organisation (403), still scheduled (409)."""
    session = services.visible_sessions(user).filter(pk=session_id).first()
    if session is None:
        raise _missing()
    _refuse_unless_manager(user, session.organisation_id)
    if session.status == SessionStatus.CANCELLED:
        raise ApiError(409, WRONG_STATE, _("该接待日已取消。"))
    return session


def _session_out(user: Any, session_id: int) -> dict[str, Any]:
    session = (
        services.visible_sessions(user)
        .filter(pk=session_id)
        .select_related("organisation", "leader")
        .annotate(booked_total=Sum("slots__booked"))
        .get()
    )
    return session_body(session)


@router.post("/sessions/{session_id}/cancel", response={200: SessionOut, **_STATEFUL}, summary="取消接待日")
def cancel_session(request: HttpRequest, session_id: int, payload: ReceptionCancelIn) -> dict[str, Any]:
    """Cancel a reception day: its bookings are cancelled and each booker gets an SMS with the
    reason.  409 ``wrong_state`` when it is already cancelled."""
    user = auth_user(request)
    _managed_session(user, session_id)
    services.cancel_session(user=user, session_id=session_id, reason=payload.reason)
    return _session_out(user, session_id)


@router.post("/sessions/{session_id}/leader", response={200: SessionOut, **_STATEFUL}, summary="更换接待领导")
def swap_leader(request: HttpRequest, session_id: int, payload: ReceptionSwapIn) -> dict[str, Any]:
    """Put another leader of the government's subtree on the session (换班); the new leader's bell
    rings and the portal shows the new name.  409 ``wrong_state`` on a cancelled session."""
    user = auth_user(request)
    _managed_session(user, session_id)
    services.swap_leader(user=user, session_id=session_id, leader_id=payload.leader, title=payload.title)
    return _session_out(user, session_id)


def _visit_input(payload: ReceptionVisitIn) -> services.VisitInput:
    """The category must be a leaf and the locality one of the administrative areas, as the form
    offers them (422 otherwise)."""
    errors: dict[str, list[str]] = {}
    if not leaf_categories().filter(pk=payload.category).exists():
        errors["category"] = [_("请选择有效的问题分类（末级分类）。")]
    if not localities().filter(pk=payload.locality).exists():
        errors["locality"] = [_("请选择有效的问题属地。")]
    if errors:
        raise ApiError(422, ErrorCode.VALIDATION, _("提交的数据有误，请检查。"), fields=errors)
    return services.VisitInput(
        purpose=payload.purpose,
        title=payload.title,
        content=payload.content,
        category_id=payload.category,
        locality_id=payload.locality,
        address=payload.address,
    )


@router.post(
    "/bookings/{booking_id}/register",
    response={201: ReceptionVisitOut, **_STATEFUL},
    summary="来访登记为信访事项",
)
def register_visit(
    request: HttpRequest, booking_id: int, payload: ReceptionVisitIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """Register the visit of a booking as a petition (channel 来访) with the receiving leader
    recorded on the booking; answers the petition number and its query code (shown only here).
    Only the organisation's intake clerks (403 otherwise); 409 ``wrong_state`` when the booking is
    cancelled, already registered, or its day has not come."""
    user = auth_user(request)
    booking = services.visible_bookings(user).select_related("session").filter(pk=booking_id).first()
    if booking is None:
        raise _missing()
    _refuse_unless_manager(user, booking.session.organisation_id)
    if not user.has_role(RoleCode.INTAKE):  # registering is intake's (workflow.services.register)
        raise ApiError(403, ErrorCode.FORBIDDEN, _("只有本机构的登记员可以登记信访事项。"))
    data = _visit_input(payload)

    def action() -> IdempotentResult:
        # Checked here, not before: a retry with the same key replays the first answer instead.
        if (
            booking.petition_id
            or booking.status == BookingStatus.CANCELLED
            or booking.session.date > timezone.localdate()
        ):
            raise ApiError(409, WRONG_STATE, _("该预约已取消、已登记为信访事项，或接待日尚未到来。"))
        registration = services.register_visit(user=user, booking_id=booking_id, data=data)
        body = {
            "petition": registration.petition.number,
            "query_code": registration.query_code,
            "booking": booking_body(_bookings().get(pk=booking_id)),
        }
        return IdempotentResult(status=201, body=_json(ReceptionVisitOut, body))

    return idempotent_response(request, user=user, key=idempotency_key, payload=payload, action=action)


def _outreach(user: Any) -> Any:
    """Outreach visits in scope with everything the body shows, in a fixed number of queries; the
    petitions listed are those the caller may see, the others only counted."""
    visible = Petition.objects.restrict(user).only("id", "number").order_by("number")
    return (
        services.visible_outreach(user)
        .select_related("organisation", "created_by")
        .prefetch_related(
            "leaders", "staff", Prefetch("petitions", queryset=visible, to_attr="visible_petitions")
        )
        .annotate(petition_total=Count("petitions", distinct=True))
    )


def _person(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "name": user.full_name or user.username}


def outreach_body(v: OutreachVisit) -> dict[str, Any]:
    numbers = [p.number for p in v.visible_petitions]
    return {
        "id": v.pk,
        "organisation": _org(v.organisation),
        "kind": v.kind,
        "kind_label": str(v.get_kind_display()),
        "date": v.date,
        "place": v.place,
        "leaders": [_person(u) for u in v.leaders.all()],
        "staff": [_person(u) for u in v.staff.all()],
        "other_participants": v.other_participants,
        "petitions": numbers,
        "hidden_petitions": v.petition_total - len(numbers),
        "notes": v.notes,
        "created_by": _person(v.created_by),
        "created_at": v.created_at,
    }


def _outreach_visit(user: Any, visit_id: int) -> OutreachVisit:
    visit = _outreach(user).filter(pk=visit_id).first()
    if visit is None:
        raise _missing()
    return visit


@router.get(
    "/outreach", response={200: OutreachListOut, 401: ErrorOut, 422: ErrorOut}, summary="下访约访台账"
)
def list_outreach(request: HttpRequest, filters: Query[OutreachFilters]) -> dict[str, Any]:
    """Visits down and appointments (下访、约访 …) of the caller's subtree, latest first."""
    qs = services.visible_outreach(auth_user(request))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.date_from:
        qs = qs.filter(date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(date__lte=filters.date_to)
    count = qs.count()
    ids = list(
        qs.order_by("-date", "-id").values_list("pk", flat=True)[
            filters.offset : filters.offset + filters.limit
        ]
    )
    rows = _outreach(auth_user(request)).filter(pk__in=ids).order_by("-date", "-id")
    return {"count": count, "results": [outreach_body(v) for v in rows]}


@router.post("/outreach", response={201: OutreachOut, **_WRITE}, summary="登记下访约访")
def create_outreach(
    request: HttpRequest, payload: OutreachIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """Record a visit down or an appointment for the caller's organisation: its leaders (of the
    government's subtree), staff, other participants, the petitions concerned (numbers the caller
    may see; 422 naming the others) and notes."""
    user = auth_user(request)
    data = services.OutreachInput(
        kind=payload.kind,
        date=payload.date,
        place=payload.place,
        leader_ids=list(payload.leaders),
        staff_ids=list(payload.staff),
        other_participants=payload.other_participants,
        petition_numbers=list(payload.petitions),
        notes=payload.notes,
    )

    def action() -> IdempotentResult:
        visit = services.record_outreach(user=user, data=data)
        return IdempotentResult(
            status=201, body=_json(OutreachOut, outreach_body(_outreach_visit(user, visit.pk)))
        )

    return idempotent_response(request, user=user, key=idempotency_key, payload=payload, action=action)


@router.get(
    "/outreach/{visit_id}",
    response={200: OutreachOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="下访约访详情",
)
def get_outreach(request: HttpRequest, visit_id: int) -> dict[str, Any]:
    return outreach_body(_outreach_visit(auth_user(request), visit_id))


__all__ = ["ReceptionSession", "ValidationError", "router"]
