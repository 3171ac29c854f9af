"""The backlog (积案): which petitions an office counts as backlog cases, by its own definition.

A petition is a **backlog case** when any enabled criterion of the area's ``BacklogRule`` holds:

* **overdue** — still open with a deadline *staff* must meet (``STAFF_DEADLINE_STATUSES``: a
  petitioner's window after a reply is no one's delay) and ``due_on`` more than N days ago;
* **repeated** — more than N petitions registered as repeats of it (``repeat_of``, the link the
  clerk sets at intake and merging keeps, the same one ``stats`` counts as 重复信访) received within
  the last 365 days;
* **petitioned after conclusion** — concluded (终结), yet a repeat of it was received after the day
  it was concluded.

The list is one queryset over the user's restricted scope (``Petition.objects.restrict``): three
annotations (a condition, a correlated count, an EXISTS) and one filter, so its cost does not grow
with Python loops, and the same queryset feeds the page, the export, the API, the campaign's "add
from the backlog" and the workbench panel.  The repeat subqueries use the index on ``repeat_of``
(Django's foreign-key index), the overdue criterion the ``(status, due_on)`` index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.models import Organisation
from xinfang.petitions.access import scope_root
from xinfang.petitions.choices import STAFF_DEADLINE_STATUSES, Status
from xinfang.petitions.models import Petition

from .models import BacklogRule

REPEAT_WINDOW_DAYS = 365

# The codes of the criteria (stored on a campaign case, shown as labels).
OVERDUE, REPEATED, AFTER_CONCLUSION = "overdue", "repeated", "after_conclusion"
REASON_LABELS = {
    OVERDUE: _("超期未办结"),
    REPEATED: _("一年内多次重复信访"),
    AFTER_CONCLUSION: _("终结后仍信访"),
}


def area_of(user: Any) -> Organisation | None:
    """The area whose rule and categories a user works with: their scope root (a petition office's
    staff work for their government, as the scope says)."""
    org = getattr(user, "organisation", None)
    return scope_root(org) if org is not None else None


def rule_for(org: Organisation | None) -> BacklogRule:
    """The rule in force for ``org``: its own, else the nearest ancestor's, else the default (an
    unsaved ``BacklogRule`` with the model's defaults)."""
    if org is None:
        return BacklogRule()
    line = [int(p) for p in org.path.strip("/").split("/") if p]
    rule = (
        BacklogRule.objects.filter(organisation_id__in=line)
        .select_related("organisation")
        .order_by("-organisation__depth")
        .first()
    )
    return rule or BacklogRule()


def _repeats_within(today: dt.date) -> Subquery:
    since = today - dt.timedelta(days=REPEAT_WINDOW_DAYS)
    counted = (
        Petition.objects.filter(repeat_of=OuterRef("pk"), received_on__gt=since, received_on__lte=today)
        .order_by()
        .values("repeat_of")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(counted, output_field=IntegerField())


def annotate_backlog(qs: QuerySet[Petition], rule: BacklogRule, today: dt.date) -> QuerySet[Petition]:
    """``qs`` with the three criteria as columns (``backlog_overdue``, ``backlog_repeats``,
    ``backlog_after_conclusion``), whether or not each is enabled."""
    overdue_before = today - dt.timedelta(days=rule.overdue_days)
    overdue = Q(status__in=list(STAFF_DEADLINE_STATUSES), due_on__lt=overdue_before)
    after_conclusion = Exists(
        Petition.objects.filter(repeat_of=OuterRef("pk"), received_on__gt=OuterRef("concluded_on"))
    )
    return qs.annotate(
        backlog_overdue=Case(
            When(overdue, then=Value(True)), default=Value(False), output_field=BooleanField()
        ),
        backlog_repeats=Coalesce(_repeats_within(today), Value(0)),
        backlog_after_conclusion=Case(
            When(
                Q(status=Status.CONCLUDED, concluded_on__isnull=False) & Q(after_conclusion), then=Value(True)
            ),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )


def backlog_filter(rule: BacklogRule) -> Q | None:
    """The condition on the annotated columns, or None when the rule enables no criterion."""
    parts = []
    if rule.overdue_enabled:
        parts.append(Q(backlog_overdue=True))
    if rule.repeat_enabled:
        parts.append(Q(backlog_repeats__gt=rule.repeat_count))
    if rule.concluded_enabled:
        parts.append(Q(backlog_after_conclusion=True))
    if not parts:
        return None
    condition = parts[0]
    for part in parts[1:]:
        condition |= part
    return condition


def backlog_cases(user: Any, today: dt.date, *, rule: BacklogRule | None = None) -> QuerySet[Petition]:
    """The backlog cases ``user`` may see, by the rule of their area, oldest deadline first."""
    rule = rule or rule_for(area_of(user))
    qs = Petition.objects.restrict(user)
    condition = backlog_filter(rule)
    if condition is None:
        return qs.none()
    return (
        annotate_backlog(qs, rule, today).filter(condition).order_by(F("due_on").asc(nulls_last=True), "id")
    )


@dataclass(frozen=True)
class Reasons:
    """Why one annotated petition qualifies, under ``rule``, for display."""

    codes: tuple[str, ...]
    labels: tuple[str, ...]


def reasons_of(petition: Petition, rule: BacklogRule, today: dt.date) -> Reasons:
    codes: list[str] = []
    labels: list[str] = []
    if rule.overdue_enabled and getattr(petition, "backlog_overdue", False):
        codes.append(OVERDUE)
        days = (today - petition.due_on).days if petition.due_on else 0
        labels.append(str(_("超期%(n)d天未办结")) % {"n": days})
    repeats = getattr(petition, "backlog_repeats", 0) or 0
    if rule.repeat_enabled and repeats > rule.repeat_count:
        codes.append(REPEATED)
        labels.append(str(_("一年内重复信访%(n)d次")) % {"n": repeats})
    if rule.concluded_enabled and getattr(petition, "backlog_after_conclusion", False):
        codes.append(AFTER_CONCLUSION)
        labels.append(str(REASON_LABELS[AFTER_CONCLUSION]))
    return Reasons(tuple(codes), tuple(labels))


def rule_text(rule: BacklogRule) -> str:
    """The rule in one sentence, for the page and the report."""
    parts = []
    if rule.overdue_enabled:
        parts.append(str(_("未办结且超过办理时限%(n)d天以上")) % {"n": rule.overdue_days})
    if rule.repeat_enabled:
        parts.append(str(_("一年内重复信访超过%(n)d次")) % {"n": rule.repeat_count})
    if rule.concluded_enabled:
        parts.append(str(_("已终结但又重复信访")))
    return "；".join(parts) if parts else str(_("未启用任何认定情形"))
