"""What several panels of one page ask about the same object, asked once (issue #12 §3).

The petition page is assembled from panels of many apps (actions, documents, supervision,
leadership …), and their rules ask the same questions again and again: the latest decision letter,
the open assignment, whether the user may change the petition, which events happened.  A page that
has loaded its petition calls ``enable(petition)``; from then on ``remember(petition, key, compute)``
answers each question from the first computation for the rest of that request.  Nothing else turns
it on: services that change a petition load their own object and always ask the database, so a
memo can never hide a write.  ``prefetched(obj, name)`` reads a ``prefetch_related`` result the
page already holds, or None when it was not prefetched (then the caller queries as before).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_ATTR = "_page_memo"


def enable(obj: Any) -> Any:
    """Let the page's panels share answers about ``obj`` for this request; returns ``obj``."""
    setattr(obj, _ATTR, {})
    return obj


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
