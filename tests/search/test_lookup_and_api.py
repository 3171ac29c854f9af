"""Petitioner look-up (by exact name through its keyed hash; by ID tail for staff who may reveal
personal data, audited), the API list's ``q`` with ``highlight``, and the dictionary page."""

from __future__ import annotations

import pytest

from xinfang.audit.models import AuditEvent
from xinfang.petitions.drafts import PetitionerDraft
from xinfang.petitions.filtersets import PetitionFilter, SearchRefused
from xinfang.petitions.models import Petition, Petitioner, petitioner_name_hash
from xinfang.search.models import SearchTerm

from ..factories import make_id_number, register

pytestmark = pytest.mark.django_db
LIST = "/api/v1/petitions"
FILLER = "特此来信，恳请予以核查办理。"


def reg(world, name: str, id_number: str, content: str = "", office=None, clerk=None, locality=None):
    return register(
        office or world.a.office,
        clerk or world.intake_a,
        locality or world.a.township,
        content=content + FILLER,
        petitioners=[PetitionerDraft(name=name, id_number=id_number, phone="13812345678", address="某路1号")],
    ).petition


def found(user, **kw) -> set[str]:
    flt = PetitionFilter(actor=user, **kw)
    return set(flt.apply(Petition.objects.restrict(user)).values_list("number", flat=True))


def test_registration_stores_the_name_hash_and_id_tail(world):
    id_number = make_id_number(seq=123)
    petition = reg(world, "李 四", id_number)
    person = Petitioner.objects.get(petition=petition)
    assert person.name_hash == petitioner_name_hash("李四") == petitioner_name_hash("李四 ")
    assert person.id_number_tail == id_number[-4:]


def test_look_up_by_exact_name_within_scope(world):
    mine = reg(world, "王小明", make_id_number(seq=1)).number
    reg(world, "王小明明", make_id_number(seq=2))
    reg(
        world,
        "王小明",
        make_id_number(seq=3),
        office=world.b.office,
        clerk=world.intake_b,
        locality=world.b.township,
    )
    assert found(world.intake_a, petitioner_name="王小明") == {mine}
    assert AuditEvent.objects.filter(action="search.person_lookup", actor=world.intake_a).exists()
    assert "王小明" not in str(AuditEvent.objects.filter(action="search.person_lookup").values_list("data"))


def test_look_up_by_id_tail(world):
    id_number = make_id_number(seq=456)
    mine = reg(world, "赵六", id_number).number
    reg(world, "钱七", make_id_number(seq=789))
    assert found(world.intake_a, id_tail=id_number[-4:]) == {mine}


def test_id_tail_refused_to_staff_who_may_not_reveal(world):
    reg(world, "赵六", make_id_number(seq=456))
    with pytest.raises(SearchRefused):
        found(world.sysadmin, id_tail="0456")
    assert AuditEvent.objects.filter(action="search.person_lookup_denied", actor=world.sysadmin).exists()


def test_queue_form_has_the_person_filters(world, client):
    mine = reg(world, "孙八", make_id_number(seq=11)).number
    client.force_login(world.intake_a)
    page = client.get("/staff/", {"petitioner_name": "孙八"}).content.decode()
    assert mine in page and 'name="id_tail"' in page


def test_api_q_ranks_and_highlights(world, api, token_of):
    hit = reg(world, "周九", make_id_number(seq=21), content="楼顶<违建>阳光房遮挡采光，").number
    reg(world, "吴十", make_id_number(seq=22), content="道路积水。")
    response = api.get(LIST, token=token_of(world.intake_a), q="阳光房")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["number"] for r in results] == [hit]
    assert "<mark>阳光房</mark>" in results[0]["highlight"]
    assert "&lt;违建&gt;" in results[0]["highlight"]
    plain = api.get(LIST, token=token_of(world.intake_a)).json()["results"]
    assert all(r["highlight"] is None for r in plain)


def test_api_weak_query_is_422(world, api, token_of):
    response = api.get(LIST, token=token_of(world.intake_a), q="的")
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["q"] == ["请输入更具体的关键词"]


def test_api_person_look_up(world, api, token_of):
    id_number = make_id_number(seq=31)
    mine = reg(world, "郑十一", id_number).number
    response = api.get(LIST, token=token_of(world.intake_a), petitioner_name="郑十一", id_tail=id_number[-4:])
    assert [r["number"] for r in response.json()["results"]] == [mine]


def test_sysadmin_manages_the_dictionary(world, client):
    client.force_login(world.sysadmin)
    assert client.get("/staff/search/terms/").status_code == 200
    response = client.post("/staff/search/terms/", {"word": "禾木岭", "weight": "", "pos": "ns"})
    assert response.status_code == 302
    term = SearchTerm.objects.get(word="禾木岭")
    assert AuditEvent.objects.filter(action="search.term_added").exists()
    client.post(f"/staff/search/terms/{term.pk}/delete/")
    assert not SearchTerm.objects.exists()
    assert AuditEvent.objects.filter(action="search.term_removed").exists()


def test_other_roles_may_not_manage_the_dictionary(world, client):
    client.force_login(world.intake_a)
    assert client.get("/staff/search/terms/").status_code == 403
