"""Fresh planner statistics after a bulk write (issue #12 §3).

PostgreSQL plans from the statistics ANALYZE keeps; autovacuum gathers them eventually, but not
at once after a bulk load, and not at all where it is switched off (it was, on the benchmark
machine: a million search rows and six million statistics rows stood unanalysed, and every
"common word" looked rare to ``search.query.is_common`` — a search of 工资 took 730 ms instead of
about 100).  What writes many rows at once — the search reindex, the statistics rebuild, a
history import — analyses its tables when it ends.  Nothing to do on SQLite.
"""

from __future__ import annotations

from django.db import connection, models


def analyze(*tables: type[models.Model]) -> None:
    """``ANALYZE`` the tables of these models (PostgreSQL; inside a transaction too)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
