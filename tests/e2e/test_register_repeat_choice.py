"""In a real browser: the registration page's repeat look-up keeps the clerk's choice (issue #7 point
32) and shows every earlier petition, 20 at a time (point 15)."""

from __future__ import annotations

import pytest

from ..factories import PASSWORD, make_id_number

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = "13900002222"


def _log_in(page, base: str, user) -> None:  # noqa: ANN001
    page.goto(base + "/staff/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _checked(page) -> str:  # noqa: ANN001
    return page.eval_on_selector(
        "#repeat-box", "box => box.querySelector('input[name=repeat_choice]:checked').value"
    )


def test_the_repeat_choice_survives_typing_the_phone_number_and_every_earlier_one_is_shown(
    live_server, page, shot, world
):
    from xinfang.petitions.drafts import PetitionerDraft

    from ..factories import register

    # given: 21 earlier petitions of 吴八 (more than one page), the oldest about the same land
    id_number = make_id_number()
    earlier = [
        register(world.a.office, world.intake_a, world.a.township, title=f"征地补偿第{i}次",
                 petitioners=[PetitionerDraft(name="吴八", id_number=id_number, phone=PHONE)]).petition.number
        for i in range(1, 22)
    ]  # fmt: skip
    oldest = earlier[0]
    _log_in(page, live_server.url, world.intake_a)
    page.goto(live_server.url + "/staff/register/")
    # when the clerk types the name and ID number
    page.fill("#id_p-0-name", "吴八")
    page.fill("#id_p-0-id_number", id_number)
    page.press("#id_p-0-id_number", "Tab")
    page.wait_for_selector(f"#repeat-list >> text={earlier[-1]}")
    # then the newest 20 are listed with the total, and the rest on request (point 15)
    assert page.locator("#repeat-list li").count() == 20
    assert "21" in page.inner_text("#repeat-count")
    page.click("#repeat-more")
    page.wait_for_selector(f"#repeat-list >> text={oldest}")
    assert page.locator("#repeat-list li").count() == 21
    assert page.is_hidden("#repeat-more")
    # when the clerk picks the oldest (it was on the second page) and then types the phone number
    page.check(f"input[name=repeat_choice][value='{oldest}']")
    with page.expect_response(lambda r: "/register/repeats/" in r.url):
        page.fill("#id_p-0-phone", PHONE)
        page.press("#id_p-0-phone", "Tab")
    page.wait_for_function("() => document.querySelectorAll('#repeat-list li').length >= 20")
    # then the look-up ran again and the choice is still the oldest petition (point 32)
    assert _checked(page) == oldest
    assert page.is_hidden("#repeat-dropped")
    shot(page, "register-repeat-choice-kept")

    # when the clerk corrects the ID number and phone to another person's
    # (the look-up of the new ID number: under load the phone's own look-up, still with the old ID
    # number, may answer first and say "same person")
    other_id = make_id_number()
    with page.expect_response(lambda r: "/register/repeats/" in r.url and other_id in r.url):
        page.fill("#id_p-0-phone", "13700003333")
        page.fill("#id_p-0-id_number", other_id)
        page.press("#id_p-0-id_number", "Tab")
    # then the choice is undone and the clerk is told so, in plain Chinese
    page.wait_for_selector("#repeat-dropped:not(.hidden)")
    notice = page.inner_text("#repeat-dropped")
    assert oldest in notice and "不是重复信访" in notice
    assert _checked(page) == ""
    shot(page, "register-repeat-choice-dropped")


def test_picking_the_earlier_petition_then_typing_the_phone_keeps_the_choice(live_server, page, world):
    """Issue #7 point 32, as found in the trial: one earlier petition, picked as the repeat; typing the
    phone number re-ran the look-up and silently reset the choice to 不是重复信访."""
    from xinfang.petitions.drafts import PetitionerDraft

    from ..factories import register

    id_number = make_id_number()
    person = PetitionerDraft(name="吴八", id_number=id_number, phone=PHONE)
    earlier = register(world.a.office, world.intake_a, world.a.township, petitioners=[person]).petition
    _log_in(page, live_server.url, world.intake_a)
    page.goto(live_server.url + "/staff/register/")
    page.fill("#id_p-0-name", "吴八")
    page.fill("#id_p-0-id_number", id_number)
    page.press("#id_p-0-id_number", "Tab")
    page.wait_for_selector(f"#repeat-list >> text={earlier.number}")
    page.check(f"input[name=repeat_choice][value='{earlier.number}']")
    with page.expect_response(lambda r: "/register/repeats/" in r.url):
        page.fill("#id_p-0-phone", PHONE)
        page.press("#id_p-0-phone", "Tab")
    page.wait_for_timeout(300)  # the answer is applied after it arrives
    assert _checked(page) == earlier.number
