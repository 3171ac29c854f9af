"""``/api/v1/portal``: the public portal's submit and track, without authentication.

Both call ``xinfang.portal.services``, the same functions as the portal's HTML pages, so the
throttles and the secrecy of the tracking view are the same whichever door a citizen uses.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from xinfang.core.net import client_ip
from xinfang.portal.services import PublicView, submit_public_petition, track_petition

from ..drafts import draft_from_public_input
from ..schemas import ErrorOut, PublicPetitionIn, PublicSubmittedOut, PublicTrackingOut

router = Router(tags=["portal"], auth=None)


@router.post(
    "/petitions",
    response={201: PublicSubmittedOut, 422: ErrorOut, 429: ErrorOut},
    summary="网上信访：提交信访事项",
)
def submit_petition(request: HttpRequest, payload: PublicPetitionIn) -> Status:
    """Submit a petition as a citizen.  The channel is "online", the date of receipt today, and
    the office the petition office of the chosen locality.  Returns the number and the query
    code, which is shown only here.  Attachments are accepted by the portal's web form only."""
    registration = submit_public_petition(draft=draft_from_public_input(payload), ip=client_ip(request))
    return Status(201, {"number": registration.petition.number, "query_code": registration.query_code})


@router.get(
    "/petitions/{number}",
    response={200: PublicTrackingOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="网上信访：凭编号和查询码查询办理进展",
)
def track_public_petition(request: HttpRequest, number: str, code: Query[str]) -> PublicView:
    """The status and the public timeline.  An unknown number and a wrong code give the same 404;
    too many failures from one address give 429 for a while, even with the right code."""
    return track_petition(number=number, code=code, ip=client_ip(request))
