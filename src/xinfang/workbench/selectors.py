"""The rows of the workbench: a section's petitions with what each row shows (reason, due date,
days left, handling unit, handler, "新"), loaded in a fixed number of queries whatever the length.

The page, the API and the export all read rows through ``section_rows`` / ``list_queryset`` so
the three show the same petitions in the same order.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from xinfang.petitions.choices import STAFF_DEADLINE_STATUSES
from xinfang.petitions.models import Petition, Petitioner
from xinfang.workflow.deadlines import LIGHT_LABELS, deadline_light

from .sections import (
    DENSE_SECTION_ORDER,
    DUE_NOTICE,
    DUE_WINDOW,
    SECTION_COUNT_CAP,
    UNDATED,
    Section,
    Windowed,
    sections_for,
)

# How many rows of each non-empty section the workbench shows; the count links to the rest.
PREVIEW_ROWS = 5

# Only the masked columns of petitioners: lists never decrypt personal data.
MASKED_PETITIONER_FIELDS = ("id", "petition_id", "position", "name", "id_number_mask", "phone_mask")


def open_assignments() -> Prefetch:
    """Each petition's open assignment (at most one) with its unit: the handling unit of a whole
    list in one query."""
    from xinfang.workflow.models import Assignment

    return Prefetch(
        "assignments",
        queryset=Assignment.objects.filter(ended_at__isnull=True).select_related("unit"),
        to_attr="open_assignments",
    )


def list_queryset(qs: QuerySet[Petition]) -> QuerySet[Petition]:
    """``qs`` with everything a list row shows loaded up front (three queries for any page)."""
    return qs.select_related("office", "handler", "category", "locality").prefetch_related(
        Prefetch("petitioners", queryset=Petitioner.objects.only(*MASKED_PETITIONER_FIELDS)),
        open_assignments(),
    )


def handling_unit(petition: Petition) -> Any:
    """The body handling a listed petition (engine.handling_organisation, from the prefetch)."""
    assignments = getattr(petition, "open_assignments", None)
    if assignments is None:
        from xinfang.workflow.engine import handling_organisation

        return handling_organisation(petition)
    return assignments[0].unit if assignments else petition.office


@dataclass
class Row:
    """One petition as a workbench list shows it."""

    petition: Petition
    reason: str
    due_on: dt.date | None
    # True when ``due_on`` is a date staff must meet (a light, days left, red when overdue); False
    # for a petitioner's window, shown as a plain date and never overdue.
    staff_deadline: bool
    days_left: int | None
    light: str
    light_label: str
    handling_unit: Any
    handler: Any
    is_new: bool = False

    @property
    def overdue(self) -> bool:
        return self.staff_deadline and self.days_left is not None and self.days_left < 0

    @property
    def overdue_days(self) -> int:
        return -self.days_left if self.overdue and self.days_left is not None else 0


def _row_due(section: Section | None, petition: Petition, today: dt.date) -> tuple[dt.date | None, bool]:
    """The date a row is due by, and whether staff must meet it."""
    if section is not None and section.due == DUE_NOTICE:
        return getattr(petition, "section_due_on", None), True
    if section is not None and section.due == DUE_WINDOW:
        served = getattr(petition, "letter_served_on", None)
        if served is None:
            return petition.due_on, False
        from xinfang.workflow.deadlines import due_date
        from xinfang.workflow.models import Step

        return due_date(Step.EVALUATION, served, petition.office).due_on, False
    return petition.due_on, petition.due_on is not None and petition.status in STAFF_DEADLINE_STATUSES


def unread_petition_ids(user: Any, petition_ids: list[int]) -> set[int]:
    """Which of ``petition_ids`` have an unread notification for ``user`` (one query)."""
    if not petition_ids:
        return set()
    try:
        from xinfang.notifications.models import Notification
    except ImportError:  # pragma: no cover - the notifications app is part of issue #8
        return set()
    rows = Notification.objects.filter(user=user, read_at__isnull=True, petition_id__in=petition_ids)
    # order_by(): the model's default order would enter the DISTINCT (one row per notification).
    return set(rows.order_by().values_list("petition_id", flat=True).distinct())


def rows_for(
    petitions: list[Petition],
    section: Section | None,
    user: Any,
    today: dt.date | None = None,
    *,
    unread: set[int] | None = None,
) -> list[Row]:
    """Rows for already loaded petitions (``list_queryset``), plus one query for the "新" marks
    unless the caller read them already (``unread``: ids with an unread notification)."""
    today = today or timezone.localdate()
    if unread is None:
        unread = unread_petition_ids(user, [p.pk for p in petitions])
    rows = []
    for p in petitions:
        due_on, staff = _row_due(section, p, today)
        left = None if due_on is None else (due_on - today).days
        light = deadline_light(due_on, today) if staff else "none"
        rows.append(
            Row(
                petition=p,
                reason=section.reason_for(p) if section is not None else "",
                due_on=due_on,
                staff_deadline=staff,
                days_left=left,
                light=light,
                light_label=str(LIGHT_LABELS[light]),
                handling_unit=handling_unit(p),
                handler=p.handler,
                is_new=p.pk in unread,
            )
        )
    return rows


def load_page(
    qs: QuerySet[Petition], section: Section | None, user: Any, *, offset: int, limit: int
) -> list[Petition]:
    """Rows ``offset .. offset + limit`` of ``qs`` in its order, loaded with everything a row shows.

    Two steps on purpose: the ids first, by the list's own filters and order (as cheap as its
    count), then those few petitions with their joins and the section's row data.  In one
    statement the five joins of the row data push PostgreSQL past its join-reordering limit, and
    it then scanned the whole petition table for a leader's few extension requests (2 s at a
    million petitions)."""
    ids = list(qs.values_list("pk", flat=True)[offset : offset + limit])
    if not ids:
        return []
    base: QuerySet[Petition] = Petition.objects.filter(pk__in=ids)
    if section is not None:
        base = section.with_row_data(base, user)
    loaded = {p.pk: p for p in list_queryset(base)}
    return [loaded[pk] for pk in ids if pk in loaded]


def section_rows(
    section: Section,
    user: Any,
    *,
    limit: int,
    offset: int = 0,
    today: dt.date | None = None,
    dense: bool = False,
) -> list[Row]:
    """The rows ``offset .. offset + limit`` of ``section`` for ``user``, in the section's order.
    ``dense``: the section is large (its count reached the cap), so the first rows are found by
    walking the due_on index rather than by sorting the whole section (same order either way)."""
    today = today or timezone.localdate()
    qs = section.queryset(user, today)
    if dense:
        qs = qs.order_by(*DENSE_SECTION_ORDER)
    petitions = load_page(qs, section, user, offset=offset, limit=limit)
    return rows_for(petitions, section, user, today)


@dataclass
class Overview:
    """A section on the workbench: its count (capped) and its first rows."""

    section: Section
    count: int
    count_exact: bool
    rows: list[Row]


def _first_ids(
    section: Section, user: Any, today: dt.date, preview: int, restricted: Any = None
) -> tuple[int, bool, list[int]]:
    """``(count, exact, ids of the first preview rows)`` of ``section``, in one statement for a
    section under the cap and two for a section at it.

    The capped count's own statement returns the ids and deadlines of the rows it counts (the
    same ``LIMIT cap + 1`` over the same filter, so the same plan): when the section has no more
    than the cap, that *is* the whole section, and its first rows are sorted here in the
    section's order (``SECTION_ORDER``: due date, undated last, then id).  Only a section at the
    cap asks again for its first rows, walking the due_on index (``DENSE_SECTION_ORDER``)."""
    cap1 = max(SECTION_COUNT_CAP + 1, preview)
    if section.ordered_parts is not None:
        # Each part's first cap + 1 in the section's order, merged: the parts are disjoint, so
        # the merged list holds the section's first rows, and more than the cap in all means at
        # least the cap in the section.
        parts = section.parts(user, today, restricted=restricted)
        merged = [row for part in parts for row in _part_first(part, cap1)]
        merged.sort(key=lambda r: (r[1] or UNDATED, r[0]))
        exact = len(merged) <= SECTION_COUNT_CAP
        return min(len(merged), SECTION_COUNT_CAP), exact, [pk for pk, _due in merged[:preview]]
    qs = section.queryset(user, today, restricted=restricted)
    if section.built_whole is not None and section.built_whole(user):
        # ``qs`` is in the section's order (an expression: the due_on index cannot be walked).
        first = list(qs.values_list("pk", flat=True)[: max(SECTION_COUNT_CAP + 1, preview)])
        exact = len(first) <= SECTION_COUNT_CAP
        return min(len(first), SECTION_COUNT_CAP), exact, first[:preview]
    sample = list(qs.order_by().values_list("pk", "due_on")[: SECTION_COUNT_CAP + 1])
    if len(sample) <= SECTION_COUNT_CAP:
        sample.sort(key=lambda r: (r[1] or UNDATED, r[0]))
        return len(sample), True, [pk for pk, _due in sample[:preview]]
    if not preview:
        return SECTION_COUNT_CAP, False, []
    first = qs.order_by(*DENSE_SECTION_ORDER).values_list("pk", flat=True)[:preview]
    return SECTION_COUNT_CAP, False, list(first)


def _part_first(part: Any, limit: int) -> list[tuple[int, dt.date | None]]:
    """``(pk, due_on)`` of the first ``limit`` rows of an ordered part (``Section.ordered_parts``)."""
    if isinstance(part, Windowed):
        rows = list(part.fast.values_list("pk", "due_on")[:limit])
        if len(rows) >= limit:
            return rows
        part = part.full
    return list(part.values_list("pk", "due_on")[:limit])


def _row_data(section: Section, user: Any, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The section's own row data (``Section.with_row_data``: a notice's response date, a reply's
    date) for ``ids``, by primary key, in one small statement without the display joins."""
    annotated = section.with_row_data(Petition.objects.filter(pk__in=ids), user)
    names = list(annotated.query.annotations)
    if not names:
        return {}
    return {pk: dict(zip(names, values, strict=True)) for pk, *values in annotated.values_list("pk", *names)}


def workbench_overview(
    user: Any, *, preview: int = PREVIEW_ROWS, today: dt.date | None = None
) -> list[Overview]:
    """Every section concerning ``user`` with its count and first ``preview`` rows.

    Statements for the whole page, not per section: one per section for its count and first ids
    (two for a section at the cap), then the rows of **all** sections together — one query with
    the display joins, one per prefetch, one for the "新" marks — and one small query per
    non-empty section that shows row data of its own.  A county unit's page went from ~40 to ~15
    statements (docs/performance.md)."""
    today = today or timezone.localdate()
    restricted = Petition.objects.restrict(user)  # the scope's subqueries built once for the page
    firsts = [(s, *_first_ids(s, user, today, preview, restricted)) for s in sections_for(user)]
    wanted = sorted({pk for *_rest, ids in firsts for pk in ids})
    loaded = {p.pk: p for p in list_queryset(Petition.objects.filter(pk__in=wanted))} if wanted else {}
    unread = unread_petition_ids(user, wanted)
    result = []
    for section, count, exact, ids in firsts:
        petitions = [loaded[pk] for pk in ids if pk in loaded]
        if petitions and section.annotate is not None:
            data = _row_data(section, user, [p.pk for p in petitions])
            # A petition can be in several sections with different row data (two notices' dates):
            # each section's rows get their own shallow copy of the loaded petition.
            petitions = [_with_attrs(p, data.get(p.pk, {})) for p in petitions]
        rows = rows_for(petitions, section, user, today, unread=unread)
        result.append(Overview(section, count, exact, rows))
    return result


def _with_attrs(petition: Petition, attrs: dict[str, Any]) -> Petition:
    clone = copy.copy(petition)
    for name, value in attrs.items():
        setattr(clone, name, value)
    return clone
