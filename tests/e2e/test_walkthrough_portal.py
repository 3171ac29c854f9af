"""Issue #8 §7 in a real browser: the portal's CAPTCHA refresh, the copy and print buttons of the
once-shown code and the pre-filled look-up, with no console error (favicon) or policy violation."""

from __future__ import annotations

import pytest

from ..factories import make_id_number

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_captcha_refresh_copy_button_and_prefilled_tracking(live_server, page, shot, world):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    base = live_server.url
    page.goto(base + "/portal/submit/")
    # the CAPTCHA is big enough to read, and 换一张 brings a new one
    image = page.locator("img.captcha")
    box = image.bounding_box()
    assert box["width"] >= 120 and box["height"] >= 50
    before = image.get_attribute("src")
    page.click("#captcha-refresh")
    changed = "src => document.querySelector('img.captcha').getAttribute('src') !== src"
    page.wait_for_function(changed, arg=before)
    assert page.locator("#id_captcha_0").input_value() in image.get_attribute("src")
    # a citizen submits
    page.fill("#id_name", "周七")
    page.fill("#id_id_number", make_id_number())
    page.fill("#id_phone", "13600003333")
    page.select_option("#id_purpose", "request")
    page.select_option("#id_locality", label=world.a.township.name)
    page.select_option("#id_category", index=1)
    page.fill("#id_title", "养老金多年未调整")
    page.fill("#id_content", "本人退休多年，养老金一直未按政策调整，多次咨询社保部门未获答复，请求核查。")
    page.fill("#id_captcha_1", "PASSED")
    page.click("button[type=submit].primary")
    page.wait_for_url("**/portal/submitted/")
    number = page.text_content("#receipt-number").strip()
    # 复制 says it copied (the Clipboard API, or the fallback on plain HTTP)
    page.click("#copy-code")
    page.wait_for_function("() => document.querySelector('#copy-code').textContent.includes('已复制')")
    shot(page, "portal-submitted-receipt")
    # 查询办理情况 opens the look-up with the number filled in, the code left to type
    page.click("#track-link")
    page.wait_for_url("**/portal/track/?number=*")
    assert page.input_value("#id_number") == number
    assert page.input_value("#id_code") == ""
    assert errors == []
