"""Screening rounds: issued to the units of the area, each unit reports (disputes found or a zero
report), late units and pending returns appear on the workbench."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from xinfang.audit.models import AuditEvent
from xinfang.core import worklists
from xinfang.notifications.models import Notification
from xinfang.screening import panels, services
from xinfang.screening.models import RoundReturn, ScreeningRound

from ..factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def town_staff(world):
    return make_staff("town_clerk", world.a.township, "handler")


@pytest.fixture
def issued(world, today, town_staff):
    return services.issue_round(
        actor=world.supervisor_a, title="12月矛盾纠纷排查", period_start=today.replace(day=1),
        period_end=today, due_on=today + dt.timedelta(days=3),
    )  # fmt: skip


def test_a_round_asks_every_unit_of_the_area(world, issued, town_staff):
    units = set(issued.returns.values_list("unit_id", flat=True))
    assert units == {world.a.township.pk, world.a.department.pk}
    assert Notification.objects.filter(user=town_staff, kind="screening_round").exists()
    assert AuditEvent.objects.filter(action="screening.round_issued").exists()


def test_only_an_office_supervisor_or_leader_issues(world, today):
    for user in (world.handler_a, world.intake_a, world.leader_a):
        with pytest.raises(services.ScreeningRefused):
            services.issue_round(actor=user, title="x", period_start=today, period_end=today, due_on=today)
    with pytest.raises(ValidationError) as exc:
        yesterday = today - dt.timedelta(days=1)
        services.issue_round(
            actor=world.supervisor_a, title="", period_start=today, period_end=yesterday, due_on=yesterday
        )
    assert set(exc.value.message_dict) == {"title", "period_end", "due_on"}


def test_a_unit_reports_its_disputes_or_a_zero_report(world, issued, town_staff, make_dispute):
    township_return = issued.returns.get(unit=world.a.township)
    with pytest.raises(services.ScreeningRefused):
        services.complete_return(actor=world.handler_a, round_return=township_return, zero=True)
    with pytest.raises(ValidationError):
        services.complete_return(actor=town_staff, round_return=township_return)
    found = make_dispute(source="round", round=issued)
    foreign = make_dispute(organisation=world.a.department)
    with pytest.raises(ValidationError) as exc:
        services.complete_return(
            actor=town_staff, round_return=township_return, dispute_numbers=[foreign.number]
        )
    assert foreign.number in exc.value.message_dict["disputes"][0]
    ret = services.complete_return(
        actor=town_staff, round_return=township_return, dispute_numbers=[found.number]
    )
    assert ret.disputes_found == 1 and ret.on_time and list(ret.disputes.all()) == [found]
    dept = services.complete_return(
        actor=world.handler_a, round_return=issued.returns.get(unit=world.a.department), zero=True
    )
    assert dept.is_zero and dept.disputes_found == 0


def test_overdue_returns_appear_on_the_workbench(client, world, issued, town_staff):
    today = timezone.localdate()
    later = today + dt.timedelta(days=5)
    [mine] = [p for p in panels.provider(town_staff, later) if p.key == "screening-returns"]
    assert mine.count == 1 and mine.alert and mine.items[0].title == "12月矛盾纠纷排查"
    [late] = [p for p in panels.provider(world.supervisor_a, later) if p.key == "screening-late-units"]
    assert late.count == 2 and {i.title for i in late.items} == {
        world.a.township.name,
        world.a.department.name,
    }
    assert not [p for p in panels.provider(world.supervisor_a, today) if p.key == "screening-late-units"]
    assert not panels.provider(world.intake_b, later)
    # registered: the workbench shows it
    assert "screening" in worklists._PROVIDERS
    ScreeningRound.objects.filter(pk=issued.pk).update(due_on=today - dt.timedelta(days=1))
    client.force_login(town_staff)
    html = client.get(reverse("workbench:home")).content.decode()
    assert 'id="panel-screening-returns"' in html


def test_panels_read_in_a_fixed_number_of_queries(world, issued, town_staff, django_assert_max_num_queries):
    later = timezone.localdate() + dt.timedelta(days=5)
    with django_assert_max_num_queries(8):
        panels.provider(world.supervisor_a, later)


def test_round_pages_and_return_form(client, world, issued, town_staff, make_dispute):
    ret = issued.returns.get(unit=world.a.township)
    client.force_login(town_staff)
    assert issued.title in client.get(reverse("screening:rounds")).content.decode()
    html = client.get(reverse("screening:return", args=[ret.pk])).content.decode()
    assert "零报告" in html
    response = client.post(
        reverse("screening:return", args=[ret.pk]), {"disputes": "JF-NOPE", "note": "已排查"}
    )
    assert "JF-NOPE" in response.content.decode()
    response = client.post(reverse("screening:return", args=[ret.pk]), {"zero": "on", "note": "本月无"})
    assert response.status_code == 302
    ret.refresh_from_db()
    assert ret.is_zero and ret.completed_at is not None
    other = issued.returns.get(unit=world.a.department)
    assert client.get(reverse("screening:return", args=[other.pk])).status_code == 404
    client.force_login(world.intake_b)
    assert client.get(reverse("screening:round", args=[issued.pk])).status_code == 404
    client.force_login(world.supervisor_a)
    html = client.get(reverse("screening:returns"), {"issued": "1", "pending": "1"}).content.decode()
    assert world.a.department.name in html
    assert client.get(reverse("screening:returns"), {"issued": "1", "format": "xlsx"}).status_code == 200
    assert RoundReturn.objects.filter(round=issued).count() == 2
