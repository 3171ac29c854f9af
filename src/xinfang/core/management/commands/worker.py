"""``xinfang worker``: the background worker (a django-q2 cluster), i.e. ``qcluster`` under our name.

It takes tasks from the broker (this database by default, Redis with ``XINFANG_TASK_REDIS_URL``)
and, unless ``XINFANG_WORKER_SCHEDULER=false``, queues the periodic jobs when due.  SIGTERM or
Ctrl-C stops it after the tasks in hand; a task whose worker died is handed out again after
``XINFANG_TASK_RETRY`` seconds (ORM broker; on Redis the job's next scheduled run does the rest).
Production layout: docs/deployment.md.

The worker never uses Django's connection pool (``DB_POOL_MAX_SIZE``), even where the web
processes do: a django-q2 cluster forks its task processes from a parent that has used the
database (the scheduler runs in it, and it forks again to replace a process that died or was
recycled), and a pool is one object per process holding open sockets, so a forked child would
inherit the parent's pooled connections and both would talk over the same socket to PostgreSQL
("can't change 'autocommit' now: connection in transaction status INTRANS", or worse, one
process's statements inside the other's transaction).  A task process holds one connection at a
time anyway; it keeps it between tasks as without a pool (``DB_CONN_MAX_AGE``).
"""

from __future__ import annotations

from typing import Any

from django.db import connections as default_connections
from django.db.utils import ConnectionHandler
from django_q.management.commands.qcluster import Command as QClusterCommand

# What settings.py gives a connection without a pool (DB_CONN_MAX_AGE's default).
CONN_MAX_AGE_WITHOUT_POOL = 60


def without_connection_pools(
    handler: ConnectionHandler = default_connections, *, conn_max_age: int = CONN_MAX_AGE_WITHOUT_POOL
) -> list[str]:
    """Close every connection pool of this process and switch its aliases to plain persistent
    connections, before any process is forked from it; returns the aliases changed.

    The settings dicts are changed in place (a ``DatabaseWrapper`` keeps a reference to its alias's
    dict in ``settings.DATABASES``), so every connection opened later in this process or in the
    processes forked from it is made without a pool."""
    changed = []
    for alias in handler:
        connection = handler[alias]
        options = connection.settings_dict.get("OPTIONS") or {}
        if not options.get("pool"):
            continue
        connection.close()  # back into the pool, which is closed next with all its sockets
        close_pool = getattr(connection, "close_pool", None)
        if close_pool is not None:
            close_pool()
        options.pop("pool")
        connection.settings_dict["CONN_MAX_AGE"] = conn_max_age
        changed.append(alias)
    return changed


class Command(QClusterCommand):
    help = "启动后台任务进程（django-q2 集群）：执行排队的任务，并按计划排入周期任务。"

    def handle(self, *args: Any, **options: Any) -> None:
        without_connection_pools()
        super().handle(*args, **options)
