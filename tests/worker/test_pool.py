"""``xinfang worker`` drops Django's connection pool before its cluster forks (issue #12 §4).

Found by tests/scale/test_scale_out.py: with ``DB_POOL_MAX_SIZE`` set for the web processes, the
worker's scheduler process opened the pool and django-q2 forked task processes from it, which then
shared the pooled sockets ("can't change 'autocommit' now: connection in transaction status
INTRANS" in the pusher).  The worker now runs with plain persistent connections whatever the
pool setting says.
"""

from __future__ import annotations

from django.db.utils import ConnectionHandler

from xinfang.core.management.commands.worker import CONN_MAX_AGE_WITHOUT_POOL, without_connection_pools


def _handler() -> ConnectionHandler:
    return ConnectionHandler(
        {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "xinfang",
                "HOST": "127.0.0.1",
                "CONN_MAX_AGE": 0,
                "OPTIONS": {"pool": {"min_size": 1, "max_size": 2}, "connect_timeout": 3},
            },
            "plain": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
        }
    )


def test_the_worker_switches_pooled_aliases_to_persistent_connections():
    # given a site whose PostgreSQL alias is pooled (as DB_POOL_MAX_SIZE makes it)
    handler = _handler()
    pooled = handler["default"]
    assert pooled.pool is not None
    # when the worker starts
    changed = without_connection_pools(handler)
    # then that alias has no pool any more (closed, and none is made again: no process forked from
    # the worker can inherit one) and keeps its connections as a site without a pool does
    assert changed == ["default"]
    assert pooled.pool is None
    assert "pool" not in pooled.settings_dict["OPTIONS"]
    assert pooled.settings_dict["OPTIONS"]["connect_timeout"] == 3  # other options untouched
    assert pooled.settings_dict["CONN_MAX_AGE"] == CONN_MAX_AGE_WITHOUT_POOL


def test_aliases_without_a_pool_are_left_alone():
    handler = _handler()
    without_connection_pools(handler)
    assert without_connection_pools(handler) == []
    assert handler["plain"].settings_dict.get("CONN_MAX_AGE", 0) == 0
