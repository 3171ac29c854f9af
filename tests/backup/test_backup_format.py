"""The sealed backup format and the restore's checks, without a site (issue #7 point 34)."""

from __future__ import annotations

import io
import tarfile

import pytest

from xinfang.core import backup

PASSPHRASE = "correct horse battery staple 2026"


def sealed(members: dict[str, bytes], passphrase: str = PASSPHRASE) -> bytes:
    out = io.BytesIO()
    writer = backup._SealingWriter(out, passphrase, chunk_size=1000)
    with tarfile.open(fileobj=writer, mode="w|") as tar:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    writer.close()
    return out.getvalue()


def test_a_sealed_stream_opens_with_its_passphrase_only():
    data = sealed({"manifest.json": b"{}", "media/a.bin": bytes(range(256)) * 40})
    assert data.startswith(backup.BACKUP_MAGIC)
    assert bytes(range(256)) * 4 not in data
    with (
        backup.open_backup(io.BytesIO(data), PASSPHRASE) as stream,
        tarfile.open(fileobj=stream, mode="r|") as tar,
    ):
        names = [m.name for m in tar]
    assert names == ["manifest.json", "media/a.bin"]
    with pytest.raises(backup.BackupError, match="wrong backup passphrase"):
        backup.open_backup(io.BytesIO(data), "another passphrase of some length")


def test_a_cut_or_changed_backup_is_detected():
    data = sealed({"manifest.json": b"{}" * 2000})
    for damaged in (data[:-10], data[:200] + bytes([data[200] ^ 1]) + data[201:]):
        with (  # noqa: PT012
            pytest.raises((backup.BackupError, ValueError)),
            backup.open_backup(io.BytesIO(damaged), PASSPHRASE) as stream,
        ):
            stream.read()


def test_short_passphrases_and_foreign_files_are_refused():
    with pytest.raises(backup.BackupError, match="at least 16"):
        backup.check_passphrase("short")
    with pytest.raises(backup.BackupError, match="not a Xinfang backup"):
        backup.open_backup(io.BytesIO(b"PK\x03\x04" + b"\x00" * 100), PASSPHRASE)


@pytest.mark.parametrize(
    "name", ["../etc/passwd", "/etc/passwd", "media/../../x", "secrets.env", "var/db.sqlite3"]
)
def test_members_outside_the_backup_layout_are_refused(name):
    with pytest.raises(backup.BackupError):
        backup._safe_member(name)


def test_every_member_is_checked_against_the_manifest():
    manifest = {
        "database": {"member": "database.sqlite3", "size": 3, "sha256": "aa"},
        "files": [{"name": "attachments/x.pdf", "size": 5, "sha256": "bb"}],
    }
    seen = {"database.sqlite3": (3, "aa"), "media/attachments/x.pdf": (5, "cc"), "media/extra": (1, "dd")}
    problems = list(backup._member_problems(manifest, seen))
    assert problems == ["media/attachments/x.pdf: checksum differs", "media/extra: not in the manifest"]
