"""Validators of personal data (validators.py), with property-based tests (hypothesis).

The check character of a resident ID number (GB 11643-1999) is recomputed here independently, from
the ISO 7064 MOD 11-2 definition, so a wrong weight table in the code cannot also fix the test.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import example, given, settings
from hypothesis import strategies as st

from xinfang.petitions.validators import (
    check_id_number,
    check_phone,
    id_check_digit,
    mask_id_number,
    mask_phone,
)

CHECK_CHARACTERS = "0123456789X"


def iso7064_mod11_2(first17: str) -> str:
    """Reference check character: weights 2^(i-1) mod 11 counted from the right, check (12 - S) mod 11."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


regions = st.integers(min_value=110000, max_value=659999).map(str)
birth_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2030, 12, 31))
sequences = st.integers(min_value=0, max_value=999)


def first17_of(region: str, birth: dt.date, seq: int) -> str:
    return f"{region}{birth:%Y%m%d}{seq:03d}"


def test_reference_check_digit_matches_published_examples():
    """The reference agrees with ID numbers published with their check characters."""
    assert iso7064_mod11_2("11010519491231002") == "X"
    assert iso7064_mod11_2("44052418800101001") == "4"


@settings(max_examples=300, deadline=None)
@given(region=regions, birth=birth_dates, seq=sequences)
def test_check_id_number_accepts_every_id_with_the_correct_check_digit(region, birth, seq):
    """Any 17 digits with a real birth date plus the correct check character are accepted as is."""
    first17 = first17_of(region, birth, seq)
    number = first17 + iso7064_mod11_2(first17)
    assert id_check_digit(first17) == number[-1]
    assert check_id_number(number) == number
    assert check_id_number(f"  {number.lower()} ") == number  # normalised: trimmed, x → X


@settings(max_examples=300, deadline=None)
@given(region=regions, birth=birth_dates, seq=sequences)
def test_check_id_number_rejects_every_corruption_of_the_check_digit(region, birth, seq):
    """Each of the ten wrong check characters is refused as a checksum error."""
    first17 = first17_of(region, birth, seq)
    correct = iso7064_mod11_2(first17)
    for wrong in CHECK_CHARACTERS.replace(correct, ""):
        with pytest.raises(ValidationError) as refused:
            check_id_number(first17 + wrong)
        assert refused.value.code == "id_checksum"
        assert refused.value.messages == ["身份证号码校验位不正确，请核对。"]


@settings(max_examples=200, deadline=None)
@given(region=regions, birth=birth_dates, seq=sequences, position=st.integers(0, 16), delta=st.integers(1, 9))
def test_a_changed_digit_is_caught(region, birth, seq, position, delta):
    """Changing any single one of the first 17 digits makes the number invalid (MOD 11-2 catches it)."""
    first17 = first17_of(region, birth, seq)
    number = first17 + iso7064_mod11_2(first17)
    digit = (int(number[position]) + delta) % 10
    corrupted = number[:position] + str(digit) + number[position + 1 :]
    with pytest.raises(ValidationError):
        check_id_number(corrupted)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "id_format"),
        ("1101051949123100", "id_format"),  # 16 characters
        ("1101051949123100200", "id_format"),  # 19 characters
        ("11010519491231002Y", "id_format"),
        ("X10105194912310020", "id_format"),
        ("110105194902300021", "id_birthdate"),  # 30 February (check digit irrelevant: date comes first)
        ("110105194913010021", "id_birthdate"),
    ],
)
def test_malformed_id_numbers(value, code):
    """Format and birth date are checked before the checksum, each with its own code."""
    with pytest.raises(ValidationError) as refused:
        check_id_number(value)
    assert refused.value.code == code


# --- phone numbers -------------------------------------------------------------------------------

mobiles = st.from_regex(r"\A1[3-9][0-9]{9}\Z")


@given(mobiles)
@example("13812345678")
def test_every_mobile_number_is_accepted(number):
    """11-digit mobile numbers starting 13–19 are accepted, also written +86 with spaces."""
    assert check_phone(number) == number
    assert check_phone(f"+86 {number[:3]} {number[3:7]} {number[7:]}") == number


@pytest.mark.parametrize(
    "value", ["0571-87654321", "057187654321", "010-12345678-123", "87654321", "(0571)87654321"]
)
def test_landlines_are_accepted(value):
    """Landlines with area code and extension, or a bare local number, are accepted."""
    check_phone(value)


@pytest.mark.parametrize(
    "value", ["", "12345", "1381234567", "23812345678", "138123456789", "138-1234-5678x", "电话"]
)
def test_invalid_phone_numbers(value):
    """Anything else is refused with one message."""
    with pytest.raises(ValidationError) as refused:
        check_phone(value)
    assert refused.value.code == "phone_format"


# --- masks ---------------------------------------------------------------------------------------

# Anything a clerk could type, except the mask character itself (so revealed positions are countable).
texts = st.text(alphabet=st.characters(blacklist_characters="*"), max_size=40)
id_like = st.text(alphabet=CHECK_CHARACTERS, max_size=40)


def revealed(mask: str) -> list[int]:
    return [i for i, ch in enumerate(mask) if ch != "*"]


@settings(max_examples=300)
@given(st.one_of(texts, id_like))
def test_id_mask_never_reveals_more_than_eight_characters(value):
    """An ID mask keeps the length and shows at most the first four and last four characters."""
    mask = mask_id_number(value)
    shown = revealed(mask)
    assert len(mask) == len(value)
    assert len(shown) <= 8
    assert all(mask[i] == value[i] for i in shown)
    if len(value) > 8:
        assert shown == [*range(4), *range(len(value) - 4, len(value))]
    else:
        assert shown == []


@settings(max_examples=300)
@given(st.one_of(texts, st.text(alphabet="0123456789-", max_size=20)))
def test_phone_mask_never_reveals_more_than_eight_characters(value):
    """A phone mask keeps the length and shows at most the first three and last four characters."""
    mask = mask_phone(value)
    shown = revealed(mask)
    assert len(mask) == len(value)
    assert len(shown) <= 8
    assert len(shown) <= 7
    assert all(mask[i] == value[i] for i in shown)


@settings(max_examples=200)
@given(region=regions, birth=birth_dates, seq=sequences)
def test_id_mask_hides_the_birth_date(region, birth, seq):
    """The masked ID of any valid number hides the whole birth date."""
    first17 = first17_of(region, birth, seq)
    mask = mask_id_number(first17 + iso7064_mod11_2(first17))
    assert mask[6:14] == "*" * 8
