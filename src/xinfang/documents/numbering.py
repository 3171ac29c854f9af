"""Reference numbers (文号): ``<prefix>〔<year>〕<n>号``, gap-free per issuing organisation, kind and
year, taken inside the issuing transaction (a rollback returns the number)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from xinfang.organisations.models import Organisation

from .kinds import default_prefix
from .models import KindSetting, ReferenceSequence


def prefix_for(organisation: Organisation, kind: str) -> str:
    setting = KindSetting.objects.filter(organisation=organisation, kind=kind).values_list(
        "prefix", flat=True
    )
    return setting.first() or default_prefix(organisation, kind)


def next_sequence(organisation: Organisation, kind: str, year: int) -> int:
    """The next number of ``organisation``'s ``kind`` in ``year``; the UPDATE takes the row lock
    (PostgreSQL) or the write lock (SQLite), so concurrent issues queue behind it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_sequence() must run inside the issuing transaction")
    rows = ReferenceSequence.objects.filter(organisation=organisation, kind=kind, year=year)
    if not rows.update(last=F("last") + 1):
        try:
            with transaction.atomic():  # savepoint: a racing first issue of the year must not abort us
                ReferenceSequence.objects.create(organisation=organisation, kind=kind, year=year, last=1)
        except IntegrityError:
            rows.update(last=F("last") + 1)
    return rows.values_list("last", flat=True).get()


def format_reference(prefix: str, year: int, sequence: int) -> str:
    """青信受〔2026〕12号 — the year in 六角括号 (GB/T 9704 7.2.4), no leading zeros."""
    return f"{prefix}〔{year}〕{sequence}号"
