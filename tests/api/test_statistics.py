"""``GET /api/v1/statistics``: the figures of the statistics pages as JSON, within the caller's area
(the known-answer agreement over every figure is tests/stats/test_agreement.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinfang.stats import figures, rollup
from xinfang.stats.figures import Period, Slice
from xinfang.stats.metrics import METRICS, RATES
from xinfang.workflow import services

from ..factories import leaf_category, make_draft, make_staff
from ..procedure import to_replied

URL = "/api/v1/statistics"


def _register(world, county, clerk, **overrides):
    draft = make_draft(county.township, **overrides)
    return services.register(draft=draft, office=county.office, actor=clerk).petition


@pytest.fixture
def figures_world(world):
    """Two petitions in county A (one collective visit, one replied), one in county B."""
    first = _register(world, world.a, world.intake_a)
    _register(world, world.a, world.intake_a, channel="visit", headcount=6)
    _register(world, world.b, world.intake_b)
    to_replied(world, first.number)
    rollup.refresh()
    return world


def _period() -> dict[str, str]:
    today = timezone.localdate()
    return {
        "start": (today - dt.timedelta(days=40)).isoformat(),
        "end": (today + dt.timedelta(days=1)).isoformat(),
    }


def test_city_figures_are_those_of_figures_counts(api, token_of, figures_world):
    """Every count and every rate of the city is returned, equal to figures.counts / figures.rates."""
    # given
    world = figures_world
    # when
    response = api.get(URL, token=token_of(world.city_supervisor), **_period())
    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["scope"]["code"] == world.city.code
    assert set(body["counts"]) == set(METRICS)
    assert [r["name"] for r in body["rates"]] == list(RATES)
    assert body["counts"]["received"] == 3
    assert body["counts"]["persons"] == 1 + 6 + 1
    assert body["counts"]["collective"] == 1
    assert body["counts"]["replied"] == 1
    period = Period(dt.date.fromisoformat(_period()["start"]), dt.date.fromisoformat(_period()["end"]))
    expected = figures.counts(list(METRICS), period, Slice(scope=world.city.path))[None]
    assert body["counts"] == {name: expected.get(name, 0) for name in METRICS}
    repeat = next(r for r in body["rates"] if r["name"] == "repeat_rate")
    assert (repeat["numerator"], repeat["denominator"], repeat["value"]) == (0, 3, 0.0)
    assert body["refreshed_at"] is not None
    assert body["refresh_pending"] is False


def test_scope_by_code_or_id_and_breakdown_by_child(api, token_of, figures_world):
    """A county is named by its code or its id; the city side by side per county sums to the city."""
    world = figures_world
    token = token_of(world.city_supervisor)
    by_code = api.get(URL, token=token, scope=world.a.government.code, **_period()).json()
    by_id = api.get(URL, token=token, scope=str(world.a.government.pk), **_period()).json()
    assert by_code["counts"]["received"] == by_id["counts"]["received"] == 2
    city = api.get(URL, token=token, breakdown="child", **_period()).json()
    groups = {g["key"]: g["counts"]["received"] for g in city["groups"]}
    assert groups == {world.a.government.code: 2, world.b.government.code: 1}


def test_breakdown_by_channel_and_category_filter(api, token_of, figures_world):
    world = figures_world
    token = token_of(world.city_supervisor)
    body = api.get(URL, token=token, breakdown="channel", **_period()).json()
    assert {g["key"]: g["counts"]["received"] for g in body["groups"]} == {"letter": 2, "visit": 1}
    assert {g["label"] for g in body["groups"]} == {"来信", "来访"}
    category = leaf_category()
    filtered = api.get(URL, token=token, category=category.parent.code, **_period()).json()
    assert filtered["counts"]["received"] == 3
    months = api.get(URL, token=token, category=category.code, breakdown="month", **_period()).json()
    assert sum(g["counts"]["received"] for g in months["groups"]) == 3
    refused = api.get(URL, token=token, category=category.code, breakdown="channel", **_period())
    assert refused.status_code == 422
    assert "breakdown" in refused.json()["error"]["fields"]


@pytest.mark.parametrize(("period", "months"), [("2026", (1, 12)), ("2026-03", (3, 3)), ("2026-Q2", (4, 6))])
def test_named_periods(api, token_of, world, period, months):
    body = api.get(URL, token=token_of(world.intake_a), period=period).json()
    assert body["period"]["start"] == f"2026-{months[0]:02d}-01"
    assert body["period"]["end"].startswith(f"2026-{months[1]:02d}-")
    assert body["scope"]["code"] == world.a.government.code  # a county office sees its county


def test_scope_outside_the_area_or_unknown_is_not_found(api, token_of, figures_world):
    """County A's clerk asking for county B, or for the city, gets the same 404 as for nothing."""
    world = figures_world
    token = token_of(world.intake_a)
    for scope in (world.b.government.code, world.city.code, "000000", str(world.b.office.pk)):
        response = api.get(URL, token=token, scope=scope, **_period())
        assert response.status_code == 404, scope
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-13-01", "end": "2026-12-31"}, "start"),
        ({"start": "2026-03-01", "end": "2026-02-01"}, "end"),
        ({"start": "2026-03-01"}, "end"),
        ({}, "start"),
        ({"period": "2026-13"}, "period"),
        ({"period": "26"}, "period"),
        ({"period": "0001"}, "period"),
        ({"start": "9999-12-01", "end": "9999-12-31"}, "start"),
        ({"period": "2026", "start": "2026-01-01", "end": "2026-01-02"}, "period"),
        ({"start": "2000-01-01", "end": "2026-01-01"}, "end"),
        ({"period": "2026", "category": "no-such"}, "category"),
        ({"period": "2026", "breakdown": "weather"}, "breakdown"),
    ],
)
def test_bad_input_is_a_validation_error_naming_the_field(api, token_of, world, params, field):
    response = api.get(URL, token=token_of(world.intake_a), **params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"], error


def test_anonymous_and_administrators_are_refused(api, token_of, world):
    assert api.get(URL, period="2026").status_code == 401
    response = api.get(URL, token=token_of(world.sysadmin), period="2026")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_a_unit_handler_sees_their_own_unit(api, token_of, figures_world):
    """A department's handler sees the figures attributed to their department (and below) only."""
    world = figures_world
    body = api.get(URL, token=token_of(world.handler_a), **_period()).json()
    assert body["scope"]["id"] == world.a.department.pk
    assert body["counts"]["received"] == 0  # intake is attributed to the office
    assert body["counts"]["replied"] == 1
    other = make_staff("leader_b", world.b.government, "leader")
    assert api.get(URL, token=token_of(other), scope=world.a.government.code, **_period()).status_code == 404
