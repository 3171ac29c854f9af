"""Due dates from the seeded rules, on real dates; profiles chosen by province; extension and pauses."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from freezegun import freeze_time

from xinfang.audit.models import AuditEvent
from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.services import create_organisation
from xinfang.workflow import deadlines
from xinfang.workflow.calendar import package_years, save_calendar_override, set_year_entered
from xinfang.workflow.deadlines import (
    MissingRule,
    days_left,
    deadline_light,
    due_date,
    extend,
    paused_days_between,
    profile_for,
    resume,
    rule_for,
    save_period_rule,
    save_rule_profile,
)
from xinfang.workflow.models import PeriodRule, PeriodUnit, RuleProfile, Step

D = dt.date
UNKNOWN_YEAR = package_years()[1] + 1

pytestmark = pytest.mark.django_db


# --- the seeded national profile -----------------------------------------------------------------


def test_the_national_profile_is_seeded_with_every_step():
    """Migration 0002: one default profile with a rule for each step, numbers from the 条例."""
    national = RuleProfile.objects.get(is_default=True)
    assert national.code == "national-2022"
    rules = {r.step: (r.length, r.unit, r.source) for r in national.rules.all()}
    assert set(rules) == set(Step.values)
    assert rules["disposal"] == (15, "calendar_days", "《信访工作条例》第二十二条")
    assert rules["objection"][:2] == (5, "working_days")
    assert rules["handling"][:2] == (60, "calendar_days") and rules["extension"][:2] == (30, "calendar_days")
    assert all(rules[s][0] == 30 for s in ("review_request", "review", "recheck_request", "recheck"))
    # the evaluation window is an assumption and says so
    assert not national.rules.get(step="evaluation").confirmed


def test_the_zhejiang_profile_is_seeded_unbound_with_its_own_steps_only():
    zhejiang = RuleProfile.objects.get(code="zhejiang-2016")
    assert zhejiang.province is None and not zhejiang.is_default
    rules = {r.step: (r.length, r.unit) for r in zhejiang.rules.all()}
    assert rules == {
        "disposal": (5, "working_days"),
        "unit_acceptance": (5, "working_days"),
        "handling": (30, "calendar_days"),
        "extension": (60, "calendar_days"),
    }


def test_disposal_ending_on_national_day_moves_to_the_first_working_day():
    """Received 16 Sep 2025: day 15 is 1 Oct (National Day) → due Thursday 9 Oct 2025 (民法典 Art. 203)."""
    # when
    deadline = due_date(Step.DISPOSAL, D(2025, 9, 16), None)
    # then
    assert deadline.nominal_end == D(2025, 10, 1)
    assert deadline.due_on == D(2025, 10, 9)
    assert deadline.rule.source == "《信访工作条例》第二十二条" and deadline.warnings == []


def test_the_trigger_day_is_not_counted():
    """Received Monday 3 Nov 2025: 15 days end on Tuesday 18 Nov, not on the 17th."""
    assert due_date(Step.DISPOSAL, D(2025, 11, 3), None).due_on == D(2025, 11, 18)


def test_a_period_ending_on_a_worked_sunday_does_not_move():
    """13 Sep 2025 + 15 days = Sunday 28 Sep 2025, a 调休 working day: it stays."""
    assert due_date(Step.DISPOSAL, D(2025, 9, 13), None).due_on == D(2025, 9, 28)


def test_a_period_ending_on_an_ordinary_saturday_moves_to_monday():
    assert due_date(Step.DISPOSAL, D(2025, 11, 7), None).due_on == D(2025, 11, 24)


def test_a_period_ending_in_spring_festival_moves_past_it():
    """1 Feb 2026 + 15 = 16 Feb (除夕); the holiday lasts to 23 Feb → due Tuesday 24 Feb 2026."""
    assert due_date(Step.DISPOSAL, D(2026, 2, 1), None).due_on == D(2026, 2, 24)


def test_objection_counts_working_days_including_a_worked_sunday():
    """Received Friday 26 Sep 2025: Sun 28 (调休), Mon 29, Tue 30, [1–8 Oct off], Thu 9, Fri 10 Oct."""
    deadline = due_date(Step.OBJECTION, D(2025, 9, 26), None)
    assert deadline.due_on == D(2025, 10, 10)
    assert deadline.rule.unit == PeriodUnit.WORKING_DAYS


def test_objection_across_spring_festival_2026_counts_the_worked_saturday():
    assert due_date(Step.OBJECTION, D(2026, 2, 12), None).due_on == D(2026, 2, 26)


def test_a_trigger_given_as_an_aware_datetime_counts_from_its_local_day():
    """23:30 UTC on 15 Sep is 07:30 on 16 Sep in Beijing: the clock starts from the 16th."""
    received = dt.datetime(2025, 9, 15, 23, 30, tzinfo=dt.UTC)
    assert timezone.localdate(received) == D(2025, 9, 16)
    assert due_date(Step.DISPOSAL, received, None).due_on == D(2025, 10, 9)


# --- overrides and years without data ------------------------------------------------------------


def test_an_override_moves_a_deadline(world):
    """The administrator declares 9 Oct 2025 a holiday: the disposal deadline moves to the 10th."""
    save_calendar_override(actor=world.sysadmin, date=D(2025, 10, 9), is_working_day=False)
    assert due_date(Step.DISPOSAL, D(2025, 9, 16), None).due_on == D(2025, 10, 10)


def test_a_deadline_in_a_year_without_holiday_data_carries_a_warning(world):
    """Handling from 1 Dec of the last known year ends in the next one, which the package does not know."""
    # given
    start = D(UNKNOWN_YEAR - 1, 12, 1)
    # when
    deadline = due_date(Step.HANDLING, start, world.a.department)
    # then
    assert deadline.due_on.year == UNKNOWN_YEAR
    assert len(deadline.warnings) == 1 and f"{UNKNOWN_YEAR}年" in deadline.warnings[0]
    assert "尚无数据" in deadline.warnings[0]
    # a deadline wholly inside known years carries none
    assert due_date(Step.HANDLING, D(UNKNOWN_YEAR - 1, 6, 1), world.a.department).warnings == []


def test_working_days_through_an_unknown_year_warn_even_if_they_end_in_a_known_one():
    """Warnings cover every year consulted: a working-day period started before 2004 and ending in it."""
    deadline = due_date(Step.OBJECTION, D(2003, 12, 29), None)
    assert deadline.due_on.year == 2004 and any("2003年" in w for w in deadline.warnings)


def test_entering_a_year_by_hand_removes_the_warning(world):
    # given: the administrator enters the New Year holiday and marks the year entered
    save_calendar_override(
        actor=world.sysadmin, date=D(UNKNOWN_YEAR, 1, 1), is_working_day=False, note="元旦"
    )
    set_year_entered(actor=world.sysadmin, year=UNKNOWN_YEAR, entered=True)
    # when
    deadline = due_date(Step.DISPOSAL, D(UNKNOWN_YEAR - 1, 12, 17), None)
    # then: 17 Dec + 15 = 1 Jan, a holiday by override; the next working day carries no warning
    assert deadline.nominal_end == D(UNKNOWN_YEAR, 1, 1)
    assert deadline.due_on > D(UNKNOWN_YEAR, 1, 1) and deadline.warnings == []


def test_a_rule_that_does_not_roll_forward_may_end_on_a_holiday(world):
    national = RuleProfile.objects.get(is_default=True)
    rule = national.rules.get(step=Step.DISPOSAL)
    save_period_rule(
        actor=world.sysadmin,
        profile=national,
        step=Step.DISPOSAL,
        length=rule.length,
        unit=rule.unit,
        source=rule.source,
        roll_forward=False,
    )
    assert due_date(Step.DISPOSAL, D(2025, 9, 16), None).due_on == D(2025, 10, 1)


# --- profiles by province ------------------------------------------------------------------------


@pytest.fixture
def xidi_profile(world) -> RuleProfile:
    """A Zhejiang-like profile bound to the test province 西地省: disposal in 5 working days,
    handling 30 days extendable by 60; every other step inherits the national default."""
    profile = save_rule_profile(
        actor=world.sysadmin, name="西地省信访条例", code="xidi", province=world.province, description="测试"
    )
    save_period_rule(
        actor=world.sysadmin,
        profile=profile,
        step=Step.DISPOSAL,
        length=5,
        unit=PeriodUnit.WORKING_DAYS,
        source="《西地省信访条例》第二十条",
    )
    save_period_rule(
        actor=world.sysadmin,
        profile=profile,
        step=Step.HANDLING,
        length=30,
        unit="calendar_days",
        source="第二十三条",
    )
    save_period_rule(
        actor=world.sysadmin,
        profile=profile,
        step=Step.EXTENSION,
        length=60,
        unit="calendar_days",
        source="第二十三条",
    )
    return profile


def test_the_province_profile_applies_to_everything_below_the_province(world, xidi_profile):
    """Township, county office, county department, city and the province itself all use it."""
    for org in (world.a.township, world.a.office, world.a.department, world.city, world.province):
        assert profile_for(org) == xidi_profile
    deadline = due_date(Step.DISPOSAL, D(2025, 9, 26), world.a.office)
    assert deadline.due_on == D(2025, 10, 10)  # 5 working days, the worked Sunday included
    assert deadline.rule.profile == xidi_profile


def test_steps_the_province_does_not_set_come_from_the_national_default(world, xidi_profile):
    rule = rule_for(Step.REVIEW, world.a.department)
    assert rule.profile.is_default and rule.length == 30


def test_organisations_elsewhere_use_the_national_default(world, xidi_profile):
    other = create_organisation(
        name="东地省", kind=OrganisationKind.GOVERNMENT, level=Level.PROVINCE, code="980000"
    )
    assert profile_for(other).is_default
    assert profile_for(None).is_default
    assert due_date(Step.DISPOSAL, D(2025, 9, 26), other).due_on == D(2025, 10, 11)  # 15 calendar days


def test_binding_the_seeded_zhejiang_profile_to_a_province(world):
    """The seeded Zhejiang rules take effect once bound to the province's organisation."""
    zhejiang = RuleProfile.objects.get(code="zhejiang-2016")
    save_rule_profile(
        actor=world.sysadmin,
        profile=zhejiang,
        name=zhejiang.name,
        code=zhejiang.code,
        description=zhejiang.description,
        province=world.province,
    )
    handling = due_date(Step.HANDLING, D(2025, 11, 3), world.a.department)
    assert handling.due_on == D(2025, 12, 3)  # 30 days
    assert extend(handling, organisation=world.a.department).due_on == D(2026, 2, 2)  # + 60 (Sun 1 Feb → Mon)
    assert due_date(Step.OBJECTION, D(2025, 9, 26), world.a.department).rule.profile.is_default


def test_a_profile_can_only_be_bound_to_a_province_level_area(world):
    for wrong in (world.city, world.a.office):
        with pytest.raises(ValidationError) as exc:
            save_rule_profile(actor=world.sysadmin, name="错", code=f"wrong-{wrong.pk}", province=wrong)
        assert "province" in exc.value.message_dict
    assert not RuleProfile.objects.filter(code__startswith="wrong-").exists()


def test_one_profile_per_province_and_the_default_stays_unbound(world, xidi_profile):
    with pytest.raises(ValidationError):
        save_rule_profile(actor=world.sysadmin, name="第二套", code="second", province=world.province)
    national = RuleProfile.objects.get(is_default=True)
    with pytest.raises(ValidationError):
        save_rule_profile(
            actor=world.sysadmin,
            profile=national,
            name=national.name,
            code=national.code,
            province=world.province,
        )


def test_rule_edits_are_audited_and_the_default_rules_cannot_be_deleted(world, xidi_profile):
    assert AuditEvent.objects.filter(action="workflow.profile.create").count() == 1
    assert AuditEvent.objects.filter(action="workflow.rule.create").count() == 3
    own = xidi_profile.rules.get(step=Step.DISPOSAL)
    deadlines.delete_period_rule(actor=world.sysadmin, rule=own)
    assert rule_for(Step.DISPOSAL, world.a.office).profile.is_default  # inherits again
    default_rule = PeriodRule.objects.get(profile__is_default=True, step=Step.DISPOSAL)
    with pytest.raises(ValidationError):
        deadlines.delete_period_rule(actor=world.sysadmin, rule=default_rule)
    assert PeriodRule.objects.filter(pk=default_rule.pk).exists()


def test_a_missing_default_profile_is_a_clear_configuration_error():
    RuleProfile.objects.all().delete()
    with pytest.raises(MissingRule, match="migrations"):
        due_date(Step.DISPOSAL, D(2025, 1, 2), None)


# --- extension -----------------------------------------------------------------------------------


def test_extension_adds_at_most_thirty_days_from_the_end_of_handling():
    """Accepted 3 Nov 2025: day 60 is 2 Jan 2026 (New Year holiday) → due Sunday 4 Jan, a 调休 working day.
    Extended by the full 30 days from day 60 (issue #7 point 11, not from the shifted 4 Jan): Sunday
    1 Feb, moved to Monday 2 Feb 2026; by 10 days: Monday 12 Jan."""
    handling = due_date(Step.HANDLING, D(2025, 11, 3), None)
    assert (handling.nominal_end, handling.due_on) == (D(2026, 1, 2), D(2026, 1, 4))
    assert extend(handling, organisation=None).due_on == D(2026, 2, 2)
    assert extend(handling, organisation=None, days=10).due_on == D(2026, 1, 12)
    for too_long in (31, 0):
        with pytest.raises(ValidationError) as exc:
            extend(handling, organisation=None, days=too_long)
        assert exc.value.code == "extension_too_long"


# --- pausing for a hearing -----------------------------------------------------------------------


def test_a_hearing_pauses_the_recheck_clock_for_exactly_its_days():
    """Recheck request received 1 Sep 2025: due 1 Oct → 9 Oct.  A hearing on 10–12 Sep (paused on the
    10th, resumed on the 13th) adds 3 days: 4 Oct, still the holiday → 9 Oct; a longer pause shows it."""
    deadline = due_date(Step.RECHECK, D(2025, 9, 1), None)
    assert (deadline.nominal_end, deadline.due_on) == (D(2025, 10, 1), D(2025, 10, 9))
    after = resume(deadline, paused_on=D(2025, 9, 10), resumed_on=D(2025, 9, 13))
    assert after.paused_days == 3 and after.nominal_end == D(2025, 10, 4)
    later = resume(after, paused_on=D(2025, 9, 20), resumed_on=D(2025, 9, 30))
    assert (
        later.paused_days == 13 and later.nominal_end == D(2025, 10, 14) and later.due_on == D(2025, 10, 14)
    )
    # the same through the argument
    assert due_date(Step.RECHECK, D(2025, 9, 1), None, paused_days=13).due_on == later.due_on


def test_paused_days_are_counted_in_the_rule_unit():
    # Fri 26 Sep to Thu 9 Oct 2025 (resumed on the 9th): Sun 28, Mon 29, Tue 30 are working days
    assert paused_days_between(D(2025, 9, 26), D(2025, 10, 9), unit=PeriodUnit.WORKING_DAYS) == 4
    assert paused_days_between(D(2025, 9, 26), D(2025, 10, 9), unit=PeriodUnit.CALENDAR_DAYS) == 13
    with pytest.raises(ValueError):
        paused_days_between(D(2025, 9, 26), D(2025, 9, 25), unit=PeriodUnit.CALENDAR_DAYS)


def test_a_clock_cannot_be_paused_before_it_started():
    deadline = due_date(Step.RECHECK, D(2025, 9, 1), None)
    with pytest.raises(ValueError):
        resume(deadline, paused_on=D(2025, 9, 1), resumed_on=D(2025, 9, 3))


# --- days left and the traffic light -------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "left", "light"),
    [
        (D(2025, 10, 1), 8, "green"),
        (D(2025, 10, 5), 4, "green"),
        (D(2025, 10, 6), 3, "yellow"),
        (D(2025, 10, 9), 0, "yellow"),  # due today: still in time
        (D(2025, 10, 10), -1, "red"),
    ],
)
def test_days_left_and_the_light(today, left, light):
    due = D(2025, 10, 9)
    assert days_left(due, today) == left
    assert deadline_light(due, today) == light


def test_the_light_without_a_deadline_and_with_the_local_date():
    assert deadline_light(None) == "none"
    with freeze_time("2025-10-07 20:00:00"):  # 04:00 on the 8th in Beijing
        assert days_left(D(2025, 10, 9)) == 1
        deadline = due_date(Step.DISPOSAL, D(2025, 9, 16), None)
        assert deadline.days_left() == 1 and deadline.light() == "yellow"
