"""Reading documents for the portal and the API (issue #10 points 9 and 10): which documents a
petitioner or a staff member may see.  No writes here; ``services`` does those.

The petitioner sees only what was issued to them (``Addressee.PETITIONER``), never a draft and
never a document addressed to a unit (转送单, 交办单, 督办函 are internal).  Staff see every
document of a petition in their scope (``Petition.objects.restrict``): a document of a petition out
of scope is as missing as one that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from xinfang.petitions.models import Petition

from .choices import Addressee, DocumentStatus
from .models import Document

_RELATED = (
    "petition",
    "organisation",
    "addressee_unit",
    "template",
    "drafted_by",
    "approved_by",
    "issued_by",
)


def issued_to_petitioner(petition: Petition) -> list[Document]:
    """The documents issued to the petitioner of ``petition``, in the order they were issued."""
    return list(
        Document.objects.filter(
            petition=petition, status=DocumentStatus.ISSUED, addressee_kind=Addressee.PETITIONER
        )
        .select_related("organisation")
        .order_by("issued_at", "pk")
    )


def petitioner_document(petition: Petition, document_id: int) -> Document | None:
    """One document issued to the petitioner of ``petition``; None for a draft, a unit's document,
    another petition's document or a missing one alike (the portal answers all with the same 404)."""
    return (
        Document.objects.filter(
            pk=document_id,
            petition=petition,
            status=DocumentStatus.ISSUED,
            addressee_kind=Addressee.PETITIONER,
        )
        .select_related("petition", "organisation")
        .first()
    )


def documents_in_scope(user: Any, action: str = "view") -> QuerySet[Document]:
    """Every document of a petition ``user`` may see (or act on, with ``action="change"``)."""
    return Document.objects.filter(
        petition__in=Petition.objects.restrict(user, action).values("pk")
    ).select_related(*_RELATED)


def document_in_scope(user: Any, document_id: int) -> Document | None:
    """The document ``document_id`` if its petition is in ``user``'s scope; None otherwise."""
    return documents_in_scope(user).filter(pk=document_id).first()


def documents_of_petition(petition: Petition) -> list[Document]:
    """Every document of a petition (drafts included), oldest draft first, for staff."""
    return list(
        Document.objects.filter(petition=petition).select_related(*_RELATED).order_by("drafted_at", "pk")
    )
