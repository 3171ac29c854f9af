"""What a successful registration stores (services.register_petition).

One transaction writes the petition, its petitioners, its attachments, the office's involvement,
the public timeline event and the audit event; the query code exists in clear only in the result.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest
from django.utils import timezone

from xinfang.audit.models import AuditEvent
from xinfang.core.files import open_plaintext
from xinfang.petitions.choices import EventKind, InvolvementReason, Status
from xinfang.petitions.drafts import PetitionerDraft
from xinfang.petitions.models import Attachment, Involvement, PetitionEvent
from xinfang.petitions.services import (
    ACCEPTANCE_PERIOD_DAYS,
    QUERY_CODE_ALPHABET,
    hash_query_code,
)

from ..factories import JPEG_BYTES, PDF_BYTES, PNG_BYTES, make_id_number, make_upload, register


def test_registration_stores_the_petition(world):
    """The petition carries its office, clerk, status, deadline and flags."""
    # given a letter received three days ago
    received = timezone.localdate() - dt.timedelta(days=3)

    # when county A's clerk registers it
    petition = register(
        world.a.office, world.intake_a, world.a.township, received_on=received, title="  拖欠工资  "
    ).petition

    # then
    petition.refresh_from_db()
    assert petition.office == world.a.office
    assert petition.registered_by == world.intake_a
    assert petition.status == Status.REGISTERED
    assert petition.title == "拖欠工资"  # trimmed
    assert petition.locality == world.a.township
    assert petition.received_on == received
    assert petition.due_on == received + dt.timedelta(days=ACCEPTANCE_PERIOD_DAYS)
    assert (petition.is_collective, petition.is_repeat, petition.is_confidential) == (False, False, False)


@pytest.mark.parametrize(("headcount", "collective"), [(1, False), (4, False), (5, True), (200, True)])
def test_collective_from_five_people(world, headcount, collective):
    """A visit of five people or more is collective (集体访)."""
    petition = register(
        world.a.office, world.intake_a, world.a.township, channel="visit", headcount=headcount
    ).petition
    assert petition.is_collective is collective


def test_petitioners_keep_their_order_and_later_ones_are_representatives(world):
    """Petitioners are stored in the order given; everyone after the first is a representative."""
    petition = register(
        world.a.office,
        world.intake_a,
        world.a.township,
        headcount=12,
        petitioners=[
            PetitionerDraft(name="甲", id_number=make_id_number()),
            PetitionerDraft(name="乙", phone="13800000001"),
            PetitionerDraft(name="丙", phone="0571-87654321"),
        ],
    ).petition
    rows = list(
        petition.petitioners.order_by("position").values_list("position", "name", "is_representative")
    )
    assert rows == [(0, "甲", False), (1, "乙", True), (2, "丙", True)]


def test_blank_petitioner_rows_are_ignored(world):
    """Empty rows of a form (no name, ID or phone) are not petitioners."""
    petition = register(
        world.a.office,
        world.intake_a,
        world.a.township,
        petitioners=[PetitionerDraft(name=""), PetitionerDraft(name="张三", phone="13812345678")],
    ).petition
    assert list(petition.petitioners.values_list("name", flat=True)) == ["张三"]


def test_registration_involves_the_office(world):
    """The registering office is recorded as involved, with its tree path, so its scope covers it."""
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    involvement = Involvement.objects.get(petition=petition)
    assert involvement.organisation == world.a.office
    assert involvement.organisation_path == world.a.office.path
    assert involvement.reason == InvolvementReason.OFFICE


def test_registration_starts_a_public_timeline(world):
    """The timeline opens with a public "registered" event the petitioner can read on the portal."""
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    (event,) = PetitionEvent.objects.filter(petition=petition)
    assert event.kind == EventKind.REGISTERED
    assert event.is_public is True
    assert event.public_note == "甲县信访局已登记您的信访事项。"
    assert event.actor == world.intake_a
    assert event.organisation == world.a.office
    assert event.at == petition.registered_at
    assert event.data == {"channel": "letter", "portal": False}


def test_query_code_is_returned_once_and_stored_hashed(world):
    """The query code is 12 unambiguous characters, given back once and stored only as a hash."""
    reg = register(world.a.office, world.intake_a, world.a.township)
    code = reg.query_code
    assert re.fullmatch(
        rf"[{QUERY_CODE_ALPHABET}]{{4}}-[{QUERY_CODE_ALPHABET}]{{4}}-[{QUERY_CODE_ALPHABET}]{{4}}", code
    )
    assert reg.petition.query_code_hash == hash_query_code(code)
    assert code.replace("-", "") not in reg.petition.query_code_hash
    # typed without dashes and in lower case, it still matches
    assert hash_query_code(code.replace("-", "").lower()) == reg.petition.query_code_hash
    # and every petition gets its own
    other = register(world.a.office, world.intake_a, world.a.township)
    assert other.query_code != code


def test_portal_submission_has_no_clerk(world):
    """A portal submission (no actor) is registered for the office, marked as coming from the portal."""
    reg = register(world.a.office, None, world.a.township, channel="online")
    petition = reg.petition
    assert petition.registered_by is None
    event = PetitionEvent.objects.get(petition=petition, kind=EventKind.REGISTERED)
    assert event.data == {"channel": "online", "portal": True}
    audit = AuditEvent.objects.get(action="petition.register", object_id=str(petition.pk))
    assert audit.actor is None
    assert audit.actor_name == ""
    assert audit.data["portal"] is True


def test_attachments_are_stored_under_random_names(world, media_root):
    """Each attachment is stored with its checked type, size and hash, under a random file name."""
    # given three uploads of allowed types
    uploads = {
        "来信扫描件.pdf": PDF_BYTES,
        "现场照片.JPG": JPEG_BYTES,
        "../../etc/passwd.png": PNG_BYTES,
    }

    # when they are registered with a petition
    petition = register(
        world.a.office,
        world.intake_a,
        world.a.township,
        attachments=[make_upload(name, content) for name, content in uploads.items()],
    ).petition

    # then each row describes its file, and each file holds the uploaded bytes under a random name
    rows = list(Attachment.objects.filter(petition=petition).order_by("id"))
    assert [r.content_type for r in rows] == ["application/pdf", "image/jpeg", "image/png"]
    for row, (name, content) in zip(rows, uploads.items(), strict=True):
        assert row.size == len(content)
        assert row.sha256 == hashlib.sha256(content).hexdigest()
        assert row.uploaded_by == world.intake_a
        assert row.original_name == Path(name).name  # the upload keeps the base name only
        assert re.fullmatch(r"attachments/\d{4}/\d{2}/[0-9a-f]{32}\.(pdf|jpg|png)", row.file.name)
        stored = Path(media_root, row.file.name)
        with open_plaintext(row.file) as reader:  # encrypted on disk (issue #7 point 24)
            assert reader.read() == content
        assert stored.resolve().is_relative_to(media_root.resolve())


def test_registration_is_audited(world):
    """The registration writes one audit event naming the petition."""
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    event = AuditEvent.objects.get(action="petition.register")
    assert event.object_id == str(petition.pk)
    assert event.object_repr == petition.number
    assert event.data == {"channel": "letter", "portal": False, "repeat_of": None}
