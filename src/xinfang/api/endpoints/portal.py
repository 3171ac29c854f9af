"""``/api/v1/portal``: the public portal's submit, track and the petitioner's own actions, without
authentication.

All call ``xinfang.portal.services``, the same functions as the portal's HTML pages, so the
throttles and the secrecy of the tracking view are the same whichever door a citizen uses.  The
query code is checked the same way everywhere (``find_petition``): an unknown number and a wrong
code give the same 404, and count against the same failure throttle.
"""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router
from ninja.responses import Status

from xinfang.core.net import client_ip
from xinfang.portal.services import (
    ACTION_FIELDS,
    PETITIONER_ACTIONS,
    PublicView,
    act_as_petitioner,
    find_petition,
    public_view,
    submit_public_petition,
    track_petition,
)
from xinfang.workflow.engine import TransitionRefused

from ..drafts import draft_from_public_input
from ..errors import ApiError, ErrorCode, refusal_error
from ..schemas import (
    ErrorOut,
    PortalActionIn,
    PortalTrackIn,
    PublicPetitionIn,
    PublicPetitionOut,
    PublicSubmittedOut,
)

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


@router.post(
    "/petitions/{number}/track",
    response={200: PublicPetitionOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="网上信访：凭编号和查询码查询办理进展",
)
def track_public_petition_by_post(request: HttpRequest, number: str, payload: PortalTrackIn) -> PublicView:
    """The status, the steps, the public timeline, the decision letters and review/recheck
    opinions, the petitioner's windows and the actions allowed now.  The code travels in the body,
    so it stays out of URLs and therefore out of proxy and server logs.  An unknown number and a
    wrong code give the same 404; too many failures from one address give 429 for a while, even
    with the right code."""
    return track_petition(number=number, code=payload.code, ip=client_ip(request))


@router.get(
    "/petitions/{number}",
    response={200: PublicPetitionOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="网上信访：凭编号和查询码查询办理进展（已弃用：查询码会出现在网址中，请改用 POST …/track）",
    deprecated=True,
)
def track_public_petition(request: HttpRequest, number: str, code: Query[str]) -> PublicView:
    """As ``POST /petitions/{number}/track``, with the code in the query string.  Kept for clients
    written against the first version; the code ends up in access logs, so new clients post it."""
    return track_petition(number=number, code=code, ip=client_ip(request))


@router.post(
    "/petitions/{number}/actions/{action}",
    response={
        200: PublicPetitionOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
        429: ErrorOut,
    },
    summary="网上信访：信访人满意度评价、请求复查、请求复核或撤回",
)
def act_on_public_petition(
    request: HttpRequest,
    number: str,
    action: Annotated[str, Path(description="操作：" + "、".join(PETITIONER_ACTIONS))],
    payload: PortalActionIn,
) -> PublicView:
    """Take one of the petitioner's own actions with the query code: ``evaluate`` (office_rating,
    unit_rating; reasons when either is dissatisfied), ``request_review`` and ``request_recheck``
    (reasons), ``withdraw`` (before the reply; reasons optional).  The code is checked as for
    tracking (same 404, same throttle); a refusal keeps the workflow's code (``wrong_state``,
    ``out_of_window``, ``already_evaluated``, ``missing_reason`` …) and changes nothing.  The
    response is the petition as tracking shows it, after the action."""
    if action not in PETITIONER_ACTIONS:
        raise ApiError(404, ErrorCode.UNKNOWN_ACTION, _("没有此操作。"))
    takes = ACTION_FIELDS[action]
    fields = payload.model_dump(exclude={"code"}, exclude_none=True)
    unused = {name: [_("此操作不使用此项。")] for name in fields if name not in takes}
    if unused:
        raise ApiError(422, ErrorCode.VALIDATION, _("提交的数据有误，请检查。"), fields=unused)
    petition = find_petition(number=number, code=payload.code, ip=client_ip(request))
    try:
        petition = act_as_petitioner(petition=petition, action=action, **fields)
    except TransitionRefused as exc:
        field = (exc.params or {}).get("field")
        raise refusal_error(exc, field=field if field in takes else None) from None
    return public_view(petition)
