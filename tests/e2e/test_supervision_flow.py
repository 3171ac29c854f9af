"""Supervision in a real browser (issue #8, "Done when"): the city supervisor lists a county
petition for supervision (挂牌督办); the county department's handler sees it on the workbench with a
notification and answers; the city supervisor accepts the answer.  Every step through the pages
people use, each official in their own browser session; screenshots go to test-artifacts/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinfang.supervision.models import NoticeStatus, SupervisionNotice

from ..factories import make_staff
from ..procedure import new_registration, to_accepted
from .staff import Staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_city_lists_a_county_petition_the_unit_answers_the_city_accepts(live_server, browser, shot, world):
    base = live_server.url
    city_leader = make_staff("city_leader", world.city, "leader")
    number = new_registration(world).petition.number
    to_accepted(world, number)  # county A's department handles it
    respond_by = (timezone.localdate() + dt.timedelta(days=10)).isoformat()

    city, handler = (
        Staff(browser, base, world.city_supervisor, landing="nav.mainnav"),
        Staff(browser, base, world.handler_a, landing="nav.mainnav"),
    )
    try:
        # --- the city supervisor lists it for supervision, naming the city's leader ---------------------
        city.open(number)
        city.page.locator("#action-supervise summary").click()
        shot(city.page, "supervision-0-form")
        text = city.act(
            number, "supervise",
            select={"supervision_kind": {"value": "listed"},
                    "supervision_leader": {"label": f"{city_leader} · {world.city.name}"}},
            fill={"supervision_requirements": "该事项已超期，请于十日内解决欠薪问题并书面报告结果。",
                  "supervision_respond_by": respond_by},
            check=("supervision_published",),
        )  # fmt: skip
        assert "已办理：督办" in text
        assert "挂牌督办" in city.page.inner_text("#supervision-panel")
        notice = SupervisionNotice.objects.get(petition__number=number)
        assert notice.kind == "listed" and notice.leader == city_leader and notice.unit == world.a.department
        shot(city.page, "supervision-1-listed-by-city")

        # --- the county handler: on the workbench, with a notification -------------------------------------
        handler.page.goto(base + "/staff/home/")
        handler.page.wait_for_load_state()
        assert number in handler.page.inner_text("main")
        assert handler.page.locator("#notification-count").count() == 1
        shot(handler.page, "supervision-2-handler-workbench")
        handler.page.click("#notification-bell")
        assert number in handler.page.inner_text("#notifications")

        # --- the handler answers ------------------------------------------------------------------------
        answer = "已约谈用人单位负责人，拖欠工资已于本周全部发放，附发放凭证。"
        text = handler.act(number, "answer_supervision", fill={"supervision_feedback": answer})
        assert "已办理：督办反馈" in text
        notice.refresh_from_db()
        assert notice.status == NoticeStatus.ANSWERED

        # --- the city supervisor accepts the answer ------------------------------------------------------
        text = city.act(number, "accept_supervision_answer", fill={"comment": "反馈属实，予以认可。"})
        assert "已办理：认可督办反馈" in text
        notice.refresh_from_db()
        assert notice.status == NoticeStatus.ACCEPTED
        panel = city.page.inner_text("#supervision-panel")
        assert "已办结" in panel and "已认可" in panel
        shot(city.page, "supervision-3-accepted")
        # the listed supervision stays on the city's list until it is lifted (摘牌)
        city.page.goto(base + "/staff/supervision/listed/")
        assert number in city.page.inner_text("#notices")
        shot(city.page, "supervision-4-listed-list")
    finally:
        city.close()
        handler.close()
