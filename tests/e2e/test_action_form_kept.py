"""In a real browser: a reply sent without 处理结果 comes back with what was typed (issue #7
point 31; the trial found the form collapsed and 查明事实, 法律政策依据 and 处理意见 empty).  Since
issue #10 the reply is written as its decision letter's draft."""

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
    # the reply is the decision letter (issue #10): the panel links to its draft
    page.click("#document-step-reply")
    form = page.locator("#draft-form")
    for name, value in TYPED.items():
        form.locator(f"[name={name}]").fill(value)
    # when it is sent
    page.click("#save-draft")
    page.wait_for_load_state()
    # then the page says what is missing, and the form has every text as typed
    assert "请填写处理结果" in page.inner_text("main")
    form = page.locator("#draft-form")
    for name, value in TYPED.items():
        assert form.locator(f"[name={name}]").input_value() == value
    shot(page, "action-reply-kept")
    # and choosing the outcome now saves the draft
    form.locator("select[name=outcome]").select_option("support")
    page.click("#save-draft")
    page.wait_for_load_state()
    assert "草稿已保存" in page.inner_text("main")
