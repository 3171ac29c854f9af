"""The system administrator's pages for the deadline rules and the holiday overrides."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from xinfang.audit.models import AuditEvent
from xinfang.workflow.calendar import package_years
from xinfang.workflow.deadlines import due_date
from xinfang.workflow.models import CalendarOverride, CalendarYear, PeriodRule, RuleProfile, Step

pytestmark = pytest.mark.django_db

UNKNOWN_YEAR = package_years()[1] + 1


def _pages() -> list[str]:
    national = RuleProfile.objects.get(is_default=True)
    return [
        reverse("workflow:rules"),
        reverse("workflow:profile_create"),
        reverse("workflow:profile_edit", args=[national.pk]),
        reverse("workflow:rule_edit", args=[national.pk, Step.DISPOSAL]),
        reverse("workflow:calendar"),
        reverse("workflow:override_create"),
    ]


def test_only_the_system_administrator_reaches_the_pages(client, world):
    """Anonymous: the login page; casework and the other administrator duties: 403; sysadmin: 200."""
    for url in _pages():
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"], url
    for user in (world.intake_a, world.supervisor_a, world.leader_a, world.secadmin, world.auditor):
        client.force_login(user)
        for url in _pages():
            assert client.get(url).status_code == 403, (user, url)
    client.force_login(world.sysadmin)
    for url in _pages():
        assert client.get(url).status_code == 200, url


def test_rules_page_lists_the_profiles_with_their_articles(client, world):
    client.force_login(world.sysadmin)
    html = client.get(reverse("workflow:rules")).content.decode()
    assert "《信访工作条例》第二十二条" in html and "《浙江省信访条例》第二十条" in html
    assert "待核实" in html  # the evaluation window is marked as unconfirmed
    assert "沿用全国默认" in html  # Zhejiang inherits the review steps


def test_sysadmin_creates_a_province_profile_and_sets_a_rule(client, world):
    # given
    client.force_login(world.sysadmin)
    # when: a profile for the test province
    response = client.post(
        reverse("workflow:profile_create"),
        {"name": "西地省", "code": "xidi", "description": "", "province": world.province.pk},
    )
    assert response.status_code == 302
    profile = RuleProfile.objects.get(code="xidi")
    # and: disposal in 5 working days
    response = client.post(
        reverse("workflow:rule_edit", args=[profile.pk, Step.DISPOSAL]),
        {"length": 5, "unit": "working_days", "roll_forward": "on", "source": "第二十条", "confirmed": "on"},
    )
    assert response.status_code == 302
    # then: deadlines in the province follow it at once
    deadline = due_date(Step.DISPOSAL, dt.date(2025, 9, 26), world.a.office)
    assert deadline.due_on == dt.date(2025, 10, 10) and deadline.rule.profile == profile
    # and: deleting the rule returns the step to the national default
    client.post(reverse("workflow:rule_edit", args=[profile.pk, Step.DISPOSAL]), {"delete": "1"})
    assert not PeriodRule.objects.filter(profile=profile).exists()
    assert due_date(Step.DISPOSAL, dt.date(2025, 9, 26), world.a.office).rule.profile.is_default
    assert AuditEvent.objects.filter(action__startswith="workflow.").count() == 3


def test_invalid_input_is_refused_with_a_message_and_nothing_changes(client, world):
    client.force_login(world.sysadmin)
    national = RuleProfile.objects.get(is_default=True)
    url = reverse("workflow:rule_edit", args=[national.pk, Step.HANDLING])
    response = client.post(url, {"length": 0, "unit": "calendar_days", "source": "x"})
    assert response.status_code == 200 and national.rules.get(step=Step.HANDLING).length == 60
    # binding a profile to a city is refused
    response = client.post(
        reverse("workflow:profile_create"), {"name": "错", "code": "wrong", "province": world.city.pk}
    )
    assert response.status_code == 200 and not RuleProfile.objects.filter(code="wrong").exists()
    # the default profile's rules cannot be deleted
    client.post(url, {"delete": "1"})
    assert national.rules.filter(step=Step.HANDLING).exists()


def test_sysadmin_enters_a_holiday_and_marks_a_year(client, world):
    client.force_login(world.sysadmin)
    response = client.post(
        reverse("workflow:override_create"), {"date": "2025-10-09", "is_working_day": "0", "note": "测试"}
    )
    assert response.status_code == 302
    assert CalendarOverride.objects.get(date=dt.date(2025, 10, 9)).is_working_day is False
    assert due_date(Step.DISPOSAL, dt.date(2025, 9, 16), None).due_on == dt.date(2025, 10, 10)
    html = client.get(reverse("workflow:calendar")).content.decode()
    assert "2025-10-09" in html
    # a year the package does not know shows as missing until marked
    assert "尚无数据" in html
    response = client.post(
        reverse("workflow:year_entered"), {"year": UNKNOWN_YEAR, "entered": "1", "note": ""}
    )
    assert response.status_code == 302 and CalendarYear.objects.filter(year=UNKNOWN_YEAR).exists()
    client.post(reverse("workflow:year_entered"), {"year": UNKNOWN_YEAR, "entered": "0"})
    assert not CalendarYear.objects.filter(year=UNKNOWN_YEAR).exists()
    # delete the override
    override = CalendarOverride.objects.get(date=dt.date(2025, 10, 9))
    client.post(reverse("workflow:override_edit", args=[override.pk]), {"delete": "1"})
    assert not CalendarOverride.objects.exists()


def test_year_marking_needs_post(client, world):
    client.force_login(world.sysadmin)
    assert client.get(reverse("workflow:year_entered")).status_code == 405
