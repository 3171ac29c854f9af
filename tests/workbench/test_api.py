"""``GET /api/v1/worklist``: the caller's sections with counts and first items, or one section's
full list a page at a time — the same items as the staff page; casework roles only."""

from __future__ import annotations

import pytest

from tests.api.conftest import ApiClient
from xinfang.api.services import obtain_token
from xinfang.workbench.sections import sections_for
from xinfang.workbench.selectors import workbench_overview

from ..factories import PASSWORD

pytestmark = pytest.mark.django_db
URL = "/api/v1/worklist"


@pytest.fixture
def api(client) -> ApiClient:
    return ApiClient(client)


def token(user) -> str:
    return obtain_token(username=user.username, password=PASSWORD, ip="127.0.0.9").token


def test_overview_lists_each_section_with_count_and_the_pages_items(api, desk):
    user = desk.world.handler_a
    response = api.get(URL, token=token(user))
    assert response.status_code == 200, response.content
    body = response.json()
    assert [s["key"] for s in body["sections"]] == [s.key for s in sections_for(user)]
    page = {o.section.key: o for o in workbench_overview(user)}
    for section in body["sections"]:
        shown = page[section["key"]]
        assert section["count"] == shown.count
        assert [i["number"] for i in section["items"]] == [r.petition.number for r in shown.rows]
    handling = next(s for s in body["sections"] if s["key"] == "handling")
    overdue = next(i for i in handling["items"] if i["number"] == desk.number("overdue"))
    assert overdue["overdue"] is True and overdue["staff_deadline"] is True and overdue["days_left"] < 0
    assert overdue["handling_unit"]["name"] == desk.world.a.department.name
    mine = next(i for i in handling["items"] if i["number"] == desk.number("mine"))
    assert mine["handler"]["name"] == str(desk.world.handler_a)
    # masks only, never the decrypted numbers
    assert all("*" in p["id_number_mask"] for i in handling["items"] for p in i["petitioners"])


def test_one_section_paged(api, desk):
    user = desk.world.handler_a
    first = api.get(URL, token=token(user), section="handling", limit=2).json()
    second = api.get(URL, token=token(user), section="handling", limit=2, offset=2).json()
    third = api.get(URL, token=token(user), section="handling", limit=2, offset=4).json()
    assert [s["key"] for s in first["sections"]] == ["handling"]
    numbers = [i["number"] for r in (first, second, third) for i in r["sections"][0]["items"]]
    assert len(numbers) == len(set(numbers)) == first["sections"][0]["count"] == 5
    assert set(numbers) == desk.numbers("accepted", "mine", "due_soon", "overdue", "extension")


def test_a_petitioners_window_is_not_overdue_in_the_api(api, desk):
    user = desk.world.intake_a
    body = api.get(URL, token=token(user), section="approve").json()
    passed = next(i for i in body["sections"][0]["items"] if i["number"] == desk.number("window_passed"))
    assert passed["staff_deadline"] is False and passed["overdue"] is False


def test_refused_without_token_for_administrators_and_foreign_sections(api, desk):
    assert api.get(URL).status_code == 401
    response = api.get(URL, token=token(desk.world.secadmin))
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    # an intake clerk has no 办理中 section
    assert api.get(URL, token=token(desk.world.intake_a), section="handling").status_code == 403
    # an unknown section is a validation error
    assert api.get(URL, token=token(desk.world.intake_a), section="nonsense").status_code == 422


def test_supervision_items_are_due_by_the_notices_response_date(api, desk):
    from xinfang.supervision.models import SupervisionNotice

    notice = SupervisionNotice.objects.get(petition=desk.p["accepted"], status="open")
    body = api.get(URL, token=token(desk.world.handler_a), section="supervision").json()
    item = next(i for i in body["sections"][0]["items"] if i["number"] == desk.number("accepted"))
    assert item["due_on"] == notice.respond_by.isoformat() and item["staff_deadline"] is True


def test_approval_items_say_which_approval_is_waiting(api, desk):
    intake = api.get(URL, token=token(desk.world.intake_a), section="approve").json()["sections"][0]
    assert all("办结报告" in i["reason"] for i in intake["items"]) and intake["count"] == 2
    leader = api.get(URL, token=token(desk.world.leader_a), section="approve").json()["sections"][0]
    assert [i["number"] for i in leader["items"]] == [desk.number("extension")]
    assert "延长办理期限" in leader["items"][0]["reason"]
