"""Reads that may be stale, served by a PostgreSQL read replica (issue #12 §4).

A large site may add a streaming replica (``DATABASE_REPLICA_URL``, docs/deployment.md "Read
replica").  Nothing reads from it unless three things hold at once:

1. the code asked for it: the read runs inside ``stale_ok()`` — a decorator on the few views whose
   answer may be seconds old (the statistics pages and dashboard with its hotspots, the work
   queue, ``GET /api/v1/petitions``) and a context manager for the same in other code;
2. the read is not part of a write: never inside a transaction on the primary (every service, the
   engine, the audit log and every ``select_for_update`` run in one), never for a caller who wrote
   a moment ago (*read-your-writes*: ``ReplicaPinMiddleware`` pins a browser by a signed cookie and
   an API client by its token for ``XINFANG_REPLICA_PIN_SECONDS`` after any POST/PUT/PATCH/DELETE);
3. the replica answers and is close enough: a probe of ``pg_last_xact_replay_timestamp()``, cached
   in the process for ``XINFANG_REPLICA_PROBE_SECONDS``, says it lags by at most
   ``XINFANG_REPLICA_MAX_LAG`` seconds.  Otherwise the read goes to the primary.

A replica that dies between two probes fails the query that meets it: ``stale_ok`` then marks it
down and runs the view once more on the primary (these views are reads).  ``core.db_routers``
holds the router that asks ``read_alias`` for every read.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

REPLICA_DB_ALIAS = "replica"
PIN_COOKIE = "xinfang_rw"
_PIN_SALT = "xinfang.core.replica.pin"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Tables that are never read from the replica even inside stale_ok(): the database cache (its
# entries are written and read back at once), sessions, the task queue, and core's counters
# (throttles must be exact).  Everything else a stale view reads is petitions and figures.
NEVER_FROM_REPLICA = frozenset({"django_cache", "sessions", "django_q", "core"})

# How far behind the replica is, in seconds; NULL when it cannot tell (no WAL receiver: the
# standby lost its primary, so it may be stale without limit).  An idle primary sends nothing to
# replay, so "everything received is replayed" counts as no lag rather than the age of the last
# transaction.  A server that is not in recovery is taken as up to date (an operator who points
# the replica URL at the primary itself).
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN NULL
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())
END
"""


@dataclass
class _Stale:
    """One stale_ok() scope: whether the caller is pinned (computed once, lazily) and whether a
    read of it went to the replica (for the retry on a replica error)."""

    used_replica: bool = False


@dataclass
class _Pin:
    """The request's read-your-writes pin, looked up only if a stale read asks for it."""

    lookup: Callable[[], bool]
    _value: bool | None = field(default=None)

    def __call__(self) -> bool:
        if self._value is None:
            self._value = self.lookup()
        return self._value


_stale: ContextVar[_Stale | None] = ContextVar("xinfang_stale_reads", default=None)
_pin: ContextVar[_Pin | None] = ContextVar("xinfang_replica_pin", default=None)


def replica_configured() -> bool:
    """A replica alias naming the primary's database.  A streaming standby holds every database
    of its primary under the same name, so a different name is a mistake — or the test runner,
    which renames ``default`` to its test database and ``replica`` only when it mirrors it: then
    the replica's database is not the one being tested, and it is not read."""
    databases = settings.DATABASES
    return REPLICA_DB_ALIAS in databases and databases[REPLICA_DB_ALIAS].get("NAME") == databases[
        DEFAULT_DB_ALIAS
    ].get("NAME")


# --- the probe ---------------------------------------------------------------------------------

_probe_lock = threading.Lock()
_probe: dict[str, Any] = {"at": None, "ok": False, "lag": None}


def _measure_lag(alias: str = REPLICA_DB_ALIAS) -> float | None:
    """Seconds the replica lags (None: cannot tell).  Raises DatabaseError when unreachable."""
    with connections[alias].cursor() as cursor:
        cursor.execute(LAG_SQL)
        row = cursor.fetchone()
    return None if row is None or row[0] is None else float(row[0])


def replica_usable() -> bool:
    """Whether stale reads may go to the replica now: reachable and lagging at most
    ``XINFANG_REPLICA_MAX_LAG`` seconds, as last probed (at most every
    ``XINFANG_REPLICA_PROBE_SECONDS`` per process)."""
    if not replica_configured():
        return False
    now = time.monotonic()
    probe_every = float(getattr(settings, "XINFANG_REPLICA_PROBE_SECONDS", 5))
    with _probe_lock:
        if _probe["at"] is not None and now - _probe["at"] < probe_every:
            return bool(_probe["ok"])
        try:
            lag = _measure_lag()
        except DatabaseError as exc:
            logger.warning("read replica unreachable, reading from the primary: %s", exc)
            _close_replica()
            lag = None
        max_lag = float(getattr(settings, "XINFANG_REPLICA_MAX_LAG", 10))
        ok = lag is not None and lag <= max_lag
        if lag is not None and not ok:
            logger.warning("read replica lags %.1f s (limit %.1f s), reading from the primary", lag, max_lag)
        _probe.update(at=time.monotonic(), ok=ok, lag=lag)
        return ok


def mark_replica_down() -> None:
    """Read from the primary until the next probe is due (after a failed query on the replica)."""
    with _probe_lock:
        _probe.update(at=time.monotonic(), ok=False, lag=None)
    _close_replica()


def reset_probe() -> None:
    """Forget the last probe, so the next stale read probes again (tests, operators' shells)."""
    with _probe_lock:
        _probe.update(at=None, ok=False, lag=None)


def _close_replica() -> None:
    with contextlib.suppress(Exception):
        connections[REPLICA_DB_ALIAS].close()


# --- the decision --------------------------------------------------------------------------------


def read_alias(app_label: str) -> str:
    """The database a read of a model of ``app_label`` goes to now: the replica only inside
    stale_ok(), outside any transaction on the primary, for an unpinned caller, while the replica
    is usable; the primary otherwise."""
    scope = _stale.get()
    if scope is None or app_label in NEVER_FROM_REPLICA:
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    pin = _pin.get()
    if pin is not None and pin():
        return DEFAULT_DB_ALIAS
    if not replica_usable():
        return DEFAULT_DB_ALIAS
    scope.used_replica = True
    return REPLICA_DB_ALIAS


F = TypeVar("F", bound=Callable[..., Any])


class stale_ok:  # noqa: N801 - used like contextlib's lower-case helpers
    """Allow the reads inside to come from the read replica (see the module's docstring).

    As a decorator it also retries once on the primary when the replica fails mid-call: only put
    it on views that read (a GET page, a list endpoint), never on one that writes."""

    def __enter__(self) -> _Stale:
        scope = _Stale()
        self._tokens = [*getattr(self, "_tokens", []), _stale.set(scope)]
        return scope

    def __exit__(self, *exc: object) -> None:
        _stale.reset(self._tokens.pop())

    def __call__(self, func: F) -> F:
        @wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            token = _stale.set(scope := _Stale())
            try:
                return func(*args, **kwargs)
            except (OperationalError, InterfaceError):
                if not scope.used_replica:
                    raise
                logger.warning("read replica failed during a stale read; retrying on the primary")
                mark_replica_down()
            finally:
                _stale.reset(token)
            return func(*args, **kwargs)

        wrapped._stale_ok = True  # type: ignore[attr-defined]  # the tests check which views have it
        # django-ninja reads an endpoint's parameters from its signature and resolves string
        # annotations (``from __future__ import annotations``) in the function's ``__globals__``,
        # which for this wrapper would be this module's: give it the resolved signature instead.
        with contextlib.suppress(NameError, TypeError):
            wrapped.__signature__ = inspect.signature(func, eval_str=True)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]


@contextlib.contextmanager
def primary_only() -> Iterator[None]:
    """Inside a stale_ok() scope, read from the primary again (e.g. before a write)."""
    token = _stale.set(None)
    try:
        yield
    finally:
        _stale.reset(token)


# --- read-your-writes ----------------------------------------------------------------------------


def pin_seconds() -> int:
    return int(getattr(settings, "XINFANG_REPLICA_PIN_SECONDS", 10))


def _token_key(authorization: str) -> str:
    digest = hashlib.sha256(authorization.encode("utf-8", "replace")).hexdigest()[:32]
    return f"xinfang:replica-pin:{digest}"


def request_pinned(request: HttpRequest) -> bool:
    """Whether this caller wrote within the pin: a browser by its signed cookie, an API client
    (which need not keep cookies) by a cache entry under a hash of its Authorization header."""
    value = request.COOKIES.get(PIN_COOKIE)
    if value:
        try:
            signing.loads(value, salt=_PIN_SALT, max_age=pin_seconds())
            return True
        except signing.BadSignature:  # also SignatureExpired
            pass
    authorization = request.headers.get("Authorization", "")
    return bool(authorization) and cache.get(_token_key(authorization)) is not None


def pin_response(request: HttpRequest, response: HttpResponse) -> None:
    """Pin the caller of a write to the primary for the next ``pin_seconds()``."""
    seconds = pin_seconds()
    response.set_cookie(
        PIN_COOKIE,
        signing.dumps(1, salt=_PIN_SALT),
        max_age=seconds,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    authorization = request.headers.get("Authorization", "")
    if authorization:
        cache.set(_token_key(authorization), 1, timeout=seconds)


class ReplicaPinMiddleware:
    """Installed with the replica (settings): makes the pin visible to the router during the
    request and sets it after any request that may have written."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _pin.set(_Pin(lambda: request_pinned(request)))
        try:
            response = self.get_response(request)
        finally:
            _pin.reset(token)
        if request.method in _UNSAFE_METHODS:
            pin_response(request, response)
        return response
