"""Plain input records for registering a petition: what the staff form, the portal and the API
all hand to ``services.register_petition`` after parsing their own formats."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.files.uploadedfile import UploadedFile


@dataclass
class PetitionerDraft:
    name: str
    id_number: str = ""
    phone: str = ""
    address: str = ""
    is_representative: bool = False


@dataclass
class PetitionDraft:
    channel: str
    purpose: str
    title: str
    content: str
    category_id: int | None
    locality_id: int | None
    received_on: dt.date
    petitioners: list[PetitionerDraft]
    headcount: int = 1
    subject_name: str = ""
    subject_organisation_id: int | None = None
    # A report (检举控告): the accused person, and the clerk's statement that it names no organisation
    # (issue #7 point 1).  Both, like ``subject_organisation_id``, are for staff only: a portal draft's
    # are ignored, the citizen names the accused in ``subject_name`` and the clerk confirms it.
    subject_person: str = ""
    no_subject_organisation: bool = False
    repeat_of_number: str = ""
    attachments: list[UploadedFile] = field(default_factory=list)
