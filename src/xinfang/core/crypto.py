"""Field-level encryption and blind indexes for personal data.

ID and phone numbers are stored encrypted with Fernet (AES-128-CBC + HMAC-SHA256, i.e. authenticated
encryption) under keys from the environment.  To find equal values (repeat detection) without
decrypting every row, a keyed HMAC-SHA256 of the normalised value is stored beside the ciphertext.
Files (attachments) are encrypted under the same keys as a stream of AES-GCM chunks (below).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            "Set XINFANG_FIELD_KEYS (comma-separated Fernet keys) to store personal data."
        )
    return MultiFernet([Fernet(k.encode()) for k in keys])


def _keys() -> tuple[str, ...]:
    return tuple(settings.XINFANG_FIELD_KEYS)


def encrypt(value: str) -> str:
    """Encrypt a text value with the primary key."""
    return _fernet(_keys()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt with any configured key; a tampered or foreign value raises ValueError."""
    try:
        return _fernet(_keys()).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("encrypted value cannot be authenticated with the configured keys") from exc


def reencrypt(token: str) -> str | None:
    """The same value encrypted under the first key, or None when it already is (key rotation:
    running again skips what is done)."""
    keys = _keys()
    try:
        Fernet(keys[0].encode()).decrypt(token.encode())
        return None
    except InvalidToken:
        pass
    try:
        return _fernet(keys).rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("encrypted value cannot be authenticated with the configured keys") from exc


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed hash of a normalised value; ``purpose`` separates the index of ID numbers from phones."""
    key = settings.XINFANG_BLIND_INDEX_KEY
    if not key:
        raise ImproperlyConfigured("Set XINFANG_BLIND_INDEX_KEY to store personal data.")
    msg = f"{purpose}:{value}".encode()
    return hmac.new(key.encode(), msg, hashlib.sha256).hexdigest()


def secret_hash(value: str) -> str:
    """Hash for secrets compared on equality (query codes, API tokens): HMAC under SECRET_KEY."""
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


# --- files (attachments): a framed stream of AES-GCM chunks -------------------------------------
#
# Attachments are scans of ID cards and letters, so they are encrypted like the personal-data
# fields and under the same keys (XINFANG_FIELD_KEYS: the first encrypts, all decrypt).  A Fernet
# token holds the whole value in memory and grows it by a third (base64), so files use a framed
# format instead, read and written one chunk at a time (docs/security.md §5):
#
#   header  = MAGIC (6 bytes) | key id (8) | salt (16) | chunk size (4, big-endian)
#   frame i = AES-256-GCM(file key, nonce_i, chunk_i, aad=header)   (chunk size + 16-byte tag;
#             the last frame is shorter, or an empty chunk's bare tag)
#   file key = HKDF-SHA256(the Fernet key's 32 bytes, salt, info=b"xinfang attachment v1")
#   nonce_i  = i as 11 bytes big-endian | 0x01 for the last frame, 0x00 otherwise
#
# The key id (first 8 bytes of SHA-256 over the key) names the key without revealing it, so a
# reader picks the key at once and rotate_keys sees which files are not yet under the first key.
# The counter in the nonce stops frames being reordered, the last-frame flag stops truncation,
# the header as associated data stops a header being swapped, and the per-file salt gives every
# file its own key.  No allowed attachment type starts with MAGIC, which is how a file stored
# before encryption (plaintext) is told apart.

FILE_MAGIC = b"XFENC\x01"
FILE_CHUNK_SIZE = 64 * 1024
_TAG = 16
_HEADER = struct.Struct(">6s8s16sI")
_MAX_CHUNK = 16 * 1024 * 1024


def key_id(key: str) -> bytes:
    """The 8-byte name of a Fernet key, written in the header of each file it encrypts."""
    return hashlib.sha256(b"xinfang key id\x00" + key.encode()).digest()[:8]


def primary_key_id() -> bytes:
    """The id of the key new files are encrypted with (the first of XINFANG_FIELD_KEYS)."""
    keys = _keys()
    _fernet(keys)  # the same ImproperlyConfigured as for fields when no key is set
    return key_id(keys[0])


def _file_cipher(key: str, salt: bytes) -> AESGCM:
    material = base64.urlsafe_b64decode(key.encode())
    derived = HKDF(algorithm=SHA256(), length=32, salt=salt, info=b"xinfang attachment v1").derive(material)
    return AESGCM(derived)


def frame_nonce(index: int, *, last: bool) -> bytes:
    """The nonce of frame ``index``: its position, and whether it is the last frame."""
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


_nonce = frame_nonce


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes unless the source ends first (raw files may return short reads)."""
    parts = bytearray()
    while len(parts) < size:
        part = source.read(size - len(parts))
        if not part:
            break
        parts += part
    return bytes(parts)


def is_encrypted_file(head: bytes) -> bool:
    """Whether a stored file starts with the header of this format (else it is plaintext)."""
    return head.startswith(FILE_MAGIC)


def file_key_id(head: bytes) -> bytes | None:
    """The key id in a stored file's first bytes, or None for a plaintext file."""
    if not is_encrypted_file(head) or len(head) < _HEADER.size:
        return None
    return _HEADER.unpack(head[: _HEADER.size])[1]


def encrypt_stream(source: BinaryIO, *, chunk_size: int = FILE_CHUNK_SIZE) -> Iterator[bytes]:
    """Yield the encrypted form of ``source`` (header, then one frame per chunk) under the first key."""
    keys = _keys()
    _fernet(keys)
    salt = os.urandom(16)
    header = _HEADER.pack(FILE_MAGIC, key_id(keys[0]), salt, chunk_size)
    yield header
    yield from seal_frames(source, _file_cipher(keys[0], salt), header, chunk_size)


def decrypt_stream(source: BinaryIO) -> Iterator[bytes]:
    """Yield the plaintext of an encrypted file chunk by chunk; ValueError if it was changed,
    cut short, or written under a key that is no longer configured."""
    header = _read_exactly(source, _HEADER.size)
    if len(header) < _HEADER.size or not is_encrypted_file(header):
        raise ValueError("not an encrypted file")
    _magic, kid, salt, chunk_size = _HEADER.unpack(header)
    key = next((k for k in _keys() if key_id(k) == kid), None)
    if key is None:
        raise ValueError("encrypted file was written under a key that is not configured")
    yield from open_frames(source, _file_cipher(key, salt), header, chunk_size)


def seal_frames(source: BinaryIO, cipher: AESGCM, header: bytes, chunk_size: int) -> Iterator[bytes]:
    """The frames of the format above for everything ``source`` yields (shared with backups)."""
    index = 0
    chunk = _read_exactly(source, chunk_size)
    while True:
        following = _read_exactly(source, chunk_size)  # one chunk ahead: is this the last?
        last = not following
        yield cipher.encrypt(_nonce(index, last=last), chunk, header)
        if last:
            return
        chunk, index = following, index + 1


def open_frames(source: BinaryIO, cipher: AESGCM, header: bytes, chunk_size: int) -> Iterator[bytes]:
    """The plaintext of the frames following ``header``; ValueError on any change or truncation."""
    if not 0 < chunk_size <= _MAX_CHUNK:
        raise ValueError("encrypted file has an invalid chunk size")
    index = 0
    frame = _read_exactly(source, chunk_size + _TAG)
    while True:
        following = _read_exactly(source, chunk_size + _TAG)
        last = not following
        try:
            yield cipher.decrypt(_nonce(index, last=last), frame, header)
        except InvalidTag as exc:
            raise ValueError("encrypted data cannot be authenticated with the given key") from exc
        if last:
            return
        frame, index = following, index + 1


def read_exactly(source: BinaryIO, size: int) -> bytes:
    """Public form of the short-read-safe read (backups read their header with it)."""
    return _read_exactly(source, size)


class StreamReader:
    """A read-only file object over a generator of byte chunks, so that a FileResponse or a
    storage backend can consume an encrypting or decrypting stream without holding the file."""

    def __init__(self, chunks: Iterator[bytes], *, close: Callable[[], None] | None = None) -> None:
        self._chunks = chunks
        self._buffer = bytearray()
        self._done = False
        self._close = close

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size is None or size < 0 or len(self._buffer) < size):
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                self._done = True
        size = len(self._buffer) if size is None or size < 0 else size
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def __enter__(self) -> StreamReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def prime(self) -> None:
        """Pull the first chunk now, so that an error in it is raised here."""
        if not self._buffer and not self._done:
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                self._done = True
            except BaseException:
                self.close()
                raise

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None
