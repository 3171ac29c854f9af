"""Filtering, ordering and loading petitions for the API list: always inside the caller's scope.

The filters are those of the staff work queue: ``petitions.filtersets.PetitionFilter``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from xinfang.petitions.filtersets import PetitionFilter
from xinfang.petitions.models import Petition, Petitioner

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
    """The petitions ``user`` may see, filtered and ordered as in the work queue, with everything the
    list shows loaded in four queries whatever the page size (page with handler, then petitioners
    and open assignments with their units; plus the count).  Unlike the queue, the API lists final
    petitions too unless ``open=true`` (its default is unchanged for existing clients)."""
    flt = PetitionFilter(
        q=filters.q or "",
        status=filters.status or "",
        channel=filters.channel or "",
        purpose=filters.purpose or "",
        category=filters.category,
        category_code=filters.category_code or "",
        received_from=filters.received_from,
        received_to=filters.received_to,
        is_repeat=filters.is_repeat,
        is_collective=filters.is_collective,
        is_urgent=filters.is_urgent,
        open_only=bool(filters.open),
        overdue=bool(filters.overdue),
        handler=user.pk if filters.mine else filters.handler,
        ordering=filters.ordering or "",
        petitioner_name=filters.petitioner_name or "",
        id_tail=filters.id_tail or "",
        actor=user,
    )
    return (
        flt.apply(Petition.objects.restrict(user))
        .select_related("category", "locality", "office", "handler")
        .prefetch_related(masked_petitioners(), open_assignments())
    )


def open_assignments() -> Prefetch:
    """Each petition's open assignment with its unit, as ``open_assignments`` (the handling unit
    of ``PetitionSummaryOut``): one query for the page, however long."""
    from xinfang.workflow.models import Assignment

    return Prefetch(
        "assignments",
        queryset=Assignment.objects.filter(ended_at__isnull=True).select_related("unit"),
        to_attr="open_assignments",
    )
