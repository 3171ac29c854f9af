"""Figures by handler (承办人) for one unit (issue #9 §2 "by handler"), computed from the facts.

One unit is bounded, so nothing is pre-aggregated: each column is one GROUP BY over one fact table,
restricted to the unit's subtree through an index, and each number has the list of rows behind it
(``rows``), from the same querysets, so a number and its list cannot disagree.

Whom a fact is attributed to (the choice the issue leaves open):

* **The petition's current handler** (``Petition.handler``) for what is true *now*: 承办中 (open)
  and 已超期 (a staff deadline passed) — the work queue's own definitions (``PetitionFilter``).
* **The person who acted**, for what happened *in the period*, because ``Petition.handler`` is
  cleared when the petition leaves the body (the office approving an assigned unit's completion
  report ends the assignment), which would drop most finished work from its handler's figures:

  - 本期答复: the decision letters the person issued for the unit (``DecisionLetter.issued_by``);
  - 应按期办结 / 按期办结: the unit's handling and extension deadline records due in the period
    (counted as the ``handling_due``/``handling_on_time`` figures count them: extended and void
    records left out, only once the due day has passed), attributed to whoever closed the record
    (``closed_by``: the author of the reply) or, while it is still open and so missed, to the
    petition's current handler; a record with neither is shown on the row 未指定承办人, so the rows
    add up to the unit's figures;
  - 已评价 / 满意: the petitioners' evaluations of the unit recorded in the period (满意 and 基本满意
    of the unit's rating, as ``satisfaction_rate``), attributed to the author of the letter
    evaluated.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, IntegerField, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.choices import RoleCode
from xinfang.organisations.models import Organisation, User
from xinfang.petitions.filtersets import PetitionFilter
from xinfang.petitions.models import Petition
from xinfang.workflow.models import DeadlineOutcome, DeadlineRecord, DecisionLetter, Evaluation

from .figures import Period
from .metrics import HANDLING_KINDS, LETTERS, NOT_COUNTED, SATISFIED, UNIT_EVALUATIONS

NOBODY = 0  # the row key of facts attributed to no one (no handler named, nobody closed it)


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    definition: Any


COLUMNS = {
    c.key: c
    for c in (
        Column("handling_due", _("本期应办结"), _("办理（含延期）时限在本期届满的信访件")),
        Column("handling_on_time", _("按期办结"), _("其中在时限内答复或办结的")),
        Column("replied", _("本期答复"), _("本人出具处理意见书（答复）的件数")),
        Column("open", _("承办中"), _("本人目前承办、尚未办结的信访件")),
        Column("overdue", _("已超期"), _("本人目前承办、办理时限已过的信访件")),
        Column("evaluated", _("已评价"), _("信访人本期对本人答复的评价")),
        Column("satisfied", _("满意"), _("其中对办理单位满意或基本满意的")),
    )
}


@dataclass
class HandlerRow:
    person: User | None  # None: facts attributed to nobody
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def key(self) -> int:
        return self.person.pk if self.person is not None else NOBODY

    def rate(self, numerator: str, denominator: str) -> str:
        d = self.counts.get(denominator, 0)
        return "—" if not d else f"{self.counts.get(numerator, 0) * 100 / d:.1f}%"

    @property
    def on_time_rate(self) -> str:
        return self.rate("handling_on_time", "handling_due")

    @property
    def satisfaction_rate(self) -> str:
        return self.rate("satisfied", "evaluated")


# --- the fact rows of each column, for one unit --------------------------------------------------


def _end(period: Period, today: dt.date) -> dt.date:
    """Deadlines count only once their day has passed (as the figures: metrics ``elapsed_only``)."""
    return min(period.end, today - dt.timedelta(days=1))


def _person(*lookups: str) -> Coalesce:
    """The first of ``lookups`` that is set, else NOBODY: whom a fact row is attributed to."""
    return Coalesce(*lookups, Value(NOBODY), output_field=IntegerField())


def handling_records(unit: Organisation, period: Period, today: dt.date) -> QuerySet:
    end = _end(period, today)
    if end < period.start:
        return DeadlineRecord.objects.none()
    return DeadlineRecord.objects.filter(
        ~Q(outcome__in=NOT_COUNTED),
        kind__in=HANDLING_KINDS,
        organisation_path__startswith=unit.path,
        due_on__gte=period.start,
        due_on__lte=end,
    ).annotate(person=_person("closed_by_id", "petition__handler_id"))


def letters(unit: Organisation, period: Period) -> QuerySet:
    return DecisionLetter.objects.filter(
        LETTERS.on_days(period.start, period.end), organisation__path__startswith=unit.path
    ).annotate(person=_person("issued_by_id"))


def evaluations(unit: Organisation, period: Period) -> QuerySet:
    return Evaluation.objects.filter(
        UNIT_EVALUATIONS.on_days(period.start, period.end), unit__path__startswith=unit.path
    ).annotate(person=_person("letter__issued_by_id"))


def current_petitions(unit: Organisation) -> QuerySet:
    """Petitions whose named handler works in the unit (the partial (handler, due_on) index)."""
    return Petition.objects.filter(handler__organisation__path__startswith=unit.path)


def _queue(qs: QuerySet, today: dt.date, **flags: bool) -> QuerySet:
    return PetitionFilter(today=today, **flags).apply(qs).order_by()


# Each column: its fact rows for (unit, period, today), and the condition a row must meet.
def column_rows(key: str, unit: Organisation, period: Period, today: dt.date) -> QuerySet:
    """The fact rows behind column ``key`` of the unit (every person), annotated ``person``."""
    sources: dict[str, Callable[[], QuerySet]] = {
        "handling_due": lambda: handling_records(unit, period, today),
        "handling_on_time": lambda: handling_records(unit, period, today).filter(outcome=DeadlineOutcome.MET),
        "replied": lambda: letters(unit, period),
        "evaluated": lambda: evaluations(unit, period),
        "satisfied": lambda: evaluations(unit, period).filter(unit_rating__in=SATISFIED),
        "open": lambda: _queue(current_petitions(unit), today, open_only=True).annotate(
            person=_person("handler_id")
        ),
        "overdue": lambda: _queue(current_petitions(unit), today, overdue=True).annotate(
            person=_person("handler_id")
        ),
    }
    return sources[key]()


def rows(key: str, unit: Organisation, period: Period, person: int, today: dt.date | None = None) -> QuerySet:
    """The fact rows behind one number of the table: column ``key``, row ``person`` (NOBODY for
    the row of facts attributed to no one)."""
    today = today or timezone.localdate()
    qs = column_rows(key, unit, period, today)
    return qs.filter(person=person)


# --- the table ---------------------------------------------------------------------------------


def _grouped(qs: QuerySet, conditions: dict[str, Q]) -> list[dict[str, Any]]:
    aggregates = {name: Count("pk", filter=where) for name, where in conditions.items()}
    return list(qs.values("person").annotate(**aggregates).order_by())


def table(unit: Organisation, period: Period, today: dt.date | None = None) -> list[HandlerRow]:
    """The unit's figures per person: four GROUP BYs (deadline records, letters, evaluations, the
    petitions now in hand) and one query for the people; every active handler of the unit has a
    row, with zeros if need be."""
    today = today or timezone.localdate()
    found: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    everything = Q(pk__isnull=False)
    passes = [
        (handling_records(unit, period, today),
         {"handling_due": everything, "handling_on_time": Q(outcome=DeadlineOutcome.MET)}),
        (letters(unit, period), {"replied": everything}),
        (evaluations(unit, period), {"evaluated": everything, "satisfied": Q(unit_rating__in=SATISFIED)}),
    ]  # fmt: skip
    for qs, conditions in passes:
        for row in _grouped(qs, conditions):
            for name in conditions:
                found[row["person"]][name] += row[name]
    # The work queue's conditions (PetitionFilter open_only / overdue), as one GROUP BY.
    current = current_petitions(unit).annotate(person=_person("handler_id"))
    for row in _grouped(current, _current_conditions(today)):
        for name in ("open", "overdue"):
            found[row["person"]][name] += row[name]
    people = User.objects.filter(
        Q(pk__in=[k for k in found if k != NOBODY])
        | Q(organisation__path__startswith=unit.path, is_active=True, roles__code=RoleCode.HANDLER)
    ).distinct()
    result = [HandlerRow(person, found.get(person.pk, defaultdict(int))) for person in people]
    result.sort(key=lambda r: (r.person.full_name or r.person.username, r.person.pk))
    if NOBODY in found:
        result.append(HandlerRow(None, found[NOBODY]))
    return result


def _current_conditions(today: dt.date) -> dict[str, Q]:
    from xinfang.petitions.filtersets import OPEN_STATUS_VALUES, STAFF_DEADLINE_VALUES

    return {
        "open": Q(status__in=OPEN_STATUS_VALUES),
        "overdue": Q(status__in=STAFF_DEADLINE_VALUES, due_on__lt=today),
    }


def totals(table_rows: list[HandlerRow]) -> dict[str, int]:
    summed: dict[str, int] = defaultdict(int)
    for row in table_rows:
        for key, n in row.counts.items():
            summed[key] += n
    return summed
