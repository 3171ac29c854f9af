"""Field-level encryption and blind indexes for personal data.

ID and phone numbers are stored encrypted with Fernet (AES-128-CBC + HMAC-SHA256, i.e. authenticated
encryption) under keys from the environment.  To find equal values (repeat detection) without
decrypting every row, a keyed HMAC-SHA256 of the normalised value is stored beside the ciphertext.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
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
