"""时限违规: the deadlines a unit missed, per unit and as a list of records (issue #9 §1) — the
evidence for Arts. 43–45 behind the ``deadlines_missed`` figure.

A missed deadline is a ``DeadlineRecord`` the figure counts (metrics.py, ``deadlines_missed``):
closed late, or still open after its due date; extended and void records are not.  It is placed in
a period by its due date, and only once that day has passed (a deadline due today can still be
met), and attributed to the body that had it.  The list is read from the same condition on the
same rows, through the (organisation_path, due_on) index, so its count is the figure's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.models import Organisation
from xinfang.workflow.models import DeadlineKind, DeadlineOutcome, DeadlineRecord
from xinfang.workflow.transitions import TRANSITIONS

from .figures import Period
from .metrics import METRICS

METRIC = "deadlines_missed"


def last_countable_day(period: Period, today: dt.date | None = None) -> dt.date:
    """The period's last day a deadline can have been missed on: yesterday at the latest."""
    today = today or timezone.localdate()
    return min(period.end, today - dt.timedelta(days=1))


def missed(scope_path: str, period: Period, *, kind: str = "", today: dt.date | None = None) -> QuerySet:
    """The missed deadlines of the bodies under ``scope_path`` (a tree path) due in ``period``."""
    end = last_countable_day(period, today)
    if end < period.start:
        return DeadlineRecord.objects.none()
    # The range on (organisation_path, due_on) is one scan of deadline_scope_idx.
    q = METRICS[METRIC].where() & Q(
        organisation_path__startswith=scope_path, due_on__gte=period.start, due_on__lte=end
    )
    if kind:
        q &= Q(kind=kind)
    return DeadlineRecord.objects.filter(q)


@dataclass
class UnitViolations:
    """One body's missed deadlines in the period: the total and the number of each kind."""

    organisation: Organisation
    total: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def cells(self) -> list[tuple[str, int]]:
        """(kind, count) in the order of ``DeadlineKind``, zeros included (one table column each)."""
        return [(kind, self.by_kind.get(kind, 0)) for kind in DeadlineKind.values]


def per_unit(records: QuerySet) -> list[UnitViolations]:
    """``records`` counted per body and kind (one GROUP BY, and one query for the names); the
    bodies with the most misses first."""
    grouped = records.values("organisation_id", "kind").annotate(n=Count("pk")).order_by()
    units: dict[int, UnitViolations] = {}
    rows = list(grouped)
    names = Organisation.objects.in_bulk({row["organisation_id"] for row in rows})
    for row in rows:
        unit = units.setdefault(row["organisation_id"], UnitViolations(names[row["organisation_id"]]))
        unit.by_kind[row["kind"]] = row["n"]
        unit.total += row["n"]
    return sorted(units.values(), key=lambda u: (-u.total, u.organisation.path))


def kinds_total(units: list[UnitViolations]) -> dict[str, int]:
    """The totals row: each kind summed over the bodies."""
    totals = dict.fromkeys(DeadlineKind.values, 0)
    for unit in units:
        for kind, n in unit.by_kind.items():
            totals[kind] += n
    return totals


def listed(records: QuerySet) -> QuerySet:
    """The list's rows: latest due first, with the petition, the body and who closed it joined."""
    return records.select_related("petition", "organisation", "closed_by").order_by("-due_on", "-pk")


def days_late(record: DeadlineRecord, today: dt.date | None = None) -> int:
    """Calendar days past the due date: until it was met late, or until today while still open."""
    end = record.closed_on or (today or timezone.localdate())
    return max((end - record.due_on).days, 0)


def how_closed(record: DeadlineRecord) -> str:
    """The action that ended a record, in Chinese (``reply`` → 答复), or "" while it is open."""
    if not record.closed_by_action:
        return ""
    transition = TRANSITIONS.get(record.closed_by_action)
    return str(transition.label) if transition is not None else record.closed_by_action


def status_of(record: DeadlineRecord) -> Any:
    """超期完成 for a record met late, 逾期未完成 for one still open."""
    if record.outcome == DeadlineOutcome.LATE:
        return DeadlineOutcome.LATE.label
    return _("逾期未完成")
