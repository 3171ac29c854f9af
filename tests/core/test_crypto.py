"""Field encryption and blind indexes (core/crypto.py)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from xinfang.core import crypto


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_encrypt_decrypt_round_trip(value):
    """Any text, Chinese included, decrypts to itself."""
    assert crypto.decrypt(crypto.encrypt(value)) == value


def test_ciphertext_is_randomised():
    """Encrypting the same value twice gives two different tokens (equal values cannot be spotted)."""
    assert crypto.encrypt("13812345678") != crypto.encrypt("13812345678")


def test_other_key_cannot_decrypt():
    """A token made under one key is refused under another, with ValueError."""
    token = crypto.encrypt("330102198001010017")
    with override_settings(XINFANG_FIELD_KEYS=[Fernet.generate_key().decode()]), pytest.raises(ValueError):
        crypto.decrypt(token)


def test_rotation_keeps_old_tokens_readable():
    """The first key encrypts; every listed key decrypts."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(XINFANG_FIELD_KEYS=[old]):
        token = crypto.encrypt("住址")
    with override_settings(XINFANG_FIELD_KEYS=[new, old]):
        assert crypto.decrypt(token) == "住址"
        rotated = crypto.encrypt("住址")
    with override_settings(XINFANG_FIELD_KEYS=[new]):
        assert crypto.decrypt(rotated) == "住址"


@pytest.mark.parametrize("token", ["", "not-a-token", "gAAAAAB" + "A" * 80])
def test_garbage_is_refused(token):
    """Anything that is not an authentic token raises ValueError."""
    with pytest.raises(ValueError):
        crypto.decrypt(token)


def test_missing_keys_fail_fast():
    """Without keys, storing personal data is a configuration error, not a silent clear-text write."""
    with override_settings(XINFANG_FIELD_KEYS=[]), pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")
    with override_settings(XINFANG_BLIND_INDEX_KEY=""), pytest.raises(ImproperlyConfigured):
        crypto.blind_index("x", purpose="id")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=50), st.text(max_size=50))
def test_blind_index_is_equal_exactly_for_equal_values(a, b):
    """Same value, same index; different values, different indexes (for one purpose)."""
    assert (crypto.blind_index(a, purpose="id") == crypto.blind_index(b, purpose="id")) == (a == b)


def test_blind_index_separates_purposes_and_keys():
    """Purposes and keys each change the index."""
    value = "13812345678"
    assert crypto.blind_index(value, purpose="id") != crypto.blind_index(value, purpose="phone")
    before = crypto.blind_index(value, purpose="phone")
    with override_settings(XINFANG_BLIND_INDEX_KEY="rotated"):
        assert crypto.blind_index(value, purpose="phone") != before


def test_secret_hash_is_keyed_by_secret_key():
    """Query codes and tokens are hashed under SECRET_KEY: a leaked table alone cannot confirm a code."""
    before = crypto.secret_hash("ABCD-EFGH-JKMN")
    assert before == crypto.secret_hash("ABCD-EFGH-JKMN")
    with override_settings(SECRET_KEY="another-secret-key-for-this-test-only-0123456789"):
        assert crypto.secret_hash("ABCD-EFGH-JKMN") != before
