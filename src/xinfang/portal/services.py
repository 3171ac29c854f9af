"""Public portal logic, shared by the portal's HTML views and the API (``/api/v1/portal/…``).

Two operations, each a plain function the views call after parsing their own input:

``submit_public_petition(draft=…, ip=…) -> Registration``
    Registers a petition sent by a citizen: the channel is forced to "online", the date of receipt
    to today, and the office is the petition office responsible for the chosen locality (属地管理).
    Raises ``django.core.exceptions.ValidationError`` (keyed by field, e.g. ``"locality"``,
    ``"petitioners.0.id_number"``) or :class:`Throttled`.

``track_petition(number=…, code=…, ip=…) -> PublicView``
    What a citizen holding the query code may see: the status and the public timeline, nothing
    else.  Raises :class:`TrackingFailed` for an unknown number *and* for a wrong code (one
    exception, so callers cannot tell the two apart by accident), or :class:`Throttled`.

Only public fields leave this module (STYLE.md §5 rule 20): never comments, staff names,
petitioner data or other petitions.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, replace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.core import throttle
from xinfang.core.throttle import Throttled
from xinfang.petitions.choices import Channel
from xinfang.petitions.drafts import PetitionDraft
from xinfang.petitions.models import Petition, PetitionEvent
from xinfang.petitions.services import (
    Registration,
    clean_draft,
    find_petition_office,
    hash_query_code,
    localities,
)
from xinfang.workflow.services import register

__all__ = [
    "PORTAL_ATTACHMENT_LIMIT",
    "PublicEvent",
    "PublicView",
    "Throttled",
    "TrackingFailed",
    "submit_public_petition",
    "track_petition",
]

# A citizen attaches a few scans or photos; more belongs in a visit to the office.
PORTAL_ATTACHMENT_LIMIT = 5
SUBMIT_SCOPE = "portal-submit"
TRACK_FAILURE_SCOPE = "portal-track-failure"
# Compared against when the number is unknown, so both failures cost the same hashing and
# comparison time (a shorter path for unknown numbers would reveal which numbers exist).
_NO_SUCH_HASH = "0" * 64
_MAX_NUMBER_LENGTH = 40  # Petition.number's max_length


class TrackingFailed(LookupError):
    """The number is unknown or the code does not match; deliberately indistinguishable."""


@dataclass(frozen=True)
class PublicEvent:
    """One public entry of the timeline: when, what kind, and the note meant for the petitioner."""

    at: dt.datetime
    kind: str
    kind_label: str
    note: str


@dataclass(frozen=True)
class PublicView:
    """Everything the portal shows about a petition to the holder of its query code."""

    number: str
    status: str
    status_label: str
    events: list[PublicEvent]


def submit_public_petition(*, draft: PetitionDraft, ip: str) -> Registration:
    """Register a petition submitted on the public portal (网上信访), all or nothing.

    ``draft.channel``, ``draft.received_on`` and ``draft.repeat_of_number`` are overridden: the
    public cannot choose them.  Every attempt from ``ip`` counts against
    ``XINFANG_PORTAL_SUBMIT_RATE``, valid or not — the limit protects the database as much as
    the offices' in-trays.  The returned ``query_code`` exists in clear only in this value.
    """
    throttle.hit(SUBMIT_SCOPE, ip, settings.XINFANG_PORTAL_SUBMIT_RATE, raise_over=True)
    draft = replace(
        draft,
        channel=Channel.ONLINE,
        received_on=timezone.localdate(),
        # Linking a repeat needs a staff member's scope; the office links it after registration.
        repeat_of_number="",
    )
    locality = localities().filter(pk=draft.locality_id).first() if draft.locality_id else None
    office = find_petition_office(locality) if locality is not None else None
    if office is None:
        _raise_without_office(draft, locality_known=locality is not None)
    return register(
        draft=draft, office=office, actor=None, public=True, attachment_limit=PORTAL_ATTACHMENT_LIMIT
    )


def _raise_without_office(draft: PetitionDraft, *, locality_known: bool) -> None:
    """Report every problem of the draft at once, plus the missing office if that is one of them."""
    errors: dict[str, list[str]] = {}
    try:
        clean_draft(draft, attachment_limit=PORTAL_ATTACHMENT_LIMIT)
    except ValidationError as exc:
        errors = {key: list(messages) for key, messages in exc.message_dict.items()}
    if locality_known:
        # A valid area with no petition office at or above it: a configuration gap, told plainly.
        errors.setdefault("locality", []).append(
            _("该属地暂未开通网上信访受理，请选择上级属地或到当地信访部门反映。")
        )
    raise ValidationError(errors)


def track_petition(*, number: str, code: str, ip: str) -> PublicView:
    """Status and public timeline of petition ``number``, for the holder of its query ``code``.

    Failures per ``ip`` are counted against ``XINFANG_PORTAL_TRACK_FAILURE_RATE``; once over it,
    every look-up from that address is refused with :class:`Throttled` until the window ends,
    even one with the right code (otherwise guessing could simply go on).
    """
    rate = settings.XINFANG_PORTAL_TRACK_FAILURE_RATE
    throttle.check(TRACK_FAILURE_SCOPE, ip, rate)
    number = (number or "").strip().upper()
    petition = None
    if 0 < len(number) <= _MAX_NUMBER_LENGTH:
        petition = (
            Petition.objects.filter(number=number).only("pk", "number", "status", "query_code_hash").first()
        )
    expected = petition.query_code_hash if petition is not None else _NO_SUCH_HASH
    given = hash_query_code(code or "")
    if petition is None or not hmac.compare_digest(expected, given):
        throttle.hit(TRACK_FAILURE_SCOPE, ip, rate)
        raise TrackingFailed(number)
    events = PetitionEvent.objects.filter(petition=petition, is_public=True).only("at", "kind", "public_note")
    return PublicView(
        number=petition.number,
        status=petition.status,
        status_label=str(petition.get_status_display()),
        events=[
            PublicEvent(at=e.at, kind=e.kind, kind_label=str(e.get_kind_display()), note=e.public_note)
            for e in events.order_by("at", "id")
        ],
    )
