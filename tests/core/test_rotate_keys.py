"""``xinfang rotate_keys`` (issue #7 point 25): every encrypted value and attachment re-encrypted
under the first key, resumably; once the old key is removed its ciphertexts are unreadable."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection

from xinfang.core import crypto, rotation
from xinfang.core.files import open_plaintext, stored_key_id
from xinfang.petitions.models import Attachment, Petitioner

from ..factories import PDF_BYTES, make_upload, register

KEY_OLD = Fernet.generate_key().decode()
KEY_NEW = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def raw_values() -> dict[tuple[int, str], str]:
    """The ciphertexts as stored (SQL, so the field does not decrypt them)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, id_number, phone, address FROM petitions_petitioner")
        return {
            (row[0], column): value
            for row in cursor.fetchall()
            for column, value in zip(("id_number", "phone", "address"), row[1:], strict=True)
            if value
        }


def plain_values() -> dict[int, tuple]:
    return {p.pk: (p.id_number, p.phone, p.address) for p in Petitioner.objects.order_by("pk")}


def attachment_contents() -> dict[int, bytes]:
    result = {}
    for item in Attachment.objects.order_by("pk"):
        with open_plaintext(item.file) as reader:
            result[item.pk] = reader.read()
    return result


@pytest.fixture
def site_under_old_key(world, settings, media_root):
    """Three petitions with personal data and attachments under KEY_OLD, and one attachment
    stored in plaintext as before issue #7."""
    settings.XINFANG_FIELD_KEYS = [KEY_OLD]
    regs = [
        register(
            world.a.office,
            world.intake_a,
            world.a.township,
            attachments=[make_upload(f"scan{i}.pdf", PDF_BYTES + str(i).encode())],
        )
        for i in range(3)
    ]
    legacy = Attachment(
        petition=regs[0].petition, original_name="old.pdf", content_type="application/pdf", size=9, sha256="0"
    )
    legacy.file.save("old.pdf", ContentFile(PDF_BYTES + b"legacy"), save=False)
    legacy.save()
    return regs


def test_old_ciphertexts_are_unreadable_once_the_old_key_is_removed(site_under_old_key, settings, media_root):
    """After rotation the data reads under the new key alone, and what was stored before does not."""
    # given
    before_values, before_plain = raw_values(), plain_values()
    before_files = {a.pk: (media_root / a.file.name).read_bytes() for a in Attachment.objects.all()}
    before_contents = attachment_contents()
    assert len(before_values) == 9 and len(before_files) == 4
    # when: a new key first, the old one still listed, rotate
    settings.XINFANG_FIELD_KEYS = [KEY_NEW, KEY_OLD]
    call_command("rotate_keys", "--batch-size", "2", stdout=io.StringIO())
    # then: with the old key removed, everything still reads …
    settings.XINFANG_FIELD_KEYS = [KEY_NEW]
    assert plain_values() == before_plain
    assert attachment_contents() == before_contents
    assert {stored_key_id(a.file) for a in Attachment.objects.all()} == {crypto.key_id(KEY_NEW)}
    # … and every ciphertext of before is unreadable
    for token in before_values.values():
        with pytest.raises(ValueError):
            crypto.decrypt(token)
    for stored in before_files.values():
        if crypto.is_encrypted_file(stored):
            with pytest.raises(ValueError):
                b"".join(crypto.decrypt_stream(io.BytesIO(stored)))
    # the old files are gone from the disk (the plaintext one included)
    on_disk = {p.read_bytes() for p in media_root.rglob("*") if p.is_file()}
    assert not on_disk & set(before_files.values())


def test_rotation_resumes_after_an_interruption(site_under_old_key, settings, monkeypatch):
    """A run stopped after its first batch is run again: committed batches are skipped."""
    settings.XINFANG_FIELD_KEYS = [KEY_NEW, KEY_OLD]
    real = crypto.reencrypt
    calls = {"n": 0}

    def failing(token):
        calls["n"] += 1
        if calls["n"] > 3:  # the second batch (one petitioner = three values per batch of one)
            raise RuntimeError("power cut")
        return real(token)

    monkeypatch.setattr(crypto, "reencrypt", failing)
    with pytest.raises(RuntimeError):
        rotation.rotate_keys(batch_size=1)
    monkeypatch.setattr(crypto, "reencrypt", real)
    # the first batch was committed: the second run finds its values already current
    report = rotation.rotate_keys(batch_size=1)
    fields = {k: v for k, v in report.current.items() if "Petitioner" in k}
    assert sum(fields.values()) == 3
    assert sum(v for k, v in report.rotated.items() if "Petitioner" in k) == 6
    # and a third run has nothing left to do
    again = rotation.rotate_keys(batch_size=1)
    assert sum(again.rotated.values()) == 0
    settings.XINFANG_FIELD_KEYS = [KEY_NEW]
    assert len(plain_values()) == 3


def test_a_value_no_key_can_read_stops_the_rotation_with_its_location(site_under_old_key, settings):
    from django.core.management.base import CommandError

    settings.XINFANG_FIELD_KEYS = [KEY_NEW]  # the old key forgotten before rotating
    with pytest.raises(CommandError, match="Petitioner"):
        call_command("rotate_keys", stdout=io.StringIO())


def test_every_model_with_encrypted_fields_is_found():
    """rotate_keys finds encrypted columns by field type and files by ENCRYPTED_FILE_FIELDS, so a
    model added later is rotated too."""
    fields = {m._meta.label: cols for m, cols in rotation.encrypted_field_models()}
    assert fields["petitions.Petitioner"] == ["id_number", "phone", "address"]
    files = {m._meta.label: names for m, names in rotation.encrypted_file_models()}
    assert files["petitions.Attachment"] == ["file"]


def test_a_lost_file_is_reported_and_does_not_block_the_rest(site_under_old_key, settings, media_root):
    """A row whose file is gone is named at the end; every other file is still rotated."""
    from django.core.management.base import CommandError

    lost = Attachment.objects.order_by("pk").first()
    (media_root / lost.file.name).unlink()
    settings.XINFANG_FIELD_KEYS = [KEY_NEW, KEY_OLD]
    with pytest.raises(CommandError, match="1 stored files are missing"):
        call_command("rotate_keys", stdout=io.StringIO())
    settings.XINFANG_FIELD_KEYS = [KEY_NEW]
    assert {stored_key_id(a.file) for a in Attachment.objects.exclude(pk=lost.pk)} == {crypto.key_id(KEY_NEW)}
