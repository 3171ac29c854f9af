"""The pre-aggregated counts behind every figure (docs/statistics.md §4).

``DailyCount`` holds, per day, metric and organisation, the total and its breakdown along one
dimension at a time (category, channel, purpose, locality); ``MonthlyCount`` the same per month,
kept equal to the sum of the month's days.  Both are derived data: ``xinfang rebuild_stats``
recomputes them from the facts (petitions, deadline records, letters, evaluations, appeals), and
the worker keeps them current from ``DirtyDay`` (stats.rollup).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.models import Organisation


class Dimension(models.TextChoices):
    TOTAL = "", _("合计")
    CATEGORY = "category", _("问题分类")
    CHANNEL = "channel", _("信访形式")
    PURPOSE = "purpose", _("信访目的")
    LOCALITY = "locality", _("问题属地")


class CountBase(models.Model):
    metric = models.CharField(max_length=32)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    # Copied from the organisation: a scope ("my subtree") is one prefix range on the index.
    organisation_path = models.CharField(max_length=255)
    dimension = models.CharField(max_length=10, choices=Dimension.choices, blank=True)
    # The dimension's value: a category or locality id, a channel or purpose code; "" for the total.
    key = models.CharField(max_length=20, blank=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class DailyCount(CountBase):
    day = models.DateField()

    class Meta:
        indexes = [
            models.Index(
                fields=["metric", "dimension", "organisation_path", "day"],
                name="daily_count_scope_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops", "varchar_pattern_ops", "date_ops"],
            ),
            # A short period over a wide scope (this month, a city): the days first, then the
            # paths — the scope index above walked every day of every office in the city (28 ms
            # for 2 days at a million petitions; this one 0.9 ms).  The planner picks per query.
            models.Index(
                fields=["metric", "dimension", "day", "organisation_path"],
                name="daily_count_period_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops", "date_ops", "varchar_pattern_ops"],
            ),
            models.Index(fields=["day"], name="daily_count_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.metric} {self.organisation_id} {self.dimension}={self.key}: {self.value}"


class MonthlyCount(CountBase):
    month = models.DateField()  # the first day of the month

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "metric", "organisation", "dimension", "key"], name="monthly_count_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["metric", "dimension", "organisation_path", "month"],
                name="monthly_count_scope_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops", "varchar_pattern_ops", "date_ops"],
            ),
        ]

    def __str__(self) -> str:
        where = f"{self.organisation_id} {self.dimension}={self.key}"
        return f"{self.month:%Y-%m} {self.metric} {where}: {self.value}"


class DirtyDay(models.Model):
    """A mark that a day's counts must be recomputed, written in the transaction of the action that
    changed a fact of that day and removed by the refresh that recomputes it (stats.rollup).

    Append-only, with no unique key on purpose: an action inserting a mark never waits for another
    transaction (a unique ``day`` would make every action of the day queue behind the first
    uncommitted one, and behind the refresh deleting it)."""

    day = models.DateField(db_index=True)
    marked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return str(self.day)


class RefreshState(models.Model):
    """One row: when the counts were last brought up to date (shown as "数据更新于")."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refreshed {self.refreshed_at}, rebuilt {self.rebuilt_at}"
