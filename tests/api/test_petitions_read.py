"""``GET /api/v1/petitions`` and ``GET /api/v1/petitions/{number}``: scope, filters, masking, ETag."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from xinfang.core import crypto
from xinfang.petitions.choices import EventKind
from xinfang.petitions.drafts import PetitionerDraft
from xinfang.petitions.models import Category, PetitionEvent

from ..factories import make_id_number, register

LIST = "/api/v1/petitions"


def detail(number: str) -> str:
    return f"/api/v1/petitions/{number}"


@pytest.fixture
def two_counties(world):
    """Two petitions in county A (one repeat and collective), one in county B."""
    a1 = register(world.a.office, world.intake_a, world.a.township, title="拖欠工资甲一").petition
    a2 = register(
        world.a.office,
        world.intake_a,
        world.a.township,
        title="征地补偿甲二",
        channel="visit",
        headcount=6,
        category_id=Category.objects.get(code="0201").pk,
        received_on=timezone.localdate() - dt.timedelta(days=10),
        repeat_of_number=a1.number,
    ).petition
    b1 = register(world.b.office, world.intake_b, world.b.township, title="拖欠工资乙一").petition
    return a1, a2, b1


# --- permission matrix ------------------------------------------------------------------------------


def test_anonymous_gets_401_on_list_and_detail(world, api, two_counties):
    a1, _a2, _b1 = two_counties
    for path in (LIST, detail(a1.number)):
        response = api.get(path)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


def test_each_county_lists_and_counts_only_its_own(world, api, token_of, two_counties):
    a1, a2, b1 = two_counties
    # when
    seen_by_a = api.get(LIST, token=token_of(world.supervisor_a)).json()
    seen_by_b = api.get(LIST, token=token_of(world.intake_b)).json()
    seen_by_b_handler = api.get(LIST, token=token_of(world.handler_b)).json()
    seen_by_city = api.get(LIST, token=token_of(world.city_supervisor)).json()
    # then
    assert seen_by_a["count"] == 2
    assert {p["number"] for p in seen_by_a["results"]} == {a1.number, a2.number}
    assert seen_by_b["count"] == 1
    assert [p["number"] for p in seen_by_b["results"]] == [b1.number]
    assert seen_by_b_handler["count"] == 0  # nothing assigned to county B's department yet
    assert seen_by_city["count"] == 3


@pytest.mark.parametrize("who", ["handler_b", "intake_b"])
def test_search_does_not_reach_outside_the_scope(world, api, token_of, two_counties, who):
    """County B searching for county A's number or title finds nothing — not even a count."""
    a1, _a2, _b1 = two_counties
    token = token_of(getattr(world, who))
    for q in (a1.number, "甲一", "XF-990101"):
        body = api.get(LIST, token=token, q=q).json()
        assert body["count"] == 0
        assert body["results"] == []


@pytest.mark.parametrize("who", ["handler_b", "intake_b"])
def test_out_of_scope_and_missing_petitions_give_the_same_404(world, api, token_of, two_counties, who):
    a1, _a2, _b1 = two_counties
    token = token_of(getattr(world, who))
    # when
    forbidden = api.get(detail(a1.number), token=token)
    missing = api.get(detail("XF-990101-2000-999999"), token=token)
    # then
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.content == missing.content
    assert forbidden.json()["error"]["code"] == "not_found"
    assert a1.number not in forbidden.content.decode()


@pytest.mark.parametrize("who", ["sysadmin", "secadmin", "auditor"])
def test_administrators_see_no_petitions(world, api, token_of, two_counties, who):
    """The three administrator duties do not work on petitions (三员分立): empty list, 404."""
    a1, _a2, _b1 = two_counties
    token = token_of(getattr(world, who))
    assert api.get(LIST, token=token).json()["count"] == 0
    assert api.get(detail(a1.number), token=token).status_code == 404


# --- filters and paging -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"a1", "a2"}),
        ({"status": "registered"}, {"a1", "a2"}),
        ({"channel": "visit"}, {"a2"}),
        ({"purpose": "complaint"}, {"a1", "a2"}),
        ({"purpose": "report"}, set()),
        ({"is_repeat": "true"}, {"a2"}),
        ({"is_repeat": "false"}, {"a1"}),
        ({"is_collective": "true"}, {"a2"}),
        ({"category_code": "0201"}, {"a2"}),
        ({"category_code": "02"}, {"a2"}),  # a first-level category includes its entries
        ({"category_code": "nope"}, set()),
        ({"q": "征地"}, {"a2"}),
        ({"received_to": (timezone.localdate() - dt.timedelta(days=5)).isoformat()}, {"a2"}),
        ({"received_from": (timezone.localdate() - dt.timedelta(days=5)).isoformat()}, {"a1"}),
    ],
)
def test_work_queue_filters(world, api, token_of, two_counties, params, expected):
    a1, a2, _b1 = two_counties
    names = {a1.number: "a1", a2.number: "a2"}
    # when
    body = api.get(LIST, token=token_of(world.supervisor_a), **params).json()
    # then
    assert {names[p["number"]] for p in body["results"]} == expected
    assert body["count"] == len(expected)


def test_category_filter_by_id(world, api, token_of, two_counties):
    _a1, a2, _b1 = two_counties
    body = api.get(LIST, token=token_of(world.supervisor_a), category=a2.category_id).json()
    assert [p["number"] for p in body["results"]] == [a2.number]


def test_ordering_and_paging(world, api, token_of, two_counties):
    a1, a2, _b1 = two_counties
    token = token_of(world.supervisor_a)
    # when
    by_due = api.get(LIST, token=token, ordering="due_on").json()
    newest = api.get(LIST, token=token, ordering="-registered_at").json()
    page2 = api.get(LIST, token=token, ordering="-registered_at", limit=1, offset=1).json()
    # then
    assert [p["number"] for p in by_due["results"]] == [a2.number, a1.number]  # a2 received earlier
    assert [p["number"] for p in newest["results"]] == [a2.number, a1.number]
    assert page2["count"] == 2
    assert [p["number"] for p in page2["results"]] == [a1.number]
    assert (page2["limit"], page2["offset"]) == (1, 1)


@pytest.mark.parametrize("params", [{"ordering": "title"}, {"limit": 0}, {"limit": 1000}, {"status": "x"}])
def test_bad_query_parameters_are_422(world, api, token_of, params):
    response = api.get(LIST, token=token_of(world.supervisor_a), **params)
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == set(params)


# --- personal data and query counts -------------------------------------------------------------------


def test_list_masks_personal_data_and_never_decrypts(world, api, token_of, monkeypatch):
    """Only the *_mask columns are read: decrypting anything while listing fails the test."""
    # given
    id_number = make_id_number()
    register(world.a.office, world.intake_a, world.a.township)
    register(
        world.a.office,
        world.intake_a,
        world.a.township,
        petitioners=[
            PetitionerDraft(name="王五", id_number=id_number, phone="13900001111", address="幸福路")
        ],
    )
    token = token_of(world.supervisor_a)

    def refuse(value):
        raise AssertionError("a list decrypted personal data")

    monkeypatch.setattr(crypto, "decrypt", refuse)
    # when
    response = api.get(LIST, token=token)
    # then
    assert response.status_code == 200
    text = response.content.decode()
    assert id_number not in text
    assert "13900001111" not in text
    assert "幸福路" not in text
    person = next(p for r in response.json()["results"] for p in r["petitioners"] if p["name"] == "王五")
    assert person["id_number_mask"] == id_number[:4] + "*" * 10 + id_number[-4:]
    assert person["phone_mask"] == "139****1111"


def test_list_query_count_does_not_grow_with_the_page(world, api, token_of):
    """No N+1: one page of 2 and one page of 8 cost the same number of queries."""
    token = token_of(world.supervisor_a)
    api.get(LIST, token=token)  # warm the token's last-used stamp

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(LIST, token=token).status_code == 200
        return len(ctx)

    for _ in range(2):
        register(world.a.office, world.intake_a, world.a.township)
    small = queries_for_page()
    for _ in range(6):
        register(world.a.office, world.intake_a, world.a.township)
    large = queries_for_page()
    assert small == large
    assert large <= 8


# --- detail -----------------------------------------------------------------------------------------------


def test_detail_shows_the_timeline_attachments_and_etag(world, api, token_of, two_counties):
    """Staff see public and internal events, masked petitioners, and the version as ETag."""
    # given
    _a1, a2, _b1 = two_counties
    PetitionEvent.objects.create(
        petition=a2, kind=EventKind.REGISTERED, actor=world.leader_a, comment="内部意见：请尽快核实"
    )
    # when
    response = api.get(detail(a2.number), token=token_of(world.supervisor_a))
    # then
    assert response.status_code == 200
    assert response["ETag"] == a2.etag
    body = response.json()
    assert body["number"] == a2.number
    assert body["repeat_of"] == a2.repeat_of.number
    assert body["is_collective"] is True
    kinds = [(e["kind"], e["is_public"]) for e in body["events"]]
    assert ("registered", True) in kinds
    assert ("repeat_linked", False) in kinds
    assert any(e["comment"] == "内部意见：请尽快核实" and e["actor"] == "leader_a" for e in body["events"])
    assert body["attachments"] == []
    assert set(body["petitioners"][0]) == {"name", "id_number_mask", "phone_mask", "is_representative"}
    assert "query_code" not in body


def test_detail_query_count_is_fixed(world, api, token_of, two_counties):
    _a1, a2, _b1 = two_counties
    token = token_of(world.supervisor_a)
    api.get(detail(a2.number), token=token)
    for _ in range(5):
        PetitionEvent.objects.create(petition=a2, kind=EventKind.REGISTERED, actor=world.leader_a)
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(detail(a2.number), token=token).status_code == 200
    # 9 to read, 3 to audit the read (issue #7 point 23): lock the chain head, insert, move the head
    assert len(ctx) <= 12


def test_count_stops_at_the_cap_and_says_so(world, api, token_of, two_counties, monkeypatch):
    """Past COUNT_CAP the list reports the cap and ``count_exact: false`` instead of a full count."""
    from xinfang.core import pagination

    token = token_of(world.city_supervisor)
    assert api.get(LIST, token=token).json()["count_exact"] is True
    monkeypatch.setattr(pagination, "COUNT_CAP", 2)
    body = api.get(LIST, token=token).json()
    assert (body["count"], body["count_exact"], len(body["results"])) == (2, False, 3)


def test_a_list_that_ends_on_its_page_is_counted_without_a_count_query(world, api, token_of):
    """The page reads one row more than it shows; when the list ends there, that is the count."""
    for _ in range(3):
        register(world.a.office, world.intake_a, world.a.township)
    token = token_of(world.supervisor_a)
    api.get(LIST, token=token)  # warm the token's last-used stamp

    def listed(**params):  # noqa: ANN202
        with CaptureQueriesContext(connection) as ctx:
            body = api.get(LIST, token=token, **params).json()
        counted = any("COUNT(" in q["sql"] for q in ctx.captured_queries)
        return body["count"], body["count_exact"], len(body["results"]), counted

    assert listed() == (3, True, 3, False)
    assert listed(limit=2) == (3, True, 2, True)  # more follow: counted
    assert listed(limit=2, offset=2) == (3, True, 1, False)  # the last page: offset + rows
    assert listed(limit=2, offset=5) == (3, True, 0, True)  # past the end: counted
