"""A small fixed-window rate counter in the database, shared by every web process.

Used by the public portal (submissions and failed tracking look-ups per client address) and by
the API (failed logins per user name and address).  Rates are strings ``"<count>/<seconds>"``,
as in the settings ``XINFANG_PORTAL_SUBMIT_RATE`` and ``XINFANG_PORTAL_TRACK_FAILURE_RATE``.

Why a fixed window and not django-ninja's throttles: ninja's ``SimpleRateThrottle`` keeps a list
of timestamps per client (one read-modify-write of a growing list per request) and trusts
``X-Forwarded-For`` unless told otherwise; this counter is one atomic ``UPDATE`` per event, and the
caller passes the client address from ``xinfang.core.net.client_ip``, which honours
``XINFANG_TRUSTED_PROXIES``.  The price of a fixed window is that a client may spend up to twice
the allowance across a window boundary, which is acceptable for abuse control.

Atomicity (issue #7 point 29): the counts live in ``core.Counter`` rows, incremented with
``UPDATE … SET count = count + 1`` (``core.counters``), not in the cache.  Django's database cache
implements ``incr`` as a read followed by a write, so with the default ``dbcache`` 40 simultaneous
wrong query codes let 10 through a limit of 5; the table is atomic on every database, whichever
cache backend the site uses.  And :func:`reserve` counts an attempt *before* it is made: checking
first and counting the failure afterwards lets every racing request pass the check.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from . import counters

__all__ = ["Rate", "Reservation", "Throttled", "check", "hit", "parse_rate", "reserve", "reset"]


class Throttled(Exception):
    """Too many events in the current window; ``retry_after`` is how many seconds remain in it."""

    default_message = _("操作过于频繁，请稍后再试。")

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        self.message = str(message or self.default_message)
        super().__init__(self.message)


@dataclass(frozen=True)
class Rate:
    """At most ``count`` events per ``seconds``-long window."""

    count: int
    seconds: int


def parse_rate(value: str) -> Rate:
    """Parse ``"10/3600"`` into ``Rate(10, 3600)``; a malformed setting fails loudly."""
    try:
        count_text, seconds_text = value.split("/")
        rate = Rate(int(count_text), int(seconds_text))
    except (AttributeError, ValueError):
        raise ImproperlyConfigured(f"A rate must look like '<count>/<seconds>', not {value!r}.") from None
    if rate.count < 1 or rate.seconds < 1:
        raise ImproperlyConfigured(f"A rate needs a positive count and period, not {value!r}.")
    return rate


def _window(rate: Rate, now: float) -> tuple[int, int]:
    """The current window's number and the whole seconds left in it."""
    index = int(now // rate.seconds)
    remaining = math.ceil((index + 1) * rate.seconds - now)
    return index, remaining


def _key(scope: str, ident: str, rate: Rate, index: int) -> str:
    # The identity is hashed: the counter table then never holds client addresses or user names
    # in clear, and every key has the same bounded length.
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return f"xf-throttle:{scope}:{rate.seconds}:{index}:{digest}"


def check(scope: str, ident: str, rate: Rate | str) -> None:
    """Raise :class:`Throttled` if ``ident`` has already used up its allowance; count nothing.

    Used before an action whose *failures* are counted (a login), so that a client over the limit
    is refused even when this attempt would have succeeded.  Under concurrency, prefer
    :func:`reserve`, which cannot be raced past.
    """
    rate = parse_rate(rate) if isinstance(rate, str) else rate
    index, remaining = _window(rate, time.time())
    if counters.value(_key(scope, ident, rate, index)) >= rate.count:
        raise Throttled(remaining)


def hit(scope: str, ident: str, rate: Rate | str, *, raise_over: bool = False) -> int:
    """Count one event for ``ident`` and return the count so far in the current window.

    With ``raise_over`` the event that goes beyond the allowance raises :class:`Throttled`
    (it is still counted, so hammering a closed door does not reopen it sooner).
    """
    rate = parse_rate(rate) if isinstance(rate, str) else rate
    index, remaining = _window(rate, time.time())
    # The row outlives the window by a little so a slow clock between processes cannot drop a
    # count that is still being read.
    count = counters.increment(_key(scope, ident, rate, index), ttl=remaining + 5)
    if raise_over and count > rate.count:
        raise Throttled(remaining)
    return count


@dataclass(frozen=True)
class Reservation:
    """An attempt counted in advance by :func:`reserve`; :meth:`refund` it if it succeeded."""

    key: str

    def refund(self) -> None:
        """Take the attempt back: only failures stay counted."""
        counters.decrement(self.key)


def reserve(scope: str, ident: str, rate: Rate | str) -> Reservation:
    """Count an attempt *before* making it; raise :class:`Throttled` if it is beyond the allowance.

    For limits on failures (wrong query codes): reserve, try, and refund on success.  Since the
    count is taken atomically first, at most ``rate.count`` attempts run per window however many
    arrive at once — a check followed by a later count would let all of them through.
    """
    rate = parse_rate(rate) if isinstance(rate, str) else rate
    index, remaining = _window(rate, time.time())
    key = _key(scope, ident, rate, index)
    if counters.increment(key, ttl=remaining + 5) > rate.count:
        raise Throttled(remaining)
    return Reservation(key)


def reset(scope: str, ident: str, rate: Rate | str) -> None:
    """Forget the current window's count for ``ident`` (for tests and administrators)."""
    rate = parse_rate(rate) if isinstance(rate, str) else rate
    index, _remaining = _window(rate, time.time())
    counters.delete(_key(scope, ident, rate, index))
