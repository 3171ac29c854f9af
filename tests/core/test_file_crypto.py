"""Encrypted files (core.crypto: the framed AES-GCM stream of attachments, issue #7 point 24)."""

from __future__ import annotations

import io
import tracemalloc

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from xinfang.core import crypto

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def encrypt(data: bytes, chunk_size: int = crypto.FILE_CHUNK_SIZE) -> bytes:
    return b"".join(crypto.encrypt_stream(io.BytesIO(data), chunk_size=chunk_size))


def decrypt(data: bytes) -> bytes:
    return b"".join(crypto.decrypt_stream(io.BytesIO(data)))


@override_settings(XINFANG_FIELD_KEYS=[KEY_A])
@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 1000, 1050])
def test_round_trip_at_every_chunk_boundary(size):
    """Empty, shorter than a chunk, exactly one, several and a partial last chunk all come back."""
    data = bytes(range(256)) * 5
    data = data[:size]
    stored = encrypt(data, chunk_size=100)
    assert crypto.is_encrypted_file(stored)
    assert crypto.file_key_id(stored) == crypto.key_id(KEY_A)
    assert decrypt(stored) == data


@override_settings(XINFANG_FIELD_KEYS=[KEY_A])
def test_the_stored_bytes_do_not_contain_the_plaintext():
    data = "公民身份号码 330102198001010018".encode() * 50
    stored = encrypt(data)
    assert b"330102198001010018" not in stored


@override_settings(XINFANG_FIELD_KEYS=[KEY_A])
@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda b: b[:-1], id="last-frame-cut"),
        pytest.param(lambda b: b[: 34 + 116], id="trailing-frames-dropped"),
        pytest.param(lambda b: b[:40] + bytes([b[40] ^ 1]) + b[41:], id="bit-flipped"),
        pytest.param(
            lambda b: b[:34] + b[34 + 116 : 34 + 232] + b[34:150] + b[34 + 232 :], id="frames-swapped"
        ),
        pytest.param(lambda b: b[:10] + bytes([b[10] ^ 1]) + b[11:], id="key-id-changed"),
        pytest.param(lambda b: b[:20] + bytes([b[20] ^ 1]) + b[21:], id="salt-changed"),
    ],
)
def test_changed_reordered_or_truncated_files_are_refused(tamper):
    """Every frame is authenticated with its position, the last-frame flag and the header."""
    stored = encrypt(b"x" * 350, chunk_size=100)
    with pytest.raises(ValueError):
        decrypt(tamper(stored))


def test_old_files_read_while_their_key_is_listed_and_not_after():
    """The first key encrypts, all listed keys decrypt; a removed key makes its files unreadable."""
    with override_settings(XINFANG_FIELD_KEYS=[KEY_A]):
        stored = encrypt(b"scan of an ID card")
    with override_settings(XINFANG_FIELD_KEYS=[KEY_B, KEY_A]):
        assert decrypt(stored) == b"scan of an ID card"
        assert crypto.primary_key_id() == crypto.key_id(KEY_B)
    with override_settings(XINFANG_FIELD_KEYS=[KEY_B]), pytest.raises(ValueError):
        decrypt(stored)


class Zeros:
    """A 30 MB source that exists only as it is read (so the test measures the cipher, not it)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return bytes(n)


class Sink:
    """Decrypts what it is given as it arrives, keeping only the byte count."""

    def __init__(self, reader) -> None:
        self.reader = reader

    def read(self, n: int = -1) -> bytes:
        return self.reader.read(n)


@override_settings(XINFANG_FIELD_KEYS=[KEY_A])
def test_a_30_mb_file_is_never_held_in_memory():
    """Encrypting and decrypting 30 MB through StreamReader peaks at a few chunks, not the file."""
    size = 30 * 1024 * 1024
    tracemalloc.start()
    try:
        encrypted = crypto.StreamReader(crypto.encrypt_stream(Zeros(size)))  # type: ignore[arg-type]
        plain = crypto.StreamReader(crypto.decrypt_stream(Sink(encrypted)))  # type: ignore[arg-type]
        total = 0
        while chunk := plain.read(8192 * 8):
            total += len(chunk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size
    assert peak < 2 * 1024 * 1024, peak
