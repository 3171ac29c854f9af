"""Model fields for personal data."""

from __future__ import annotations

from typing import Any

from django.db import models

from . import crypto


class EncryptedTextField(models.TextField):
    """A text value stored as Fernet ciphertext and decrypted on load.

    It cannot be filtered or ordered on (the ciphertext is randomised): pair it with a blind-index
    column for equality look-ups.
    """

    description = "Encrypted text"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

    def get_lookup(self, lookup_name: str):  # type: ignore[override]
        if lookup_name not in {"isnull"}:
            return None  # refuse equality on ciphertext: it would silently match nothing
        return super().get_lookup(lookup_name)
