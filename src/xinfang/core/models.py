"""The one model of ``core``: counters that are incremented atomically in the database."""

from __future__ import annotations

from django.db import models


class Counter(models.Model):
    """A named count with an optional expiry: throttle windows and query-code failures.

    Why a table and not the cache (issue #7 point 29): Django's database cache implements ``incr``
    as a read followed by a write, so 40 simultaneous wrong query codes let 10 through a limit of 5.
    ``UPDATE … SET count = count + 1`` takes the row lock on PostgreSQL (and SQLite serialises
    writers), so here every increment is counted whatever cache backend a site uses.
    """

    key = models.CharField(max_length=200, primary_key=True)
    count = models.BigIntegerField(default=0)
    # None: lives until deleted (a petition's failure count lasts until its code is reissued).
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = "counter"

    def __str__(self) -> str:
        return f"{self.key}={self.count}"
