"""Protection of petitioners' personal data (PIPL; domain.md "ID numbers").

ID and phone numbers and addresses are stored only as ciphertext; lists show masks; equal values
are found through keyed blind indexes; the clear values come out only through
``reveal_personal_data``, which audits every call.
"""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.db import connection
from django.test import override_settings

from xinfang.audit.models import AuditEvent
from xinfang.core import crypto
from xinfang.petitions.access import PetitionNotFound
from xinfang.petitions.drafts import PetitionerDraft
from xinfang.petitions.models import Petition, Petitioner, PetitionEvent
from xinfang.petitions.services import reveal_personal_data
from xinfang.petitions.validators import mask_id_number, mask_phone

from ..factories import register

ID_NUMBER = "11010519491231002X"  # the checksum-valid example of GB 11643
PHONE = "13812345678"
ADDRESS = "甲县城关镇幸福路1号3单元502室"


@pytest.fixture
def petition(world) -> Petition:
    return register(
        world.a.office,
        world.intake_a,
        world.a.township,
        petitioners=[PetitionerDraft(name="张三", id_number=ID_NUMBER, phone=PHONE, address=ADDRESS)],
    ).petition


def raw_rows(table: str, where: str, params: list) -> list[dict]:
    """Rows exactly as the database holds them (no model field decrypts anything)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} WHERE {where}", params)  # noqa: S608
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def test_database_holds_only_ciphertext(petition):
    """Raw SQL on petitions_petitioner shows no clear ID number, phone number or address."""
    # when the petitioner row is read with raw SQL
    (row,) = raw_rows(Petitioner._meta.db_table, "petition_id = %s", [petition.pk])

    # then no column holds a clear value …
    text = json.dumps(row, default=str, ensure_ascii=False)
    for secret in (ID_NUMBER, PHONE, ADDRESS, ID_NUMBER[6:14]):  # the birth date alone neither
        assert secret not in text
    # … the encrypted columns are Fernet tokens that decrypt to the clear values …
    for column, clear in (("id_number", ID_NUMBER), ("phone", PHONE), ("address", ADDRESS)):
        assert row[column].startswith("gAAAAA")
        assert crypto.decrypt(row[column]) == clear
    # … and the masks and blind indexes are what lists and searches use
    assert row["id_number_mask"] == "1101**********002X"
    assert row["phone_mask"] == "138****5678"
    assert row["id_number_hash"] == crypto.blind_index(ID_NUMBER, purpose="id")
    assert row["phone_hash"] == crypto.blind_index(PHONE, purpose="phone")


def test_personal_data_does_not_leak_into_other_tables(petition):
    """Neither the petition, its timeline nor the audit log copies a clear ID or phone number."""
    leaked = []
    for table, where, params in (
        (Petition._meta.db_table, "id = %s", [petition.pk]),
        (PetitionEvent._meta.db_table, "petition_id = %s", [petition.pk]),
        (AuditEvent._meta.db_table, "1 = 1", []),
    ):
        text = json.dumps(raw_rows(table, where, params), default=str, ensure_ascii=False)
        leaked += [(table, s) for s in (ID_NUMBER, PHONE, ADDRESS) if s in text]
    assert leaked == []


def test_the_model_decrypts_for_the_service_layer(petition):
    """Loaded through the ORM, the fields are the clear values (decrypted on load)."""
    p = Petitioner.objects.get(petition=petition)
    assert (p.id_number, p.phone, p.address) == (ID_NUMBER, PHONE, ADDRESS)


@pytest.mark.parametrize(
    ("value", "mask"),
    [
        ("330102199001011234", "3301**********1234"),
        ("11010519491231002X", "1101**********002X"),
    ],
)
def test_id_number_mask(value, mask):
    """An ID number shows its first four and last four characters only."""
    assert mask_id_number(value) == mask


@pytest.mark.parametrize(
    ("value", "mask"),
    [
        ("13812345678", "138****5678"),
        ("0571-87654321", "057******4321"),
        ("87654321", "876*4321"),
    ],
)
def test_phone_mask(value, mask):
    """A phone number shows its first three and last four characters only."""
    assert mask_phone(value) == mask


def test_short_values_are_masked_entirely():
    """Values too short to keep both ends hidden are masked completely."""
    assert mask_id_number("12345678") == "********"
    assert mask_phone("1234567") == "*******"
    assert mask_phone("12345678") == "123*5678"


def test_masks_are_stored_for_lists(petition):
    """Lists read the stored masks; they match the mask functions."""
    p = Petitioner.objects.get(petition=petition)
    assert p.id_number_mask == mask_id_number(ID_NUMBER)
    assert p.phone_mask == mask_phone(PHONE)


# --- blind indexes -----------------------------------------------------------------------------


def test_blind_index_equal_for_equal_values():
    """The same value and purpose always give the same index (so equal values can be found)."""
    assert crypto.blind_index(ID_NUMBER, purpose="id") == crypto.blind_index(ID_NUMBER, purpose="id")


def test_blind_index_differs_by_value_and_by_purpose():
    """Different values differ; the same value under two purposes differs (no cross-matching)."""
    assert crypto.blind_index(ID_NUMBER, purpose="id") != crypto.blind_index(
        "110105194912310021", purpose="id"
    )
    assert crypto.blind_index(PHONE, purpose="id") != crypto.blind_index(PHONE, purpose="phone")


def test_blind_index_is_keyed():
    """The index is an HMAC under XINFANG_BLIND_INDEX_KEY: without the key it cannot be recomputed."""
    index = crypto.blind_index(PHONE, purpose="phone")
    assert len(index) == 64 and int(index, 16) >= 0
    with override_settings(XINFANG_BLIND_INDEX_KEY="another-key"):
        assert crypto.blind_index(PHONE, purpose="phone") != index


def test_stored_index_is_of_the_normalised_value(world):
    """A lower-case x and spaces in the ID number give the same index as the canonical form."""
    reg = register(
        world.a.office,
        world.intake_a,
        world.a.township,
        petitioners=[PetitionerDraft(name="张三", id_number=" 11010519491231002x ", phone="138 1234 5678")],
    )
    p = Petitioner.objects.get(petition=reg.petition)
    assert p.id_number == ID_NUMBER
    assert p.id_number_hash == crypto.blind_index(ID_NUMBER, purpose="id")
    assert p.phone_hash == crypto.blind_index(PHONE, purpose="phone")


# --- keys ----------------------------------------------------------------------------------------


def test_decryption_with_a_different_key_fails(petition):
    """Ciphertext made under one key cannot be read under another: a ValueError, not garbage."""
    token = crypto.encrypt(ID_NUMBER)
    with override_settings(XINFANG_FIELD_KEYS=[Fernet.generate_key().decode()]):
        with pytest.raises(ValueError, match="cannot be authenticated"):
            crypto.decrypt(token)
        # and the stored petitioner cannot be loaded under the wrong key either
        with pytest.raises(ValueError):
            Petitioner.objects.get(petition=petition)


def test_tampered_ciphertext_is_refused():
    """Fernet is authenticated: one changed character makes the value unreadable."""
    token = crypto.encrypt(PHONE)
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    with pytest.raises(ValueError):
        crypto.decrypt(tampered)


def test_key_rotation_reads_old_values_and_writes_with_the_new_key(settings, petition):
    """With [new, old] keys, old values still read and new values are written under the new key."""
    # given a value stored under the current key
    old_key = settings.XINFANG_FIELD_KEYS[0]
    new_key = Fernet.generate_key().decode()

    # when the new key is put first
    with override_settings(XINFANG_FIELD_KEYS=[new_key, old_key]):
        # then stored rows still read …
        assert Petitioner.objects.get(petition=petition).id_number == ID_NUMBER
        fresh = crypto.encrypt(PHONE)
    # … and new ciphertext needs only the new key
    with override_settings(XINFANG_FIELD_KEYS=[new_key]):
        assert crypto.decrypt(fresh) == PHONE


# --- revealing -----------------------------------------------------------------------------------


def test_reveal_returns_clear_values_and_audits_the_reveal(world, petition):
    """A user in scope gets the clear values, and the reveal is written to the audit log."""
    # when the county A clerk reveals the personal data
    revealed = reveal_personal_data(user=world.intake_a, number=petition.number)

    # then the clear values come back …
    assert revealed == [{"name": "张三", "id_number": ID_NUMBER, "phone": PHONE, "address": ADDRESS}]
    # … and one audit event names who revealed what
    event = AuditEvent.objects.get(action="petition.reveal_personal_data")
    assert event.actor == world.intake_a
    assert event.actor_name == "intake_a"
    assert event.object_type == "petitions.petition"
    assert event.object_id == str(petition.pk)
    assert event.object_repr == petition.number
    assert event.data == {"petitioners": 1}


def test_every_reveal_is_audited(world, petition):
    """Each call writes its own event (PIPL Art. 51: log every reveal)."""
    for user in (world.intake_a, world.intake_a, world.city_supervisor):
        reveal_personal_data(user=user, number=petition.number)
    events = AuditEvent.objects.filter(action="petition.reveal_personal_data").order_by("id")
    assert [e.actor_name for e in events] == ["intake_a", "intake_a", "city_supervisor"]


@pytest.mark.parametrize("username", ["intake_b", "handler_a", "sysadmin", "auditor"])
def test_reveal_outside_scope_is_refused(world, petition, username):
    """Someone who may not see the petition gets 'not found' and no data; the refused attempt is
    audited (等保: failures too), no reveal is."""
    with pytest.raises(PetitionNotFound):
        reveal_personal_data(user=getattr(world, username), number=petition.number)
    assert not AuditEvent.objects.filter(action="petition.reveal_personal_data").exists()
    denied = AuditEvent.objects.get(action="petition.reveal_denied")
    assert denied.actor_name == username and denied.data == {"number": petition.number}


# --- the encrypted field -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lookup",
    [
        {"id_number": ID_NUMBER},
        {"id_number__exact": ID_NUMBER},
        {"id_number__iexact": ID_NUMBER},
        {"phone__in": [PHONE]},
        {"phone__startswith": "138"},
        {"address__icontains": "幸福路"},
        {"id_number__gt": ""},
    ],
    ids=lambda lookup: next(iter(lookup)),
)
def test_encrypted_field_refuses_lookups(petition, lookup):
    """Filtering on ciphertext would silently match nothing: the field refuses the lookup."""
    with pytest.raises(FieldError):
        list(Petitioner.objects.filter(**lookup))


def test_encrypted_field_allows_isnull(world):
    """``isnull`` is the one lookup that works on ciphertext (NULL stays NULL)."""
    reg = register(
        world.a.office,
        world.intake_a,
        world.a.township,
        petitioners=[PetitionerDraft(name="王五", id_number="", phone=PHONE)],
    )
    assert Petitioner.objects.filter(petition=reg.petition, id_number__isnull=True).count() == 1
    assert Petitioner.objects.filter(petition=reg.petition, phone__isnull=True).count() == 0
