"""Filtering and ordering of petition lists: the one implementation behind the staff work queue
and the API list (and, later, exports)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q

from .models import Category, PetitionQuerySet

ORDERINGS = ("due_on", "-due_on", "received_on", "-received_on", "registered_at", "-registered_at")


@dataclass
class PetitionFilter:
    """Filters of the work queue.  ``None`` (or "") means "any"; ``category`` is an id or a code,
    and a first-level category stands for itself and its entries (the tree is two levels deep)."""

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
    ordering: str = "due_on"

    def apply(self, qs: PetitionQuerySet) -> PetitionQuerySet:
        """Narrow an already restricted queryset and order it."""
        if self.q and self.q.strip():
            text = self.q.strip()
            # The number is matched whole (unique index); the title by substring.
            qs = qs.filter(Q(number=text.upper()) | Q(title__contains=text))
        for field in ("status", "channel", "purpose"):
            if getattr(self, field):
                qs = qs.filter(**{field: getattr(self, field)})
        if self.category is not None or self.category_code:
            category_id = self._category_id()
            qs = (
                qs.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
                if category_id
                else qs.none()
            )
        if self.received_from:
            qs = qs.filter(received_on__gte=self.received_from)
        if self.received_to:
            qs = qs.filter(received_on__lte=self.received_to)
        if self.is_repeat is not None:
            qs = qs.filter(is_repeat=self.is_repeat)
        if self.is_collective is not None:
            qs = qs.filter(is_collective=self.is_collective)
        return qs.order_by(*ordering_expressions(self.ordering))

    def _category_id(self) -> int | None:
        if isinstance(self.category, Category):
            return self.category.pk
        if self.category is not None:
            return self.category
        return Category.objects.filter(code=self.category_code.strip()).values_list("pk", flat=True).first()


def ordering_expressions(key: str) -> list[Any]:
    """The requested order, then the id: without a unique tie-breaker, pages could overlap.
    Undated petitions go last either way, the same on SQLite and PostgreSQL."""
    key = key if key in ORDERINGS else "due_on"
    field = key.lstrip("-")
    if key.startswith("-"):
        return [F(field).desc(nulls_last=True), "-id"]
    return [F(field).asc(nulls_last=True), "id"]
