"""统计分析 and its drill-down (issue #9 §2): who may open them, the filter's scope check, every
figure on the page agreeing with the list behind it, the XLSX holding the figures on screen, and a
number of queries that does not grow with the petitions."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time
from openpyxl import load_workbook

from xinfang.audit.models import AuditEvent
from xinfang.petitions.models import Category
from xinfang.stats import figures, rollup, tables
from xinfang.stats.forms import DrillForm, FiguresForm, period_of
from xinfang.workflow import appeals, services

from ..factories import leaf_category, make_draft
from ..procedure import to_replied, to_reviewed

CASEWORK = ["intake_a", "handler_a", "supervisor_a", "leader_a", "city_supervisor"]
FIGURE = re.compile(r'<a class="fig" href="([^"]+)" data-metric="(\w+)">(\d+)</a>')
TOTAL = re.compile(r'id="drill-total">(\d+)<')


def registered(world, county=None, **overrides):
    """Registered as the pages and the API register: with the disposal deadline's record."""
    county = county or world.a
    clerk = world.intake_a if county is world.a else world.intake_b
    draft = make_draft(county.township, **overrides)
    return services.register(draft=draft, office=county.office, actor=clerk).petition


@pytest.fixture
def facts(world):
    """County A: a replied letter, a collective visit of six, a phone call the county supervisor is
    recused from; county B: one letter.  Counted by the roll-up."""
    # Seven weeks ago: one petition handled then (its deadlines met, evaluated), one left alone (its
    # disposal deadline missed); both placed in the period, their deadlines elapsed.
    past = timezone.localdate() - dt.timedelta(days=50)
    with freeze_time(dt.datetime.combine(past, dt.time(2))):
        replied = registered(world, received_on=past)
        to_replied(world, replied.number)
        appeals.evaluate(
            user=world.intake_a,
            number=replied.number,
            office_rating="satisfied",
            unit_rating="dissatisfied",
            reasons="工资只补发了一半",
        )
        registered(world, received_on=past, channel="online")
    reviewed = registered(world)
    to_reviewed(world, reviewed.number)
    registered(world, channel="visit", headcount=6)
    recused = registered(world, channel="phone")
    services.recuse(user=world.supervisor_a, number=recused.number, reasons="与信访人系近亲属")
    registered(world, world.b)
    rollup.refresh()
    return world


def _period() -> dict[str, str]:
    today = timezone.localdate()
    return {
        "period": "custom",
        "start": (today - dt.timedelta(days=60)).isoformat(),
        "end": today.isoformat(),
    }


def _figures(response) -> list[tuple[str, str, int]]:
    body = response.content.decode()
    return [(html.unescape(href), metric, int(value)) for href, metric, value in FIGURE.findall(body)]


@pytest.mark.parametrize("who", CASEWORK)
def test_every_casework_role_sees_the_page(client, world, who):
    """Intake, handler, supervisor and leader open 统计分析, with the refresh time shown."""
    rollup.refresh()
    client.force_login(getattr(world, who))
    response = client.get(reverse("stats:figures"))
    assert response.status_code == 200
    assert "数据更新于" in response.content.decode()
    assert _figures(response)


@pytest.mark.parametrize("who", ["sysadmin", "secadmin", "auditor"])
def test_administrators_get_the_403_page(client, world, who):
    client.force_login(getattr(world, who))
    assert client.get(reverse("stats:figures")).status_code == 403
    assert client.get(reverse("stats:drill"), {"metric": "received"}).status_code == 403


def test_a_county_cannot_choose_another_county(client, facts):
    """The scope must lie inside the viewer's area: county A's supervisor asking for county B gets
    the form's Chinese error and no figures; the city may choose either county."""
    client.force_login(facts.supervisor_a)
    response = client.get(reverse("stats:figures"), {**_period(), "scope": facts.b.government.pk})
    assert response.status_code == 200
    assert "所选统计范围不在您的辖区内" in response.content.decode()
    assert not _figures(response)
    drill = client.get(
        reverse("stats:drill"), {"metric": "received", **_period(), "scope": facts.b.government.pk}
    )
    assert drill.status_code == 400
    client.force_login(facts.city_supervisor)
    response = client.get(reverse("stats:figures"), {**_period(), "scope": facts.b.government.pk})
    received = [v for href, m, v in _figures(response) if m == "received"]
    assert received[0] == 1  # county B's one letter


@pytest.mark.parametrize(
    "params, error",
    [
        ({"period": "custom", "start": "2026-03-01"}, "自定义周期请填写起始日期和截止日期"),
        ({"period": "custom", "start": "2026-03-01", "end": "2026-02-01"}, "截止日期不能早于起始日期"),
        ({"period": "month", "day": "not-a-date"}, "输入一个有效的日期"),
        ({"period": "fortnight"}, "选择一个有效的选项"),
        ({"period": "month", "scope": "abc"}, "输入整数"),
    ],
)
def test_invalid_filters_show_chinese_errors(client, world, params, error):
    client.force_login(world.leader_a)
    response = client.get(reverse("stats:figures"), params)
    assert response.status_code == 200
    assert error in response.content.decode()


def _drill_total(href: str, user) -> int:
    query = QueryDict(urlsplit(href).query)
    form = DrillForm(query, area=figures.area_of(user))
    assert form.is_valid(), form.errors
    metric = form.cleaned_data["metric"]
    return figures.drill_total(metric, tables.drill_rows(metric, form.query()))


def test_every_figure_of_a_category_equals_its_drill_down(client, facts):
    """Filtered to one issue class: every figure is read along the category dimension, and its
    drill-down lists exactly those petitions."""
    client.force_login(facts.city_supervisor)
    head = leaf_category().parent
    response = client.get(reverse("stats:figures"), {**_period(), "category": head.pk})
    shown = list(dict.fromkeys(_figures(response)))
    assert {t.key for t in response.context["tables"]}.isdisjoint({"channel", "purpose", "locality"})
    assert [v for _h, m, v in shown if m == "received"][0] == 6
    for href, metric, value in shown:
        assert "dimension=category" in href
        assert _drill_total(href, facts.city_supervisor) == value, (metric, href)
    other = Category.objects.filter(parent__isnull=True).exclude(pk=head.pk).first()
    response = client.get(reverse("stats:figures"), {**_period(), "category": other.pk})
    assert [v for _h, m, v in _figures(response) if m == "received"][0] == 0


@pytest.mark.parametrize("who", ["city_supervisor", "supervisor_a"])
def test_every_figure_equals_the_total_of_its_drill_down(client, facts, who):
    """Follow every number on the page: the drill-down's total is the number, and its list plus
    the rows hidden from the viewer are the rows counted."""
    client.force_login(getattr(facts, who))
    response = client.get(reverse("stats:figures"), _period())
    shown = _figures(response)
    assert len(shown) > 300  # counts, rates and every breakdown table
    assert sum(v for _h, _m, v in shown) > 100
    first = {m: v for _h, m, v in reversed(shown)}  # the first figure of each metric: the counts table
    assert (
        first["acceptance_on_time"] >= 1 and first["deadlines_missed"] >= 1 and first["unit_evaluated"] == 1
    )
    assert first["review_decided"] == 1
    received = [v for _h, m, v in shown if m == "received"]
    assert received[0] == (6 if who == "city_supervisor" else 5)
    links = list(dict.fromkeys(shown))
    assert sum(1 for _h, _m, v in links if v) > 50
    for href, metric, value in links:
        if value:
            drill = client.get(href)
            assert drill.status_code == 200, href
            assert int(TOTAL.search(drill.content.decode()).group(1)) == value, (metric, href)
        else:  # a zero: the view's own form and rows, without rendering an empty page (time)
            assert _drill_total(href, getattr(facts, who)) == 0, (metric, href)


def test_the_drill_down_says_what_the_viewer_may_not_see(client, facts):
    """The county supervisor is recused from one petition: counted, not listed, and said so."""
    client.force_login(facts.supervisor_a)
    params = {"metric": "received", **_period(), "scope": facts.a.government.pk}
    params.pop("period")
    response = client.get(reverse("stats:drill"), params)
    body = response.content.decode()
    assert response.context["total"] == 5
    assert len(response.context["lines"]) == 4
    assert "另有 1 件因保密或回避规定不在列表中显示" in body
    client.force_login(facts.leader_a)
    response = client.get(reverse("stats:drill"), params)
    assert len(response.context["lines"]) == 5
    assert "另有" not in response.content.decode()


def test_person_counts_drill_to_their_headcount(client, facts):
    client.force_login(facts.leader_a)
    params = {"metric": "collective_persons", **_period(), "scope": facts.a.government.pk}
    params.pop("period")
    response = client.get(reverse("stats:drill"), params)
    assert response.context["total"] == 6
    assert response.context["row_count"] == 1


def test_each_table_downloads_with_the_figures_on_screen(client, facts):
    client.force_login(facts.city_supervisor)
    page = client.get(reverse("stats:figures"), _period())
    tables = page.context["tables"]
    assert {t.key for t in tables} >= {"counts", "rates", "channel", "purpose", "category", "locality",
                                       "unit_child", "unit_organisation", "month"}  # fmt: skip
    for table in tables:
        response = client.get(reverse("stats:figures"), {**_period(), "format": "xlsx", "table": table.key})
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        if table.note:
            rows = rows[1:]
        assert rows[0] == table.header()
        assert rows[1:] == [[c if c != "" else None for c in r] for r in table.sheet_rows()], table.key
    channel = next(t for t in tables if t.key == "channel")
    by_channel = {r.label: r.cells[0].value for r in channel.rows}
    assert by_channel == {"来信": 3, "来访": 1, "来电": 1, "网上信访": 1, "合计": 6}


def test_the_drill_list_download_stops_at_the_cap(client, facts, monkeypatch):
    """Past the cap the sheet says it was cut and asks to narrow the scope; the audit row says so."""
    from xinfang.stats import drill

    monkeypatch.setattr(drill, "EXPORT_CAP", 2)
    monkeypatch.setattr(drill, "BATCH", 1)
    client.force_login(facts.leader_a)
    params = {"metric": "received", **_period(), "scope": facts.a.government.pk, "format": "xlsx"}
    params.pop("period")
    response = client.get(reverse("stats:drill"), params)
    assert response["X-Export-Capped"] == "2"
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert "仅导出前2件" in rows[0][0]
    assert len(rows) == 1 + 1 + 2
    event = AuditEvent.objects.filter(action="petition.export").latest("pk")
    assert event.data["count"] == 2 and event.data["capped"] is True


def test_the_drill_list_downloads_audited(client, facts):
    client.force_login(facts.leader_a)
    params = {"metric": "received", **_period(), "scope": facts.a.government.pk, "format": "xlsx"}
    params.pop("period")
    response = client.get(reverse("stats:drill"), params)
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("信访编号", "标题", "状态", "登记机构")
    assert len(rows) == 1 + 5
    event = AuditEvent.objects.filter(action="petition.export").latest("pk")
    assert event.data["count"] == 5
    assert event.data["section"] == "stats.drill"


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_the_petitions(client, facts, django_assert_max_num_queries):
    client.force_login(facts.city_supervisor)
    drill = {"metric": "received", **_period(), "scope": facts.city.pk}
    drill.pop("period")
    page_before = _queries(client, reverse("stats:figures"), _period())
    drill_before = _queries(client, reverse("stats:drill"), drill)
    for _i in range(4):
        petition = registered(facts, channel="visit")
        to_replied(facts, petition.number)
    rollup.refresh()
    assert _queries(client, reverse("stats:figures"), _period()) == page_before
    assert _queries(client, reverse("stats:drill"), drill) == drill_before
    with django_assert_max_num_queries(80):
        client.get(reverse("stats:figures"), _period())
    with django_assert_max_num_queries(20):
        client.get(reverse("stats:drill"), drill)


@pytest.mark.parametrize(
    "kind, first, last",
    [
        ("day", "2024-02-29", "2024-02-29"),
        ("week", "2024-02-26", "2024-03-03"),
        ("month", "2024-02-01", "2024-02-29"),
        ("quarter", "2024-01-01", "2024-03-31"),
        ("year", "2024-01-01", "2024-12-31"),
    ],
)
def test_each_period_kind_is_the_period_containing_the_date(kind, first, last):
    period = period_of(kind, dt.date(2024, 2, 29))
    assert (period.start.isoformat(), period.end.isoformat()) == (first, last)


def test_a_category_class_counts_its_entries_and_an_entry_itself(world):
    entry = leaf_category()
    head = entry.parent
    form = FiguresForm.with_defaults(QueryDict(f"category={head.pk}"), area=world.a.government)
    assert form.is_valid(), form.errors
    query = form.query()
    entries = {str(pk) for pk in Category.objects.filter(parent=head).values_list("pk", flat=True)}
    assert query.dimension == "category" and set(query.keys) == entries | {str(head.pk)}
    assert query.scope == world.a.government
    form = FiguresForm.with_defaults(
        QueryDict(f"category={entry.pk}&period=quarter"), area=world.a.government
    )
    assert form.is_valid(), form.errors
    assert form.query().keys == (str(entry.pk),)
    assert form.query().period == period_of("quarter", timezone.localdate())
