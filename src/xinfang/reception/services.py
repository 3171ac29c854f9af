"""Reception days (领导接待日, 《信访工作条例》第十八条): every write, for the staff pages, the portal,
the API and the jobs alike.  One transaction per write, with its audit event written last.

Scope: staff with a casework role see the schedules, sessions, bookings and outreach visits of the
organisations in their subtree, the way ``petitions.access.scope_root`` scopes petitions (a
petition office's staff see their whole government's).  Only the organisation's own intake clerks
and supervisors arrange its reception days and mark its bookings.

Capacity (issue #11 §1): a place is taken by ``UPDATE slot SET booked = booked + 1 WHERE id = … AND
booked < capacity`` — one atomic statement on PostgreSQL and SQLite, so two processes booking the
last place cannot both get it; the booking row is inserted in the same transaction, and a second
booking of the same person for the same session is refused by a partial unique index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from xinfang.audit.services import record_event
from xinfang.core import crypto, throttle
from xinfang.core.throttle import Throttled
from xinfang.notifications.models import Channel, MessageTemplate, OutboxMessage
from xinfang.notifications.services import notify, queue_messages
from xinfang.organisations.choices import CASEWORK_ROLES, OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation, User
from xinfang.petitions.access import scope_root
from xinfang.petitions.choices import Channel as PetitionChannel
from xinfang.petitions.drafts import PetitionDraft, PetitionerDraft
from xinfang.petitions.models import Petition
from xinfang.petitions.services import new_query_code, normalise_query_code
from xinfang.petitions.validators import check_id_number, check_phone, mask_id_number, mask_phone
from xinfang.workflow import calendar as legal_calendar

from . import rules
from .models import (
    BookingStatus,
    OutreachVisit,
    ReceptionBooking,
    ReceptionRotaEntry,
    ReceptionSchedule,
    ReceptionSession,
    ReceptionSlot,
    RuleKind,
    SessionStatus,
)

__all__ = [
    "BOOK_SCOPE",
    "BookingNotFound",
    "ReceptionRefused",
    "ScheduleInput",
    "SlotFull",
    "Throttled",
    "book_slot",
    "cancel_booking",
    "cancel_session",
    "materialise_all",
    "materialise_sessions",
    "mark_booking",
    "record_outreach",
    "register_visit",
    "save_schedule",
    "send_reminders",
    "swap_leader",
]

# How far ahead sessions exist as rows (the portal shows them, citizens book them).
MATERIALISE_MONTHS = 3
BOOK_SCOPE = "reception-book"
CANCEL_SCOPE = "reception-cancel"
REMINDER_TEMPLATE = "reception_reminder"
REMINDER_TEXT = (
    "您预约的{organisation}领导接待日为{date} {time}，地点：{place}。"
    "请携带身份证件按时到达；不能前来的，请凭预约码取消。"
)
MANAGER_ROLES = (RoleCode.INTAKE, RoleCode.SUPERVISOR)
MAX_DESCRIPTION = 500


class ReceptionRefused(PermissionError):
    """The user may not do this (wrong role or another organisation's record); a Chinese message."""


class SlotFull(Exception):
    """The slot (or the session) has no free place left: 409 in the API."""

    message = _lazy("该时段已约满，请选择其他时段或其他接待日。")


class BookingNotFound(LookupError):
    """No booking with this code and phone, or it can no longer be cancelled: one answer for both."""

    message = _lazy("预约码或手机号码不正确，或该预约已取消、已过期。")


# --- scope ---------------------------------------------------------------------------------------


def _scope_path(user: Any) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.organisation_id is None or not user.role_codes & CASEWORK_ROLES:
        return None
    return scope_root(user.organisation).path


def visible_schedules(user: Any) -> QuerySet[ReceptionSchedule]:
    path = _scope_path(user)
    qs = ReceptionSchedule.objects.all()
    return qs.none() if path is None else qs.filter(organisation__path__startswith=path)


def visible_sessions(user: Any) -> QuerySet[ReceptionSession]:
    path = _scope_path(user)
    qs = ReceptionSession.objects.all()
    return qs.none() if path is None else qs.filter(organisation__path__startswith=path)


def visible_bookings(user: Any) -> QuerySet[ReceptionBooking]:
    path = _scope_path(user)
    qs = ReceptionBooking.objects.all()
    return qs.none() if path is None else qs.filter(session__organisation__path__startswith=path)


def visible_outreach(user: Any) -> QuerySet[OutreachVisit]:
    path = _scope_path(user)
    qs = OutreachVisit.objects.all()
    return qs.none() if path is None else qs.filter(organisation__path__startswith=path)


def may_manage(user: Any, organisation_id: int | None) -> bool:
    """The organisation's own intake clerks and supervisors arrange reception days and mark bookings."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.organisation_id == organisation_id
        and user.has_role(*MANAGER_ROLES)
    )


def _check_manage(user: Any, organisation_id: int | None) -> None:
    if not may_manage(user, organisation_id):
        raise ReceptionRefused(_("只有本机构的登记员或督办员可以安排接待日、处理预约。"))


def leader_choices(organisation: Organisation) -> QuerySet[User]:
    """The leaders who may receive at ``organisation``'s reception days: the active leaders of its
    government's subtree."""
    return (
        User.objects.filter(
            is_active=True,
            roles__code=RoleCode.LEADER,
            organisation__path__startswith=scope_root(organisation).path,
        )
        .distinct()
        .order_by("full_name", "username")
    )


# --- schedules and sessions ----------------------------------------------------------------------


@dataclass
class ScheduleInput:
    """What a schedule form or the API hands to ``save_schedule``."""

    title: str
    rule: str
    starts_on: dt.date
    start_time: dt.time
    end_time: dt.time
    place: str
    rota: list[tuple[int, str]]  # (leader id, title) in turn order
    nth: int = 1
    weekday: int | None = None
    dates: list[dt.date] = field(default_factory=list)
    ends_on: dt.date | None = None
    slot_minutes: int = 60
    capacity_per_slot: int = 3
    published: bool = False
    is_active: bool = True


# The fields of a ``ScheduleInput`` stored as they are on the ``ReceptionSchedule`` (not the dates
# and the rota, which are stored apart); the schedule form reads its initial values from them.
SCHEDULE_FIELDS = (
    "title",
    "rule",
    "nth",
    "weekday",
    "starts_on",
    "ends_on",
    "start_time",
    "end_time",
    "place",
    "slot_minutes",
    "capacity_per_slot",
    "published",
    "is_active",
)


def _clean_schedule(organisation: Organisation, data: ScheduleInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if not data.title.strip():
        add("title", _("请填写名称。"))
    if not data.place.strip():
        add("place", _("请填写接待地点。"))
    if data.rule not in RuleKind.values:
        add("rule", _("请选择接待日规则。"))
    if data.rule == RuleKind.NTH_WORKING_DAY and not 1 <= data.nth <= 23:
        add("nth", _("第几个工作日应为1至23。"))
    if data.rule == RuleKind.WEEKDAY and data.weekday not in range(7):
        add("weekday", _("请选择星期几。"))
    if data.rule == RuleKind.DATES and not data.dates:
        add("dates", _("请至少填写一个日期。"))
    if data.ends_on is not None and data.ends_on < data.starts_on:
        add("ends_on", _("截止日期不能早于起始日期。"))
    if data.end_time <= data.start_time:
        add("end_time", _("结束时间应晚于开始时间。"))
    if not 5 <= data.slot_minutes <= 480:
        add("slot_minutes", _("每时段分钟数应为5至480。"))
    if not 1 <= data.capacity_per_slot <= 200:
        add("capacity_per_slot", _("每时段可预约人数应为1至200。"))
    if not data.rota:
        add("rota", _("请至少安排一名接待领导。"))
    else:
        allowed = set(
            leader_choices(organisation).filter(pk__in=[r[0] for r in data.rota]).values_list("pk", flat=True)
        )
        for leader_id, title in data.rota:
            if leader_id not in allowed:
                add("rota", _("接待领导须为本级的在职领导。"))
                break
            if not title.strip():
                add("rota", _("请填写每位接待领导的职务。"))
                break
    return errors


def save_schedule(
    *,
    user: Any,
    organisation: Organisation | None = None,
    schedule_id: int | None = None,
    data: ScheduleInput,
) -> ReceptionSchedule:
    """Create (``organisation``) or change (``schedule_id``) a schedule and its rota, then
    materialise its sessions for the coming months.  Future sessions that no longer fit the rule
    and hold no booking are removed; those with bookings stay, for the clerk to cancel."""
    if schedule_id is not None:
        schedule = visible_schedules(user).select_related("organisation").filter(pk=schedule_id).first()
        if schedule is None:
            raise ReceptionSchedule.DoesNotExist
        organisation = schedule.organisation
    else:
        assert organisation is not None
        schedule = ReceptionSchedule(organisation=organisation, created_by=user)
    _check_manage(user, organisation.pk)
    errors = _clean_schedule(organisation, data)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        for name in SCHEDULE_FIELDS:
            value = getattr(data, name)
            setattr(schedule, name, value.strip() if isinstance(value, str) else value)
        schedule.dates = [d.isoformat() for d in sorted(set(data.dates))]
        schedule.updated_at = now
        created = schedule.pk is None
        schedule.save()
        schedule.rota.all().delete()
        ReceptionRotaEntry.objects.bulk_create(
            ReceptionRotaEntry(schedule=schedule, position=i, leader_id=leader_id, title=title.strip())
            for i, (leader_id, title) in enumerate(data.rota)
        )
        removed = _drop_unfit_sessions(schedule, timezone.localdate())
        made = materialise_sessions(schedule, timezone.localdate())
        record_event(
            actor=user,
            action="reception.schedule_created" if created else "reception.schedule_changed",
            obj=schedule,
            data={
                "title": schedule.title,
                "reception_rule": schedule.rule,
                "published": schedule.published,
                "sessions_made": made,
                "sessions_removed": removed,
            },
        )
    return schedule


def _horizon(today: dt.date) -> dt.date:
    month = today.month + MATERIALISE_MONTHS + 1
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return dt.date(year, month, 1) - dt.timedelta(days=1)  # the end of the third month after this one


def _drop_unfit_sessions(schedule: ReceptionSchedule, today: dt.date) -> int:
    cal = legal_calendar.get_calendar()
    fit = (
        set(rules.schedule_occurrences(schedule, today, _horizon(today), cal))
        if schedule.is_active
        else set()
    )
    unfit = (
        schedule.sessions.filter(date__gte=today)
        .exclude(date__in=fit)
        .exclude(pk__in=ReceptionBooking.objects.filter(session__schedule=schedule).values("session_id"))
    )
    count, _detail = unfit.delete()
    return count


def materialise_sessions(schedule: ReceptionSchedule, today: dt.date) -> int:
    """Create the missing sessions of ``schedule`` from ``today`` to the horizon; return how many.

    The k-th date of the rule since ``starts_on`` goes to the rota's entry k mod n, so the turns
    are the same however often this runs (a swap is kept: existing sessions are never touched).
    Safe twice at once: the unique (schedule, date) drops a racing duplicate."""
    if not schedule.is_active:
        return 0
    rota = list(schedule.rota.order_by("position"))
    if not rota:
        return 0
    cal = legal_calendar.get_calendar()
    horizon = _horizon(today)
    dates = rules.schedule_occurrences(schedule, schedule.starts_on, horizon, cal)
    existing = set(schedule.sessions.filter(date__gte=today).values_list("date", flat=True))
    slots = rules.slot_times(schedule.start_time, schedule.end_time, schedule.slot_minutes)
    made = 0
    for index, day in enumerate(dates):
        if day < today or day in existing:
            continue
        turn = rota[index % len(rota)]
        try:
            with transaction.atomic():
                session = ReceptionSession.objects.create(
                    schedule=schedule,
                    organisation_id=schedule.organisation_id,
                    date=day,
                    start_time=schedule.start_time,
                    end_time=schedule.end_time,
                    place=schedule.place,
                    leader_id=turn.leader_id,
                    leader_title=turn.title,
                    capacity=schedule.capacity_per_slot * len(slots),
                    calendar_unconfirmed=not cal.has_data(day.year) and schedule.rule != RuleKind.DATES,
                )
                ReceptionSlot.objects.bulk_create(
                    ReceptionSlot(
                        session=session, starts_at=a, ends_at=b, capacity=schedule.capacity_per_slot
                    )
                    for a, b in slots
                )
        except IntegrityError:  # another run made it meanwhile
            continue
        made += 1
    return made


def materialise_all(today: dt.date | None = None) -> int:
    """The daily job's work: extend every active schedule to the horizon.

    Sessions computed for a year whose holidays were not yet known are checked again once they are
    (the State Council publishes them around November; the administrator may enter them earlier):
    one that no longer fits and holds no booking is replaced by the right date, the others lose
    their ``calendar_unconfirmed`` mark."""
    today = today or timezone.localdate()
    cal = legal_calendar.get_calendar()
    made = 0
    for schedule in ReceptionSchedule.objects.filter(is_active=True).order_by("pk"):
        unconfirmed = schedule.sessions.filter(date__gte=today, calendar_unconfirmed=True)
        known = sorted({d.year for d in unconfirmed.values_list("date", flat=True) if cal.has_data(d.year)})
        if known:
            with transaction.atomic():
                _drop_unfit_sessions(schedule, today)
                unconfirmed.filter(date__year__in=known).update(calendar_unconfirmed=False)
        made += materialise_sessions(schedule, today)
    return made


def _session_for_manager(user: Any, session_id: int) -> ReceptionSession:
    session = visible_sessions(user).select_related("organisation", "leader").filter(pk=session_id).first()
    if session is None:
        raise ReceptionSession.DoesNotExist
    _check_manage(user, session.organisation_id)
    return session


def cancel_session(*, user: Any, session_id: int, reason: str) -> ReceptionSession:
    """Cancel a reception day: its bookings are cancelled and each booker gets an SMS saying so."""
    session = _session_for_manager(user, session_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写取消原因。")]})
    if session.status == SessionStatus.CANCELLED:
        raise ValidationError({"reason": [_("该接待日已取消。")]})
    with transaction.atomic():
        session = ReceptionSession.objects.select_for_update().get(pk=session.pk)
        session.status, session.cancel_reason = SessionStatus.CANCELLED, reason[:200]
        session.save(update_fields=["status", "cancel_reason"])
        bookings = list(session.bookings.filter(status=BookingStatus.BOOKED))
        now = timezone.now()
        session.bookings.filter(status=BookingStatus.BOOKED).update(
            status=BookingStatus.CANCELLED, cancelled_at=now
        )
        session.slots.update(booked=0)
        text = _(
            "您预约的{organisation}{date}领导接待日已取消（{reason}）。请关注网上信访公布的其他接待日。"
        ).format(
            organisation=session.organisation.name,
            date=session.date.strftime("%m月%d日"),
            reason=session.cancel_reason,
        )
        for booking in bookings:
            _queue_booking_sms(booking, text, key=f"reception-cancelled:{booking.pk}", now=now)
        record_event(
            actor=user,
            action="reception.session_cancelled",
            obj=session,
            data={
                "date": session.date.isoformat(),
                "reason": session.cancel_reason,
                "bookings": len(bookings),
            },
        )
    return session


def swap_leader(*, user: Any, session_id: int, leader_id: int, title: str) -> ReceptionSession:
    """Put another leader on a session (换班); the new leader's bell rings."""
    session = _session_for_manager(user, session_id)
    leader = leader_choices(session.organisation).filter(pk=leader_id).first()
    if leader is None:
        raise ValidationError({"leader": [_("接待领导须为本级的在职领导。")]})
    if not (title or "").strip():
        raise ValidationError({"title": [_("请填写接待领导的职务。")]})
    previous = session.leader
    with transaction.atomic():
        ReceptionSession.objects.filter(pk=session.pk).update(leader=leader, leader_title=title.strip()[:50])
        session.refresh_from_db()
        notify(
            [leader],
            kind="reception.session",
            title=_("您将于{date}接待来访群众").format(date=session.date),
            body=_("{organisation}领导接待日，{time}，{place}。").format(
                organisation=session.organisation.name,
                time=f"{session.start_time:%H:%M}-{session.end_time:%H:%M}",
                place=session.place,
            ),
            url=reverse("reception:session", args=[session.pk]),
            dedupe_key=f"reception-session:{session.pk}:{leader.pk}",
        )
        record_event(
            actor=user,
            action="reception.leader_swapped",
            obj=session,
            data={"date": session.date.isoformat(), "from": str(previous), "to": str(leader)},
        )
    return session


# --- booking on the portal -----------------------------------------------------------------------


def public_sessions(today: dt.date | None = None) -> QuerySet[ReceptionSession]:
    """The published upcoming reception days, with the free places of each (one query)."""
    today = today or timezone.localdate()
    return (
        ReceptionSession.objects.filter(
            date__gte=today,
            status=SessionStatus.SCHEDULED,
            schedule__published=True,
            schedule__is_active=True,
        )
        .select_related("organisation", "leader")
        .annotate(booked_total=Sum("slots__booked"))
        .order_by("date", "start_time", "organisation__path", "id")
    )


def public_session(session_id: int) -> ReceptionSession | None:
    return public_sessions().filter(pk=session_id).first()


def hash_booking_code(code: str) -> str:
    return crypto.secret_hash("reception-code:" + normalise_query_code(code))


@dataclass(frozen=True)
class Booked:
    """A booking just made: the row and its code, which exists in clear only here."""

    booking: ReceptionBooking
    code: str


def book_slot(
    *, session_id: int, slot_id: int, name: str, id_number: str, phone: str, description: str, ip: str
) -> Booked:
    """Book a place (预约).  Every attempt from ``ip`` counts against ``XINFANG_PORTAL_SUBMIT_RATE``.

    Raises ValidationError (Chinese, keyed by field), :class:`SlotFull`, or :class:`Throttled`."""
    throttle.hit(BOOK_SCOPE, ip, settings.XINFANG_PORTAL_SUBMIT_RATE, raise_over=True)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    description = (description or "").strip()
    if not name:
        errors["name"] = [_("请填写姓名。")]
    elif len(name) > 50:
        errors["name"] = [_("姓名过长。")]
    try:
        id_number = check_id_number(id_number or "")
    except ValidationError as exc:
        errors["id_number"] = list(exc.messages)
    try:
        phone = check_phone(phone or "")
    except ValidationError as exc:
        errors["phone"] = list(exc.messages)
    if not description:
        errors["description"] = [_("请简要说明要反映的事项。")]
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = [_("简述请不超过{n}字。").format(n=MAX_DESCRIPTION)]
    session = public_session(session_id)
    slot = session and ReceptionSlot.objects.filter(pk=slot_id, session=session).first()
    if session is None:
        errors["session"] = [_("该接待日不存在、未公开或已结束，请重新选择。")]
    elif slot is None:
        errors["slot"] = [_("请选择接待时段。")]
    if errors:
        raise ValidationError(errors)
    code = new_query_code()
    id_hash = crypto.blind_index(id_number, purpose="id")
    with transaction.atomic():
        # The place first: the conditional UPDATE is the lock (the row stays locked until commit on
        # PostgreSQL; SQLite holds the write lock).  Zero rows means the slot is full.
        if not ReceptionSlot.objects.filter(pk=slot.pk, booked__lt=F("capacity")).update(
            booked=F("booked") + 1
        ):
            raise SlotFull
        try:
            with transaction.atomic():
                booking = ReceptionBooking.objects.create(
                    session=session,
                    slot=slot,
                    name=name,
                    id_number=id_number,
                    id_number_hash=id_hash,
                    id_number_mask=mask_id_number(id_number),
                    phone=phone,
                    phone_hash=crypto.blind_index(phone, purpose="phone"),
                    phone_mask=mask_phone(phone),
                    description=description,
                    code_hash=hash_booking_code(code),
                )
        except IntegrityError:
            # The outer transaction rolls back, giving the place back.
            raise ValidationError(
                {"id_number": [_("您已预约本场接待，无需重复预约；如需改约，请先凭预约码取消。")]}
            ) from None
        clerks = User.objects.filter(
            organisation_id=session.organisation_id, roles__code=RoleCode.INTAKE, is_active=True
        ).values_list("pk", flat=True)
        notify(
            list(clerks),
            kind="reception.booking",
            title=_("新的接待预约：{date} {time}").format(date=session.date, time=str(slot)),
            body=_("{name}预约了{leader}的接待。").format(
                name=name, leader=session.leader.full_name or session.leader
            ),
            url=reverse("reception:day") + f"?date={session.date.isoformat()}",
            dedupe_key=f"reception-booking:{booking.pk}",
        )
        record_event(
            actor=None,
            action="reception.booked",
            obj=booking,
            ip=ip,
            data={"session": session.pk, "date": session.date.isoformat(), "slot": str(slot)},
        )
    return Booked(booking=booking, code=code)


def cancel_booking(*, code: str, phone: str, ip: str) -> ReceptionBooking:
    """Cancel a booking with its code and the phone given when booking; the place is given back.

    Failures count per address (``XINFANG_PORTAL_TRACK_FAILURE_RATE``, reserved before the check, as
    for query codes); a wrong code, a wrong phone and a booking no longer cancellable all raise
    :class:`BookingNotFound`."""
    reservation = throttle.reserve(CANCEL_SCOPE, ip, settings.XINFANG_PORTAL_TRACK_FAILURE_RATE)
    try:
        phone_hash = crypto.blind_index(check_phone(phone or ""), purpose="phone")
    except ValidationError:
        phone_hash = "-"
    with transaction.atomic():
        booking = (
            ReceptionBooking.objects.select_for_update()
            .filter(code_hash=hash_booking_code(code or ""), status=BookingStatus.BOOKED)
            .select_related("session")
            .first()
        )
        if booking is None or booking.phone_hash != phone_hash or booking.session.date < timezone.localdate():
            raise BookingNotFound
        booking.status, booking.cancelled_at = BookingStatus.CANCELLED, timezone.now()
        booking.save(update_fields=["status", "cancelled_at"])
        ReceptionSlot.objects.filter(pk=booking.slot_id, booked__gt=0).update(booked=F("booked") - 1)
        record_event(
            actor=None,
            action="reception.booking_cancelled",
            obj=booking,
            ip=ip,
            data={"session": booking.session_id, "date": booking.session.date.isoformat()},
        )
    reservation.refund()
    return booking


# --- the clerk's day -----------------------------------------------------------------------------


def _booking_for_manager(user: Any, booking_id: int) -> ReceptionBooking:
    booking = (
        visible_bookings(user)
        .select_related("session__organisation", "session__leader", "slot")
        .filter(pk=booking_id)
        .first()
    )
    if booking is None:
        raise ReceptionBooking.DoesNotExist
    _check_manage(user, booking.session.organisation_id)
    return booking


def mark_booking(*, user: Any, booking_id: int, status: str) -> ReceptionBooking:
    """Mark a booking arrived (已到场) or no-show (未到场); only on or after the session's day."""
    if status not in (BookingStatus.ARRIVED, BookingStatus.NO_SHOW):
        raise ValidationError({"status": [_("只能标记为已到场或未到场。")]})
    booking = _booking_for_manager(user, booking_id)
    if booking.session.date > timezone.localdate():
        raise ValidationError({"status": [_("接待日尚未到来，不能标记到场情况。")]})
    if booking.status == BookingStatus.CANCELLED or booking.petition_id:
        raise ValidationError({"status": [_("该预约已取消或已登记为信访事项，不能再标记。")]})
    with transaction.atomic():
        previous = booking.status
        ReceptionBooking.objects.filter(pk=booking.pk).update(
            status=status, marked_at=timezone.now(), marked_by=user
        )
        booking.refresh_from_db()
        record_event(
            actor=user,
            action="reception.booking_marked",
            obj=booking,
            data={
                "booking_status": status,
                "previous_booking_status": previous,
                "date": booking.session.date.isoformat(),
            },
        )
    return booking


@dataclass
class VisitInput:
    """The petition part of a visit received at a reception day (the person comes from the booking)."""

    purpose: str
    title: str
    content: str
    category_id: int | None
    locality_id: int | None
    address: str = ""


def register_visit(*, user: Any, booking_id: int, data: VisitInput) -> Any:
    """Register the visit of a booking as a petition (channel 来访) through the ordinary intake
    (``workflow.services.register``), and record on the booking the petition and the receiving
    leader; all in one transaction.  Returns the ``Registration`` (its query code shown once)."""
    from xinfang.workflow.services import register

    booking = _booking_for_manager(user, booking_id)
    if booking.petition_id:
        raise ValidationError({"__all__": [_("该预约已登记为信访事项。")]})
    if booking.status == BookingStatus.CANCELLED:
        raise ValidationError({"__all__": [_("该预约已取消。")]})
    if booking.session.date > timezone.localdate():
        raise ValidationError({"__all__": [_("接待日尚未到来。")]})
    draft = PetitionDraft(
        channel=PetitionChannel.VISIT,
        purpose=data.purpose,
        title=data.title,
        content=data.content,
        category_id=data.category_id,
        locality_id=data.locality_id,
        received_on=booking.session.date,
        petitioners=[
            PetitionerDraft(
                name=booking.name, id_number=booking.id_number, phone=booking.phone, address=data.address
            )
        ],
    )
    with transaction.atomic():
        registration = register(draft=draft, office=booking.session.organisation, actor=user)
        ReceptionBooking.objects.filter(pk=booking.pk).update(
            petition=registration.petition,
            received_by=booking.session.leader_id,
            status=BookingStatus.ARRIVED,
            marked_at=timezone.now(),
            marked_by=user,
        )
        record_event(
            actor=user,
            action="reception.visit_registered",
            obj=booking,
            data={
                "number": registration.petition.number,
                "leader": str(booking.session.leader),
                "date": booking.session.date.isoformat(),
            },
        )
    return registration


# --- reminders -----------------------------------------------------------------------------------


def _queue_booking_sms(booking: ReceptionBooking, text: str, *, key: str, now: dt.datetime) -> list[int]:
    """One SMS to the booker, the phone copied ciphertext to ciphertext (never decrypted here)."""
    from django.db.models import Subquery

    sign = getattr(settings, "XINFANG_SMS_SIGN", "") or ""
    if sign and not text.startswith(sign):
        text = sign + text

    def copy_phone(message: OutboxMessage) -> None:
        phone = ReceptionBooking.objects.filter(pk=booking.pk).values("phone")[:1]
        OutboxMessage.objects.filter(pk=message.pk).update(recipient=Subquery(phone))

    message = OutboxMessage(
        channel=Channel.SMS,
        recipient="",
        recipient_mask=booking.phone_mask,
        body=text,
        template_code=REMINDER_TEMPLATE if key.startswith("reception-reminder") else "",
        dedupe_key=key,
        created_at=now,
        next_attempt_at=now,
    )
    return queue_messages([message], before_queue=copy_phone)


def reminder_text(booking: ReceptionBooking) -> str:
    """The reminder, from the editable template (notifications' 短信模板) or its default."""
    template = MessageTemplate.objects.filter(code=REMINDER_TEMPLATE).first()
    session = booking.session
    context = {
        "organisation": session.organisation.name,
        "date": session.date.strftime("%m月%d日"),
        "time": f"{booking.slot.starts_at:%H:%M}-{booking.slot.ends_at:%H:%M}",
        "place": session.place,
    }
    if template is not None:
        return template.render(**context)
    from xinfang.notifications.models import render_text

    return render_text(REMINDER_TEXT, context)


def send_reminders(today: dt.date | None = None) -> int:
    """The daily job: an SMS the day before to each booking still standing for tomorrow's sessions.

    Each booking is claimed by ``UPDATE … WHERE reminded_at IS NULL`` in its own transaction with
    its outbox row (dedupe key per booking), so two runs at once text nobody twice."""
    today = today or timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    ids = list(
        ReceptionBooking.objects.filter(
            session__date=tomorrow,
            session__status=SessionStatus.SCHEDULED,
            status=BookingStatus.BOOKED,
            reminded_at__isnull=True,
        ).values_list("pk", flat=True)
    )
    sent = 0
    for pk in ids:
        with transaction.atomic():
            now = timezone.now()
            if not ReceptionBooking.objects.filter(pk=pk, reminded_at__isnull=True).update(reminded_at=now):
                continue
            booking = ReceptionBooking.objects.select_related("session__organisation", "slot").get(pk=pk)
            _queue_booking_sms(booking, reminder_text(booking), key=f"reception-reminder:{pk}", now=now)
            sent += 1
    return sent


# --- outreach visits -----------------------------------------------------------------------------


@dataclass
class OutreachInput:
    kind: str
    date: dt.date
    place: str
    leader_ids: list[int]
    staff_ids: list[int] = field(default_factory=list)
    other_participants: str = ""
    petition_numbers: list[str] = field(default_factory=list)
    notes: str = ""


def record_outreach(*, user: Any, data: OutreachInput) -> OutreachVisit:
    """Record a visit down or an appointment (下访、约访 …) for the user's organisation; the petitions
    named must be ones the user may see."""
    from .models import OutreachKind

    if user.organisation_id is None or not user.role_codes & CASEWORK_ROLES:
        raise ReceptionRefused(_("您无权登记下访、约访。"))
    organisation = user.organisation
    errors: dict[str, list[str]] = {}
    if data.kind not in OutreachKind.values:
        errors["kind"] = [_("请选择类别。")]
    if not data.place.strip():
        errors["place"] = [_("请填写地点。")]
    leaders = list(leader_choices(organisation).filter(pk__in=data.leader_ids))
    if not data.leader_ids or len(leaders) != len(set(data.leader_ids)):
        errors["leaders"] = [_("请选择本级的在职领导。")]
    staff_scope = User.objects.filter(
        is_active=True, organisation__path__startswith=scope_root(organisation).path
    )
    staff = list(staff_scope.filter(pk__in=data.staff_ids))
    if len(staff) != len(set(data.staff_ids)):
        errors["staff"] = [_("参加人员须为本级的工作人员。")]
    numbers = sorted({n.strip() for n in data.petition_numbers if n.strip()})
    petitions = list(Petition.objects.restrict(user).filter(number__in=numbers))
    missing = sorted(set(numbers) - {p.number for p in petitions})
    if missing:
        errors["petitions"] = [
            _("以下信访编号不存在或您无权查看：{numbers}").format(numbers="、".join(missing))
        ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        visit = OutreachVisit.objects.create(
            organisation=organisation,
            kind=data.kind,
            date=data.date,
            place=data.place.strip(),
            other_participants=data.other_participants.strip()[:300],
            notes=data.notes.strip(),
            created_by=user,
        )
        visit.leaders.set(leaders)
        visit.staff.set(staff)
        visit.petitions.set(petitions)
        record_event(
            actor=user,
            action="reception.outreach_recorded",
            obj=visit,
            data={
                "outreach_kind": data.kind,
                "date": data.date.isoformat(),
                "petitions": [p.number for p in petitions],
            },
        )
    return visit


def office_of(user: Any) -> Organisation | None:
    """The organisation whose reception days ``user`` arranges (their own, when a petition office)."""
    org = getattr(user, "organisation", None)
    return org if org is not None and org.kind == OrganisationKind.PETITION_OFFICE else org
