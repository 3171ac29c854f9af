"""Work that is not a petition, on the workbench: contracted cases, instructions to answer, screening
rounds due, the day's reception bookings, referrals to report on, reports to approve …

The workbench (floor 5) lists petitions through its own sections; the apps of floor 4 add *panels*
of their own records here, in their ``ready()``, so that no lower app imports the workbench and the
workbench imports no app it does not know (the same registry pattern as ``audit.labels``).

A provider is ``provider(user, today) -> list[WorkPanel]``; it returns only panels that concern
the user (by role and organisation), each with a count and its first rows read in a fixed number
of queries, and a link to the full ledger (which exports to XLSX).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import QuerySet

# How many rows of a panel the workbench shows; the count links to the rest.
PANEL_ROWS = 5


@dataclass(frozen=True)
class WorkItem:
    """One row of a panel: what it is, why it is the user's, and by when."""

    title: str
    url: str
    reason: str = ""
    reference: str = ""  # a number the office uses: the petition's, the dispute's, the booking code
    due_on: dt.date | None = None
    is_new: bool = False

    def days_left(self, today: dt.date) -> int | None:
        return None if self.due_on is None else (self.due_on - today).days


@dataclass(frozen=True)
class WorkPanel:
    """A panel of the workbench: ``count`` rows in all, the first of them in ``items``."""

    key: str  # unique across the site, used as the HTML id (``panel-<key>``)
    label: str
    reason: str  # one plain sentence: why these are the user's to do
    count: int
    items: list[WorkItem] = field(default_factory=list)
    list_url: str = ""
    export_url: str = ""
    alert: bool = False  # something is overdue: the count is shown in red


Provider = Callable[[Any, dt.date], list[WorkPanel]]
_PROVIDERS: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Add (or replace, on a second ``ready()``) the provider called ``name``."""
    _PROVIDERS[name] = provider


def panels_for(user: Any, today: dt.date) -> list[WorkPanel]:
    """Every registered provider's panels for ``user``, in registration order, empty ones dropped."""
    panels: list[WorkPanel] = []
    for provider in _PROVIDERS.values():
        panels.extend(p for p in provider(user, today) if p.count)
    return panels


def panel(
    rows: QuerySet[Any],
    item: Callable[[Any], WorkItem],
    *,
    key: str,
    label: str,
    reason: str,
    list_url: str = "",
    export_url: str = "",
    alert: bool | Callable[[list[Any]], bool] = False,
) -> WorkPanel | None:
    """The panel of ``rows`` (a queryset, already filtered and ordered), or ``None`` when it is empty.

    Reads the count, then (only when there is something) the first ``PANEL_ROWS`` rows, each made a
    ``WorkItem`` by ``item``: two queries whatever the rows.  ``alert`` is a flag, or a function of
    the rows shown (the records, not the items) that says whether the panel is red; it is called
    after the rows are read, so it may also ask the database (e.g. "is any of them late").
    """
    count = rows.count()
    if not count:
        return None
    first = list(rows[:PANEL_ROWS])
    return WorkPanel(
        key=key,
        label=label,
        reason=reason,
        count=count,
        items=[item(row) for row in first],
        list_url=list_url,
        export_url=export_url,
        alert=alert(first) if callable(alert) else alert,
    )
