"""Repeat petitions (重复信访): finding earlier petitions of the same person, and linking to one.

``find_possible_repeats`` matches by ID number, else by name + phone, through blind indexes only,
and only within the searching user's scope.  ``register_petition(repeat_of_number=…)`` links a
petition to an earlier one the clerk may see, and refuses any other.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from xinfang.audit.models import AuditEvent
from xinfang.petitions.choices import EventKind
from xinfang.petitions.drafts import PetitionerDraft
from xinfang.petitions.models import PetitionEvent
from xinfang.petitions.services import find_possible_repeats

from ..factories import make_id_number, make_id_number_with_check, register

PHONE = "13900001111"


@pytest.fixture
def id_number() -> str:
    return make_id_number(birth="19750615")


@pytest.fixture
def by_id(world, id_number):
    """A petition of county A whose petitioner gave an ID number."""
    return register(
        world.a.office,
        world.intake_a,
        world.a.township,
        petitioners=[PetitionerDraft(name="张三", id_number=id_number, phone="13812345678")],
    ).petition


@pytest.fixture
def by_phone(world):
    """A petition of county A whose petitioner gave a name and phone, but no ID number."""
    return register(
        world.a.office,
        world.intake_a,
        world.a.township,
        petitioners=[PetitionerDraft(name="李四", phone=PHONE)],
    ).petition


def test_found_by_id_number(world, by_id, by_phone, id_number):
    """The same ID number finds the earlier petition, whatever name is typed this time."""
    found = find_possible_repeats(world.intake_a, [PetitionerDraft(name="张叁", id_number=id_number)])
    assert found == [by_id]


def test_id_number_is_normalised_before_searching(world):
    """A lower-case check character x and spaces still find the petition."""
    # given a petition with an ID ending in X
    number = make_id_number_with_check("X")
    earlier = register(
        world.a.office,
        world.intake_a,
        world.a.township,
        petitioners=[PetitionerDraft(name="赵六", id_number=number)],
    ).petition

    # when searching with the number typed loosely
    typed = f" {number[:6]} {number[6:-1]}{number[-1].lower()} "
    found = find_possible_repeats(world.intake_a, [PetitionerDraft(name="赵六", id_number=typed)])

    # then it is found
    assert found == [earlier]


def test_found_by_name_and_phone_without_id(world, by_id, by_phone):
    """Without an ID number, the same name and phone number find the earlier petition."""
    found = find_possible_repeats(world.intake_a, [PetitionerDraft(name="李四", phone="139 0000 1111")])
    assert found == [by_phone]


@pytest.mark.parametrize(
    "searched",
    [
        PetitionerDraft(name="李五", phone=PHONE),  # same phone, another name
        PetitionerDraft(name="李四", phone="13900002222"),  # same name, another phone
        PetitionerDraft(name="", phone=PHONE),  # a phone alone is not enough
        PetitionerDraft(name="李四"),  # a name alone is not enough
    ],
    ids=["other-name", "other-phone", "phone-only", "name-only"],
)
def test_name_and_phone_must_both_match(world, by_phone, searched):
    """Name + phone is one key: half of it never matches."""
    assert find_possible_repeats(world.intake_a, [searched]) == []


def test_name_and_phone_must_belong_to_the_same_petitioner(world):
    """A name from one petitioner and a phone from another of the same petition is no match."""
    # given a petition where 李四 has another phone and 王五 has the searched phone
    register(
        world.a.office,
        world.intake_a,
        world.a.township,
        headcount=2,
        petitioners=[
            PetitionerDraft(name="李四", phone="13900002222"),
            PetitionerDraft(name="王五", phone=PHONE),
        ],
    )
    # then searching for 李四 with that phone finds nothing
    assert find_possible_repeats(world.intake_a, [PetitionerDraft(name="李四", phone=PHONE)]) == []


def test_id_number_given_now_still_finds_earlier_phone_only_petition(world, by_phone):
    """A petitioner who once called (name + phone, no ID) is found when they now bring an ID too."""
    found = find_possible_repeats(
        world.intake_a,
        [PetitionerDraft(name="李四", id_number=make_id_number(birth="19660101"), phone=PHONE)],
    )
    assert found == [by_phone]


def test_invalid_id_number_falls_back_to_name_and_phone(world, by_phone):
    """A mistyped ID number is ignored and the name + phone are used instead."""
    searched = PetitionerDraft(name="李四", id_number="123", phone=PHONE)
    assert find_possible_repeats(world.intake_a, [searched]) == [by_phone]


def test_nothing_to_search_finds_nothing(world, by_id, by_phone):
    """An empty petitioner gives no condition, not "everything"."""
    assert find_possible_repeats(world.intake_a, [PetitionerDraft(name="")]) == []
    assert find_possible_repeats(world.intake_a, []) == []


def test_each_petition_found_once_newest_first(world, id_number, by_id):
    """A petition matching several petitioners is listed once; newer petitions come first."""
    # given a later group petition where both searched people appear
    later = register(
        world.a.office,
        world.intake_a,
        world.a.township,
        headcount=2,
        petitioners=[
            PetitionerDraft(name="张三", id_number=id_number),
            PetitionerDraft(name="李四", phone=PHONE),
        ],
    ).petition

    # when searching for both people
    found = find_possible_repeats(
        world.intake_a,
        [PetitionerDraft(name="张三", id_number=id_number), PetitionerDraft(name="李四", phone=PHONE)],
    )

    # then each petition appears once, the later first
    assert found == [later, by_id]


def test_not_found_across_scope(world, by_id, by_phone, id_number):
    """County B's clerk does not learn of county A's petitions through repeat detection."""
    searches = [PetitionerDraft(name="张三", id_number=id_number), PetitionerDraft(name="李四", phone=PHONE)]
    assert find_possible_repeats(world.intake_b, searches) == []
    assert find_possible_repeats(world.sysadmin, searches) == []
    # while the city office, above both counties, finds them
    assert set(find_possible_repeats(world.city_supervisor, searches)) == {by_id, by_phone}


# --- linking a repeat at registration -----------------------------------------------------------


def test_register_repeat_links_and_records(world, by_id, id_number):
    """A petition registered as repeat of an earlier one is flagged, linked, and both logs say so."""
    # when county A registers a repeat of an earlier petition
    repeat = register(
        world.a.office,
        world.intake_a,
        world.a.township,
        petitioners=[PetitionerDraft(name="张三", id_number=id_number)],
        repeat_of_number=by_id.number,
    ).petition

    # then it is a repeat of that petition …
    assert repeat.is_repeat is True
    assert repeat.repeat_of == by_id
    assert list(by_id.repeats.all()) == [repeat]
    # … its timeline records the link …
    linked = PetitionEvent.objects.get(petition=repeat, kind=EventKind.REPEAT_LINKED)
    assert linked.data == {"repeat_of": by_id.number}
    assert linked.actor == world.intake_a
    assert linked.is_public is False
    # … and so does the audit log
    audit = AuditEvent.objects.get(action="petition.register", object_id=str(repeat.pk))
    assert audit.data["repeat_of"] == by_id.number


def test_first_petition_is_not_a_repeat(world, by_id):
    """Without ``repeat_of_number`` a petition is a first petition (初信初访) with no link event."""
    assert by_id.is_repeat is False
    assert by_id.repeat_of is None
    assert not PetitionEvent.objects.filter(petition=by_id, kind=EventKind.REPEAT_LINKED).exists()


def test_repeat_of_outside_scope_is_refused(world, snapshot, by_id):
    """County B cannot link to county A's petition, and is told exactly what a wrong number tells."""
    before = snapshot()

    # when county B registers a repeat of A's petition, and of a number that does not exist
    refusals = []
    for number in (by_id.number, by_id.number[:-6] + "999999"):
        with pytest.raises(ValidationError) as refused:
            register(world.b.office, world.intake_b, world.b.township, repeat_of_number=number)
        refusals.append(refused.value.message_dict)

    # then both are refused with the same message, and nothing was stored
    assert refusals[0] == refusals[1] == {"repeat_of": ["所选的原信访件不存在或无权查看。"]}
    assert snapshot() == before


def test_portal_submission_cannot_link_a_repeat(world, snapshot, by_id):
    """The public (no actor) sees no petition, so it cannot claim a link to one."""
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        register(world.a.office, None, world.a.township, repeat_of_number=by_id.number)
    assert "repeat_of" in refused.value.message_dict
    assert snapshot() == before
