"""Non-ASCII digits in ID and phone numbers (issue #7, point 26).

Decision: digits of any script (fullwidth ``１２３`` from a Chinese input method in full-width mode,
Arabic-Indic ``٠١٢`` …) are normalised to ASCII before validation, storage and hashing — in the
staff form, the portal and the API alike, because all three validate through
``petitions.validators``.  Before, ``\\d`` matched them, the checksum passed, and the number was
stored and hashed in its original script, so repeat detection never matched it.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from xinfang.api.services import obtain_token
from xinfang.core import crypto
from xinfang.petitions.drafts import PetitionerDraft
from xinfang.petitions.models import Petition, Petitioner
from xinfang.petitions.services import find_possible_repeats
from xinfang.petitions.validators import check_id_number, check_phone

from ..factories import PASSWORD, leaf_category, make_id_number, register

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


@pytest.mark.parametrize(
    "script", [ARABIC_INDIC, FULLWIDTH, DEVANAGARI], ids=["arabic", "fullwidth", "devanagari"]
)
def test_id_and_phone_numbers_in_other_digits_are_normalised_to_ascii(script):
    # given
    id_number = make_id_number()
    # when / then
    assert check_id_number(id_number.translate(script)) == id_number
    assert check_phone("13812345678".translate(script)) == "13812345678"
    assert check_phone("（0571）87654321".translate(script)) == "057187654321"


def test_repeat_detection_matches_an_id_number_typed_in_arabic_indic_digits(world):
    """Regression: the earlier petition of the same person was not found."""
    # given
    id_number = make_id_number()
    earlier = register(
        world.a.office,
        world.intake_a,
        world.a.township,
        petitioners=[PetitionerDraft(name="张三", id_number=id_number, phone="")],
    ).petition
    # when
    found = find_possible_repeats(
        world.intake_a, [PetitionerDraft(name="张三", id_number=id_number.translate(ARABIC_INDIC), phone="")]
    )
    # then
    assert earlier in found


def test_api_registration_stores_and_hashes_the_ascii_form(client, world):
    # given
    id_number = make_id_number()
    earlier = register(
        world.a.office,
        world.intake_a,
        world.a.township,
        petitioners=[PetitionerDraft(name="李四", id_number=id_number, phone="13912345678")],
    ).petition
    token = obtain_token(username=world.intake_a.username, password=PASSWORD, ip="127.0.0.9").token
    body = {
        "channel": "letter",
        "purpose": "complaint",
        "title": "拖欠工资",
        "content": "某建筑工地拖欠我们二十多名农民工工资，多次讨要未果。",
        "category": leaf_category().pk,
        "locality": world.a.township.pk,
        "received_on": "2026-01-05",
        "petitioners": [
            {
                "name": "李四",
                "id_number": id_number.translate(ARABIC_INDIC),
                "phone": "１３９１２３４５６７８",
            }
        ],
    }
    # when
    response = client.post(
        "/api/v1/petitions",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    # then
    assert response.status_code == 201, response.content[:500]
    data = response.json()
    assert [r["number"] for r in data["possible_repeats"]] == [earlier.number]
    person = Petitioner.objects.get(petition__number=data["number"])
    assert person.id_number == id_number and person.phone == "13912345678"
    assert person.id_number_hash == crypto.blind_index(id_number, purpose="id")
    assert data["petitioners"][0]["id_number_mask"].isascii()


def test_portal_submission_stores_and_hashes_the_ascii_form(client, world):
    # given
    id_number = make_id_number()
    data = {
        "name": "赵六",
        "id_number": id_number.translate(FULLWIDTH),
        "phone": "13700002222".translate(ARABIC_INDIC),
        "address": "城关镇",
        "purpose": "complaint",
        "locality": str(world.a.township.pk),
        "category": str(leaf_category().pk),
        "title": "村道损毁无人修",
        "content": "我村通往镇上的道路去年被洪水冲毁，至今无人修复，出行困难。",
        "captcha_0": "x",
        "captcha_1": "PASSED",
    }
    # when
    response = client.post(reverse("portal:submit"), data)
    # then
    assert response.status_code == 302, response.content.decode()[:1000]
    person = Petitioner.objects.get(petition=Petition.objects.get())
    assert person.id_number == id_number and person.phone == "13700002222"
    assert person.phone_hash == crypto.blind_index("13700002222", purpose="phone")
