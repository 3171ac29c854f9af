"""Validators for personal data: resident ID numbers (GB 11643-1999) and phone numbers."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# re.ASCII: without it ``\d`` also matches Arabic-Indic, Devanagari … digits, which int() reads
# fine, so a number typed in them passed the checksum and was stored and hashed unlike the same
# number in ASCII, and repeat detection missed it (issue #7 point 26).
_ID_RE = re.compile(r"^\d{17}[\dX]$", re.ASCII)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\d{7,8})$", re.ASCII)


def ascii_digits(value: str) -> str:
    """NFKC (fullwidth ``１２３``/``Ｘ`` → ``123``/``X``, ideographic space → space), then every other
    decimal digit (Arabic-Indic ``٠١٢`` …) to its ASCII digit.

    Decision (issue #7 point 26): such digits are normalised, not refused.  Fullwidth digits are
    what Chinese input methods type in full-width mode, and the number is the same number; every
    door (staff form, portal, API, repeat look-up) validates through the functions below, so the
    stored value and its blind index are always the ASCII form.
    """
    text = unicodedata.normalize("NFKC", value)
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text)


def normalise_id_number(value: str) -> str:
    return ascii_digits(value).strip().upper().replace(" ", "")


def id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an 18-digit resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def check_id_number(value: str) -> str:
    """Validate an 18-digit ID number (format, birth date, checksum) and return it normalised."""
    number = normalise_id_number(value)
    if not _ID_RE.match(number):
        raise ValidationError(_("身份证号码应为18位，前17位为数字，末位为数字或X。"), code="id_format")
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号码中的出生日期无效。"), code="id_birthdate") from None
    if id_check_digit(number[:17]) != number[17]:
        raise ValidationError(_("身份证号码校验位不正确，请核对。"), code="id_checksum")
    return number


def normalise_phone(value: str) -> str:
    return re.sub(r"[\s()（）]", "", ascii_digits(value).strip()).replace("+86", "")


def check_phone(value: str) -> str:
    """Validate a mobile or landline number and return it normalised."""
    phone = normalise_phone(value)
    if not _PHONE_RE.match(phone):
        raise ValidationError(_("请输入有效的手机号或固定电话号码。"), code="phone_format")
    return phone


def mask_id_number(number: str) -> str:
    """``330102199001011234`` → ``3301**********1234``."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:] if len(number) > 8 else "*" * len(number)


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``."""
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:] if len(phone) > 7 else "*" * len(phone)
