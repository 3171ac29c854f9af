"""Filtering, ordering and loading petitions for the API list: always inside the caller's scope.

The filters are those of the staff work queue.  When the work queue grows a shared filter set in
``petitions/``, this module should call it instead of keeping its own copy.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet

from xinfang.petitions.models import Petition, Petitioner

from .drafts import resolve_category
from .schemas import PetitionFilters

# Only the columns lists show: the encrypted ones (ID number, phone, address) are never loaded,
# so listing never decrypts personal data (the ``*_mask`` columns exist for this).
MASKED_PETITIONER_FIELDS = (
    "id",
    "petition_id",
    "position",
    "name",
    "id_number_mask",
    "phone_mask",
    "is_representative",
)


def masked_petitioners() -> Prefetch:
    """Prefetch of a petition's petitioners with the masked columns only."""
    return Prefetch("petitioners", queryset=Petitioner.objects.only(*MASKED_PETITIONER_FIELDS))


def petition_list(user: Any, filters: PetitionFilters) -> QuerySet[Petition]:
    """The petitions ``user`` may see, filtered and ordered, with everything the list shows loaded
    in three queries whatever the page size (page, then petitioners; plus the count)."""
    qs = Petition.objects.restrict(user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.purpose:
        qs = qs.filter(purpose=filters.purpose)
    if filters.category is not None or filters.category_code is not None:
        # A first-level category stands for itself and its entries (the tree has two levels).
        category_id = (
            filters.category if filters.category is not None else resolve_category(filters.category_code)
        )
        qs = (
            qs.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
            if category_id
            else qs.none()
        )
    if filters.received_from:
        qs = qs.filter(received_on__gte=filters.received_from)
    if filters.received_to:
        qs = qs.filter(received_on__lte=filters.received_to)
    if filters.is_repeat is not None:
        qs = qs.filter(is_repeat=filters.is_repeat)
    if filters.is_collective is not None:
        qs = qs.filter(is_collective=filters.is_collective)
    if filters.q and filters.q.strip():
        text = filters.q.strip()
        qs = qs.filter(Q(number__icontains=text) | Q(title__icontains=text))
    return (
        qs.order_by(*_ordering(filters.ordering))
        .select_related("category", "locality", "office")
        .prefetch_related(masked_petitioners())
    )


def _ordering(key: str) -> list[Any]:
    """The requested order, then the id: without a unique tie-breaker, pages could overlap."""
    field = key.lstrip("-")
    # Undated petitions go last either way, the same on SQLite and PostgreSQL.
    expression = F(field).desc(nulls_last=True) if key.startswith("-") else F(field).asc(nulls_last=True)
    return [expression, "-id" if key.startswith("-") else "id"]
