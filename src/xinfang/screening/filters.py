"""The ledger's filters: one implementation behind the staff page, its XLSX and print views, the
figures' links and ``GET /api/v1/disputes``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from . import access
from .models import OPEN_STATUSES, Dispute, DisputeParty, DisputeStatus

# status filter values beyond the statuses themselves
OPEN = ""  # the default: open work (screened or in resolution)
ALL = "all"
CLOSED = "closed"


@dataclass(frozen=True)
class LedgerFilter:
    unit: int | None = None
    kind: str = ""
    risk: str = ""
    status: str = OPEN
    overdue: bool = False
    screened_from: dt.date | None = None
    screened_to: dt.date | None = None
    leader: int | None = None
    q: str = ""

    def query(self) -> dict[str, str]:
        """As GET parameters (for links from the figures to the ledger)."""
        out = {
            "unit": str(self.unit or ""),
            "kind": self.kind,
            "risk": self.risk,
            "status": self.status,
            "overdue": "1" if self.overdue else "",
            "screened_from": self.screened_from.isoformat() if self.screened_from else "",
            "screened_to": self.screened_to.isoformat() if self.screened_to else "",
            "leader": str(self.leader or ""),
            "q": self.q,
        }
        return {k: v for k, v in out.items() if v}


def overdue_q(today: dt.date) -> Q:
    return Q(status__in=OPEN_STATUSES, deadline__lt=today)


def ledger(user: Any, flt: LedgerFilter, *, today: dt.date | None = None) -> QuerySet:
    """The disputes ``user`` sees, narrowed by ``flt``, with what a list row shows loaded in a
    fixed number of queries (parties in one prefetch)."""
    today = today or timezone.localdate()
    qs = access.restrict_disputes(Dispute.objects.all(), user)
    if flt.status == OPEN:
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif flt.status == CLOSED:
        qs = qs.exclude(status__in=OPEN_STATUSES)
    elif flt.status in DisputeStatus.values:
        qs = qs.filter(status=flt.status)
    if flt.unit:
        qs = qs.filter(organisation_id=flt.unit)
    if flt.kind:
        qs = qs.filter(kind=flt.kind)
    if flt.risk:
        qs = qs.filter(risk=flt.risk)
    if flt.overdue:
        qs = qs.filter(overdue_q(today))
    if flt.screened_from:
        qs = qs.filter(screened_on__gte=flt.screened_from)
    if flt.screened_to:
        qs = qs.filter(screened_on__lte=flt.screened_to)
    if flt.leader:
        qs = qs.filter(leader_id=flt.leader)
    if flt.q:
        qs = qs.filter(Q(number__icontains=flt.q) | Q(title__icontains=flt.q))
    return (
        qs.select_related("organisation", "locality", "leader")
        .prefetch_related(
            Prefetch(
                "parties",
                queryset=DisputeParty.objects.only(
                    "id", "dispute_id", "position", "name", "id_number_mask", "phone_mask"
                ).order_by("position"),  # fmt: skip
            )
        )
        .order_by("-created_at", "-pk")
    )


def parse(params: Any) -> LedgerFilter:
    """A LedgerFilter from GET parameters; a malformed value is ignored (the form shows the error)."""

    def as_int(name: str) -> int | None:
        try:
            return int(params.get(name) or 0) or None
        except (TypeError, ValueError):
            return None

    def as_date(name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(params.get(name) or "")
        except ValueError:
            return None

    return LedgerFilter(
        unit=as_int("unit"),
        kind=params.get("kind") or "",
        risk=params.get("risk") or "",
        status=params.get("status") or OPEN,
        overdue=(params.get("overdue") or "") in {"1", "true", "on"},
        screened_from=as_date("screened_from"),
        screened_to=as_date("screened_to"),
        leader=as_int("leader"),
        q=(params.get("q") or "").strip()[:100],
    )
