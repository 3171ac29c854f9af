"""承办人统计 (/staff/stats/handlers/): one unit's figures per handler from the facts, each number
equal to the length of the list behind it, the rows adding up to the unit's figures, scope, empty
state in Chinese."""

from __future__ import annotations

import datetime as dt
import io
import re
from html import unescape

from django.urls import reverse
from freezegun import freeze_time
from openpyxl import load_workbook

from xinfang.petitions.models import Petition
from xinfang.stats import figures, handlers, rollup
from xinfang.stats.figures import Period, Slice
from xinfang.workflow import appeals, services
from xinfang.workflow.engine import Citizen

from ..factories import PASSWORD, make_draft, make_staff
from ..procedure import REPLY

START = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # a Monday morning in Beijing
YEAR = Period.year(2026)
URL = reverse("stats:handlers")
ROWS = reverse("stats:handler_rows")


def _register(world):
    draft = make_draft(world.a.township, received_on=dt.date(2026, 3, 2))
    return services.register(draft=draft, office=world.a.office, actor=world.intake_a).petition.number


def _accepted(world, handler: str) -> str:
    number = _register(world)
    services.assign(user=world.intake_a, number=number, unit=world.a.department)
    services.unit_accept(user=world.handler_a, number=number)
    services.assign_handler(user=world.handler_a, number=number, staff=handler)
    return number


def _department_year(world) -> dict[str, str]:
    """County A's department, 2026: handler_a replies one petition on time (rated satisfied), which
    the office then approves (the handler is cleared); another stays with handler_a past its date;
    clerk_a holds a third, open and within its date."""
    make_staff("clerk_a", world.a.department, "handler")
    with freeze_time(START) as frozen:
        replied = _accepted(world, "handler_a")
        overdue = _accepted(world, "handler_a")
        frozen.tick(dt.timedelta(days=10))
        services.reply(user=world.handler_a, number=replied, **REPLY)
        petition = Petition.objects.get(number=replied)
        appeals.evaluate(user=Citizen(petition_id=petition.pk), number=replied,
                         office_rating="satisfied", unit_rating="basically_satisfied")  # fmt: skip
        services.approve_completion(user=world.intake_a, number=replied)
    with freeze_time(dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)):
        held = _accepted(world, "clerk_a")
    rollup.refresh()
    return {"replied": replied, "overdue": overdue, "held": held}


def _login(client, user) -> None:
    assert client.login(username=user.username, password=PASSWORD)


def _params(**extra) -> dict[str, str]:
    return {"period": "custom", "start": "2026-01-01", "end": "2026-12-31", **extra}


def test_figures_per_handler(world):
    _department_year(world)
    assert Petition.objects.filter(handler=world.handler_a).count() == 1  # cleared on approval
    table = {(r.person.username if r.person else None): r for r in handlers.table(world.a.department, YEAR)}
    mine = table["handler_a"]
    assert mine.counts["replied"] == 1
    assert (mine.counts["handling_due"], mine.counts["handling_on_time"]) == (2, 1)  # one met, one open
    assert (mine.counts["open"], mine.counts["overdue"]) == (1, 1)
    assert (mine.counts["evaluated"], mine.counts["satisfied"]) == (1, 1)
    assert (mine.on_time_rate, mine.satisfaction_rate) == ("50.0%", "100.0%")
    clerk = table["clerk_a"]
    assert (clerk.counts["open"], clerk.counts["overdue"], clerk.counts["handling_due"]) == (1, 0, 0)
    assert clerk.on_time_rate == "—"


def test_rows_add_up_to_the_units_figures(world):
    _department_year(world)
    rows = handlers.table(world.a.department, YEAR)
    totals = handlers.totals(rows)
    names = ["handling_due", "handling_on_time", "replied", "unit_evaluated", "unit_satisfied"]
    unit = figures.counts(names, YEAR, Slice(scope=world.a.department.path))[None]
    assert totals["handling_due"] == unit["handling_due"] == 2
    assert totals["handling_on_time"] == unit["handling_on_time"]
    assert totals["replied"] == unit["replied"]
    assert totals["evaluated"] == unit["unit_evaluated"]
    assert totals["satisfied"] == unit["unit_satisfied"]


def test_every_number_links_to_a_list_of_that_length(client, world):
    _department_year(world)
    _login(client, world.supervisor_a)
    response = client.get(URL, _params(scope=world.a.department.pk))
    html = response.content.decode()
    links = re.findall(r'<a class="fig" href="([^"]+)">(\d+)</a>', html)
    assert len(links) >= 8
    for href, shown in links:
        page = client.get(unescape(href))
        assert page.status_code == 200, href
        count = re.search(r'id="rows-summary">共 (\d+) 项', page.content.decode()).group(1)
        assert count == shown, href
    # the overdue list is the petition still with handler_a
    person = world.handler_a.pk
    overdue = client.get(ROWS, {"column": "overdue", "person": person, "start": "2026-01-01",
                                "end": "2026-12-31", "scope": world.a.department.pk})  # fmt: skip
    assert overdue.status_code == 200


def test_handler_sees_their_own_unit_and_not_another(client, world):
    _department_year(world)
    _login(client, world.handler_a)
    html = client.get(URL, _params()).content.decode()
    assert "handler_a" in html and "clerk_a" in html
    for other in (world.b.department, world.a.government):
        assert client.get(URL, _params(scope=other.pk)).status_code == 403
        rows = client.get(ROWS, {"column": "open", "person": world.handler_b.pk, "start": "2026-01-01",
                                 "end": "2026-12-31", "scope": other.pk})  # fmt: skip
        assert rows.status_code == 403 and "不在您的辖区内" in rows.content.decode()


def test_invalid_row_parameters_are_explained(client, world):
    _login(client, world.supervisor_a)
    response = client.get(ROWS, {"column": "nonsense"})
    assert response.status_code == 400 and "参数有误" in response.content.decode()


def test_empty_unit_says_what_to_do(client, world):
    _login(client, world.supervisor_a)
    html = client.get(URL, _params(scope=world.a.township.pk)).content.decode()
    assert 'id="handlers-empty"' in html and "承办人" in html


def test_xlsx_matches_the_table(client, world):
    _department_year(world)
    _login(client, world.supervisor_a)
    response = client.get(URL, _params(scope=world.a.department.pk, format="xlsx"))
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    header, *body = rows
    assert header[0] == "承办人" and "按期办结率" in header
    by_name = {row[0]: row for row in body}
    assert by_name["handler_a"][header.index("本期答复")] == 1
    assert by_name["handler_a"][header.index("按期办结率")] == "50.0%"


def test_queries_bounded(client, world, django_assert_max_num_queries):
    _department_year(world)
    _login(client, world.supervisor_a)
    client.get(URL, _params(scope=world.a.department.pk))
    with django_assert_max_num_queries(30) as first:
        client.get(URL, _params(scope=world.a.department.pk))
    with freeze_time(START):
        for _ in range(4):
            _accepted(world, "handler_a")
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get(URL, _params(scope=world.a.department.pk))
