"""In a real browser: a reply sent without 处理结果 comes back open with what was typed (issue #7
point 31; the trial found the form collapsed and 查明事实, 法律政策依据 and 处理意见 empty)."""

from __future__ import annotations

import pytest

from ..factories import PASSWORD
from ..procedure import new_registration, to_accepted

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TYPED = {"facts": "经查，工资确未足额发放。", "basis": "《保障农民工工资支付条例》第十五条",
         "opinion": "责成用人单位于十日内补发。"}  # fmt: skip


def test_a_reply_without_its_outcome_keeps_the_letter_typed_so_far(live_server, page, shot, world):
    # given a handler on an accepted petition's page, the reply written but no outcome chosen
    number = new_registration(world).petition.number
    to_accepted(world, number)
    page.goto(live_server.url + "/staff/login/")
    page.fill("#id_username", world.handler_a.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/staff/petitions/{number}/")
    panel = page.locator("#action-reply")
    panel.locator("summary").click()
    for name, value in TYPED.items():
        panel.locator(f"[name={name}]").fill(value)
    # when it is sent
    panel.locator("button[type=submit]").click()
    page.wait_for_load_state()
    # then the page says what is missing, and the form is open with every text as typed
    assert "请选择处理结果" in page.inner_text("main")
    panel = page.locator("#action-reply")
    assert panel.get_attribute("open") is not None
    assert panel.locator("[name=facts]").is_visible()
    for name, value in TYPED.items():
        assert panel.locator(f"[name={name}]").input_value() == value
    shot(page, "action-reply-kept")
    # and choosing the outcome now sends the reply
    panel.locator("select[name=outcome]").select_option("support")
    panel.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "已办理：答复" in page.inner_text("main")
