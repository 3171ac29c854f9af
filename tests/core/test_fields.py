"""EncryptedTextField (core/fields.py): ciphertext in the database, clear text in Python."""

from __future__ import annotations

import pytest
from django.core.exceptions import FieldError

from xinfang.core import crypto
from xinfang.core.fields import EncryptedTextField
from xinfang.petitions.models import Petitioner


def test_prep_value_encrypts_and_db_value_decrypts():
    """What goes to the database is a token; what comes back is the clear value."""
    field = EncryptedTextField()
    token = field.get_prep_value("13812345678")
    assert token != "13812345678"
    assert crypto.decrypt(token) == "13812345678"
    assert field.from_db_value(token, None, None) == "13812345678"


@pytest.mark.parametrize("value", [None, ""])
def test_empty_values_are_not_encrypted(value):
    """NULL and "" stay as they are (an empty address is not a secret; NULL keeps isnull working)."""
    field = EncryptedTextField()
    assert field.get_prep_value(value) == value
    assert field.from_db_value(value, None, None) == value


@pytest.mark.parametrize(
    "lookup", ["exact", "iexact", "contains", "icontains", "in", "startswith", "gt", "regex"]
)
def test_only_isnull_lookup_is_offered(lookup):
    """Comparisons on randomised ciphertext would match nothing: every lookup but isnull is refused."""
    field = Petitioner._meta.get_field("id_number")
    assert field.get_lookup(lookup) is None
    assert field.get_lookup("isnull") is not None


def test_queryset_filter_on_ciphertext_raises(db):
    """Filtering by equality raises FieldError instead of silently returning nothing."""
    with pytest.raises(FieldError):
        Petitioner.objects.filter(phone="13812345678").exists()
