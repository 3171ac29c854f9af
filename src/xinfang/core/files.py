"""Files encrypted at rest (issue #7 point 24): storing, reading and re-encrypting through any
Django storage backend, with the framed stream of ``core.crypto``.

A model opts its file fields in with a class attribute ``ENCRYPTED_FILE_FIELDS = ("file", …)``;
``xinfang rotate_keys`` and ``xinfang backup`` find them that way (core.rotation).
"""

from __future__ import annotations

from typing import BinaryIO

from django.core.files import File
from django.db.models.fields.files import FieldFile

from . import crypto


def encrypted_content(source: File | BinaryIO) -> File:
    """``source`` as a Django ``File`` whose bytes are the encrypted stream, produced chunk by
    chunk as the storage writes it: the plaintext never reaches the disk and a large file is
    never held in memory.  It has no ``temporary_file_path``, so FileSystemStorage cannot move
    an upload's plaintext temporary file into place instead."""
    if hasattr(source, "seek"):
        source.seek(0)
    return File(crypto.StreamReader(crypto.encrypt_stream(source)))


def open_plaintext(stored: FieldFile) -> crypto.StreamReader:
    """The content of a stored file, decrypted as it is read.  A file stored before encryption
    (no header) is passed through as it is, until ``xinfang rotate_keys`` encrypts it."""
    handle = stored.storage.open(stored.name, "rb")
    head = handle.read(len(crypto.FILE_MAGIC))
    handle.seek(0)
    if not crypto.is_encrypted_file(head):
        return crypto.StreamReader(iter(lambda: handle.read(crypto.FILE_CHUNK_SIZE), b""), close=handle.close)
    reader = crypto.StreamReader(crypto.decrypt_stream(handle), close=handle.close)
    # The header and first frame are checked now, so a missing key or a damaged file fails
    # before a response has started (not as a download cut off midway).
    reader.prime()
    return reader


def stored_key_id(stored: FieldFile) -> bytes | None:
    """The key id in a stored file's header, or None if the file is stored in plaintext."""
    with stored.storage.open(stored.name, "rb") as handle:
        return crypto.file_key_id(handle.read(64))


def reencrypt_stored(stored: FieldFile) -> str | None:
    """Write the file again under the first key, beside the old one; return the new name, or
    None when it already is under that key.  The caller points the row at the new name and
    deletes the old file once that is committed."""
    if stored_key_id(stored) == crypto.primary_key_id():
        return None
    with open_plaintext(stored) as reader:
        return stored.storage.save(stored.name, encrypted_content(reader))
