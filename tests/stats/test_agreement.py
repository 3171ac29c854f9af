"""Known answers: a small world built through the real services on chosen days, whose every figure
was counted by hand (docs/statistics.md).  Each figure must equal the hand count for the city, each
county, a month, a custom period over month edges and a category; each figure's drill-down list
must hold exactly what the figure counts; and the API must return the same numbers.

Runs on SQLite and, with ``DATABASE_URL=postgres://…``, on PostgreSQL (CI runs both).

The world (2025; statutory periods counted by hand: the day of the trigger is not counted, a last
day on a rest day moves to the next working day; July and August 2025 have no public holidays).
OA/OB/OC: county A's, county B's and the city's petition office; DA/DB/DC: their departments.

======  ==========================================================================================
P1      OA 06-03 letter complaint X 1p.  fwd 06-05 (disposal due 06-18 met), DA accepts 06-06
        (acceptance due 06-20 met), replies 07-10 (handling due 08-05 met; evaluation due 07-17),
        evaluated 07-12: office satisfied, unit satisfied.
P2      OA 06-10 visit request Y 6p (collective).  fwd 06-12 (due 06-25 met), DA accepts 06-30
        (due 06-27 late), handling due 08-29 extended by 10 days 08-12 → extension due 09-08, replied
        09-05 (met; evaluation due 09-12), evaluated 09-10: office satisfied, unit dissatisfied;
        review asked 09-15 (A's government, due 10-15: not elapsed), changed 09-20.
P3      OA 06-16 letter complaint X 1p, a repeat of P1; never disposed (due 07-01: open, overdue).
P4      OA 06-20 online suggestion Z 1p; withdrawn 06-23 (disposal void).
P5      OA 06-30 letter complaint X 2p.  assigned 07-02 with a report due 07-31 (disposal due 07-15
        met), DA accepts 07-03 (due 07-17 met), replies 08-20 (handling due 09-01 met; report late;
        evaluation due 08-27, lapsed).
P6      OA 07-01 phone complaint Y 1p.  fwd 07-03 (due 07-16 met); DA never accepts (due 07-18 open).
P7      OB 06-04 letter request X 1p.  fwd 06-25 (due 06-19 late), DB accepts 06-26 (due 07-10 met),
        replies 07-15 (handling due 08-25 met; evaluation due 07-22), evaluated 07-20: office
        dissatisfied, unit basically satisfied; review asked 07-25 (B's government, due 08-25),
        upheld 08-05; recheck asked 08-10 (the city government, due 09-09), upheld 08-20: concluded.
P8      OB 07-08 visit complaint X 5p (collective).  fwd 07-09 (due 07-23 met), DB accepts 07-10 (due
        07-24 met), never replies (handling due 09-08: open, overdue).
P9      OC 06-18 visit complaint Y 1p about a township of county A: skip-level.  fwd 06-20 to DC (due
        07-03 met), DC accepts 06-24 (due 07-07 met), replies 08-01 (handling due 08-25 met;
        evaluation due 08-08), evaluated 08-02: both satisfied.
======  ==========================================================================================

The figures are read on 2025-09-30: deadlines and evaluation windows count once their day has
passed (up to 09-29), so P2's review deadline (10-15) counts nowhere.  X and Y are two entries of
one class, Z an entry of another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.test import Client
from freezegun import freeze_time

from xinfang.api.services import obtain_token
from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.models import Organisation
from xinfang.organisations.services import create_organisation
from xinfang.petitions.models import Category, Petition
from xinfang.stats import figures, rollup
from xinfang.stats.figures import Period, Slice
from xinfang.stats.metrics import METRICS, RATES
from xinfang.stats.models import DailyCount, MonthlyCount
from xinfang.workflow import appeals, services
from xinfang.workflow.models import DeadlineKind, DeadlineRecord

from ..conftest import World
from ..factories import PASSWORD, make_county, make_draft, make_staff
from ..procedure import OPINION, RECHECK, REPLY, serve_reply

TZ = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2025, 9, 30)
YEAR = Period.year(2025)


@contextmanager
def on(month: int, day: int) -> Iterator[None]:
    """Act at 10:00 Beijing time on that day of 2025."""
    with freeze_time(dt.datetime(2025, month, day, 10, 0, tzinfo=TZ)):
        yield


def d(month: int, day: int) -> dt.date:
    return dt.date(2025, month, day)


@dataclass
class Known:
    world: object
    city_office: Organisation
    city_department: Organisation
    city_intake: object
    x: Category
    y: Category
    z: Category
    numbers: dict[str, str]


def _categories() -> tuple[Category, Category, Category]:
    """Two entries of one class and one entry of another."""
    classes = Category.objects.filter(parent__isnull=True).order_by("code")
    first, second = (list(c.children.order_by("code")) for c in classes[:2])
    return first[0], first[1], second[0]


def _register(office, clerk, locality, *, on_day, category, channel, purpose, headcount=1, **extra) -> str:
    draft = make_draft(
        locality, received_on=on_day, category_id=category.pk, channel=channel, purpose=purpose,
        headcount=headcount, **extra,
    )  # fmt: skip
    return services.register(draft=draft, office=office, actor=clerk).petition.number


def build(world) -> Known:  # noqa: PLR0915 - one timeline, read top to bottom
    """The world of the module docstring, action by action on its days."""
    a, b = world.a, world.b
    city_office = Organisation.objects.get(parent=world.city, kind=OrganisationKind.PETITION_OFFICE)
    city_department = create_organisation(
        name="A市人社局", kind=OrganisationKind.DEPARTMENT, level=Level.CITY, parent=world.city
    )
    city_intake = make_staff("city_intake", city_office, "intake")
    city_handler = make_staff("city_handler", city_department, "handler")
    city_leader = make_staff("city_leader", world.city, "leader")
    leader_b = make_staff("leader_b", b.government, "leader")
    x, y, z = _categories()
    n: dict[str, str] = {}
    ia, ib, ha, hb = world.intake_a, world.intake_b, world.handler_a, world.handler_b

    with on(6, 3):
        n["P1"] = _register(
            a.office, ia, a.township, on_day=d(6, 3), category=x, channel="letter", purpose="complaint"
        )
    with on(6, 4):
        n["P7"] = _register(
            b.office, ib, b.township, on_day=d(6, 4), category=x, channel="letter", purpose="request"
        )
    with on(6, 5):
        services.forward(user=ia, number=n["P1"], unit=a.department)
    with on(6, 6):
        services.unit_accept(user=ha, number=n["P1"])
    with on(6, 10):
        n["P2"] = _register(
            a.office,
            ia,
            a.township,
            on_day=d(6, 10),
            category=y,
            channel="visit",
            purpose="request",
            headcount=6,
        )
    with on(6, 12):
        services.forward(user=ia, number=n["P2"], unit=a.department)
    with on(6, 16):
        n["P3"] = _register(
            a.office, ia, a.township, on_day=d(6, 16), category=x, channel="letter", purpose="complaint",
            repeat_of_number=n["P1"],
        )  # fmt: skip
    with on(6, 18):
        n["P9"] = _register(
            city_office,
            city_intake,
            a.township,
            on_day=d(6, 18),
            category=y,
            channel="visit",
            purpose="complaint",
        )
    with on(6, 20):
        n["P4"] = _register(
            a.office, ia, a.township, on_day=d(6, 20), category=z, channel="online", purpose="suggestion"
        )
        services.forward(user=city_intake, number=n["P9"], unit=city_department)
    with on(6, 23):
        services.withdraw(user=ia, number=n["P4"], reasons="信访人来电表示问题已自行解决，申请撤回。")
    with on(6, 24):
        services.unit_accept(user=city_handler, number=n["P9"])
    with on(6, 25):
        services.forward(user=ib, number=n["P7"], unit=b.department)
    with on(6, 26):
        services.unit_accept(user=hb, number=n["P7"])
    with on(6, 30):
        services.unit_accept(user=ha, number=n["P2"])
        n["P5"] = _register(
            a.office,
            ia,
            a.township,
            on_day=d(6, 30),
            category=x,
            channel="letter",
            purpose="complaint",
            headcount=2,
        )
    with on(7, 1):
        n["P6"] = _register(
            a.office, ia, a.township, on_day=d(7, 1), category=y, channel="phone", purpose="complaint"
        )
    with on(7, 2):
        services.assign(user=ia, number=n["P5"], unit=a.department, report_due_on=d(7, 31))
    with on(7, 3):
        services.unit_accept(user=ha, number=n["P5"])
        services.forward(user=ia, number=n["P6"], unit=a.department)
    with on(7, 8):
        n["P8"] = _register(
            b.office,
            ib,
            b.township,
            on_day=d(7, 8),
            category=x,
            channel="visit",
            purpose="complaint",
            headcount=5,
        )
    with on(7, 9):
        services.forward(user=ib, number=n["P8"], unit=b.department)
    with on(7, 10):
        services.unit_accept(user=hb, number=n["P8"])
        services.reply(user=ha, number=n["P1"], **REPLY)
        serve_reply(n["P1"])  # served the day it is issued: the windows run
    with on(7, 12):
        appeals.evaluate(user=ia, number=n["P1"], office_rating="satisfied", unit_rating="satisfied")
    with on(7, 15):
        services.reply(user=hb, number=n["P7"], **REPLY)
        serve_reply(n["P7"])  # served the day it is issued: the windows run
    with on(7, 20):
        appeals.evaluate(
            user=ib, number=n["P7"], office_rating="dissatisfied", unit_rating="basically_satisfied",
            reasons="登记时等候时间过长",
        )  # fmt: skip
    with on(7, 25):
        appeals.request_review(user=ib, number=n["P7"], reasons="补发数额不足")
    with on(8, 1):
        services.reply(user=city_handler, number=n["P9"], **REPLY)
        serve_reply(n["P9"])  # served the day it is issued: the windows run
    with on(8, 2):
        appeals.evaluate(user=city_intake, number=n["P9"], office_rating="satisfied", unit_rating="satisfied")
    with on(8, 5):
        appeals.review(user=leader_b, number=n["P7"], **OPINION)
    with on(8, 10):
        services.request_extension(user=ha, number=n["P2"], reasons="需要补充调查", days=10)
        appeals.request_recheck(user=ib, number=n["P7"], reasons="复查意见仍未解决")
    with on(8, 12):
        services.approve_extension(user=world.leader_a, number=n["P2"])
    with on(8, 20):
        services.reply(user=ha, number=n["P5"], **REPLY)
        serve_reply(n["P5"])  # served the day it is issued: the windows run
        appeals.recheck(user=city_leader, number=n["P7"], **RECHECK)
    with on(9, 5):
        services.reply(user=ha, number=n["P2"], **REPLY)
        serve_reply(n["P2"])  # served the day it is issued: the windows run
    with on(9, 10):
        appeals.evaluate(
            user=ia,
            number=n["P2"],
            office_rating="satisfied",
            unit_rating="dissatisfied",
            reasons="补偿标准过低",
        )
    with on(9, 15):
        appeals.request_review(user=ia, number=n["P2"], reasons="补偿标准过低")
    with on(9, 20):
        appeals.review(user=world.leader_a, number=n["P2"], **{**OPINION, "outcome": "change"})
    rollup.refresh()
    return Known(world, city_office, city_department, city_intake, x, y, z, n)


# --- the hand counts ---------------------------------------------------------------------------------
# Only the figures that are not zero; every other metric must be 0.

CITY_YEAR = {
    "received": 9, "persons": 19, "first_time": 8, "repeat": 1, "collective": 2, "collective_persons": 11,
    "skip_level": 1, "countable": 8, "closed": 5, "resolved": 3, "concluded": 1,
    "acceptance_due": 15, "acceptance_on_time": 11, "handling_due": 6, "handling_on_time": 5,
    "report_due": 1, "report_on_time": 0, "deadlines_missed": 6,
    "replied": 5, "evaluation_due": 5, "evaluated": 4,
    "unit_evaluated": 4, "unit_satisfied": 3, "office_evaluated": 4, "office_satisfied": 3,
    "review_requested": 2, "review_decided": 2, "review_upheld": 1, "review_changed": 1,
    "recheck_requested": 1, "recheck_decided": 1, "recheck_upheld": 1,
}  # fmt: skip
COUNTY_A_YEAR = {
    "received": 6, "persons": 12, "first_time": 5, "repeat": 1, "collective": 1, "collective_persons": 6,
    "countable": 5, "closed": 3, "resolved": 1,
    "acceptance_due": 9, "acceptance_on_time": 6, "handling_due": 3, "handling_on_time": 3,
    "report_due": 1, "deadlines_missed": 4,
    "replied": 3, "evaluation_due": 3, "evaluated": 2,
    "unit_evaluated": 2, "unit_satisfied": 1, "office_evaluated": 2, "office_satisfied": 2,
    "review_requested": 1, "review_decided": 1, "review_changed": 1,
}  # fmt: skip
COUNTY_B_YEAR = {
    "received": 2, "persons": 6, "first_time": 2, "collective": 1, "collective_persons": 5,
    "countable": 2, "closed": 1, "resolved": 1, "concluded": 1,
    "acceptance_due": 4, "acceptance_on_time": 3, "handling_due": 2, "handling_on_time": 1,
    "deadlines_missed": 2,
    "replied": 1, "evaluation_due": 1, "evaluated": 1,
    "unit_evaluated": 1, "unit_satisfied": 1, "office_evaluated": 1,
    "review_requested": 1, "review_decided": 1, "review_upheld": 1,
}  # fmt: skip
CITY_JULY = {
    "received": 2, "persons": 6, "first_time": 2, "collective": 1, "collective_persons": 5, "countable": 2,
    "acceptance_due": 10, "acceptance_on_time": 8, "report_due": 1, "deadlines_missed": 3,
    "replied": 2, "evaluation_due": 2, "evaluated": 2,
    "unit_evaluated": 2, "unit_satisfied": 2, "office_evaluated": 2, "office_satisfied": 1,
    "review_requested": 1,
}  # fmt: skip
# 20 June – 5 August: the end of June and the start of August read by day, July by month.
CUSTOM = Period(d(6, 20), d(8, 5))
CITY_CUSTOM = {
    "received": 4, "persons": 9, "first_time": 4, "collective": 1, "collective_persons": 5,
    "countable": 3, "closed": 1,
    "acceptance_due": 13, "acceptance_on_time": 10, "handling_due": 1, "handling_on_time": 1,
    "report_due": 1, "deadlines_missed": 4,
    "replied": 3, "evaluation_due": 2, "evaluated": 2,
    "unit_evaluated": 3, "unit_satisfied": 3, "office_evaluated": 3, "office_satisfied": 2,
    "review_requested": 1, "review_decided": 1, "review_upheld": 1,
}  # fmt: skip
CITY_CATEGORY_X = {
    "received": 5, "persons": 10, "first_time": 4, "repeat": 1, "collective": 1, "collective_persons": 5,
    "countable": 5, "closed": 3, "resolved": 2, "concluded": 1,
    "acceptance_due": 9, "acceptance_on_time": 7, "handling_due": 4, "handling_on_time": 3,
    "report_due": 1, "deadlines_missed": 4,
    "replied": 3, "evaluation_due": 3, "evaluated": 2,
    "unit_evaluated": 2, "unit_satisfied": 2, "office_evaluated": 2, "office_satisfied": 1,
    "review_requested": 1, "review_decided": 1, "review_upheld": 1,
    "recheck_requested": 1, "recheck_decided": 1, "recheck_upheld": 1,
}  # fmt: skip

CASES = {
    "city-year": ("city", YEAR, False, CITY_YEAR),
    "county-a-year": ("a", YEAR, False, COUNTY_A_YEAR),
    "county-b-year": ("b", YEAR, False, COUNTY_B_YEAR),
    "city-july": ("city", Period.month(2025, 7), False, CITY_JULY),
    "city-custom": ("city", CUSTOM, False, CITY_CUSTOM),
    "city-category-x": ("city", YEAR, True, CITY_CATEGORY_X),
}


def _slice(known: Known, scope: str, by_category: bool) -> Slice:
    world = known.world
    path = {"city": world.city.path, "a": world.a.government.path, "b": world.b.government.path}[scope]
    if by_category:
        return Slice(scope=path, dimension="category", keys=(str(known.x.pk),))
    return Slice(scope=path)


def _expected(nonzero: dict[str, int]) -> dict[str, int]:
    assert set(nonzero) <= set(METRICS)
    return {name: nonzero.get(name, 0) for name in METRICS}


def _make_world() -> World:
    """The ``world`` of tests/conftest.py, built here because that fixture lives per test."""
    province = create_organisation(
        name="西地省", kind=OrganisationKind.GOVERNMENT, level=Level.PROVINCE, code="990000"
    )
    city = create_organisation(
        name="A市", kind=OrganisationKind.GOVERNMENT, level=Level.CITY, parent=province, code="990100"
    )
    city_office = create_organisation(
        name="A市信访局", kind=OrganisationKind.PETITION_OFFICE, level=Level.CITY, parent=city
    )
    a = make_county("甲县", "990101", city)
    b = make_county("乙县", "990102", city)
    return World(
        province=province, city=city, a=a, b=b,
        intake_a=make_staff("intake_a", a.office, "intake"),
        handler_a=make_staff("handler_a", a.department, "handler"),
        supervisor_a=make_staff("supervisor_a", a.office, "supervisor"),
        leader_a=make_staff("leader_a", a.government, "leader"),
        handler_b=make_staff("handler_b", b.department, "handler"),
        intake_b=make_staff("intake_b", b.office, "intake"),
        city_supervisor=make_staff("city_supervisor", city_office, "supervisor"),
        sysadmin=make_staff("sysadmin", province, "sysadmin"),
        secadmin=make_staff("secadmin", province, "secadmin"),
        auditor=make_staff("auditor", province, "auditor"),
    )  # fmt: skip


@pytest.fixture(scope="module")
def known(django_db_setup, django_db_blocker) -> Iterator[Known]:
    """The world is built once for the module (through ~60 actions it is the slow part) inside a
    transaction rolled back at the end; each test runs in a savepoint inside it, as usual."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build(_make_world())
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _each_test_in_a_savepoint(known, db) -> None:
    """Every test of the module uses the world and the test database (``db`` after ``known``, so
    its savepoint opens inside the module's transaction)."""


def test_the_world_is_the_one_counted_by_hand(known):
    """The due dates the hand counts rest on (a wrong guess here would make every count below moot)."""
    n = known.numbers

    def due(number: str, kind: str) -> list[tuple[dt.date, str]]:
        rows = DeadlineRecord.objects.filter(petition__number=number, kind=kind).order_by("pk")
        return list(rows.values_list("due_on", "outcome"))

    assert due(n["P1"], DeadlineKind.HANDLING) == [(d(8, 5), "met")]
    assert due(n["P2"], DeadlineKind.UNIT_ACCEPTANCE) == [(d(6, 27), "late")]
    assert due(n["P2"], DeadlineKind.HANDLING) == [(d(8, 29), "extended")]
    assert due(n["P2"], DeadlineKind.EXTENSION) == [(d(9, 8), "met")]
    assert due(n["P2"], DeadlineKind.REVIEW) == [(d(10, 15), "met")]
    assert due(n["P3"], DeadlineKind.DISPOSAL) == [(d(7, 1), "")]
    assert due(n["P4"], DeadlineKind.DISPOSAL) == [(d(7, 7), "void")]
    assert due(n["P5"], DeadlineKind.COMPLETION_REPORT) == [(d(7, 31), "late")]
    assert due(n["P5"], DeadlineKind.HANDLING) == [(d(9, 1), "met")]
    assert due(n["P6"], DeadlineKind.UNIT_ACCEPTANCE) == [(d(7, 18), "")]
    assert due(n["P7"], DeadlineKind.DISPOSAL) == [(d(6, 19), "late")]
    assert due(n["P7"], DeadlineKind.REVIEW) == [(d(8, 25), "met")]
    assert due(n["P7"], DeadlineKind.RECHECK) == [(d(9, 9), "met")]
    assert due(n["P8"], DeadlineKind.HANDLING) == [(d(9, 8), "")]
    assert due(n["P9"], DeadlineKind.UNIT_ACCEPTANCE) == [(d(7, 7), "met")]
    statuses = dict(Petition.objects.values_list("number", "status"))
    assert [statuses[n[f"P{i}"]] for i in range(1, 10)] == [
        "replied", "reviewed", "registered", "withdrawn", "replied", "forwarded", "concluded", "accepted",
        "replied",
    ]  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_every_figure_equals_the_hand_count_and_its_drill_down(known, case):
    """Every metric equals the hand count; every rate is its numerator over its denominator; and
    for every metric the drill-down rows add up to the figure."""
    # given
    scope, period, by_category, nonzero = CASES[case]
    where = _slice(known, scope, by_category)
    expected = _expected(nonzero)
    # when
    totals = figures.counts(list(METRICS), period, where, today=TODAY).get(None, {})
    # then
    assert {name: totals.get(name, 0) for name in METRICS} == expected
    for rate in figures.rates(totals):
        definition = RATES[rate.name]
        assert (rate.numerator, rate.denominator) == (
            expected[definition.numerator],
            expected[definition.denominator],
        ), rate.name
    for name in METRICS:
        rows = figures.drill(name, period, where, today=TODAY)
        assert figures.drill_total(name, rows) == expected[name], name


def test_named_rates_of_the_city(known):
    """A few rates spelt out: 及时受理率 11/15, 按期办结率 5/6, 参评率 4/5, 满意率 3/4, 重复信访率 1/9."""
    totals = figures.counts(list(METRICS), YEAR, _slice(known, "city", False), today=TODAY)[None]
    values = {r.name: r.value for r in figures.rates(totals)}
    assert values["timely_acceptance_rate"] == pytest.approx(11 / 15)
    assert values["on_time_closure_rate"] == pytest.approx(5 / 6)
    assert values["evaluation_rate"] == pytest.approx(4 / 5)
    assert values["satisfaction_rate"] == pytest.approx(3 / 4)
    assert values["office_satisfaction_rate"] == pytest.approx(3 / 4)
    assert values["repeat_rate"] == pytest.approx(1 / 9)
    assert values["closure_rate"] == pytest.approx(5 / 8)
    assert values["report_rate"] == 0
    assert values["supervision_response_rate"] is None  # no supervision notice: no denominator


def test_the_city_by_county_and_by_month_add_up(known):
    """Side by side per child of the city, and per month, the groups sum to the whole."""
    where = _slice(known, "city", False)
    whole = figures.counts(list(METRICS), YEAR, where, today=TODAY)[None]
    for by in ("child", "month", "organisation"):
        grouped = figures.counts(list(METRICS), YEAR, where, by=by, today=TODAY)
        for name in METRICS:
            assert sum(g.get(name, 0) for g in grouped.values()) == whole.get(name, 0), (by, name)
    children = figures.counts(list(METRICS), YEAR, where, by="child", today=TODAY)
    assert children[known.world.a.government.path]["received"] == COUNTY_A_YEAR["received"]
    assert children[known.world.b.government.path]["received"] == COUNTY_B_YEAR["received"]
    months = figures.counts(["received"], YEAR, where, by="month", today=TODAY)
    assert {m: v["received"] for m, v in months.items()} == {d(6, 1): 7, d(7, 1): 2}


def test_a_deadline_counts_only_once_its_day_has_passed(known):
    """Read on 8 September, P8's handling deadline (due that day) and P2's extension are not yet
    counted: they could still be met."""
    where = _slice(known, "city", False)
    before = figures.counts(["handling_due", "deadlines_missed"], YEAR, where, today=d(9, 8))[None]
    # handling records due up to 7 September: H1 08-05, H7 08-25, H9 08-25, H5 09-01 (all met)
    assert before["handling_due"] == 4
    assert before["deadlines_missed"] == 5  # P8's open handling deadline not yet among them
    rows = figures.drill("handling_due", YEAR, where, today=d(9, 8))
    assert figures.drill_total("handling_due", rows) == 4


def test_the_api_returns_the_same_numbers(known):
    """GET /api/v1/statistics gives figures.counts for each case's scope, period and category."""
    world = known.world
    with freeze_time(dt.datetime(2025, 9, 30, 10, 0, tzinfo=TZ)):
        token = obtain_token(username=world.city_supervisor.username, password=PASSWORD, ip="127.0.0.9").token
        client = Client()
        codes = {"city": world.city.code, "a": world.a.government.code, "b": world.b.government.code}
        for scope, period, by_category, nonzero in CASES.values():
            params = {"scope": codes[scope], "start": period.start.isoformat(), "end": period.end.isoformat()}
            if by_category:
                params["category"] = known.x.code
            response = client.get("/api/v1/statistics", params, HTTP_AUTHORIZATION=f"Bearer {token}")
            assert response.status_code == 200, response.content
            body = response.json()
            assert body["counts"] == _expected(nonzero), params
            for rate in body["rates"]:
                definition = RATES[rate["name"]]
                assert rate["numerator"] == body["counts"][definition.numerator]
                assert rate["denominator"] == body["counts"][definition.denominator]


def _table(model) -> list[tuple]:
    period = "day" if model is DailyCount else "month"
    return sorted(
        model.objects.values_list(
            period, "metric", "organisation_id", "organisation_path", "dimension", "key", "value"
        )
    )


def test_the_incremental_counts_equal_a_rebuild(known):
    """What the worker kept up action by action is what rebuild_stats computes from the facts."""
    daily, monthly = _table(DailyCount), _table(MonthlyCount)
    assert daily
    rollup.rebuild()
    assert _table(DailyCount) == daily
    assert _table(MonthlyCount) == monthly


def test_skip_level_is_a_visit_above_the_level_responsible(known):
    """越级访: the province office receiving a visit about a city-level matter is skipped to (the city
    is responsible); the city office receiving one about the city itself is not."""
    world = known.world
    province_office = create_organisation(
        name="西地省信访局",
        kind=OrganisationKind.PETITION_OFFICE,
        level=Level.PROVINCE,
        parent=world.province,
    )
    province_intake = make_staff("province_intake", province_office, "intake")
    with on(9, 25):
        _register(province_office, province_intake, world.city, on_day=d(9, 25), category=known.x,
                  channel="visit", purpose="complaint")  # fmt: skip
        _register(known.city_office, known.city_intake, world.city, on_day=d(9, 25), category=known.x,
                  channel="visit", purpose="complaint")  # fmt: skip
    rollup.refresh()
    where = Slice(scope=world.province.path)
    totals = figures.counts(["received", "skip_level"], YEAR, where, today=TODAY)[None]
    assert (totals["received"], totals["skip_level"]) == (9 + 2, 1 + 1)
    rows = figures.drill("skip_level", YEAR, where, today=TODAY)
    assert sorted(rows.values_list("office__level", flat=True)) == ["city", "province"]
