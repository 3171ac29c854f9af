"""From API input to ``petitions.drafts.PetitionDraft``: parsing only, no business rules.

A reference that names nothing (an unknown category code, an ambiguous area code) becomes None,
and ``clean_draft`` then reports it under the field's name with its usual message.
"""

from __future__ import annotations

from django.utils import timezone

from xinfang.petitions.choices import Channel
from xinfang.petitions.drafts import PetitionDraft, PetitionerDraft
from xinfang.petitions.models import Category
from xinfang.petitions.services import localities

from .schemas import PetitionIn, PublicPetitionIn


def resolve_category(ref: int | str | None) -> int | None:
    """A category id from an id (integer) or a category code (string)."""
    if ref is None or isinstance(ref, int):
        return ref
    return Category.objects.filter(code=ref.strip()).values_list("pk", flat=True).first()


def resolve_locality(ref: int | str | None) -> int | None:
    """An area id from an organisation id (integer) or an administrative code (string).

    Codes are looked up among areas only (not departments); a code shared by two areas is
    ambiguous and resolves to nothing rather than to a guess.
    """
    if ref is None or isinstance(ref, int):
        return ref
    matches = list(localities().filter(code=ref.strip()).values_list("pk", flat=True)[:2])
    return matches[0] if len(matches) == 1 else None


def _petitioners(payload: PublicPetitionIn) -> list[PetitionerDraft]:
    return [
        PetitionerDraft(
            name=p.name,
            id_number=p.id_number,
            phone=p.phone,
            address=p.address,
            is_representative=p.is_representative,
        )
        for p in payload.petitioners
    ]


def draft_from_input(payload: PetitionIn) -> PetitionDraft:
    """The draft of a petition registered through the staff API."""
    return PetitionDraft(
        channel=payload.channel,
        purpose=payload.purpose,
        title=payload.title,
        content=payload.content,
        category_id=resolve_category(payload.category),
        locality_id=resolve_locality(payload.locality),
        received_on=payload.received_on,
        petitioners=_petitioners(payload),
        headcount=payload.headcount,
        subject_name=payload.subject_name,
        subject_organisation_id=payload.subject_organisation,
        subject_person=payload.subject_person,
        no_subject_organisation=payload.no_subject_organisation,
        repeat_of_number=payload.repeat_of.strip(),
    )


def draft_from_public_input(payload: PublicPetitionIn) -> PetitionDraft:
    """The draft of a portal submission; ``submit_public_petition`` fixes channel and date itself."""
    return PetitionDraft(
        channel=Channel.ONLINE,
        purpose=payload.purpose,
        title=payload.title,
        content=payload.content,
        category_id=resolve_category(payload.category),
        locality_id=resolve_locality(payload.locality),
        received_on=timezone.localdate(),  # the service sets it again: the public cannot choose it
        petitioners=_petitioners(payload),
        headcount=payload.headcount,
        subject_name=payload.subject_name,
    )
