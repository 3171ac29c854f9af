"""The backlog (积案): each criterion at its edge, the office's own rule, scope, the page, the
export and the print view, and a query count independent of the rows."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from xinfang.audit.models import AuditEvent
from xinfang.campaigns import backlog, services
from xinfang.campaigns.access import CampaignRefused
from xinfang.campaigns.models import BacklogRule

from .conftest import TODAY, overdue, petition, repeats

pytestmark = pytest.mark.django_db


def numbers(user) -> set[str]:
    return set(backlog.backlog_cases(user, TODAY).values_list("number", flat=True))


def test_overdue_by_more_than_n_days(world):
    late = overdue(world, 31)
    edge = overdue(world, 30)
    replied = petition(world, status="replied", due_on=TODAY - dt.timedelta(days=90))  # petitioner's window
    found = numbers(world.supervisor_a)
    assert late.number in found
    assert edge.number not in found and replied.number not in found


def test_repeated_more_than_n_times_within_a_year(world):
    often, twice, old = petition(world), petition(world), petition(world)
    repeats(world, often, 3)
    repeats(world, twice, 2)
    repeats(world, old, 2)
    repeats(world, old, 1, days_ago=366)  # outside the year
    found = numbers(world.supervisor_a)
    assert often.number in found
    assert twice.number not in found and old.number not in found


def test_concluded_but_still_petitioned(world):
    day = TODAY - dt.timedelta(days=20)
    again = petition(world, status="concluded", concluded_on=day)
    same_day = petition(world, status="concluded", concluded_on=day)
    repeats(world, again, 1, days_ago=19)
    repeats(world, same_day, 1, days_ago=20)
    found = numbers(world.supervisor_a)
    assert again.number in found and same_day.number not in found


def test_reasons_are_shown(world):
    late = overdue(world, 45)
    repeats(world, late, 3)
    rule = backlog.rule_for(backlog.area_of(world.supervisor_a))
    [p] = [p for p in backlog.backlog_cases(world.supervisor_a, TODAY) if p.pk == late.pk]
    reasons = backlog.reasons_of(p, rule, TODAY)
    assert reasons.codes == (backlog.OVERDUE, backlog.REPEATED)
    assert reasons.labels == ("超期45天未办结", "一年内重复信访3次")


def test_the_office_sets_its_rule_and_the_list_follows(world):
    p = overdue(world, 12)
    assert p.number not in numbers(world.supervisor_a)
    services.save_backlog_rule(
        user=world.supervisor_a,
        overdue_enabled=True,
        overdue_days=10,
        repeat_enabled=False,
        repeat_count=2,
        concluded_enabled=False,
    )
    assert BacklogRule.objects.get().organisation == world.a.government  # the office's area
    assert p.number in numbers(world.supervisor_a) and p.number in numbers(world.leader_a)
    assert AuditEvent.objects.filter(action="campaigns.rule_saved").count() == 1


def test_a_city_rule_covers_its_counties_unless_they_have_their_own(world):
    BacklogRule.objects.create(organisation=world.city, overdue_days=5)
    assert backlog.rule_for(world.a.government).overdue_days == 5
    BacklogRule.objects.create(organisation=world.a.government, overdue_days=7)
    assert backlog.rule_for(world.a.township).overdue_days == 7
    assert backlog.rule_for(world.b.government).overdue_days == 5


def test_rule_refused_and_invalid(world):
    with pytest.raises(CampaignRefused):
        services.save_backlog_rule(
            user=world.handler_a,
            overdue_enabled=True,
            overdue_days=10,
            repeat_enabled=True,
            repeat_count=2,
            concluded_enabled=True,
        )
    with pytest.raises(ValidationError) as exc:
        services.save_backlog_rule(
            user=world.supervisor_a,
            overdue_enabled=True,
            overdue_days=-1,
            repeat_enabled=True,
            repeat_count=2,
            concluded_enabled=True,
        )
    assert "overdue_days" in exc.value.message_dict


def test_scope(world):
    p = overdue(world, 40)
    assert p.number in numbers(world.city_supervisor)  # the city oversees its counties
    assert p.number not in numbers(world.intake_b)
    assert numbers(world.sysadmin) == set()


def test_page_export_and_print(client, world):
    p = overdue(world, 40)
    client.force_login(world.supervisor_a)
    html = client.get(reverse("campaigns:backlog")).content.decode()
    assert p.number in html and "超期40天未办结" in html and "未包案" in html
    response = client.get(reverse("campaigns:backlog"), {"export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[0][0] == "信访编号" and rows[1][0] == p.number and rows[1][-1] == "超期40天未办结"
    printed = client.get(reverse("campaigns:backlog"), {"print": "1"}).content.decode()
    assert p.number in printed and "mainnav" not in printed
    assert AuditEvent.objects.filter(action="campaigns.exported").count() == 2
    client.force_login(world.intake_b)
    assert p.number not in client.get(reverse("campaigns:backlog")).content.decode()


def test_rule_page(client, world):
    client.force_login(world.supervisor_a)
    url = reverse("campaigns:backlog_rule")
    assert "化解一批" in client.get(url).content.decode()
    data = {"form": "rule", "overdue_enabled": "on", "overdue_days": "abc", "repeat_count": "4"}
    html = client.post(url, data).content.decode()
    assert 'value="4"' in html  # what was typed is kept
    data["overdue_days"] = "15"
    assert client.post(url, data).status_code == 302
    assert BacklogRule.objects.get().overdue_days == 15
    assert client.post(url, {"form": "category", "name": "帮扶一批"}).status_code == 302
    client.force_login(world.handler_a)
    assert client.get(url).status_code == 403


def test_list_queries_do_not_grow_with_rows(client, world):
    client.force_login(world.supervisor_a)
    overdue(world, 40)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("campaigns:backlog"))
    for _ in range(4):
        overdue(world, 40)
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("campaigns:backlog"))
    assert len(more) == len(few)
