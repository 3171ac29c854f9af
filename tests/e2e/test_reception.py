"""Issue #11 §1 in a real browser: the portal shows the published reception days of two offices
(organisation, date, time, place, the leader's name and title, free places); a citizen books a
slot and gets a code; another booking is cancelled with its code and phone; the office's clerk
signs in and sees the booking on that day's list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinfang.organisations.models import Organisation, User
from xinfang.reception import services
from xinfang.reception.models import BookingStatus, ReceptionBooking, RuleKind

from ..factories import make_id_number, make_staff
from .staff import Staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _schedule(clerk: User, leader: User, title: str, place: str) -> None:
    services.save_schedule(
        user=clerk,
        organisation=clerk.organisation,
        data=services.ScheduleInput(
            title=title,
            rule=RuleKind.FIRST_WORKING_DAY,
            starts_on=timezone.localdate().replace(day=1),
            start_time=dt.time(9, 0),
            end_time=dt.time(11, 0),
            place=place,
            rota=[(leader.pk, "县长" if "县" in title else "副市长")],
            published=True,
        ),
    )


def test_portal_booking_cancellation_and_the_clerk_s_day_list(live_server, page, shot, world, browser):
    # given the county office's and the city office's published reception days
    User.objects.filter(pk=world.leader_a.pk).update(full_name="王建国")
    world.leader_a.refresh_from_db()
    city_leader = make_staff("city_leader", world.city, "leader")
    User.objects.filter(pk=city_leader.pk).update(full_name="李卫东")
    city_leader.refresh_from_db()
    _schedule(world.intake_a, world.leader_a, "甲县领导接待日", "甲县信访局一楼接待大厅")
    _schedule(world.city_supervisor, city_leader, "A市领导接访日", "A市信访局接待中心")
    county_office = world.a.office
    session = services.public_sessions().filter(organisation=county_office).first()
    # and somebody else's booking, to be cancelled with its code
    other = services.book_slot(
        session_id=session.pk,
        slot_id=session.slots.order_by("starts_at").last().pk,
        name="赵六",
        id_number=make_id_number("19700505"),
        phone="13500001111",
        description="征地补偿标准有异议。",
        ip="10.1.1.1",
    )
    base = live_server.url

    # the portal lists both offices' reception days with the leader and free places
    page.goto(base + "/portal/")
    page.click("#nav-reception")
    page.wait_for_selector("#reception-days")
    text = page.inner_text("#reception-days")
    assert county_office.name in text and Organisation.objects.get(name="A市信访局").name in text
    assert "王建国（县长）" in text and "李卫东（副市长）" in text and "甲县信访局一楼接待大厅" in text
    shot(page, "reception-portal-days")

    # a citizen books the first slot of the county's session
    page.click(f"#book-{session.pk}")
    page.wait_for_selector("#booking-form")
    page.select_option("#id_slot", index=1)
    page.fill("#id_name", "张三")
    page.fill("#id_id_number", make_id_number("19850808"))
    page.fill("#id_phone", "13600002222")
    page.fill("#id_description", "公司拖欠工资三个月，请求领导协调解决。")
    page.fill("#id_captcha_1", "PASSED")
    page.click("#booking-form button[type=submit].primary")
    page.wait_for_url("**/portal/reception/booked/")
    code = page.text_content("#booking-code").strip()
    assert len(code) == 14
    shot(page, "reception-portal-booked")

    # another booking is cancelled with its code and phone
    page.goto(base + "/portal/reception/cancel/")
    page.fill("#id_code", other.code)
    page.fill("#id_phone", "13500001111")
    page.click("#cancel-booking button[type=submit]")
    page.wait_for_selector("#cancel-done")
    shot(page, "reception-portal-cancelled")
    assert ReceptionBooking.objects.get(pk=other.booking.pk).status == BookingStatus.CANCELLED

    # the county office's clerk sees the booking on that day's list, masked
    clerk = Staff(browser, base, world.intake_a)
    clerk.page.click("#nav-reception")
    clerk.page.fill("#id_date", session.date.isoformat())
    clerk.page.click("#day-filter button[type=submit]")
    clerk.page.wait_for_selector(f"#bookings-{session.pk}")
    rows = clerk.page.inner_text(f"#bookings-{session.pk}")
    assert "张三" in rows and "136****2222" in rows and "赵六" not in rows
    shot(clerk.page, "reception-clerk-day-list")
    clerk.close()
