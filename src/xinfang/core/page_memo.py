"""What several panels of one page ask about the same object, asked once (issue #12 §3).

The petition page is assembled from panels of many apps (actions, documents, supervision,
leadership …), and their rules ask the same questions again and again: the latest decision letter,
the open assignment, whether the user may change the petition, which events happened.  A page that
has loaded its petition calls ``enable(petition)``; from then on ``remember(petition, key, compute)``
answers each question from the first computation for the rest of that request.  Nothing else turns
it on: services that change a petition load their own object and always ask the database, so a
memo can never hide a write.  ``prefetched(obj, name)`` reads a ``prefetch_related`` result the
page already holds, or None when it was not prefetched (then the caller queries as before).

Most panels have nothing to show for most petitions (no leader's contract, no campaign, no
referral …), yet each asked the database to learn it.  An app registers a *probe* for such a
question (``probe_empty(key, rows)``: "no row of ``rows()`` belongs to this petition"); the page
adds every probe to its own query (``with_probes``, one ``EXISTS`` each on an indexed foreign
key), and ``enable`` answers ``key`` with the empty value where the probe found nothing, so the
panel's ``remember(petition, key, …)`` costs no query.  A probe that found rows answers nothing:
the panel then loads them as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Exists, QuerySet

T = TypeVar("T")

_ATTR = "_page_memo"
# key -> (the EXISTS over the page's row, the empty answer); filled by the apps' ready().
_PROBES: dict[str, tuple[Callable[[], QuerySet[Any]], Callable[[], Any]]] = {}
# key -> the rows whose existence answers ``key`` for the page's user (not about its object).
_USER_PROBES: dict[str, Callable[[Any], QuerySet[Any]]] = {}


def probe_empty(key: str, rows: Callable[[], QuerySet[Any]], empty: Callable[[], Any] = list) -> None:
    """Register: when ``rows()`` — a queryset filtered on ``OuterRef("pk")`` of the page's object —
    has no row, the answer to ``key`` is ``empty()``.  ``rows`` must be a superset of what the
    panel loads under ``key`` (no row there means nothing to load)."""
    _PROBES[key] = (rows, empty)


def probe_exists(key: str, rows: Callable[[Any], QuerySet[Any]]) -> None:
    """Register: the answer to ``key`` is whether ``rows(user)`` has a row, for the page's user
    (a question about the user that a panel asks, such as "are there leaders I may name")."""
    _USER_PROBES[key] = rows


def _alias(key: str) -> str:
    return "_probe_" + re.sub(r"\W", "_", key)


def with_probes(qs: QuerySet[Any], user: Any = None) -> QuerySet[Any]:
    """``qs`` with every registered probe as an annotation (read by ``enable``); the user's probes
    only when ``user`` is given."""
    probes = {_alias(key): Exists(rows()) for key, (rows, _empty) in _PROBES.items()}
    if user is not None:
        probes.update({_alias(key): Exists(rows(user)) for key, rows in _USER_PROBES.items()})
    return qs.annotate(**probes)


def enable(obj: Any) -> Any:
    """Let the page's panels share answers about ``obj`` for this request; returns ``obj``.
    The answers of the probes ``obj`` was loaded with (``with_probes``) are known from the start."""
    memo: dict[Any, Any] = {}
    for key, (_rows, empty) in _PROBES.items():
        found = obj.__dict__.pop(_alias(key), None)
        if found is False:
            memo[key] = empty()
    for key in _USER_PROBES:
        found = obj.__dict__.pop(_alias(key), None)
        if found is not None:
            memo[key] = found
    setattr(obj, _ATTR, memo)
    return obj


def seed(obj: Any, key: Any, value: Any) -> None:
    """Give ``key`` its answer for a page that learnt it some other way (its own query)."""
    memo = getattr(obj, _ATTR, None)
    if memo is not None:
        memo[key] = value


def active(obj: Any) -> bool:
    """Whether a page enabled the memo on ``obj``."""
    return getattr(obj, _ATTR, None) is not None


def remember(obj: Any, key: Any, compute: Callable[[], T]) -> T:
    """``compute()`` once per ``key`` for an object the page enabled; always for any other."""
    memo = getattr(obj, _ATTR, None)
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def prefetched(obj: Any, name: str) -> list[Any] | None:
    """The rows ``prefetch_related(name)`` loaded on ``obj`` (a ``to_attr`` list or the related
    manager's cache), or None when they were not prefetched."""
    cache = getattr(obj, "_prefetched_objects_cache", {})
    if name in cache:
        return list(cache[name])
    value = getattr(obj, name, None) if name in getattr(obj, "__dict__", {}) else None
    return value if isinstance(value, list) else None
