"""Filtering and ordering of petition lists: one implementation for the work queue and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from .models import Category, PetitionQuerySet

ORDERINGS = {
    "due_on": ("due_on", "id"),
    "-due_on": ("-due_on", "-id"),
    "-registered_at": ("-registered_at", "-id"),
    "received_on": ("received_on", "id"),
}


@dataclass
class PetitionFilter:
    q: str = ""
    status: str = ""
    channel: str = ""
    purpose: str = ""
    category: Category | int | None = None
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    repeat: bool = False
    collective: bool = False
    sort: str = "due_on"

    def apply(self, qs: PetitionQuerySet) -> PetitionQuerySet:
        """Narrow an already restricted queryset; every filter here is backed by an index."""
        if self.q:
            qs = qs.filter(Q(number=self.q.strip()) | Q(title__contains=self.q.strip()))
        if self.status:
            qs = qs.filter(status=self.status)
        if self.channel:
            qs = qs.filter(channel=self.channel)
        if self.purpose:
            qs = qs.filter(purpose=self.purpose)
        if self.category:
            category_id = self.category.pk if isinstance(self.category, Category) else self.category
            # A first-level class matches its own entries too (the tree is two levels deep).
            qs = qs.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
        if self.received_from:
            qs = qs.filter(received_on__gte=self.received_from)
        if self.received_to:
            qs = qs.filter(received_on__lte=self.received_to)
        if self.repeat:
            qs = qs.filter(is_repeat=True)
        if self.collective:
            qs = qs.filter(is_collective=True)
        return qs.order_by(*ORDERINGS.get(self.sort or "due_on", ORDERINGS["due_on"]))
