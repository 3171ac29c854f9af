"""排查率 and 化解率 per unit (docs/statistics.md, "矛盾纠纷排查：排查率与化解率"), and the figures of
the quarterly briefing.  Every number is one SQL aggregate over the same querysets the ledger and
the returns list filter with, so a figure and the rows behind its link always agree.

* 排查率 (screening rate) of a unit for a period: of its returns *due* in the period — rounds whose
  报送期限 falls in the period and has passed (or that were completed already) — the share completed
  on or before the due date.
* 化解率 (``resolution_rate``) of a unit for a period: of the disputes it is responsible for that were
  screened in the period (``screened_on``), the share now resolved (status 已化解).  A cohort rate:
  the denominator never shrinks when a dispute is turned into a petition or handed to a court.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from xinfang.organisations.models import Organisation

from . import access
from .filters import ALL, LedgerFilter
from .models import Dispute, DisputeStatus, RoundReturn


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        start = dt.date(year, 3 * quarter - 2, 1)
        end = dt.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1) - dt.timedelta(days=1)
        return cls(start, end)


def current_quarter(today: dt.date) -> tuple[int, int]:
    return today.year, (today.month - 1) // 3 + 1


def previous_quarter(today: dt.date) -> tuple[int, int]:
    year, q = current_quarter(today)
    return (year - 1, 4) if q == 1 else (year, q - 1)


def rate(part: int, whole: int) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


# --- 排查率 ---------------------------------------------------------------------------------------


def due_returns(user: Any, period: Period, today: dt.date) -> QuerySet:
    """The returns due in ``period`` that ``user`` sees: due date in the period and passed, or done."""
    path = access.scope_path(user)
    if path is None:
        return RoundReturn.objects.none()
    return RoundReturn.objects.filter(
        unit_path__startswith=path,
        round__due_on__gte=period.start,
        round__due_on__lte=period.end,
    ).filter(Q(round__due_on__lt=today) | Q(completed_on__isnull=False))


ON_TIME = Q(completed_on__isnull=False) & Q(completed_on__lte=F("round__due_on"))


def returns_url(unit: int, period: Period, *, on_time: bool = False) -> str:
    params = {"unit": unit, "due_from": period.start.isoformat(), "due_to": period.end.isoformat()}
    if on_time:
        params["on_time"] = "1"
    return reverse("screening:returns") + "?" + urlencode(params)


def ledger_url(flt: LedgerFilter) -> str:
    return reverse("screening:ledger") + "?" + urlencode(flt.query())


@dataclass
class UnitFigures:
    unit_id: int
    unit_name: str
    returns_due: int = 0
    returns_on_time: int = 0
    screened: int = 0
    resolved: int = 0

    @property
    def screening_rate(self) -> float | None:
        return rate(self.returns_on_time, self.returns_due)

    @property
    def resolution_rate(self) -> float | None:
        return rate(self.resolved, self.screened)


def unit_figures(user: Any, period: Period, today: dt.date | None = None) -> list[UnitFigures]:
    """排查率 and 化解率 of each unit of the user's scope that has returns or disputes in the period:
    two grouped aggregates and one read of the units' names."""
    today = today or timezone.localdate()
    rows: dict[int, UnitFigures] = {}
    returns = (
        due_returns(user, period, today)
        .values("unit_id")
        .annotate(due=Count("id"), on_time=Count("id", filter=ON_TIME))
        .order_by()
    )
    for r in returns:
        rows.setdefault(r["unit_id"], UnitFigures(r["unit_id"], ""))
        rows[r["unit_id"]].returns_due = r["due"]
        rows[r["unit_id"]].returns_on_time = r["on_time"]
    for d in (
        screened_in(user, period)
        .values("organisation_id")
        .annotate(n=Count("id"), resolved=Count("id", filter=Q(status=DisputeStatus.RESOLVED)))
        .order_by()
    ):
        rows.setdefault(d["organisation_id"], UnitFigures(d["organisation_id"], ""))
        rows[d["organisation_id"]].screened = d["n"]
        rows[d["organisation_id"]].resolved = d["resolved"]
    names = dict(Organisation.objects.filter(pk__in=rows).values_list("pk", "name"))
    paths = dict(Organisation.objects.filter(pk__in=rows).values_list("pk", "path"))
    for row in rows.values():
        row.unit_name = names.get(row.unit_id, "")
    return sorted(rows.values(), key=lambda r: paths.get(r.unit_id, ""))


def screened_in(user: Any, period: Period) -> QuerySet:
    """The 化解率 cohort: disputes the user sees, screened in the period (any status)."""
    return access.restrict_disputes(Dispute.objects.all(), user).filter(
        screened_on__gte=period.start, screened_on__lte=period.end
    )


def cohort_filter(unit: int, period: Period, *, resolved: bool) -> LedgerFilter:
    """The ledger filter behind a unit's 化解率 (denominator, or numerator with ``resolved``)."""
    return LedgerFilter(
        unit=unit,
        status=DisputeStatus.RESOLVED if resolved else ALL,
        screened_from=period.start,
        screened_to=period.end,
    )


# --- the quarterly briefing ----------------------------------------------------------------------


def briefing_figures(user: Any, year: int, quarter: int, today: dt.date) -> dict[str, Any]:
    """New, resolved and overdue disputes by unit for the quarter, with the totals and the list of
    the overdue ones, as plain JSON (frozen into the ``Briefing``)."""
    period = Period.quarter(year, quarter)
    cutoff = min(period.end, today)
    seen = access.restrict_disputes(Dispute.objects.all(), user)
    # Overdue at the cutoff: its deadline passed while still open on that day.
    overdue = Q(deadline__lt=cutoff, screened_on__lte=cutoff) & (
        Q(closed_on__isnull=True) | Q(closed_on__gt=cutoff)
    )
    new = Q(screened_on__gte=period.start, screened_on__lte=period.end)
    resolved = Q(resolved_on__gte=period.start, resolved_on__lte=period.end)
    grouped = list(
        seen.filter(new | resolved | overdue)
        .values("organisation_id", "organisation__name", "organisation__path")
        .annotate(
            new=Count("id", filter=new),
            resolved=Count("id", filter=resolved),
            overdue=Count("id", filter=overdue),
            new_resolved=Count("id", filter=new & Q(status=DisputeStatus.RESOLVED)),
        )
        .order_by("organisation__path")
    )
    units = [
        {
            "unit_id": g["organisation_id"],
            "unit": g["organisation__name"],
            "new": g["new"],
            "resolved": g["resolved"],
            "overdue": g["overdue"],
            "resolution_rate": rate(g["new_resolved"], g["new"]),
        }
        for g in grouped
    ]
    overdue_rows = [
        {"number": n, "title": t, "unit": u, "deadline": d.isoformat(), "risk": r}
        for n, t, u, d, r in seen.filter(overdue)
        .order_by("deadline", "number")
        .values_list("number", "title", "organisation__name", "deadline", "risk")[:200]
    ]
    totals = {key: sum(u[key] for u in units) for key in ("new", "resolved", "overdue")}
    new_resolved = sum(g["new_resolved"] for g in grouped)
    totals["resolution_rate"] = rate(new_resolved, totals["new"])
    return {
        "year": year,
        "quarter": quarter,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "cutoff": cutoff.isoformat(),
        "units": units,
        "totals": totals,
        "overdue": overdue_rows,
    }
