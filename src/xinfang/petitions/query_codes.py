"""The query code's failure lock and its reissue by the office (issue #7, point 29).

Wrong codes are counted per petition number, from whatever address they come
(``XINFANG_QUERY_CODE_MAX_FAILURES``, default 10): a botnet spreading its guesses over many
addresses passes the per-address throttle but not this.  Beyond the limit the number is locked —
even the right code is refused — until the office reissues the code, which the petitioner asks for
in person (or by the office's usual identity check).  The portal and the API answer a locked
number as they answer a wrong code (404), with a message that says to ask the office; an unknown
number locks the same way, so the lock reveals nothing about which numbers exist.

The counter is a ``core.Counter`` row (atomic on every database) keyed by a hash of the number.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core import counters
from xinfang.organisations.choices import RoleCode

from .access import access_petition
from .models import Petition
from .services import hash_query_code, new_query_code

__all__ = ["REISSUE_ROLES", "failure_key", "reissue_query_code"]

# The petition office's staff at the counter: the clerk who registers, the supervisor over them.
REISSUE_ROLES = (RoleCode.INTAKE, RoleCode.SUPERVISOR)
# A number that names no petition keeps its failures this long (the table must not fill with
# guessed numbers); a real petition's lock lasts until the office reissues the code.
UNKNOWN_NUMBER_TTL = 30 * 24 * 3600


def failure_key(number: str, petition_id: int | None) -> str:
    """The counter of wrong codes given for ``number`` (already normalised: stripped, upper case).

    An existing petition's counter includes its id: failures piled up on a number *before* it was
    registered (someone guessing future numbers) must not lock the petition that later gets it."""
    ident = f"{number}#{petition_id}" if petition_id is not None else number
    return "xf-code-failures:" + hashlib.sha256(ident.encode()).hexdigest()[:40]


def may_reissue(user: object) -> bool:
    """Whether ``user`` holds a role that may reissue query codes (the page shows the button)."""
    return any(user.has_role(role) for role in REISSUE_ROLES)  # type: ignore[attr-defined]


def reissue_query_code(*, user: object, number: str, identity_checked: bool) -> str:
    """Give petition ``number`` a new query code and unlock it; return the code (shown once).

    The old code stops working at once.  ``identity_checked`` is the clerk's statement that the
    petitioner proved who they are; it is required and recorded in the audit event.
    """
    petition = access_petition(user, number)
    if not may_reissue(user):
        raise PermissionDenied(_("只有信访部门的登记员或督办员可以重新生成查询码。"))
    if not identity_checked:
        raise ValidationError({"identity_checked": [_("请先核验信访人身份。")]})
    code = new_query_code()
    with transaction.atomic():
        Petition.objects.filter(pk=petition.pk).update(query_code_hash=hash_query_code(code))
        counters.delete(failure_key(petition.number, petition.pk))
        record_event(
            actor=user,
            action="petition.query_code_reissued",
            obj=petition,
            data={"number": petition.number, "identity_checked": True},
        )
    return code
