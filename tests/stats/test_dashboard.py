"""The dashboard (issue #9 §4): each chart's data on generated data with known answers, every
number on the page a link to a drill-down with exactly that total, the hotspot table, role access
and the empty state."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from xinfang.organisations.models import Organisation
from xinfang.petitions.models import Category, Petition
from xinfang.stats import dashboard, figures, rollup
from xinfang.stats.figures import Period, Slice
from xinfang.stats.hotspots import cached_hotspots, hotspots
from xinfang.workflow.models import DeadlineKind, DeadlineRecord

from ..factories import PASSWORD, make_staff, register

TODAY = timezone.localdate()
Y = TODAY.year - 1  # the year shown: every deadline in it has passed
LINK = re.compile(r'<a href="([^"]*metric=[^"]*)"[^>]*>([^<]*)</a>')


def two_classes() -> tuple[Category, Category]:
    """Two entries of different first-level classes."""
    first = Category.objects.filter(parent__isnull=False).order_by("code").first()
    other = (
        Category.objects.filter(parent__isnull=False).exclude(parent=first.parent).order_by("code").first()
    )
    return first, other


@pytest.fixture
def data(world):
    """Year Y: county A registers six wage petitions about its township in March and two visits of
    three persons each about the county itself in May; county B one letter in March.  Year Y-1:
    county A one wage petition about the township.  Deadlines: county A's department missed two
    handling deadlines and met one, county B's department missed one."""
    wage, land = two_classes()
    a, b = world.a, world.b

    def add(office, clerk, place, day, n=1, **kw):
        return [
            register(office, clerk, place, received_on=day, category_id=kw.get("category", wage).pk,
                     channel=kw.get("channel", "letter"), headcount=kw.get("headcount", 1)).petition
            for _ in range(n)
        ]  # fmt: skip

    march = add(a.office, world.intake_a, a.township, dt.date(Y, 3, 10), 6)
    add(
        a.office,
        world.intake_a,
        a.government,
        dt.date(Y, 5, 2),
        2,
        category=land,
        channel="visit",
        headcount=3,
    )
    add(b.office, world.intake_b, b.township, dt.date(Y, 3, 10))
    add(a.office, world.intake_a, a.township, dt.date(Y - 1, 3, 5))

    def deadline(org, outcome, petition=march[0]):
        DeadlineRecord.objects.create(
            petition=petition, kind=DeadlineKind.HANDLING, organisation=org, organisation_path=org.path,
            started_on=dt.date(Y, 4, 1), due_on=dt.date(Y, 6, 1), outcome=outcome,
            closed_on=dt.date(Y, 5, 1) if outcome == "met" else None,
        )  # fmt: skip

    deadline(a.department, "")
    deadline(a.department, "")
    deadline(a.department, "met")
    deadline(b.department, "")
    rollup.rebuild()
    return wage, land


def city_filters(world, category=None) -> dashboard.Filters:
    return dashboard.Filters.make(Period.year(Y), world.city, category, TODAY)


def values(section):
    return {r["label"]: [c.get("value", c.get("text")) for c in r["cells"]] for r in section["rows"]}


def test_headline_and_trend_known_answers(world, data):
    f = city_filters(world)
    counts = {
        c["name"]: (c["cell"]["value"], c["year_before"]["value"], c["yoy"])
        for c in dashboard.headline(f)["counts"]
    }
    assert counts["received"] == (9, 1, "+800.0%")
    assert counts["persons"] == (6 + 2 * 3 + 1, 1, "+1200.0%")
    trend = values(dashboard.trend(f))
    assert len(trend) == 12
    assert trend[f"{Y}-03"] == [7, 7, 1, 1]
    assert trend[f"{Y}-05"] == [2, 6, 0, 0]
    assert trend[f"{Y}-04"] == [0, 0, 0, 0]


def test_categories_channels_and_localities_known_answers(world, data):
    wage, land = data
    f = city_filters(world)
    assert values(dashboard.categories(f)) == {wage.parent.name: [7], land.parent.name: [2]}
    channels = values(dashboard.channels(f))
    assert channels == {"来信": [7, 7], "来访": [2, 6]}
    places = values(dashboard.localities(f))
    # county A: eight this year, one the year before (环比 = 同比 for a year)
    assert places[world.a.government.name] == [8, 6 + 6, 1, "+700.0%", 1, "+700.0%"]
    assert places[world.b.government.name] == [1, 1, 0, "—", 0, "—"]


def test_a_chosen_category_narrows_what_it_can_and_says_what_it_cannot(world, data):
    wage, _land = data
    f = city_filters(world, category=wage.parent)
    assert {c["name"]: c["cell"]["value"] for c in dashboard.headline(f)["counts"]}["received"] == 7
    assert values(dashboard.categories(f)) == {wage.parent.name: [7]}
    channels = dashboard.channels(f)
    assert channels["rows"] == [] and "按问题分类筛选" in channels["note"]


def test_units_ranked_by_missed_deadlines(world, data):
    ranked = dashboard.units_overdue(city_filters(world))
    labels = [r["label"] for r in ranked["rows"]]
    assert labels[:2] == [world.a.government.name, world.b.government.name]
    a_row = values(ranked)[world.a.government.name]
    # the two handling deadlines the department missed, and every county A registration's disposal
    # deadline (the office never forwarded them), as the drill-down lists them
    disposals = DeadlineRecord.objects.filter(
        organisation__path__startswith=world.a.government.path, kind=DeadlineKind.DISPOSAL,
        due_on__year=Y, outcome="",
    ).count()  # fmt: skip
    assert a_row[:3] == [2 + disposals, 1, 3]
    assert a_row[3] == "33.3%"


def test_hotspot_is_the_rising_pair_above_the_floor(world, data):
    wage, land = data
    year = Period.year(Y)
    found = hotspots(year, world.city)
    # the city's localities are its counties: county A's township petitions count for county A
    assert [(h["category"], h["place"], h["now"], h["before"]) for h in found] == [
        (wage.pk, world.a.government.path, 6, 1)
    ]
    # the pair's count is the petitions of that category about places in county A received in the year
    assert (
        found[0]["now"]
        == Petition.objects.filter(
            category=wage, locality__path__startswith=world.a.government.path, received_on__year=Y
        ).count()
    )
    assert hotspots(year, world.city, floor=7) == []
    # the two visits about county A (2 against 0) stay under the floor
    assert [h["category"] for h in hotspots(year, world.city, floor=2)] == [wage.pk, land.pk]
    # seen from county A, the places are its township and the county itself (本级)
    county = hotspots(year, world.a.government, floor=2)
    assert [(h["place"], h["now"]) for h in county] == [
        (world.a.township.path, 6),
        (world.a.government.path, 2),
    ]


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def page(client, user, **params):
    login(client, user)
    return client.get(reverse("stats:dashboard"), params)


def test_every_number_on_the_page_is_its_drill_down_total(client, world, data):
    leader = make_staff("city_leader", world.city, "leader")
    html = page(client, leader, kind="year", year=Y).content.decode()
    links = LINK.findall(html)
    assert len(links) > 60
    for href, text in links:
        href = unescape(href)
        params = parse_qs(urlsplit(href).query)
        assert urlsplit(href).path == reverse("stats:drill")
        name = params["metric"][0]
        period = Period(dt.date.fromisoformat(params["start"][0]), dt.date.fromisoformat(params["end"][0]))
        scope = Organisation.objects.get(pk=params["scope"][0]).path
        keys = tuple(params.get("key", []))
        if "under" in params:  # a part of the area: every locality inside it
            under = Organisation.objects.get(pk=params["under"][0])
            keys = tuple(str(pk) for pk in Organisation.objects.subtree(under).values_list("pk", flat=True))
        where = Slice(scope, params.get("dimension", [""])[0], keys)
        total = figures.drill_total(name, figures.drill(name, period, where, today=TODAY))
        # the drill-down page the link opens lists the same rows and says the same total
        response = client.get(href)
        assert response.status_code == 200, href
        assert response.context["total"] == total, href
        if text.strip().isdigit():
            assert total == int(text), (href, text)
        else:  # the hotspot table's links to the category's and the locality's petitions
            assert total > 0, href


def test_page_shows_charts_tables_and_the_data_for_the_script(client, world, data):
    html = page(client, make_staff("city_leader", world.city, "leader"), year=Y).content.decode()
    for key in ("trend", "categories", "channels", "units_overdue", "localities", "hotspots"):
        assert f'id="chart-{key}"' in html
        assert f'id="table-{key}"' in html
    assert 'id="dashboard-data" type="application/json"' in html
    assert "echarts.min.js" in html and "<script>" not in html


def test_the_emphasis_follows_the_role(client, world, data):
    order = re.compile(r'id="section-(\w+)"')
    leader = order.findall(page(client, world.leader_a, year=Y).content.decode())
    supervisor = order.findall(page(client, world.supervisor_a, year=Y).content.decode())
    office = order.findall(page(client, world.intake_a, year=Y).content.decode())
    assert leader[:3] == ["headline", "trend", "units_overdue"]
    assert supervisor[:2] == ["headline", "units_overdue"]  # the headline table leads every page
    assert office[:3] == ["headline", "channels", "purposes"]
    switched = order.findall(page(client, world.intake_a, year=Y, view="supervisor").content.decode())
    assert switched[:2] == ["headline", "units_overdue"]


def test_casework_roles_only(client, world):
    assert client.get(reverse("stats:dashboard")).status_code == 302
    for user in (world.intake_a, world.handler_a, world.supervisor_a, world.leader_a):
        assert page(client, user).status_code == 200
    for admin in (world.sysadmin, world.secadmin, world.auditor):
        assert page(client, admin).status_code == 403


def test_a_county_sees_its_county_and_cannot_pick_the_city(client, world, data):
    response = page(client, world.leader_a, year=Y, scope=world.city.pk)
    assert response.status_code == 200
    assert response.context["filters"].scope == world.a.government
    assert "dashboard-errors" in response.content.decode()
    headline = {c["name"]: c["cell"]["value"] for c in response.context["data"]["headline"]["counts"]}
    assert headline["received"] == 8


def test_an_empty_period_says_so_and_suggests_widening_it(client, world, data):
    html = page(client, world.leader_a, kind="month", year=Y, month=8).content.decode()
    assert "没有登记信访件" in html and "扩大统计周期" in html
    assert "本期没有数据" in html


def test_the_page_reads_counts_not_petitions(client, world, data, django_assert_max_num_queries):
    """A bounded number of queries whatever the number of petitions: every chart reads the counts
    (one or two queries per period), the hotspot table one GROUP BY over the petitions."""
    leader = make_staff("city_leader", world.city, "leader")
    login(client, leader)
    with django_assert_max_num_queries(40):
        assert client.get(reverse("stats:dashboard"), {"year": Y}).status_code == 200
    for n in range(5):  # more petitions in the same places: the same queries
        register(world.a.office, world.intake_a, world.a.township, received_on=dt.date(Y, 7, 1 + n))
    rollup.rebuild()
    with django_assert_max_num_queries(40):
        assert client.get(reverse("stats:dashboard"), {"year": Y}).status_code == 200


def test_hotspots_are_kept_until_the_counts_are_refreshed(world, data, django_capture_on_commit_callbacks):
    """The table is shown at once from the last result; after a refresh of the counts the worker
    computes the next one (queued once, however many views), and the views after it show it."""
    wage, _land = data
    year = Period.year(Y)
    assert [h["now"] for h in cached_hotspots(year, world.city, ())] == [6]
    a = world.a
    register(a.office, world.intake_a, a.township, received_on=dt.date(Y, 7, 1), category_id=wage.pk)
    assert [h["now"] for h in cached_hotspots(year, world.city, ())] == [6]  # as of the last refresh
    rollup.rebuild()
    with django_capture_on_commit_callbacks() as queued:
        assert [h["now"] for h in cached_hotspots(year, world.city, ())] == [6]  # stale, shown at once
        assert [h["now"] for h in cached_hotspots(year, world.city, ())] == [6]
    assert len(queued) == 1  # one recomputation for both views
    queued[0]()  # the worker's job (synchronous in the tests)
    assert [h["now"] for h in cached_hotspots(year, world.city, ())] == [7]
