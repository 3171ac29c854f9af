"""Filtering and ordering of petition lists: the one implementation behind the staff work queue
and the API list (and, later, exports)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import F
from django.utils import timezone

from .choices import FINAL_STATUSES, STAFF_DEADLINE_STATUSES, Status
from .models import Category, PetitionQuerySet

# The open states as a positive list: ``status IN (…)`` is checked on each row of the deadline
# index walk like any other filter (final petitions have no deadline, so they sit at the end of a
# ``due_on`` walk anyway and the first page of open work is found without reading them).
OPEN_STATUS_VALUES = tuple(s for s in Status.values if s not in FINAL_STATUSES)
STAFF_DEADLINE_VALUES = tuple(s for s in Status.values if s in STAFF_DEADLINE_STATUSES)
NUMBER_RE = re.compile(r"^XF-[0-9A-Z-]+-\d{4}-\d{6}$", re.IGNORECASE)
ORDERINGS = ("due_on", "-due_on", "received_on", "-received_on", "registered_at", "-registered_at")

# Full-text search and the look-up by petitioner are provided by the search app (floor 4), which
# registers them in its ``ready()``: this floor cannot import it.  Without it, ``q`` searches the
# titles as before.  ``text_search(qs, q, actor=…)`` returns ``qs`` narrowed and annotated ``search_rank``
# (or raises an exception with a ``message`` for a query too weak to run); ``highlighter(rows, q)``
# sets ``search_title``/``search_snippet`` on listed petitions; ``person_search(qs, name=…,
# id_tail=…, actor=…)`` narrows to petitions of that petitioner.
_hooks: dict[str, Callable[..., Any]] = {}
RELEVANCE_ORDER = ("-search_rank", "-registered_at", "-id")


def register_text_search(search: Callable[..., Any], highlighter: Callable[..., Any] | None = None) -> None:
    _hooks["text"] = search
    if highlighter is not None:
        _hooks["highlight"] = highlighter


def register_person_search(search: Callable[..., Any]) -> None:
    _hooks["person"] = search


def highlight(petitions: Iterable[Any], q: str) -> None:
    """Mark the words of ``q`` on listed petitions (nothing without the search app or a ``q``)."""
    if q and q.strip() and "highlight" in _hooks and not NUMBER_RE.match(q.strip()):
        _hooks["highlight"](petitions, q)


class SearchRefused(Exception):
    """A text search that was not run; ``message`` says why (in Chinese, for the user)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class PetitionFilter:
    """Filters of the work queue.  ``None`` (or "") means "any"; ``category`` is an id or a code,
    and a first-level category stands for itself and its entries (the tree is two levels deep).

    ``open_only``: final states left out (the queue's default; the API asks with ``open=true``).
    ``overdue``: a deadline **staff** must meet has passed (``STAFF_DEADLINE_STATUSES`` and
    ``due_on`` before ``today``) — a petitioner's review window that has run out is not overdue.
    ``handler``: the named handler's user id (承办人; "assigned to me" passes the caller's id)."""

    q: str = ""
    status: str = ""
    channel: str = ""
    purpose: str = ""
    category: Category | int | None = None
    category_code: str = ""
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    is_repeat: bool | None = None
    is_collective: bool | None = None
    is_urgent: bool | None = None
    open_only: bool = False
    overdue: bool = False
    handler: int | None = None
    today: dt.date | None = None
    # "" is the default: by relevance when ``q`` searches text, else by deadline (``due_on``).
    ordering: str = ""
    # The look-up by petitioner (exact name; the ID number's last four characters) and who asks.
    petitioner_name: str = ""
    id_tail: str = ""
    actor: Any = None
    searched: bool = dataclasses.field(default=False, init=False)

    def apply(self, qs: PetitionQuerySet) -> PetitionQuerySet:
        """Narrow an already restricted queryset and order it.  Raises ``SearchRefused`` when the
        text of ``q`` is too weak to search, or the look-up by ID tail is not allowed."""
        self.searched = False
        if self.q and self.q.strip():
            text = self.q.strip()
            # A petition number is matched whole, through its unique index; anything else is a
            # text search (OR-ing the two would turn every number search into a text search).
            if NUMBER_RE.match(text):
                qs = qs.filter(number=text.upper())
            elif "text" in _hooks:
                try:
                    qs = _hooks["text"](qs, text, actor=self.actor)
                except Exception as exc:
                    if hasattr(exc, "message"):
                        raise SearchRefused(str(exc)) from exc
                    raise
                self.searched = True
            else:
                qs = qs.filter(title__contains=text)
        if (self.petitioner_name.strip() or self.id_tail.strip()) and "person" in _hooks:
            try:
                qs = _hooks["person"](qs, name=self.petitioner_name, id_tail=self.id_tail, actor=self.actor)
            except PermissionError as exc:
                raise SearchRefused(str(exc)) from exc
        for field in ("status", "channel", "purpose"):
            if getattr(self, field):
                qs = qs.filter(**{field: getattr(self, field)})
        if self.category is not None or self.category_code:
            qs = qs.filter(category_id__in=self._category_ids())
        if self.received_from:
            qs = qs.filter(received_on__gte=self.received_from)
        if self.received_to:
            qs = qs.filter(received_on__lte=self.received_to)
        if self.is_repeat is not None:
            qs = qs.filter(is_repeat=self.is_repeat)
        if self.is_collective is not None:
            qs = qs.filter(is_collective=self.is_collective)
        if self.is_urgent is not None:
            qs = qs.filter(is_urgent=self.is_urgent)
        if self.open_only:
            qs = qs.filter(status__in=OPEN_STATUS_VALUES)
        if self.overdue:
            # A range on due_on: the deadline index is walked from its start, and only the rows
            # before today are read — fast whatever the scope.
            today = self.today or timezone.localdate()
            qs = qs.filter(status__in=STAFF_DEADLINE_VALUES, due_on__lt=today)
        if self.handler is not None:
            qs = qs.filter(handler_id=self.handler)  # the (handler, due_on) index, in deadline order
        if self.searched and self.ordering in ("", "relevance"):
            return qs.order_by(*RELEVANCE_ORDER)
        if self.open_only and self.ordering == "-due_on":
            # Latest deadline first over open work: read backwards, the deadline index starts with
            # the NULLs, i.e. every final petition of the table (90 % of it), and would walk past
            # all of them.  Undated open petitions (a recheck in a hearing) go last instead and
            # PostgreSQL sorts the scope's open rows: 58 ms instead of 108 ms at 100,000 petitions
            # (docs/performance.md); an index on (due_on DESC NULLS LAST) would make it a walk.
            return qs.order_by(F("due_on").desc(nulls_last=True), "-id")
        return qs.order_by(*ordering_expressions(self.ordering))

    def _category_ids(self) -> list[int]:
        """The category and its entries, as ids: ``category_id IN (…)`` can use the
        (category, due_on) index, where a join to the category table with an OR cannot."""
        if isinstance(self.category, Category):
            root: int | None = self.category.pk
        elif self.category is not None:
            root = self.category
        else:
            root = (
                Category.objects.filter(code=self.category_code.strip()).values_list("pk", flat=True).first()
            )
        if root is None:
            return []
        return [root, *Category.objects.filter(parent_id=root).values_list("pk", flat=True)]


def ordering_expressions(key: str) -> list[Any]:
    """The requested order, then the id: without a unique tie-breaker, pages could overlap.

    NULL placement is spelt out so that SQLite and PostgreSQL agree, and chosen to match a B-tree
    index read forwards (``NULLS LAST``) or backwards (``NULLS FIRST``); any other placement makes
    PostgreSQL sort the whole scope instead of walking the index.  Only ``due_on`` can be NULL:
    undated petitions come last when the soonest deadline is first, and first the other way round.
    """
    key = key if key in ORDERINGS else "due_on"
    field = key.lstrip("-")
    if key.startswith("-"):
        return [F(field).desc(nulls_first=True), "-id"]
    return [F(field).asc(nulls_last=True), "id"]
