"""In a real browser at 1,440 px (issue #8 §7): the queue's numbers, dates and names stay on one
line, 超期 is red, and "更换" beside the handler on the petition page opens 指定承办人."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from xinfang.petitions.models import Petition
from xinfang.workflow import services

from ..factories import PASSWORD
from ..procedure import new_registration, to_accepted

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page, base: str, user) -> None:
    page.goto(base + "/staff/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_queue_cells_stay_on_one_line_at_1440_px(live_server, browser, shot, world):
    late = new_registration(
        world, title="关于拖欠农民工工资长期未解决请求责成用人单位尽快补发的信访事项"
    ).petition
    to_accepted(world, late.number)
    services.assign_handler(user=world.handler_a, number=late.number, staff="handler_a")
    Petition.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - dt.timedelta(days=12))
    new_registration(world, title="普通事项")
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_server.url, world.intake_a)
        page.goto(live_server.url + reverse("petitions:queue"))
        page.wait_for_selector("#queue")
        # Every nowrap cell's content is one line high (the row itself may be taller: the title wraps).
        heights = page.eval_on_selector_all(
            "#queue tbody td.nowrap",
            """cells => cells.map(td => {
                const range = document.createRange();
                range.selectNodeContents(td);
                const line = parseFloat(getComputedStyle(td).fontSize) * 1.9;
                return {text: td.innerText, lines: range.getBoundingClientRect().height > line ? 2 : 1};
            })""",
        )
        wrapped = [h for h in heights if h["lines"] > 1 and h["text"].strip()]
        assert heights and not wrapped, wrapped
        overdue = page.locator("#queue .overdue").first
        assert overdue.inner_text() == "超期12天"
        assert overdue.evaluate("e => getComputedStyle(e).color") == "rgb(220, 38, 38)"  # --red
        assert page.locator("#queue .light.red").first.get_attribute("title") == "已超期"
        shot(page, "queue-1440")
    finally:
        context.close()


def test_change_handler_opens_the_action_form(live_server, page, world):
    petition = new_registration(world).petition
    to_accepted(world, petition.number)
    services.assign_handler(user=world.handler_a, number=petition.number, staff="handler_a")
    sign_in(page, live_server.url, world.handler_a)
    page.goto(f"{live_server.url}/staff/petitions/{petition.number}/")
    assert page.locator("#action-assign_handler").get_attribute("open") is None
    page.click("#change-handler")
    assert page.locator("#action-assign_handler").get_attribute("open") is not None
    assert page.locator("#action-assign_handler select[name=handler]").is_visible()
