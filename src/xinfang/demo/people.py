"""Made-up petitioners: names, resident ID numbers with a valid check digit, phones and addresses.

The ID numbers pass ``petitions.validators.check_id_number`` (region, birth date, ISO 7064 check
character) but use the demo province's fictional area codes (99xxxx), so none can be a real person's.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import NamedTuple

from xinfang.petitions.validators import id_check_digit

from .texts import VILLAGE_HEADS, between, pick

# The commonest surnames, each repeated by its rough frequency so a plain choice() gives a
# realistic mix without the cost of weighted sampling on every draw.
_SURNAMES = (
    "王" * 7 + "李" * 7 + "张" * 7 + "刘" * 5 + "陈" * 5 + "杨" * 3 + "黄" * 2 + "赵" * 2 + "吴" * 2
    + "周" * 2
    + "徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段"
    "雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)  # fmt: skip
_GIVEN_M = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆建国志永春海林峰东文德成福贵"
_GIVEN_F = "芳娜敏静丽艳娟霞秀英玲桂兰凤红梅琴燕云莲萍雪婷慧珍洁倩颖"
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "166", "173", "177", "180", "181", "182", "183", "186", "187",
    "188", "189", "198", "199",
)  # fmt: skip
_GROUPS = "一二三四五六七八"


class Person(NamedTuple):
    """A petitioner's personal data, in clear (encrypted only when stored)."""

    name: str
    id_number: str | None
    phone: str | None
    address: str


def make_id_number(r: random.Random, region: str, *, today: dt.date) -> tuple[str, bool]:
    """A valid 18-digit resident ID number of someone born in ``region`` aged 18–85; returns it
    and whether the holder is male (the 17th digit is odd for men)."""
    birth = dt.date.fromordinal(today.toordinal() - between(r, 18 * 365 + 5, 85 * 365))
    serial = between(r, 0, 999)
    first17 = f"{region}{birth.year}{birth.month:02d}{birth.day:02d}{serial:03d}"  # strftime is slower
    return first17 + id_check_digit(first17), serial % 2 == 1


def make_phone(r: random.Random, area_code: str) -> str:
    """A mobile number, or now and then a landline in the area (``0xxx-xxxxxxx``)."""
    if r.random() < 0.06:
        return f"{area_code}-{between(r, 2000000, 8999999)}"
    return f"{pick(r, _MOBILE_PREFIXES)}{int(r.random() * 100_000_000):08d}"


def make_person(r: random.Random, *, region: str, area_code: str, place: str, today: dt.date) -> Person:
    """A petitioner from ``place``: most give an ID number and a phone, some no address."""
    id_number, male = make_id_number(r, region, today=today)
    given = _GIVEN_M if male else _GIVEN_F
    name = pick(r, _SURNAMES) + pick(r, given) + (pick(r, given) if r.random() < 0.7 else "")
    u = r.random()
    if u < 0.04:  # phoned in and would not give an ID number
        id_number = None
    phone = make_phone(r, area_code) if u > 0.015 else None
    address = ""
    if r.random() < 0.7:  # letters carry one; calls and web forms often do not
        address = f"{place}{pick(r, VILLAGE_HEADS)}村{pick(r, _GROUPS)}组{between(r, 1, 120)}号"
    return Person(name, id_number, phone, address)
