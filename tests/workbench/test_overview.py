"""The workbench page loads its counts and first rows in a fixed number of statements for all
sections together (``selectors.workbench_overview``), and the queue narrowed to a section pages
through the section in the section's order however it finds the rows (``petitions.views.
_section_page``) — the same rows, counts and order as each section read on its own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from xinfang.petitions.models import Petition
from xinfang.workbench import sections as sections_module
from xinfang.workbench import selectors
from xinfang.workbench.sections import get_section, section_counts, sections_for
from xinfang.workbench.selectors import section_rows, workbench_overview

pytestmark = pytest.mark.django_db

WHO = ["intake_a", "handler_a", "supervisor_a", "leader_a", "city_supervisor"]


def _shown(rows) -> list[tuple]:
    return [
        (r.petition.number, r.reason, r.due_on, r.staff_deadline, r.handling_unit, r.handler, r.is_new)
        for r in rows
    ]


def _each_section_alone(user, preview: int) -> dict[str, tuple[int, list[tuple]]]:
    counts = {s.key: n for s, n in section_counts(user)}
    return {
        s.key: (counts[s.key], _shown(section_rows(s, user, limit=preview) if counts[s.key] else []))
        for s in sections_for(user)
    }


@pytest.mark.parametrize("cap", [100, 1])
@pytest.mark.parametrize("who", WHO)
def test_the_page_shows_what_each_section_shows_on_its_own(desk, who, cap, monkeypatch):
    """Same counts, same first rows, same order and row data (a notice's response date, the reply's
    evaluation window, the "新" mark) as every section read alone — also when the sections are at
    the count's cap (``cap=1``: the one-statement path of a unit's sections and the index walk of
    the others)."""
    monkeypatch.setattr(selectors, "SECTION_COUNT_CAP", cap)
    monkeypatch.setattr(sections_module, "SECTION_COUNT_CAP", cap)
    user = getattr(desk.world, who)
    Petition.objects.filter(pk=desk.p["mine"].pk).update(due_on=None)  # an undated row sorts last
    alone = _each_section_alone(user, preview=3)
    page = {o.section.key: (o.count, _shown(o.rows)) for o in workbench_overview(user, preview=3)}
    assert page == alone
    assert any(rows for _n, rows in page.values()) or who == "city_supervisor"


def test_the_page_costs_the_same_statements_however_many_sections_have_rows(
    desk, django_assert_max_num_queries
):
    """One statement per section for its count and first ids, then the rows of all sections
    together (rows, petitioners, open assignments, "新" marks), plus one per section that shows
    row data of its own, and one more per section read in parts (``Section.ordered_parts``: a
    petition office's 办理中, 待回访 when its window falls short): never five per section."""
    user = desk.world.supervisor_a
    visible = sections_for(user)
    with_own_data = sum(1 for s in visible if s.annotate is not None)
    in_parts = sum(1 for s in visible if s.ordered_parts is not None)
    with django_assert_max_num_queries(len(visible) + 4 + with_own_data + in_parts):
        overview = workbench_overview(user)
    assert sum(1 for o in overview if o.rows) >= 5


def _queue_numbers(client, user, key: str, pages: int) -> list[str]:
    client.force_login(user)
    numbers = []
    for number in range(1, pages + 1):
        response = client.get(reverse("petitions:queue"), {"section": key, "page": number})
        assert response.status_code == 200
        numbers += [p.number for p in response.context["page"].object_list]
    return numbers


@pytest.mark.parametrize("sorted_limit", [1000, 0])
def test_the_queue_of_a_section_pages_in_the_sections_order(client, desk, sorted_limit, monkeypatch):
    """A small section is sorted, a large one found by walking the due_on index
    (``SORTED_SECTION_LIMIT``); either way the pages hold the section's petitions in its order
    (soonest deadline first, undated last, ties by id), none twice, none missing."""
    from xinfang.petitions import views

    monkeypatch.setattr(views, "QUEUE_PAGE_SIZE", 2)
    monkeypatch.setattr(sections_module, "SORTED_SECTION_LIMIT", sorted_limit)
    user = desk.world.handler_a
    Petition.objects.filter(pk=desk.p["mine"].pk).update(due_on=None)
    expected = list(get_section("handling").queryset(user).values_list("number", flat=True))
    assert len(expected) == 5 and expected[-1] == desk.number("mine")
    assert _queue_numbers(client, user, "handling", pages=3) == expected


def test_the_queue_of_a_foreign_section_is_empty(client, desk):
    """A section that does not concern the user lists nothing (the intake clerk has no 新交办)."""
    assert _queue_numbers(client, desk.world.intake_a, "new", pages=1) == []


@pytest.mark.parametrize("cap", [100, 2, 1])
@pytest.mark.parametrize("who", ["intake_a", "supervisor_a", "handler_a"])
def test_a_section_read_in_parts_is_the_section(desk, who, cap, monkeypatch):
    """``Section.ordered_parts`` (待处置 by status; a petition office's 办理中: its open
    assignments and its own matters; 待回访 through a window of its earliest replies) is the
    section: the parts are disjoint, together the section's petitions, and the page's count and
    first ids from them equal the section's own — with the window full and falling short."""
    from xinfang.workbench.sections import Windowed
    from xinfang.workflow import services

    from ..procedure import new_registration, to_replied

    today = timezone.localdate()
    for days in (9, 3, 3, 12):  # more own matters and replies of county A's office, dates mixed
        own = new_registration(desk.world).petition
        services.accept(user=desk.world.intake_a, number=own.number)
        replied = new_registration(desk.world).petition
        to_replied(desk.world, replied.number)
        Petition.objects.filter(pk=own.pk).update(due_on=today + dt.timedelta(days=days))
        Petition.objects.filter(pk=replied.pk).update(due_on=today + dt.timedelta(days=40 + days))
        registered = new_registration(desk.world).petition  # 待处置 beside the one returned
        Petition.objects.filter(pk=registered.pk).update(due_on=today + dt.timedelta(days=days))
    monkeypatch.setattr(selectors, "SECTION_COUNT_CAP", cap)
    monkeypatch.setattr(sections_module, "SECTION_COUNT_CAP", cap)
    user = getattr(desk.world, who)
    Petition.objects.filter(pk=desk.p["mine"].pk).update(due_on=None)
    checked = 0
    for section in sections_for(user):
        if section.ordered_parts is None:
            continue
        whole = list(section.queryset(user).values_list("pk", flat=True))
        parts = [getattr(p, "full", p) for p in section.parts(user)]
        ids = [pk for part in parts for pk in part.values_list("pk", flat=True)]
        assert sorted(ids) == sorted(whole) and len(set(ids)) == len(ids)
        for part in section.parts(user):
            if isinstance(part, Windowed):  # the window's rows are the first rows of the whole
                fast = list(part.fast.values_list("pk", flat=True))
                assert fast == list(part.full.values_list("pk", flat=True))[: len(fast)]
        count, exact, first = selectors._first_ids(section, user, timezone.localdate(), 3)
        assert (count, exact, first) == (min(len(whole), cap), len(whole) <= cap, whole[:3])
        checked += len(whole) > 3
    # intake: 待处置, 待回访; supervisor: 待处置, 办理中, 待回访; handler: 办理中
    assert checked == {"intake_a": 2, "supervisor_a": 3, "handler_a": 1}[who]
