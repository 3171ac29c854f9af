"""时限违规 (/staff/stats/violations/): the missed deadlines of a scope and period, per unit and
listed; the list's count is the ``deadlines_missed`` figure; a unit sees only its own; XLSX, print,
empty state in Chinese, a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time
from openpyxl import load_workbook

from xinfang.stats import figures, rollup, violations
from xinfang.stats.figures import Period, Slice
from xinfang.supervision import services as supervision
from xinfang.supervision.models import NoticeKind
from xinfang.workflow import services
from xinfang.workflow.models import DeadlineKind, DeadlineOutcome, DeadlineRecord

from ..factories import PASSWORD, make_draft
from ..procedure import REPLY

START = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # a Monday morning in Beijing
YEAR = Period.year(2026)
URL = reverse("stats:violations")


def register(office, clerk, locality, **overrides):
    """Registered as the pages register (the disposal clock started as a record)."""
    return services.register(draft=make_draft(locality, **overrides), office=office, actor=clerk)


def _late_county_a(world) -> dict[str, str]:
    """In March: one petition assigned late (the office's disposal deadline missed), accepted, a
    supervision notice answered late, replied on time; a second left unassigned (disposal still
    open and overdue); county B: one petition handled on time throughout."""
    with freeze_time(START) as frozen:
        late = register(world.a.office, world.intake_a, world.a.township, received_on=dt.date(2026, 3, 2))
        idle = register(world.a.office, world.intake_a, world.a.township, received_on=dt.date(2026, 3, 2))
        fine = register(world.b.office, world.intake_b, world.b.township, received_on=dt.date(2026, 3, 2))
        services.assign(user=world.intake_b, number=fine.petition.number, unit=world.b.department)
        services.unit_accept(user=world.handler_b, number=fine.petition.number)
        services.reply(user=world.handler_b, number=fine.petition.number, **REPLY)
        frozen.tick(dt.timedelta(days=30))
        number = late.petition.number
        services.assign(user=world.intake_a, number=number, unit=world.a.department)
        services.unit_accept(user=world.handler_a, number=number)
        supervision.supervise(user=world.supervisor_a, number=number, kind=NoticeKind.URGE,
                              requirements="请加快办理。", respond_by=dt.date(2026, 4, 3))  # fmt: skip
        frozen.tick(dt.timedelta(days=5))
        supervision.answer_supervision(user=world.handler_a, number=number, text="已约谈用人单位。")
        services.reply(user=world.handler_a, number=number, **REPLY)
    rollup.refresh()
    return {"late": number, "idle": idle.petition.number, "fine": fine.petition.number}


def _login(client, user) -> None:
    assert client.login(username=user.username, password=PASSWORD)


def _params(**extra) -> dict[str, str]:
    return {"period": "custom", "start": "2026-01-01", "end": "2026-12-31", **extra}


def test_missed_deadlines_are_late_or_still_open_past_their_date(world):
    numbers = _late_county_a(world)
    records = violations.missed(world.a.government.path, YEAR)
    found = sorted((r.petition.number, r.kind, r.outcome) for r in records)
    assert found == [
        (numbers["late"], DeadlineKind.DISPOSAL, DeadlineOutcome.LATE),
        (numbers["late"], DeadlineKind.SUPERVISION, DeadlineOutcome.LATE),
        (numbers["idle"], DeadlineKind.DISPOSAL, ""),
    ]
    assert not violations.missed(world.b.government.path, YEAR).exists()
    units = violations.per_unit(records)
    assert [(u.organisation, u.total, u.by_kind) for u in units] == [
        (world.a.office, 2, {DeadlineKind.DISPOSAL: 2}),
        (world.a.department, 1, {DeadlineKind.SUPERVISION: 1}),
    ]


@pytest.mark.parametrize("scope", ["city", "a_gov", "a_dept", "b_gov", "a_office"])
def test_the_list_agrees_with_the_deadlines_missed_figure(world, scope):
    _late_county_a(world)
    path = {
        "city": world.city.path, "a_gov": world.a.government.path, "a_dept": world.a.department.path,
        "b_gov": world.b.government.path, "a_office": world.a.office.path,
    }[scope]  # fmt: skip
    for period in (
        YEAR,
        Period.month(2026, 3),
        Period.month(2026, 4),
        Period(dt.date(2026, 3, 10), dt.date(2026, 4, 20)),
    ):
        figure = figures.counts(["deadlines_missed"], period, Slice(scope=path))[None].get(
            "deadlines_missed", 0
        )
        listed = violations.missed(path, period)
        assert listed.count() == figure, (scope, period)
        assert (
            figures.drill_total(
                "deadlines_missed", figures.drill("deadlines_missed", period, Slice(scope=path))
            )
            == figure
        )
        assert sum(u.total for u in violations.per_unit(listed)) == figure


def test_a_deadline_due_today_is_not_yet_missed(world):
    today = timezone.localdate()
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    record = DeadlineRecord.objects.get(petition=petition)
    DeadlineRecord.objects.filter(pk=record.pk).update(due_on=today)
    assert not violations.missed(
        world.a.government.path, Period(today - dt.timedelta(days=5), today)
    ).exists()
    DeadlineRecord.objects.filter(pk=record.pk).update(due_on=today - dt.timedelta(days=1))
    assert (
        violations.missed(world.a.government.path, Period(today - dt.timedelta(days=5), today)).count() == 1
    )


def test_page_shows_units_and_records_with_the_figures_count(client, world):
    numbers = _late_county_a(world)
    _login(client, world.supervisor_a)
    response = client.get(URL, _params())
    assert response.status_code == 200
    html = response.content.decode()
    assert "甲县信访局" in html and "甲县人社局" in html
    assert 'id="records-count">共 3 项' in html
    assert numbers["late"] in html and numbers["idle"] in html and numbers["fine"] not in html
    assert "督办反馈" in html and "超期完成" in html and "逾期未完成" in html
    assert "data-print" in html and "figures.css" in html
    # the per-kind link narrows the list to that kind
    response = client.get(URL, _params(kind=DeadlineKind.SUPERVISION))
    assert 'id="records-count">共 1 项' in response.content.decode()


def test_city_supervisor_sees_both_counties_and_may_pick_one(client, world):
    _late_county_a(world)
    _login(client, world.city_supervisor)
    html = client.get(URL, _params()).content.decode()
    assert 'id="records-count">共 3 项' in html
    html = client.get(URL, _params(scope=world.b.government.pk)).content.decode()
    assert 'id="violations-empty"' in html and "没有时限违规" in html


def test_a_unit_sees_only_its_own(client, world):
    _late_county_a(world)
    _login(client, world.handler_a)  # 甲县人社局
    html = client.get(URL, _params()).content.decode()
    assert 'id="records-count">共 1 项' in html and "甲县信访局" not in html
    # another unit, or the county above: refused
    for other in (world.b.department, world.a.office, world.a.government):
        response = client.get(URL, _params(scope=other.pk))
        assert response.status_code == 403, other
        assert "不在您的辖区内" in response.content.decode()
    _login(client, world.handler_b)
    html = client.get(URL, _params()).content.decode()
    assert "没有时限违规" in html


def test_roles(client, world):
    for user in (world.intake_a, world.sysadmin, world.auditor):
        _login(client, user)
        assert client.get(URL).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302  # the login page


def test_invalid_filters_are_explained_in_chinese(client, world):
    _login(client, world.supervisor_a)
    response = client.get(URL, {"period": "custom", "start": "2026-05-01", "end": "2026-04-01"})
    assert response.status_code == 200
    assert "截止日期不能早于起始日期" in response.content.decode()


def test_xlsx_has_the_same_rows_and_unit_totals(client, world):
    numbers = _late_county_a(world)
    _login(client, world.supervisor_a)
    response = client.get(URL, _params(format="xlsx"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("单位", "信访编号", "时限类别")
    assert sorted(row[1] for row in values[1:]) == sorted([numbers["late"], numbers["late"], numbers["idle"]])
    assert {row[7] for row in values[1:]} == {"超期完成", "逾期未完成"}
    response = client.get(URL, _params(format="xlsx", table="units"))
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[1][:2] == ("甲县信访局", 2) and rows[-1][:2] == ("合计", 3)
    from xinfang.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="petition.export", data__section="stats.violations").exists()


def test_a_petition_hidden_from_the_viewer_is_listed_without_its_number(client, world):
    numbers = _late_county_a(world)
    from xinfang.petitions.models import Recusal

    petition = DeadlineRecord.objects.filter(outcome="").get().petition
    Recusal.objects.create(
        petition=petition, user=world.supervisor_a, reason="亲属关系", decided_by=world.leader_a
    )
    _login(client, world.supervisor_a)
    html = client.get(URL, _params()).content.decode()
    assert 'id="records-count">共 3 项' in html  # still counted: the list is the evidence
    assert numbers["idle"] not in html and "保密或回避" in html


def test_queries_do_not_grow_with_the_records(client, world, django_assert_max_num_queries):
    _late_county_a(world)
    _login(client, world.city_supervisor)
    client.get(URL, _params())  # warm the session and caches
    with django_assert_max_num_queries(30) as first:
        client.get(URL, _params())
    with freeze_time(START):
        for _ in range(6):
            register(world.a.office, world.intake_a, world.a.township, received_on=dt.date(2026, 3, 2))
    assert violations.missed(world.city.path, YEAR).count() == 9
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get(URL, _params())


def test_a_period_not_yet_begun_says_so(client, world):
    _login(client, world.supervisor_a)
    today = timezone.localdate()
    response = client.get(URL, {"period": "day", "day": today.isoformat()})
    assert "本期还没有届满的时限" in response.content.decode()
