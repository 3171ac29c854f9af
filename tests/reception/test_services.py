"""Reception services: schedules materialise sessions with the rota; booking takes a place, once
per person, with the code kept only as a keyed hash; cancellation with code and phone; the reminder
SMS the day before; refusals for the wrong role and another organisation; audit rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from xinfang.audit.models import AuditEvent
from xinfang.core import crypto
from xinfang.notifications.models import Notification, OutboxMessage
from xinfang.reception import services
from xinfang.reception.models import BookingStatus, ReceptionBooking, ReceptionSession, SessionStatus

from ..factories import make_staff
from .conftest import ID_1, ID_2, PHONE_1, PHONE_2, book, schedule_input

pytestmark = pytest.mark.django_db


def test_a_schedule_materialises_three_months_of_sessions_with_the_rota(world, frozen):
    # given two leaders on the rota
    second = make_staff("leader_a2", world.a.government, "leader")
    # when
    schedule = services.save_schedule(
        user=world.intake_a, organisation=world.a.office, data=schedule_input([world.leader_a.pk, second.pk])
    )
    # then: 1 Dec 2026 and the first working days of 2027's January and February (calendar unknown)
    sessions = list(schedule.sessions.order_by("date"))
    assert [s.date for s in sessions][:1] == [dt.date(2026, 12, 1)]
    assert len(sessions) == 3
    # the k-th date since starts_on (1 Jan 2026) takes turn k mod 2: December is the 12th date (k=11)
    assert [s.leader_id for s in sessions] == [second.pk, world.leader_a.pk, second.pk]
    assert sessions[0].capacity == 4 and sessions[0].slots.count() == 2
    assert not sessions[0].calendar_unconfirmed and sessions[1].calendar_unconfirmed
    assert AuditEvent.objects.filter(action="reception.schedule_created").count() == 1
    # a rerun makes nothing new
    assert services.materialise_all() == 0


def test_only_the_office_s_own_clerk_arranges_reception_days(world, frozen):
    for user in (world.handler_a, world.intake_b, world.leader_a):
        with pytest.raises(services.ReceptionRefused):
            services.save_schedule(
                user=user, organisation=world.a.office, data=schedule_input([world.leader_a.pk])
            )


def test_a_leader_from_another_county_cannot_be_on_the_rota(world, frozen):
    other = make_staff("leader_b", world.b.government, "leader")
    with pytest.raises(ValidationError) as exc:
        services.save_schedule(
            user=world.intake_a, organisation=world.a.office, data=schedule_input([other.pk])
        )
    assert "接待领导须为本级的在职领导。" in exc.value.message_dict["rota"]


def test_booking_takes_a_place_and_keeps_only_a_hash_of_the_code(world, session):
    booked = book(session)
    booking = ReceptionBooking.objects.get(pk=booked.booking.pk)
    assert (
        booking.code_hash == services.hash_booking_code(booked.code) and booked.code not in booking.code_hash
    )
    assert booking.id_number == ID_1 and booking.id_number_mask == ID_1[:4] + "*" * 10 + ID_1[-4:]
    assert booking.id_number_hash == crypto.blind_index(ID_1, purpose="id")
    assert booking.slot.booked == 1
    # the ciphertext, not the number, is in the table
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM reception_receptionbooking WHERE id = %s", [booking.pk])
        raw = cursor.fetchone()
    assert ID_1 not in raw[0] and PHONE_1 not in raw[1]
    # the office's clerk is told; the public action is audited
    assert Notification.objects.filter(user=world.intake_a, kind="reception.booking").count() == 1
    assert AuditEvent.objects.filter(action="reception.booked", actor__isnull=True).count() == 1


def test_one_booking_per_person_per_session(world, session):
    book(session)
    with pytest.raises(ValidationError) as exc:
        book(session, slot=session.slots.order_by("starts_at").last())
    assert "您已预约本场接待" in exc.value.message_dict["id_number"][0]
    assert sum(s.booked for s in session.slots.all()) == 1  # the second place was given back


def test_a_full_slot_is_refused(world, session):
    slot = session.slots.order_by("starts_at").first()
    book(session, slot=slot)
    book(session, slot=slot, id_number=ID_2, phone=PHONE_2)
    with pytest.raises(services.SlotFull):
        book(session, slot=slot, id_number="11010519491231002X", phone="13700000000")
    slot.refresh_from_db()
    assert slot.booked == slot.capacity == 2


def test_bad_input_gives_chinese_errors_by_field(world, session):
    with pytest.raises(ValidationError) as exc:
        services.book_slot(
            session_id=session.pk, slot_id=0, name="", id_number="123", phone="1", description="", ip="x"
        )
    errors = exc.value.message_dict
    assert set(errors) == {"name", "id_number", "phone", "description", "slot"}
    assert errors["name"] == ["请填写姓名。"]


def test_an_unpublished_session_cannot_be_booked(world, session):
    session.schedule.published = False
    session.schedule.save()
    with pytest.raises(ValidationError) as exc:
        book(session)
    assert "session" in exc.value.message_dict


def test_cancel_with_code_and_phone_gives_the_place_back(world, session):
    booked = book(session)
    with pytest.raises(services.BookingNotFound):
        services.cancel_booking(code=booked.code, phone=PHONE_2, ip="1.1.1.1")  # wrong phone
    with pytest.raises(services.BookingNotFound):
        services.cancel_booking(code="AAAA-BBBB-CCCC", phone=PHONE_1, ip="1.1.1.1")  # wrong code
    services.cancel_booking(code=booked.code.lower(), phone=PHONE_1, ip="1.1.1.1")
    booking = ReceptionBooking.objects.get(pk=booked.booking.pk)
    assert booking.status == BookingStatus.CANCELLED and booking.slot.booked == 0
    with pytest.raises(services.BookingNotFound):  # not twice
        services.cancel_booking(code=booked.code, phone=PHONE_1, ip="1.1.1.1")
    assert AuditEvent.objects.filter(action="reception.booking_cancelled").count() == 1
    book(session)  # the same person may book again


def test_wrong_codes_are_throttled_per_address(world, session, settings):
    settings.XINFANG_PORTAL_TRACK_FAILURE_RATE = "2/900"
    for _ in range(2):
        with pytest.raises(services.BookingNotFound):
            services.cancel_booking(code="AAAA-BBBB-CCCC", phone=PHONE_1, ip="9.9.9.9")
    with pytest.raises(services.Throttled):
        services.cancel_booking(code="AAAA-BBBB-CCCC", phone=PHONE_1, ip="9.9.9.9")


def test_the_reminder_sms_is_queued_the_day_before_once(world, session, frozen):
    booked = book(session)
    book(session, id_number=ID_2, phone=PHONE_2)
    services.cancel_booking(
        code=booked.code, phone=PHONE_1, ip="1.1.1.1"
    )  # a cancelled booking is not reminded
    assert services.send_reminders(session.date - dt.timedelta(days=2)) == 0
    assert services.send_reminders(session.date - dt.timedelta(days=1)) == 1
    assert services.send_reminders(session.date - dt.timedelta(days=1)) == 0
    message = OutboxMessage.objects.get(template_code="reception_reminder")
    assert message.recipient == PHONE_2 and message.recipient_mask == "139****4321"
    assert "县信访局一楼接待大厅" in message.body and "12月01日" in message.body


def test_cancelling_a_session_cancels_its_bookings_and_texts_the_bookers(world, session):
    book(session)
    services.cancel_session(user=world.intake_a, session_id=session.pk, reason="领导临时公务")
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    assert session.bookings.get().status == BookingStatus.CANCELLED
    assert "已取消" in OutboxMessage.objects.get(dedupe_key__startswith="reception-cancelled").body
    with pytest.raises(ReceptionSession.DoesNotExist):  # another county's clerk does not see it
        services.cancel_session(user=world.intake_b, session_id=session.pk, reason="x")


def test_swapping_the_leader_rings_the_new_leader(world, session):
    other = make_staff("leader_a3", world.a.government, "leader")
    services.swap_leader(user=world.intake_a, session_id=session.pk, leader_id=other.pk, title="县长")
    session.refresh_from_db()
    assert session.leader == other and session.leader_title == "县长"
    assert Notification.objects.filter(user=other, kind="reception.session").exists()
    assert AuditEvent.objects.filter(action="reception.leader_swapped").exists()


def test_scope_of_the_lists(world, session):
    book(session)
    assert services.visible_bookings(world.intake_a).count() == 1
    assert services.visible_bookings(world.leader_a).count() == 1
    assert services.visible_bookings(world.city_supervisor).count() == 1  # the city office sees its counties
    assert services.visible_bookings(world.intake_b).count() == 0
    assert services.visible_bookings(world.sysadmin).count() == 0


def test_sessions_of_an_unknown_year_are_checked_once_its_holidays_are_entered(world, schedule, frozen):
    from xinfang.workflow.calendar import clear_cache
    from xinfang.workflow.models import CalendarOverride, CalendarYear

    # given the January 2027 session computed without 2027's arrangement (4 January, a Monday)
    january = schedule.sessions.get(date__year=2027, date__month=1)
    assert january.date == dt.date(2027, 1, 4) and january.calendar_unconfirmed
    # when the administrator enters 2027 with the 4th as a holiday, and the daily job runs
    CalendarYear.objects.create(year=2027)
    for day in (1, 4):
        CalendarOverride.objects.create(date=dt.date(2027, 1, day), is_working_day=False)
    clear_cache()
    services.materialise_all()
    # then the session moved to the 5th and is confirmed
    january = schedule.sessions.get(date__year=2027, date__month=1)
    assert january.date == dt.date(2027, 1, 5) and not january.calendar_unconfirmed
