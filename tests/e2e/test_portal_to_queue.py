"""End to end in a real browser: a citizen submits and tracks; a clerk finds the petition."""

from __future__ import annotations

import re

import pytest

from ..factories import PASSWORD, make_id_number

# Transactional: the live server's thread must see the test's data.  The reference data (roles,
# categories) that a flush removes is restored by tests/conftest.py.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_citizen_submits_and_tracks_then_clerk_finds_it(live_server, page, shot, world):
    base = live_server.url
    # given a citizen on the portal
    page.goto(base + "/portal/")
    page.click("#go-submit")
    page.fill("#id_name", "周七")
    page.fill("#id_id_number", make_id_number())
    page.fill("#id_phone", "13600003333")
    page.select_option("#id_purpose", "request")
    page.select_option("#id_locality", label=world.a.township.name)
    page.select_option("#id_category", index=1)
    page.fill("#id_title", "养老金多年未调整")
    page.fill("#id_content", "本人退休多年，养老金一直未按政策调整，多次咨询社保部门未获答复，请求核查。")
    page.fill("#id_captcha_1", "PASSED")
    shot(page, "portal-submit-form")
    # when the form is submitted
    page.click("#portal-submit button[type=submit]")
    # then the receipt shows the number and the query code
    number = page.inner_text("#receipt-number").strip()
    code = page.inner_text("#receipt-code").strip()
    assert re.fullmatch(r"XF-990101-\d{4}-\d{6}", number)
    shot(page, "portal-receipt")

    # when the citizen tracks the petition
    page.goto(base + "/portal/track/")
    page.fill("#id_number", number)
    page.fill("#id_code", code)
    page.click("#portal-track button[type=submit]")
    assert page.inner_text("#track-status") == "已登记"
    assert "已登记您的信访事项" in page.inner_text("#public-timeline")
    shot(page, "portal-track")

    # and a wrong code reveals nothing
    page.goto(base + "/portal/track/")
    page.fill("#id_number", number)
    page.fill("#id_code", "AAAA-BBBB-CCCC")
    page.click("#portal-track button[type=submit]")
    assert "信访编号或查询码不正确" in page.inner_text("main")

    # when the intake clerk of the county logs in
    page.goto(base + "/staff/login/")
    page.fill("#id_username", world.intake_a.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    # then the workbench (the landing page, issue #8) lists it to dispose of (待处置) …
    page.wait_for_selector("#workbench-counts")
    assert number in page.inner_text("#section-dispose")
    shot(page, "staff-workbench")
    # … and it is in the queue, and its page opens
    page.click("#nav-queue")
    page.wait_for_selector("#queue")
    assert number in page.inner_text("#queue")
    shot(page, "staff-queue")
    page.click(f"text={number}")
    assert page.inner_text("#petition-number") == number
    assert "养老金多年未调整" in page.inner_text("main")
    shot(page, "staff-petition")


def test_clerk_registers_a_visit_with_repeat_check(live_server, page, world):
    """The registration form finds the earlier petition of the same ID number while typing."""
    from xinfang.petitions.drafts import PetitionerDraft

    from ..factories import register

    id_number = make_id_number()
    earlier = register(
        world.a.office,
        world.intake_a,
        world.a.township,
        petitioners=[PetitionerDraft(name="吴八", id_number=id_number)],
    ).petition
    page.goto(live_server.url + "/staff/login/")
    page.fill("#id_username", world.intake_a.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(live_server.url + "/staff/register/")
    page.fill("#id_p-0-name", "吴八")
    page.fill("#id_p-0-id_number", id_number)
    page.press("#id_p-0-id_number", "Tab")
    page.wait_for_selector(f"#repeat-list >> text={earlier.number}")
    page.check(f"input[name=repeat_choice][value='{earlier.number}']")
    page.select_option("#id_channel", "visit")
    page.fill("#id_title", "再次反映征地补偿")
    page.fill("#id_content", "上次反映的征地补偿问题至今没有落实，再次请求解决。")
    page.select_option("#id_category", index=1)
    page.select_option("#id_locality", label=world.a.township.name)
    page.click("#register-form button[type=submit]")
    page.wait_for_selector("#query-code")
    assert earlier.number in page.inner_text("main")  # shown as the petition it repeats
