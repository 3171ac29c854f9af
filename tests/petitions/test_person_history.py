"""All of a person's earlier petitions, in pages (issue #7 point 15), and the clerk's repeat choice
kept while the look-up runs again (point 32, its server side)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xinfang.petitions.drafts import PetitionerDraft
from xinfang.petitions.services import person_history, possible_repeats

from ..factories import make_id_number, register

# More than one page of 20, and more than the 19 the look-up used to stop at.
EARLIER = 25


@pytest.fixture
def id_number() -> str:
    return make_id_number()


@pytest.fixture
def earlier(world, id_number) -> list[str]:
    """25 earlier petitions of 王五, registered one after another (oldest first)."""
    return [
        register(
            world.a.office,
            world.intake_a,
            world.a.township,
            petitioners=[PetitionerDraft(name="王五", id_number=id_number, phone="13800001111")],
            title=f"第{i}次反映",
        ).petition.number  # fmt: skip
        for i in range(1, EARLIER + 1)
    ]


def _look_up(client, **params):  # noqa: ANN001, ANN202
    return client.get(reverse("petitions:repeat_candidates"), params).json()


def test_the_live_look_up_pages_through_every_earlier_petition(client, world, id_number, earlier):
    """The registration page's look-up: 20 a page, the total, and the next page on request."""
    # given
    client.force_login(world.intake_a)
    # when
    first = _look_up(client, id_number=id_number)
    second = _look_up(client, id_number=id_number, page=2)
    # then
    assert (first["count"], first["page"], first["has_next"]) == (EARLIER, 1, True)
    assert (second["page"], second["has_next"]) == (2, False)
    seen = [r["number"] for r in first["results"] + second["results"]]
    assert len(first["results"]) == 20 and len(seen) == EARLIER
    assert seen == list(reversed(earlier))  # newest first, none twice, none missing


def test_every_earlier_petition_is_found_by_the_service(world, id_number, earlier):
    found = possible_repeats(world.intake_a, [PetitionerDraft(name="王五", id_number=id_number)])
    assert found.count() == EARLIER
    assert list(found.values_list("number", flat=True)) == list(reversed(earlier))


def test_the_petition_page_lists_all_of_the_person_s_other_petitions_in_pages(client, world, earlier):
    """A petition's page shows every other petition of the same person (by the stored hashes), 20 a
    page with links to the next and previous pages; nothing of other people."""
    # given: the newest petition, and someone else's
    other = register(world.a.office, world.intake_a, world.a.township).petition.number
    newest = earlier[-1]
    client.force_login(world.supervisor_a)
    url = reverse("petitions:detail", args=[newest])
    # when
    first = client.get(url).content.decode()
    second = client.get(url, {"history_page": 2}).content.decode()
    # then
    assert 'id="history"' in first and f"共 {EARLIER - 1} 件" in first
    listed = [n for n in earlier[:-1] if f">{n}</a>" in first.split('id="history"')[1]]
    listed_2 = [n for n in earlier[:-1] if f">{n}</a>" in second.split('id="history"')[1]]
    assert len(listed) == 20 and 'id="history-next"' in first
    # absolute links: the page is also shown by the action view after a refusal (another URL)
    assert f'href="{url}?history_page=2#history"' in first
    assert sorted(listed + listed_2) == sorted(earlier[:-1])
    assert 'id="history-prev"' in second and 'id="history-next"' not in second
    assert other not in first.split('id="history"')[1]


def test_the_history_respects_the_scope(world, id_number, earlier):
    """Other counties' staff see none of it; the petition itself is never listed."""
    from xinfang.petitions.models import Petition

    newest = Petition.objects.get(number=earlier[-1])
    assert person_history(world.intake_b, newest).count() == 0
    assert newest.number not in set(person_history(world.intake_a, newest).values_list("number", flat=True))


def test_the_history_finds_a_petition_recorded_by_name_and_phone_only(world, id_number):
    """An earlier call recorded only name and phone is the same person (as at intake)."""
    by_phone = register(world.a.office, world.intake_a, world.a.township,
                        petitioners=[PetitionerDraft(name="王五", phone="13800001111")]).petition  # fmt: skip
    later = register(world.a.office, world.intake_a, world.a.township,
                     petitioners=[PetitionerDraft(name="王五", id_number=id_number,
                                                  phone="13800001111")]).petition  # fmt: skip
    assert list(person_history(world.intake_a, later)) == [by_phone]


# --- 32. the clerk's choice survives a new look-up ------------------------------------------------


def test_the_chosen_earlier_petition_is_confirmed_by_a_new_look_up(client, world, id_number, earlier):
    """Issue #7 point 32: the clerk picked the oldest petition (on page 2) and then typed the phone
    number; the look-up runs again and says the choice still belongs to this person."""
    client.force_login(world.intake_a)
    chosen = earlier[0]
    data = _look_up(client, id_number=id_number, name="王五", phone="13800001111", chosen=chosen)
    assert chosen not in [r["number"] for r in data["results"]]  # not on the first page …
    assert data["chosen"]["number"] == chosen  # … but still this person's


def test_a_choice_that_no_longer_matches_comes_back_empty(client, world, id_number, earlier):
    """The clerk corrected the ID number to another person's: the earlier choice is not theirs."""
    client.force_login(world.intake_a)
    data = _look_up(client, id_number=make_id_number(), chosen=earlier[0])
    assert data["count"] == 0 and data["chosen"] is None
    # and a petition outside the clerk's scope is never confirmed, whatever is typed
    client.force_login(world.intake_b)
    assert _look_up(client, id_number=id_number, chosen=earlier[0])["chosen"] is None


def test_a_registration_refused_for_another_field_keeps_the_repeat_choice(client, world, id_number, earlier):
    """Issue #7 points 31/32: the clerk decided the petition repeats the oldest earlier one, but forgot
    the title; the page comes back with the earlier petitions listed and that choice still made."""
    from xinfang.petitions.models import Petition

    from ..factories import leaf_category

    client.force_login(world.intake_a)
    data = {
        "p-TOTAL_FORMS": "1", "p-INITIAL_FORMS": "0", "p-MIN_NUM_FORMS": "0", "p-MAX_NUM_FORMS": "5",
        "p-0-name": "王五", "p-0-id_number": id_number, "p-0-phone": "13800001111",
        "channel": "visit", "purpose": "complaint", "received_on": "2026-01-05", "headcount": "1",
        "title": "", "content": "再次反映征地补偿问题。", "category": leaf_category().pk,
        "locality": world.a.township.pk, "repeat_choice": earlier[0],
    }  # fmt: skip
    before = Petition.objects.count()
    response = client.post(reverse("petitions:register"), data)
    assert response.status_code == 200 and Petition.objects.count() == before
    page = response.content.decode()
    assert f'name="repeat_choice" value="{earlier[0]}" checked' in page
    assert 'name="repeat_choice" value="" checked' not in page
