"""Every figure, defined once (docs/statistics.md).

A ``Metric`` is a count over one fact table (``Source``): which rows (``where``), the date that
places a row in a period, the organisation it is attributed to, and what is counted (rows, or the
persons of a visit).  The same definition produces the roll-up (``rollup.compute_day``) and the
drill-down list (``rows``), so a figure and the list behind it cannot disagree.  A ``Rate`` is a
numerator metric over a denominator metric.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.choices import Level
from xinfang.petitions.choices import Channel, Conclusion, Status
from xinfang.petitions.models import Petition
from xinfang.workflow.models import (
    Appeal,
    AppealKind,
    AppealOutcome,
    DeadlineKind,
    DeadlineOutcome,
    DeadlineRecord,
    DecisionLetter,
    Evaluation,
    Rating,
)

# The dimensions every source can break a count down by, as lookups from the petition.
DIMENSIONS = ("category", "channel", "purpose", "locality")


@dataclass(frozen=True)
class Source:
    """A fact table as the figures read it."""

    name: str
    model: type[Model]
    date: str  # the field that places a row on a day (a DateField, or a DateTimeField read in TIME_ZONE)
    organisation: str  # lookup of the organisation the row is attributed to
    petition: str  # lookup of the petition ("" when the model is Petition)
    is_datetime: bool = False
    # Deadline-like sources count a row only once its day has passed (the deadline could still be met).
    elapsed_only: bool = False

    def lookup(self, name: str) -> str:
        """A petition field seen from this source (``category`` → ``petition__category``)."""
        return f"{self.petition}__{name}" if self.petition else name

    def on_days(self, start: dt.date, end: dt.date) -> Q:
        """Rows placed on a day from ``start`` to ``end`` inclusive."""
        if not self.is_datetime:
            return Q(**{f"{self.date}__gte": start, f"{self.date}__lte": end})
        tz = timezone.get_current_timezone()
        low = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
        high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return Q(**{f"{self.date}__gte": low, f"{self.date}__lt": high})


PETITIONS = Source("petitions", Petition, "received_on", "office", "")
CONCLUSIONS = Source("conclusions", Petition, "concluded_on", "office", "")
DEADLINES = Source("deadlines", DeadlineRecord, "due_on", "organisation", "petition", elapsed_only=True)
LETTERS = Source("letters", DecisionLetter, "issued_at", "organisation", "petition", is_datetime=True)
EVALUATION_WINDOWS = Source(
    "evaluation_windows", DecisionLetter, "evaluation_due_on", "organisation", "petition", elapsed_only=True
)
UNIT_EVALUATIONS = Source("unit_evaluations", Evaluation, "recorded_at", "unit", "petition", is_datetime=True)
OFFICE_EVALUATIONS = Source(
    "office_evaluations", Evaluation, "recorded_at", "office", "petition", is_datetime=True
)
APPEALS_RECEIVED = Source("appeals_received", Appeal, "received_on", "body", "petition")
APPEALS_DECIDED = Source("appeals_decided", Appeal, "decided_on", "body", "petition")

SOURCES = (
    PETITIONS,
    CONCLUSIONS,
    DEADLINES,
    LETTERS,
    EVALUATION_WINDOWS,
    UNIT_EVALUATIONS,
    OFFICE_EVALUATIONS,
    APPEALS_RECEIVED,
    APPEALS_DECIDED,
)


@dataclass(frozen=True)
class Metric:
    name: str
    label: Any
    source: Source
    where: Callable[[], Q] = Q  # a function, so lazy names and querysets are built at use
    persons: bool = False  # count the persons of each petition (人次), not the rows (批)
    unit: Any = _("件")
    definition: Any = ""

    def rows(self) -> QuerySet:
        """Every fact row this metric counts, on any day, attributed anywhere."""
        return self.source.model.objects.filter(self.where())


# --- the conditions ---------------------------------------------------------------------------------

# 办结: the matter has been answered or otherwise disposed of for good (docs/statistics.md §3).
CLOSED_STATUSES = (
    Status.REPLIED,
    Status.UNDER_REVIEW,
    Status.REVIEWED,
    Status.UNDER_RECHECK,
    Status.CONCLUDED,
    Status.DECLINED,
    Status.REDIRECTED,
)
SATISFIED = (Rating.SATISFIED, Rating.BASICALLY_SATISFIED)
# 越级: a visit to an office above the level responsible for the matter (属地管理, Art. 5(3)): the
# county for a matter arising in a county or below it (the lowest level with a petition office),
# otherwise the level of the place itself.  Each office level, with the places it is above.
ABOVE_COUNTY = (Level.NATIONAL, Level.PROVINCE, Level.CITY)
COUNTY_OR_BELOW = (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE)
SKIPPED_BELOW = {
    Level.CITY: COUNTY_OR_BELOW,
    Level.PROVINCE: (Level.CITY, *COUNTY_OR_BELOW),
    Level.NATIONAL: (Level.PROVINCE, Level.CITY, *COUNTY_OR_BELOW),
}
ACCEPTANCE_KINDS = (DeadlineKind.DISPOSAL, DeadlineKind.UNIT_ACCEPTANCE)
HANDLING_KINDS = (DeadlineKind.HANDLING, DeadlineKind.EXTENSION)
NOT_COUNTED = (DeadlineOutcome.EXTENDED, DeadlineOutcome.VOID)


def _not_withdrawn() -> Q:
    return ~Q(status__in=(Status.WITHDRAWN, Status.MERGED))


def _skip_level() -> Q:
    above = Q()
    for office_level, places in SKIPPED_BELOW.items():
        above |= Q(office__level=office_level, locality__level__in=places)
    return Q(channel=Channel.VISIT) & above


def _resolved() -> Q:
    satisfied = Evaluation.objects.filter(petition=OuterRef("pk"), unit_rating__in=SATISFIED)
    return Q(conclusion=Conclusion.AGREEMENT) | Q(Exists(satisfied))


def _deadlines(kinds: tuple[str, ...], met: bool = False) -> Callable[[], Q]:
    def where() -> Q:
        q = Q(kind__in=kinds) & ~Q(outcome__in=NOT_COUNTED)
        return q & Q(outcome=DeadlineOutcome.MET) if met else q

    return where


def _appeals(kind: str, outcomes: tuple[str, ...] = ()) -> Callable[[], Q]:
    def where() -> Q:
        q = Q(kind=kind)
        return q & Q(outcome__in=outcomes) if outcomes else q

    return where


def _decided(kind: str, outcomes: tuple[str, ...] = ()) -> Callable[[], Q]:
    def where() -> Q:
        return _appeals(kind, outcomes)() & Q(decided_on__isnull=False)

    return where


def _evaluated_letter() -> Q:
    return Q(Exists(Evaluation.objects.filter(letter=OuterRef("pk"))))


CHANGED = (AppealOutcome.CHANGE, AppealOutcome.REHANDLE)

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        # intake, placed by the date received, attributed to the registering office
        Metric("received", _("信访总量（批次）"), PETITIONS, unit=_("批")),
        Metric("persons", _("信访总量（人次）"), PETITIONS, persons=True, unit=_("人次")),
        Metric("first_time", _("初信初访"), PETITIONS, lambda: Q(is_repeat=False), unit=_("批")),
        Metric("repeat", _("重复信访"), PETITIONS, lambda: Q(is_repeat=True), unit=_("批")),
        Metric("collective", _("集体访"), PETITIONS, lambda: Q(is_collective=True), unit=_("批")),
        Metric(
            "collective_persons",
            _("集体访（人次）"),
            PETITIONS,
            lambda: Q(is_collective=True),
            persons=True,
            unit=_("人次"),
        ),  # fmt: skip
        Metric("skip_level", _("越级访"), PETITIONS, _skip_level, unit=_("批")),
        Metric("countable", _("应办结"), PETITIONS, _not_withdrawn),
        Metric("closed", _("已办结"), PETITIONS, lambda: Q(status__in=CLOSED_STATUSES)),
        Metric("resolved", _("已化解"), PETITIONS, _resolved),
        # deadlines, placed by the due date once it has passed, attributed to the body that had them
        Metric("acceptance_due", _("应按时受理"), DEADLINES, _deadlines(ACCEPTANCE_KINDS)),
        Metric("acceptance_on_time", _("按时受理"), DEADLINES, _deadlines(ACCEPTANCE_KINDS, met=True)),
        Metric("handling_due", _("应按期办结"), DEADLINES, _deadlines(HANDLING_KINDS)),
        Metric("handling_on_time", _("按期办结"), DEADLINES, _deadlines(HANDLING_KINDS, met=True)),
        Metric("report_due", _("应报送办结报告"), DEADLINES, _deadlines((DeadlineKind.COMPLETION_REPORT,))),
        Metric(
            "report_on_time",
            _("按时报送办结报告"),
            DEADLINES,
            _deadlines((DeadlineKind.COMPLETION_REPORT,), met=True),
        ),  # fmt: skip
        Metric("supervision_due", _("应按时反馈督办"), DEADLINES, _deadlines((DeadlineKind.SUPERVISION,))),
        Metric(
            "supervision_on_time",
            _("按时反馈督办"),
            DEADLINES,
            _deadlines((DeadlineKind.SUPERVISION,), met=True),
        ),
        Metric("deadlines_missed", _("时限违规"), DEADLINES, lambda: ~Q(outcome__in=(*NOT_COUNTED, "met"))),
        # replies and evaluations
        Metric("replied", _("书面答复"), LETTERS),
        Metric("evaluation_due", _("应评价"), EVALUATION_WINDOWS),
        Metric("evaluated", _("已评价"), EVALUATION_WINDOWS, _evaluated_letter),
        Metric("unit_evaluated", _("对办理单位的评价"), UNIT_EVALUATIONS),
        Metric(
            "unit_satisfied",
            _("对办理单位满意或基本满意"),
            UNIT_EVALUATIONS,
            lambda: Q(unit_rating__in=SATISFIED),
        ),
        Metric("office_evaluated", _("对信访部门的评价"), OFFICE_EVALUATIONS),
        Metric(
            "office_satisfied",
            _("对信访部门满意或基本满意"),
            OFFICE_EVALUATIONS,
            lambda: Q(office_rating__in=SATISFIED),
        ),  # fmt: skip
        # review and recheck, attributed to the reviewing body
        Metric("review_requested", _("复查申请"), APPEALS_RECEIVED, _appeals(AppealKind.REVIEW)),
        Metric("review_decided", _("复查意见"), APPEALS_DECIDED, _decided(AppealKind.REVIEW)),
        Metric(
            "review_upheld",
            _("复查维持"),
            APPEALS_DECIDED,
            _decided(AppealKind.REVIEW, (AppealOutcome.UPHOLD,)),
        ),
        Metric(
            "review_changed", _("复查变更或责令重办"), APPEALS_DECIDED, _decided(AppealKind.REVIEW, CHANGED)
        ),
        Metric("recheck_requested", _("复核申请"), APPEALS_RECEIVED, _appeals(AppealKind.RECHECK)),
        Metric("recheck_decided", _("复核意见"), APPEALS_DECIDED, _decided(AppealKind.RECHECK)),
        Metric(
            "recheck_upheld",
            _("复核维持"),
            APPEALS_DECIDED,
            _decided(AppealKind.RECHECK, (AppealOutcome.UPHOLD,)),
        ),  # fmt: skip
        Metric(
            "recheck_changed", _("复核变更或责令重办"), APPEALS_DECIDED, _decided(AppealKind.RECHECK, CHANGED)
        ),
        # conclusions, placed by the date concluded
        Metric("concluded", _("终结"), CONCLUSIONS, lambda: Q(concluded_on__isnull=False)),
    )
}


@dataclass(frozen=True)
class Rate:
    name: str  # the API's name (GLOSSARY.md)
    label: Any
    numerator: str
    denominator: str
    definition: Any = ""
    higher_is_better: bool = True
    tags: tuple[str, ...] = field(default=())


RATES: dict[str, Rate] = {
    r.name: r
    for r in (
        Rate("timely_acceptance_rate", _("及时受理率"), "acceptance_on_time", "acceptance_due"),
        Rate("on_time_closure_rate", _("按期办结率"), "handling_on_time", "handling_due"),
        Rate("report_rate", _("交（转）办案件汇报率"), "report_on_time", "report_due"),
        Rate("supervision_response_rate", _("督办按时反馈率"), "supervision_on_time", "supervision_due"),
        Rate("evaluation_rate", _("参评率"), "evaluated", "evaluation_due"),
        Rate("satisfaction_rate", _("满意率（办理单位）"), "unit_satisfied", "unit_evaluated"),
        Rate("office_satisfaction_rate", _("满意率（信访部门）"), "office_satisfied", "office_evaluated"),
        Rate("closure_rate", _("办结率"), "closed", "countable"),
        Rate("resolution_rate", _("化解率"), "resolved", "countable"),
        Rate("repeat_rate", _("重复信访率"), "repeat", "received", higher_is_better=False),
        Rate("collective_share", _("集体访占比"), "collective", "received", higher_is_better=False),
        Rate("skip_level_share", _("越级访占比"), "skip_level", "received", higher_is_better=False),
        Rate(
            "review_change_rate", _("复查纠错率"), "review_changed", "review_decided", higher_is_better=False
        ),
        Rate(
            "recheck_change_rate",
            _("复核纠错率"),
            "recheck_changed",
            "recheck_decided",
            higher_is_better=False,
        ),
    )
}


def metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise LookupError(name) from None
