"""The public portal pages: submit, receipt, tracking, secrecy and throttling."""

from __future__ import annotations

import re

from django.test import override_settings
from django.urls import reverse

from xinfang.petitions.models import Petition, Petitioner, PetitionEvent

from ..factories import leaf_category, make_id_number


def submit_data(world, **overrides) -> dict:
    data = {
        "name": "赵六",
        "id_number": make_id_number(),
        "phone": "13700002222",
        "address": "城关镇",
        "purpose": "complaint",
        "locality": str(world.a.township.pk),
        "category": str(leaf_category().pk),
        "title": "村道损毁无人修",
        "content": "我村通往镇上的道路去年被洪水冲毁，至今无人修复，出行困难。",
        "captcha_0": "x",
        "captcha_1": "PASSED",
    }
    data.update(overrides)
    return data


def submit(client, world, **overrides):
    response = client.post(reverse("portal:submit"), submit_data(world, **overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(response["Location"]).content.decode()
    number = re.search(r'id="receipt-number">([^<]+)<', page).group(1)
    code = re.search(r'id="receipt-code">([^<]+)<', page).group(1)
    return number, code


def test_submit_then_track(client, world):
    # given a citizen submits on the portal
    number, code = submit(client, world)
    petition = Petition.objects.get(number=number)
    assert petition.channel == "online" and petition.office == world.a.office
    # and staff add an internal comment
    PetitionEvent.objects.create(
        petition=petition, kind="registered", comment="内部意见：此人多次来访", is_public=False
    )
    # when the citizen tracks it (post, then redirect to the petition's page)
    response = client.post(reverse("portal:track"), {"number": number, "code": code}, follow=True)
    html = response.content.decode()
    assert response.redirect_chain == [(reverse("portal:petition", args=[number]), 302)]
    # then the public timeline shows, and nothing internal or personal does
    assert response.status_code == 200 and "已登记您的信访事项" in html
    assert "此人多次来访" not in html
    assert petition.petitioners.get().id_number not in html
    assert "13700002222" not in html


def test_receipt_is_shown_once(client, world):
    response = client.post(reverse("portal:submit"), submit_data(world))
    assert 'id="receipt-code"' in client.get(response["Location"]).content.decode()
    assert client.get(response["Location"]).status_code == 302


def test_bad_input_gets_chinese_errors_and_stores_nothing(client, world):
    before = (Petition.objects.count(), Petitioner.objects.count())
    response = client.post(reverse("portal:submit"), submit_data(world, id_number="123", content="短"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "身份证号码应为18位" in html
    assert (Petition.objects.count(), Petitioner.objects.count()) == before


def test_wrong_code_and_unknown_number_look_the_same(client, world):
    number, _ = submit(client, world)
    wrong = client.post(reverse("portal:track"), {"number": number, "code": "AAAA-BBBB-CCCC"})
    unknown = client.post(
        reverse("portal:track"), {"number": "XF-000000-2026-000001", "code": "AAAA-BBBB-CCCC"}
    )
    assert wrong.status_code == unknown.status_code == 404
    strip = lambda r: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", r.content.decode())  # noqa: E731
    assert strip(wrong).replace(number, "N") == strip(unknown).replace("XF-000000-2026-000001", "N")


@override_settings(XINFANG_PORTAL_TRACK_FAILURE_RATE="3/900")
def test_repeated_wrong_codes_are_throttled_even_for_the_right_code(client, world):
    number, code = submit(client, world)
    for _ in range(3):
        assert client.post(reverse("portal:track"), {"number": number, "code": "WRONG"}).status_code == 404
    response = client.post(reverse("portal:track"), {"number": number, "code": code})
    assert response.status_code == 429
    assert "次数过多" in response.content.decode()


@override_settings(XINFANG_PORTAL_SUBMIT_RATE="2/3600")
def test_submission_flood_is_throttled(client, world):
    submit(client, world)
    submit(client, world)
    response = client.post(reverse("portal:submit"), submit_data(world))
    assert response.status_code == 429
    assert Petition.objects.count() == 2


def test_captcha_is_required(client, world):
    response = client.post(reverse("portal:submit"), submit_data(world, captcha_1=""))
    assert response.status_code == 400
    assert Petition.objects.count() == 0


def test_chinese_by_default_whatever_the_browser_asks(client, world):
    """An English browser still gets Chinese until the user picks English in the language menu."""
    html = client.get(reverse("portal:home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "我要信访" in html
    client.post(reverse("set_language"), {"language": "en", "next": "/portal/"})
    assert "我要信访" not in client.get(reverse("portal:home")).content.decode()
