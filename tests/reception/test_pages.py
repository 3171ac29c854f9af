"""Staff pages and portal pages of reception days: the day list (default today) with masked
numbers, export and print; marking and registering a visit as a petition with the leader recorded;
schedules; outreach visits; the portal's list, booking and cancellation.  Allowed and refused."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xinfang.audit.models import AuditEvent
from xinfang.petitions.choices import Channel
from xinfang.petitions.models import Petition
from xinfang.reception.models import BookingStatus, OutreachVisit, ReceptionBooking, ReceptionSchedule

from ..factories import leaf_category, register
from .conftest import ID_1, ID_2, PHONE_1, PHONE_2, book

pytestmark = pytest.mark.django_db


def _day_url(session) -> str:
    return reverse("reception:day") + f"?date={session.date.isoformat()}"


def test_the_day_list_shows_who_is_coming_masked(client, world, session):
    book(session)
    client.force_login(world.intake_a)
    html = client.get(_day_url(session)).content.decode()
    assert "张三" in html and ID_1[:4] + "**********" + ID_1[-4:] in html and "138****5678" in html
    assert ID_1 not in html and PHONE_1 not in html
    xlsx = client.get(_day_url(session) + "&export=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    printed = client.get(
        reverse("reception:day_print") + f"?date={session.date.isoformat()}"
    ).content.decode()
    assert "领导接待日登记表" in printed and "mainnav" not in printed


def test_the_day_list_defaults_to_today(client, world, session, frozen):
    frozen.move_to(session.date.isoformat() + " 09:30")
    book(session)
    client.force_login(world.intake_a)
    assert "张三" in client.get(reverse("reception:day")).content.decode()


def test_a_day_without_sessions_links_to_the_next_one_in_scope(client, world, session):
    import datetime as dt

    client.force_login(world.intake_a)
    before = (session.date - dt.timedelta(days=1)).isoformat()
    html = client.get(reverse("reception:day") + f"?date={before}").content.decode()
    assert 'id="no-sessions"' in html and f'href="?date={session.date.isoformat()}"' in html
    client.force_login(world.intake_b)  # the other county has no session: nothing to link to
    html = client.get(reverse("reception:day") + f"?date={before}").content.decode()
    assert 'id="next-session"' not in html and "辖区内还没有安排今后的接待日" in html


def test_the_day_list_of_another_county_is_empty_and_admins_are_refused(client, world, session):
    book(session)
    client.force_login(world.intake_b)
    assert "张三" not in client.get(_day_url(session)).content.decode()
    booking = ReceptionBooking.objects.get()
    assert client.get(reverse("reception:booking", args=[booking.pk])).status_code == 404
    client.force_login(world.sysadmin)
    assert client.get(reverse("reception:day")).status_code == 403
    client.logout()
    assert client.get(reverse("reception:day")).status_code == 302


def test_the_day_list_makes_the_same_number_of_queries_for_more_bookings(client, world, session):
    client.force_login(world.intake_a)
    book(session)
    with CaptureQueriesContext(connection) as one:
        client.get(_day_url(session))
    book(session, id_number=ID_2, phone=PHONE_2)
    book(session, id_number="11010519491231002X", phone="13700000001", slot=session.slots.last())
    with CaptureQueriesContext(connection) as three:
        client.get(_day_url(session))
    assert len(three) == len(one)


def test_register_the_visit_as_a_petition_with_the_leader(client, world, session, frozen):
    frozen.move_to(session.date.isoformat() + " 09:30")
    booking = book(session).booking
    client.force_login(world.intake_a)
    url = reverse("reception:booking_register", args=[booking.pk])
    # an error keeps what was typed
    bad = client.post(
        url, {"purpose": "complaint", "title": "拖欠工资", "content": "公司拖欠三个月工资，请求支付工资。"}
    )
    assert bad.status_code == 400 and "拖欠工资" in bad.content.decode()
    response = client.post(
        url,
        {
            "purpose": "complaint",
            "title": "拖欠工资",
            "content": "公司拖欠三个月工资，请求支付工资。",
            "category": leaf_category().pk,
            "locality": world.a.township.pk,
        },
    )
    petition = Petition.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "petitions:detail", args=[petition.number]
    )
    assert petition.channel == Channel.VISIT and petition.office == world.a.office
    assert petition.petitioners.get().id_number == ID_1
    booking.refresh_from_db()
    assert booking.petition == petition and booking.received_by == world.leader_a
    assert booking.status == BookingStatus.ARRIVED
    assert AuditEvent.objects.filter(action="reception.visit_registered").exists()
    # not twice
    again = client.post(
        url,
        {
            "purpose": "complaint",
            "title": "x",
            "content": "y",
            "category": leaf_category().pk,
            "locality": world.a.township.pk,
        },
    )
    assert again.status_code == 400 and Petition.objects.count() == 1


def test_only_the_office_s_clerks_mark_bookings(client, world, session, frozen):
    frozen.move_to(session.date.isoformat() + " 09:30")
    booking = book(session).booking
    url = reverse("reception:booking_mark", args=[booking.pk])
    client.force_login(world.leader_a)  # sees it, may not mark it
    assert client.post(url, {"status": "no_show"}).status_code == 403
    client.force_login(world.intake_b)
    assert client.post(url, {"status": "no_show"}).status_code == 404
    client.force_login(world.intake_a)
    client.post(url, {"status": "no_show"})
    booking.refresh_from_db()
    assert booking.status == BookingStatus.NO_SHOW


def test_schedule_form_creates_sessions_and_keeps_input_on_error(client, world, frozen):
    client.force_login(world.intake_a)
    url = reverse("reception:schedule_new")
    data = {
        "title": "局长接访日",
        "rule": "first_working_day",
        "nth": 1,
        "starts_on": "2026-11-20",
        "start_time": "09:00",
        "end_time": "08:00",
        "place": "信访局接待室",
        "slot_minutes": 60,
        "capacity_per_slot": 3,
        "published": "on",
        "is_active": "on",
        "leader_1": world.leader_a.pk,
        "title_1": "县长",
    }
    bad = client.post(url, data)
    assert (
        bad.status_code == 400
        and "结束时间应晚于开始时间" in bad.content.decode()
        and "信访局接待室" in bad.content.decode()
    )
    assert client.post(url, {**data, "end_time": "11:00"}).status_code == 302
    schedule = ReceptionSchedule.objects.get()
    assert schedule.sessions.count() == 3 and schedule.rota.get().title == "县长"
    client.force_login(world.handler_a)
    assert client.get(url).status_code == 403


def test_workbench_panels(client, world, session, frozen):
    frozen.move_to(session.date.isoformat() + " 08:00")
    book(session)
    client.force_login(world.intake_a)
    html = client.get(reverse("workbench:home")).content.decode()
    assert 'id="panel-reception-today"' in html and "张三" in html
    client.force_login(world.leader_a)
    assert 'id="panel-reception-mine"' in client.get(reverse("workbench:home")).content.decode()
    client.force_login(world.intake_b)
    assert "panel-reception-today" not in client.get(reverse("workbench:home")).content.decode()


def test_outreach_visit_ledger(client, world, frozen):
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    other = register(world.b.office, world.intake_b, world.b.township).petition
    client.force_login(world.intake_a)
    url = reverse("reception:outreach_new")
    data = {
        "kind": "down",
        "date": "2026-11-18",
        "place": "城关镇",
        "leaders": [world.leader_a.pk],
        "staff": [world.handler_a.pk],
        "other_participants": "镇司法所",
        "petitions": f"{petition.number}, {other.number}",
        "notes": "现场答复。",
    }
    bad = client.post(url, data)
    assert bad.status_code == 400 and "无权查看" in bad.content.decode()
    response = client.post(url, {**data, "petitions": petition.number})
    visit = OutreachVisit.objects.get()
    assert response.status_code == 302 and list(visit.petitions.all()) == [petition]
    html = client.get(reverse("reception:outreach_list")).content.decode()
    assert "下访" in html and "城关镇" in html
    assert client.get(reverse("reception:outreach_list") + "?export=xlsx").status_code == 200
    assert "下访约访台账" in client.get(reverse("reception:outreach_print")).content.decode()
    client.force_login(world.intake_b)
    assert client.get(reverse("reception:outreach", args=[visit.pk])).status_code == 404


def test_outreach_print_and_export_list_only_the_petitions_the_reader_may_see(client, world, frozen):
    from openpyxl import load_workbook

    from xinfang.petitions.models import Recusal

    petition = register(world.a.office, world.intake_a, world.a.township).petition
    client.force_login(world.intake_a)
    data = {"kind": "down", "date": "2026-11-18", "place": "城关镇", "leaders": [world.leader_a.pk]}
    client.post(reverse("reception:outreach_new"), {**data, "petitions": petition.number})
    assert petition.number in client.get(reverse("reception:outreach_print")).content.decode()
    # the supervisor sees the visit, but has stepped aside from the petition (回避)
    Recusal.objects.create(
        petition=petition, user=world.supervisor_a, reason="亲属", decided_by=world.leader_a
    )
    client.force_login(world.supervisor_a)
    assert petition.number not in client.get(reverse("reception:outreach_print")).content.decode()
    xlsx = client.get(reverse("reception:outreach_list") + "?export=xlsx")
    cells = [
        str(c)
        for row in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True)
        for c in row
    ]
    assert "城关镇" in cells and not any(petition.number in c for c in cells)


# --- the portal -----------------------------------------------------------------------------------


def test_portal_lists_published_sessions_with_leader_and_free_places(client, world, session):
    html = client.get(reverse("reception_portal:list")).content.decode()
    assert world.a.office.name in html and session.place in html and "副县长0" in html
    assert f'id="book-{session.pk}"' in html


def test_portal_booking_shows_the_code_once_and_cancel_works(client, world, session):
    url = reverse("reception_portal:book", args=[session.pk])
    slot = session.slots.first()
    data = {
        "slot": slot.pk,
        "name": "李四",
        "id_number": ID_2,
        "phone": PHONE_2,
        "description": "宅基地纠纷",
        "captcha_0": "x",
        "captcha_1": "PASSED",
    }
    bad = client.post(url, {**data, "id_number": "123"})
    assert (
        bad.status_code == 400
        and "身份证号码" in bad.content.decode()
        and "宅基地纠纷" in bad.content.decode()
    )
    response = client.post(url, data)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    code = page.split('id="booking-code">')[1].split("<")[0]
    assert len(code) == 14
    assert client.get(response["Location"]).status_code == 302  # shown once
    cancel = reverse("reception_portal:cancel")
    assert client.post(cancel, {"code": code, "phone": PHONE_1}).status_code == 404
    done = client.post(cancel, {"code": code, "phone": PHONE_2})
    assert done.status_code == 200 and "已取消" in done.content.decode()
    assert ReceptionBooking.objects.get().status == BookingStatus.CANCELLED


def test_portal_full_slot_is_409(client, world, session):
    slot = session.slots.first()
    book(session, slot=slot)
    book(session, slot=slot, id_number=ID_2, phone=PHONE_2)
    data = {
        "slot": slot.pk,
        "name": "王五",
        "id_number": "11010519491231002X",
        "phone": "13700000002",
        "description": "x",
        "captcha_0": "x",
        "captcha_1": "PASSED",
    }
    response = client.post(reverse("reception_portal:book", args=[session.pk]), data)
    assert response.status_code == 409 and "已约满" in response.content.decode()


def test_sessions_ledger_and_session_page(client, world, session):
    client.force_login(world.leader_a)
    html = client.get(reverse("reception:sessions") + "?mine=1").content.decode()
    assert f'id="session-row-{session.pk}"' in html
    assert client.get(reverse("reception:sessions") + "?mine=1&export=xlsx").status_code == 200
    assert AuditEvent.objects.filter(action="reception.export").exists()
    page = client.get(reverse("reception:session", args=[session.pk])).content.decode()
    assert "swap-form" not in page  # a leader sees the session, the office's clerks change it
    client.force_login(world.intake_a)
    bad = client.post(reverse("reception:session_cancel", args=[session.pk]), {"reason": ""})
    assert bad.status_code == 400
    client.force_login(world.intake_b)
    assert client.get(reverse("reception:session", args=[session.pk])).status_code == 404
    assert (
        client.post(reverse("reception:session_cancel", args=[session.pk]), {"reason": "x"}).status_code
        == 404
    )


def test_audit_labels_are_chinese(world):
    from xinfang.audit import labels

    assert labels.action_label("reception.booked") == "群众预约接待"
    assert labels.action_label("reception.visit_registered") == "接待来访登记为信访事项"
