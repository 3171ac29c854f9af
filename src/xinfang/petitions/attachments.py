"""Validation and storage of attachments: type by content and whole-container checks, size limits,
encryption at rest (the stored bytes are core.crypto's encrypted stream)."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from xinfang.core.files import encrypted_content, open_plaintext, stored_key_id

from . import containers

__all__ = [
    "ALLOWED_KINDS",
    "ALLOWED_SUFFIXES",
    "MAX_ATTACHMENTS",
    "MAX_ATTACHMENT_BYTES",
    "FileKind",
    "check_attachment",
    "check_attachments",
    "delete_stored",
    "encrypted_content",
    "open_plaintext",
    "sha256_of",
    "stored_key_id",
]

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 10


@dataclass(frozen=True)
class FileKind:
    content_type: str
    suffixes: tuple[str, ...]
    magic: tuple[bytes, ...]


# Only types a letter scan, a photo or a document can be; each recognised by its first bytes.
ALLOWED_KINDS = (
    FileKind("application/pdf", (".pdf",), (b"%PDF-",)),
    FileKind("image/jpeg", (".jpg", ".jpeg"), (b"\xff\xd8\xff",)),
    FileKind("image/png", (".png",), (b"\x89PNG\r\n\x1a\n",)),
    FileKind("image/tiff", (".tif", ".tiff"), (b"II*\x00", b"MM\x00*")),
    FileKind(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
        (b"PK\x03\x04",),
    ),
    FileKind("application/msword", (".doc",), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
)
ALLOWED_SUFFIXES = tuple(s for k in ALLOWED_KINDS for s in k.suffixes)


def check_attachment(upload: UploadedFile) -> FileKind:
    """Refuse a file that is too large, empty, or not what its name claims."""
    name = upload.name or ""
    suffix = PurePath(name).suffix.lower()
    kind = next((k for k in ALLOWED_KINDS if suffix in k.suffixes), None)
    if kind is None:
        raise ValidationError(
            _("附件“{name}”的类型不允许，只接受：{types}").format(
                name=name, types=" ".join(ALLOWED_SUFFIXES)
            ),
            code="attachment_type",
        )
    if upload.size is None or upload.size == 0:
        raise ValidationError(_("附件“{name}”是空文件。").format(name=name), code="attachment_empty")
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            _("附件“{name}”超过 {mb} MB。").format(name=name, mb=MAX_ATTACHMENT_BYTES // (1024 * 1024)),
            code="attachment_size",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(m) for m in kind.magic):
        raise ValidationError(
            _("附件“{name}”的内容与文件类型不符。").format(name=name), code="attachment_content"
        )
    _check_structure(upload, kind, name=name)
    return kind


def _check_structure(upload: UploadedFile, kind: FileKind, *, name: str) -> None:
    """The whole container, not only its first bytes (issue #7 point 27; petitions.containers)."""
    check = containers.structure_check(kind.content_type)
    if check is None:
        return
    upload.seek(0)
    try:
        check(upload, name=name)
    finally:
        upload.seek(0)


def check_attachments(uploads: list[UploadedFile], *, limit: int = MAX_ATTACHMENTS) -> list[FileKind]:
    if len(uploads) > limit:
        raise ValidationError(_("附件最多 {n} 个。").format(n=limit), code="attachment_count")
    return [check_attachment(u) for u in uploads]


def sha256_of(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def delete_stored(names: list[str]) -> None:
    """Remove files written by a transaction that rolled back, so no orphan stays on disk."""
    for name in names:
        # Best effort: a file that cannot be removed now is left for a periodic sweep.
        with contextlib.suppress(OSError):
            default_storage.delete(name)
