"""Test data built through the services, as production builds it."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from django.utils import timezone

from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.models import Organisation, User
from xinfang.organisations.services import create_organisation, create_staff
from xinfang.petitions.drafts import PetitionDraft, PetitionerDraft
from xinfang.petitions.models import Category
from xinfang.petitions.services import Registration, register_petition
from xinfang.petitions.validators import id_check_digit

PASSWORD = "xinfang-test-Pw1"
_serial = itertools.count(1)


def make_id_number(birth: str = "19800101", region: str = "330102", seq: int | None = None) -> str:
    """A valid 18-digit ID number (correct checksum) for tests."""
    seq = next(_serial) % 1000 if seq is None else seq
    first17 = f"{region}{birth}{seq:03d}"
    return first17 + id_check_digit(first17)


@dataclass
class County:
    government: Organisation
    office: Organisation
    department: Organisation
    township: Organisation


def make_county(name: str, code: str, parent: Organisation | None = None) -> County:
    gov = create_organisation(
        name=f"{name}人民政府", kind=OrganisationKind.GOVERNMENT, level=Level.COUNTY, parent=parent, code=code
    )
    office = create_organisation(
        name=f"{name}信访局", kind=OrganisationKind.PETITION_OFFICE, level=Level.COUNTY, parent=gov
    )
    dept = create_organisation(
        name=f"{name}人社局", kind=OrganisationKind.DEPARTMENT, level=Level.COUNTY, parent=gov
    )
    town = create_organisation(
        name=f"{name}城关镇",
        kind=OrganisationKind.GOVERNMENT,
        level=Level.TOWNSHIP,
        parent=gov,
        code=code + "001",
    )
    return County(gov, office, dept, town)


def make_staff(username: str, org: Organisation, *roles: str) -> User:
    """An account with its roles set directly, as the operator's bootstrap does (no four-eyes
    request: tests of the approval itself use organisations.grants)."""
    return create_staff(
        username=username,
        password=PASSWORD,
        organisation=org,
        roles=list(roles),
        full_name=username,
        bootstrap=True,
    )


def leaf_category() -> Category:
    return Category.objects.filter(parent__isnull=False).order_by("code").first()


def make_draft(locality: Organisation, **overrides) -> PetitionDraft:
    values = {
        "channel": "letter",
        "purpose": "complaint",
        "title": "拖欠农民工工资",
        "content": "某建筑工地拖欠我们二十多名农民工工资共计三十万元，多次讨要未果，请求协调解决。",
        "category_id": leaf_category().pk,
        "locality_id": locality.pk,
        "received_on": timezone.localdate() - dt.timedelta(days=1),
        "petitioners": [
            PetitionerDraft(
                name="张三", id_number=make_id_number(), phone="13812345678", address="城关镇幸福路1号"
            )
        ],
    }
    values.update(overrides)
    return PetitionDraft(**values)


def register(office: Organisation, clerk: User | None, locality: Organisation, **overrides) -> Registration:
    return register_petition(
        draft=make_draft(locality, **overrides), office=office, actor=clerk, public=clerk is None
    )


# --- helpers for the domain-service tests ------------------------------------------------------

# Small files of the accepted attachment types that pass the whole-container checks
# (attachments.ALLOWED_KINDS, petitions.containers): a PDF with its trailer, real images.
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\nstartxref\n9\n%%EOF\n"


def _image_bytes(fmt: str) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 180, 160)).save(buffer, fmt)
    return buffer.getvalue()


PNG_BYTES = _image_bytes("PNG")
JPEG_BYTES = _image_bytes("JPEG")


def pdf_of_size(size: int) -> bytes:
    """A structurally valid PDF of exactly ``size`` bytes (padding inside, before the trailer)."""
    head, tail = PDF_BYTES.split(b"trailer")
    return head + b"%" * (size - len(PDF_BYTES)) + b"trailer" + tail


def make_upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    """An uploaded file as a form or the API hands it to the services."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def involve(petition, organisation: Organisation, reason: str = "unit"):
    """Give ``organisation`` a reason to see ``petition`` (责任单位 by default).

    Stands in for the assign / supervise services of the workflow (issue #3), which will write
    the same Involvement row; the tree path is copied as those services must copy it.
    """
    from xinfang.petitions.models import Involvement

    return Involvement.objects.create(
        petition=petition, organisation=organisation, organisation_path=organisation.path, reason=reason
    )


def make_id_number_with_check(check: str, birth: str = "19800101", region: str = "330102") -> str:
    """A valid ID number whose check character is ``check`` (for example "X")."""
    for seq in range(1000):
        first17 = f"{region}{birth}{seq:03d}"
        if id_check_digit(first17) == check:
            return first17 + check
    raise ValueError(check)
