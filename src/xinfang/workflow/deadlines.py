"""Every due date of the procedure, computed from the event that starts it.

The lengths are data (``RuleProfile`` / ``PeriodRule``, one profile per jurisdiction); this module
only counts.  Counting follows the rules for periods of the 民法典 (Arts. 201, 203; domain.md §1.2),
which the 《信访工作条例》 does not restate:

* the day of the triggering event is not counted: a 15-day period started on 1 March ends on 16 March;
* a period in (calendar) days whose last day is a public holiday or a rest day ends on the next working
  day (Art. 203 ¶1) — unless the rule says otherwise (``PeriodRule.roll_forward``);
* a period in working days (条例 Art. 23 ¶3 “5个工作日”; Zhejiang's regulation) counts only working days:
  weekends and public holidays are skipped, 调休 Saturdays and Sundays are counted;
* days on which the clock is paused (a 复核 hearing, Art. 36) are added to the period exactly, in the
  period's own unit.

Usage by the workflow transitions (which store the result on the petition, STYLE.md rule 13)::

    deadline = due_date(Step.HANDLING, accepted_on, unit_organisation)
    petition.due_on = deadline.due_on          # deadline.warnings: show them
    later = extend(deadline, organisation=unit_organisation, days=30)
    after_hearing = resume(deadline, paused_on=hearing_start, resumed_on=day_after_hearing)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinfang.audit.services import record_event
from xinfang.core.caching import ProcessCache
from xinfang.organisations.models import Organisation
from xinfang.petitions.choices import STAFF_DEADLINE_STATUSES

from .calendar import LegalCalendar, get_calendar, missing_year_warning
from .models import PeriodRule, PeriodUnit, RuleProfile, Step

# Issue #3: the light turns yellow when 3 days or fewer are left, red once the due date has passed.
YELLOW_DAYS = 3
# Another process may use the old rules this long after an administrator changed them.
CACHE_SECONDS = 60

Light = Literal["green", "yellow", "red", "none"]


class MissingRule(ImproperlyConfigured):
    """No rule for a step, neither in the organisation's profile nor in the default one.

    Migration 0002 seeds every step into the default profile and the services refuse to delete a
    default rule, so this means the database was emptied (a transactional test's flush, for one).
    """


# --- the result ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """A computed due date with how it was obtained.

    ``nominal_end`` is the last day of the period as counted, ``due_on`` the day it really ends (later
    when the nominal end is a rest day and the rule moves it).  ``warnings`` are shown with the date
    (in the active language, Chinese by default), e.g. when a year without holiday data was used.
    """

    step: str
    start: dt.date
    due_on: dt.date
    rule: PeriodRule
    length: int
    nominal_end: dt.date
    paused_days: int = 0
    warnings: list[str] = field(default_factory=list)

    def days_left(self, today: dt.date | None = None) -> int:
        """Calendar days from ``today`` to the due date (negative when overdue)."""
        return days_left(self.due_on, today)

    def light(self, today: dt.date | None = None) -> Light:
        """The traffic light of this deadline today."""
        return deadline_light(self.due_on, today)


# --- the rule book: every profile and rule, cached per process ----------------------------------


@dataclass(frozen=True)
class RuleBook:
    """A snapshot of all profiles and their rules (a few dozen rows), read in two queries."""

    default: RuleProfile | None
    by_province: dict[int, RuleProfile]
    rules: dict[int, dict[str, PeriodRule]]

    @classmethod
    def load(cls) -> RuleBook:
        profiles = list(RuleProfile.objects.all())
        rules: dict[int, dict[str, PeriodRule]] = {p.pk: {} for p in profiles}
        by_pk = {p.pk: p for p in profiles}
        for rule in PeriodRule.objects.all():
            rule.profile = by_pk[rule.profile_id]  # no query when a caller reads deadline.rule.profile
            rules[rule.profile_id][rule.step] = rule
        return cls(
            default=next((p for p in profiles if p.is_default), None),
            by_province={p.province_id: p for p in profiles if p.province_id is not None},
            rules=rules,
        )

    def profile_for(self, organisation: Organisation | None) -> RuleProfile:
        """The profile bound to the organisation's province, else the national default.

        The ancestors are read from the organisation's materialised path (ids from the root down),
        so no query is needed; the nearest bound ancestor wins.  Profiles can only be bound to
        province-level areas (RuleProfile.clean), so this is the province's profile.
        """
        if organisation is not None:
            ancestor_ids = [int(part) for part in organisation.path.strip("/").split("/") if part.isdigit()]
            for pk in reversed(ancestor_ids):
                if pk in self.by_province:
                    return self.by_province[pk]
        if self.default is None:
            raise MissingRule("No default rule profile: run the migrations (workflow 0002 seeds it).")
        return self.default

    def rule_for(self, step: str, organisation: Organisation | None) -> PeriodRule:
        """The organisation's rule for ``step``; steps a province does not set come from the default."""
        profile = self.profile_for(organisation)
        rule = self.rules.get(profile.pk, {}).get(step)
        if rule is None and self.default is not None:
            rule = self.rules.get(self.default.pk, {}).get(step)
        if rule is None:
            raise MissingRule(f"No rule for step {step!r} in profile {profile.code!r} nor in the default.")
        return rule

    def effective_rules(self, profile: RuleProfile) -> list[tuple[str, PeriodRule | None, bool]]:
        """(step, rule, inherited) for every step, as the profile applies them."""
        own = self.rules.get(profile.pk, {})
        default = self.rules.get(self.default.pk, {}) if self.default is not None else {}
        return [(step, own.get(step) or default.get(step), step not in own) for step in Step.values]


_rule_book: ProcessCache[RuleBook] = ProcessCache(RuleBook.load, CACHE_SECONDS)


def get_rule_book() -> RuleBook:
    """The cached rule book, reloaded at most once a minute per process (and at once after a save)."""
    return _rule_book.get()


def clear_cache() -> None:
    """Forget the cached rule book; the next deadline reads the rules again."""
    _rule_book.clear()


def profile_for(organisation: Organisation | None) -> RuleProfile:
    """The rule profile that applies to ``organisation`` (its province's, else the national default)."""
    return get_rule_book().profile_for(organisation)


def rule_for(step: str, organisation: Organisation | None) -> PeriodRule:
    """The period rule for ``step`` that applies to ``organisation``."""
    return get_rule_book().rule_for(step, organisation)


# --- counting ------------------------------------------------------------------------------------


def _as_date(value: dt.date) -> dt.date:
    # A trigger stored as an aware datetime counts from its local calendar day (Asia/Shanghai).
    if isinstance(value, dt.datetime):
        return timezone.localdate(value)
    return value


def count_period(
    *,
    rule: PeriodRule,
    start: dt.date,
    calendar: LegalCalendar,
    length: int | None = None,
    paused_days: int = 0,
) -> Deadline:
    """Count ``rule`` (or ``length`` of its unit) from ``start`` on ``calendar``: the pure core.

    ``paused_days`` are in the rule's unit (calendar days or working days) and lengthen the period
    by exactly that many days.
    """
    if paused_days < 0:
        raise ValueError("paused_days must not be negative")
    start = _as_date(start)
    length = rule.length if length is None else length
    total = length + paused_days
    if rule.unit == PeriodUnit.WORKING_DAYS:
        # Art. 201: the trigger day is not counted; the period is the next ``total`` working days.
        due = nominal = calendar.add_working_days(start, total)
        consulted_from = start + dt.timedelta(days=1)
    else:
        nominal = start + dt.timedelta(days=total)
        # Art. 203 ¶1: a last day that is a public holiday (or a weekend) moves to the next working day.
        due = calendar.working_day_on_or_after(nominal) if rule.roll_forward else nominal
        consulted_from = nominal
    warnings: list[str] = []
    if rule.unit == PeriodUnit.WORKING_DAYS or rule.roll_forward:
        warnings = [missing_year_warning(year) for year in calendar.missing_years(consulted_from, due)]
    return Deadline(
        step=rule.step,
        start=start,
        due_on=due,
        rule=rule,
        length=length,
        nominal_end=nominal,
        paused_days=paused_days,
        warnings=warnings,
    )


def due_date(
    step: str, start: dt.date, organisation: Organisation | None, *, paused_days: int = 0
) -> Deadline:
    """The deadline of ``step`` started on ``start`` (the trigger day, not counted) for ``organisation``.

    ``organisation`` is the one whose time limit runs: the petition office for ``disposal``, the
    responsible unit for ``unit_acceptance``, ``objection``, ``handling`` and ``extension``, the reviewing
    or rechecking organ for ``review`` and ``recheck``, the replying unit for the petitioner's windows.
    Its province selects the rule profile (None: the national default).
    """
    rule = rule_for(step, organisation)
    return count_period(rule=rule, start=start, calendar=get_calendar(), paused_days=paused_days)


def extend(deadline: Deadline, *, organisation: Organisation | None, days: int | None = None) -> Deadline:
    """The handling deadline after one extension of ``days`` (default: the most the rule allows).

    Art. 34: at most 30 days (Zhejiang: 60), counted from the end of the statutory handling period —
    ``deadline.nominal_end``, the 60th day, not counted itself — and not from ``due_on``, the day a
    holiday moved it to: 民法典 Art. 203 moves only the last day of a period, it does not lengthen the
    period an extension is added to (issue #7 point 11, docs/procedure.md §8).  A new last day on a
    holiday moves again.  Approval by the unit's leader and telling the petitioner the reason are the
    transition's business, not this function's.
    """
    rule = rule_for(Step.EXTENSION, organisation)
    days = rule.length if days is None else days
    if not 1 <= days <= rule.length:
        raise ValidationError(
            _("延长期限应在1至{max}{unit}之间（{source}）。").format(
                max=rule.length, unit=rule.get_unit_display(), source=rule.source
            ),
            code="extension_too_long",
        )
    return count_period(rule=rule, start=deadline.nominal_end, calendar=get_calendar(), length=days)


def paused_days_between(
    paused_on: dt.date, resumed_on: dt.date, *, unit: str, calendar: LegalCalendar | None = None
) -> int:
    """Days the clock stood still, in ``unit``: from ``paused_on`` (the first day not counted) up to
    ``resumed_on`` (the first day counted again).  A hearing on 3 and 4 May: paused on 3 May, resumed on
    5 May, 2 days — or the working days among them for a period counted in working days."""
    if resumed_on < paused_on:
        raise ValueError("resumed_on must not be before paused_on")
    if unit == PeriodUnit.WORKING_DAYS:
        calendar = calendar or get_calendar()
        return calendar.working_days_between(paused_on, resumed_on - dt.timedelta(days=1))
    return (resumed_on - paused_on).days


def resume(
    deadline: Deadline, *, paused_on: dt.date, resumed_on: dt.date, calendar: LegalCalendar | None = None
) -> Deadline:
    """The deadline after the clock was paused on ``paused_on`` and resumed on ``resumed_on``.

    Art. 36: the time of a 复核 hearing is not counted; the period is lengthened by exactly the paused
    days.  Pauses add up: resuming an already resumed deadline adds the new pause to the earlier ones.
    """
    if paused_on <= deadline.start:
        raise ValueError("a clock can only be paused after the day it started")
    calendar = calendar or get_calendar()
    added = paused_days_between(paused_on, resumed_on, unit=deadline.rule.unit, calendar=calendar)
    return count_period(
        rule=deadline.rule,
        start=deadline.start,
        calendar=calendar,
        length=deadline.length,
        paused_days=deadline.paused_days + added,
    )


# --- the traffic light ---------------------------------------------------------------------------


def days_left(due_on: dt.date, today: dt.date | None = None) -> int:
    """Calendar days from ``today`` (default: the local date) to ``due_on``; negative once overdue."""
    today = timezone.localdate() if today is None else today
    return (due_on - today).days


def deadline_light(due_on: dt.date | None, today: dt.date | None = None) -> Light:
    """green; yellow when 3 days or fewer are left (due today included); red once overdue.

    ``none`` when there is no deadline (a concluded petition), so templates can call it on any row.
    """
    if due_on is None:
        return "none"
    left = days_left(due_on, today)
    if left < 0:
        return "red"
    return "yellow" if left <= YELLOW_DAYS else "green"


# What each light means, for its tooltip and for screen readers (issue #8 §7: not "red"/"green").
LIGHT_LABELS = {
    "green": gettext_lazy("时限充足"),
    "yellow": gettext_lazy("即将到期（3天以内）"),
    "red": gettext_lazy("已超期"),
    "none": gettext_lazy("无办理时限"),
}
# How the date is labelled when it is the petitioner's window, not a deadline staff must meet.
PETITIONER_WINDOW_LABELS = {
    "replied": gettext_lazy("评价/复查期限"),
    "reviewed": gettext_lazy("复核申请期限"),
}


# In REPLIED/REVIEWED without a date, the petitioner's window has not started: the letter (the review
# opinion) has not been served yet (issue #10 point 8; appeals.serve_letter / serve_opinion).
WINDOW_NOT_STARTED = {
    "replied": gettext_lazy("复查请求期限自处理意见书送达之日起计算；处理意见书尚未送达。"),
    "reviewed": gettext_lazy("复核请求期限自复查意见书送达之日起计算；复查意见书尚未送达。"),
}


def window_not_started(petition: Any) -> str:
    """What to show instead of a date while the petitioner's window waits for service; "" otherwise.
    No query: in those states ``due_on`` is None exactly while the document is not served."""
    if petition.due_on is None and petition.status in WINDOW_NOT_STARTED:
        return str(WINDOW_NOT_STARTED[petition.status])
    return ""


def is_staff_deadline(petition: Any) -> bool:
    """Whether the petition's ``due_on`` is a deadline staff must meet now (STAFF_DEADLINE_STATUSES);
    in REPLIED/REVIEWED it is the petitioner's window for evaluation, review or recheck."""
    return petition.due_on is not None and petition.status in STAFF_DEADLINE_STATUSES


def petition_light(petition: Any, today: dt.date | None = None) -> Light:
    """The traffic light of a petition: only for a deadline staff must meet; ``none`` otherwise
    (no deadline, or the petitioner's window — shown as a plain date, never overdue)."""
    return deadline_light(petition.due_on, today) if is_staff_deadline(petition) else "none"


def is_overdue(petition: Any, today: dt.date | None = None) -> bool:
    """A deadline staff must meet has passed (the queue's and the API's ``overdue`` filter)."""
    return is_staff_deadline(petition) and days_left(petition.due_on, today) < 0


# --- editing the rules (system administrator) ----------------------------------------------------


def save_rule_profile(
    *,
    actor: Any,
    name: str,
    code: str,
    description: str = "",
    province: Organisation | None = None,
    profile: RuleProfile | None = None,
) -> RuleProfile:
    """Create a province profile (``profile=None``) or change one; audited.

    The default flag is not editable here: exactly one default must exist (migration 0002), and
    moving it would silently change every deadline in the country.
    """
    target = profile or RuleProfile()
    before = {f: getattr(target, f) for f in ("name", "code", "description", "province_id")}
    target.name, target.code, target.description = name.strip(), code.strip(), description.strip()
    target.province = province
    if target.is_default and province is not None:
        raise ValidationError({"province": _("全国默认规则不能绑定省份。")})
    target.full_clean()
    with transaction.atomic():
        target.save()
        record_event(
            actor=actor,
            action="workflow.profile.change" if profile else "workflow.profile.create",
            obj=target,
            data={"before": before if profile else None, "province": province.pk if province else None},
        )
    return target


def save_period_rule(
    *,
    actor: Any,
    profile: RuleProfile,
    step: str,
    length: int,
    unit: str,
    source: str,
    roll_forward: bool = True,
    confirmed: bool = True,
    note: str = "",
) -> PeriodRule:
    """Set the time limit of ``step`` in ``profile`` (creating the rule if the profile inherited it)."""
    rule = PeriodRule.objects.filter(profile=profile, step=step).first()
    created = rule is None
    rule = rule or PeriodRule(profile=profile, step=step)
    before = (
        None
        if created
        else {f: getattr(rule, f) for f in ("length", "unit", "roll_forward", "source", "confirmed", "note")}
    )
    rule.length, rule.unit, rule.roll_forward = length, unit, roll_forward
    rule.source, rule.confirmed, rule.note = source.strip(), confirmed, note.strip()
    rule.full_clean()
    with transaction.atomic():
        rule.save()
        record_event(
            actor=actor,
            action="workflow.rule.create" if created else "workflow.rule.change",
            obj=rule,
            data={"profile": profile.code, "step": step, "before": before},
        )
    return rule


def delete_period_rule(*, actor: Any, rule: PeriodRule) -> None:
    """Remove a province's own rule, so the step falls back to the national default; audited.

    The default profile's rules are never deleted: every step must resolve somewhere.
    """
    if rule.profile.is_default:
        raise ValidationError(_("全国默认规则的期限不能删除，只能修改。"), code="default_rule_required")
    with transaction.atomic():
        record_event(
            actor=actor,
            action="workflow.rule.delete",
            obj=rule,
            data={"profile": rule.profile.code, "step": rule.step, "length": rule.length, "unit": rule.unit},
        )
        rule.delete()
