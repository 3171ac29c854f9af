"""Attachments are encrypted at rest and decrypted as they are downloaded (issue #7 point 24)."""

from __future__ import annotations

import stat

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from xinfang.core import crypto
from xinfang.petitions import attachments as att
from xinfang.petitions.models import Attachment

from ..factories import PDF_BYTES, make_upload, register

SECRET = b"\n% 330102198001010018 ID card scan\n"
SCAN = PDF_BYTES.replace(b"%%EOF", SECRET + b"%%EOF")


def register_with_scan(world):
    return register(
        world.a.office, world.intake_a, world.a.township, attachments=[make_upload("id.pdf", SCAN)]
    )


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_registered_attachment_is_stored_encrypted_under_the_first_key(world, media_root):
    """The bytes on disk are the encrypted stream, never the scan itself."""
    # given / when
    reg = register(
        world.a.office, world.intake_a, world.a.township, attachments=[make_upload("id.pdf", SCAN)]
    )
    # then
    item = reg.petition.attachments.get()
    on_disk = (media_root / item.file.name).read_bytes()
    assert crypto.is_encrypted_file(on_disk)
    assert crypto.file_key_id(on_disk) == crypto.primary_key_id()
    assert SECRET not in on_disk
    assert item.size == len(SCAN)  # the row keeps the plaintext's size and checksum
    with att.open_plaintext(item.file) as reader:
        assert reader.read() == SCAN


def test_stored_attachments_and_their_directories_are_owner_only(world, media_root):
    """Files 0600 and every directory created for them 0700, whatever the process umask."""
    reg = register(
        world.a.office, world.intake_a, world.a.township, attachments=[make_upload("id.pdf", SCAN)]
    )
    path = media_root / reg.petition.attachments.get().file.name
    assert mode(path) == 0o600
    for directory in path.relative_to(media_root).parents:
        if str(directory) != ".":
            assert mode(media_root / directory) == 0o700, directory


def test_download_streams_the_decrypted_file(client, world):
    """The staff download sends the plaintext as a stream, with its length, and audits it."""
    reg = register(
        world.a.office, world.intake_a, world.a.township, attachments=[make_upload("id.pdf", SCAN)]
    )
    item = reg.petition.attachments.get()
    client.force_login(world.intake_a)
    response = client.get(reverse("petitions:attachment", args=[reg.petition.number, item.pk]))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Length"] == str(len(SCAN))
    assert b"".join(response.streaming_content) == SCAN


def test_attachment_stored_before_encryption_still_downloads(world, media_root):
    """A plaintext file from before issue #7 (no header) reads as it is until rotate_keys runs."""
    reg = register(world.a.office, world.intake_a, world.a.township)
    item = Attachment(
        petition=reg.petition,
        original_name="old.pdf",
        content_type="application/pdf",
        size=len(SCAN),
        sha256="0",
    )
    item.file.save("old.pdf", ContentFile(SCAN), save=False)  # the old way: bytes as uploaded
    item.save()
    assert att.stored_key_id(item.file) is None
    with att.open_plaintext(item.file) as reader:
        assert reader.read() == SCAN


def test_download_fails_before_the_response_when_the_key_is_gone(world, settings):
    """A file whose key was removed raises at once (a clean error), not midway through a download."""
    reg = register(
        world.a.office, world.intake_a, world.a.township, attachments=[make_upload("id.pdf", SCAN)]
    )
    item = reg.petition.attachments.get()
    from cryptography.fernet import Fernet

    settings.XINFANG_FIELD_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ValueError):
        att.open_plaintext(item.file)
