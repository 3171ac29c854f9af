"""``/api/v1/portal``: the public portal's submit, track and the petitioner's own actions, without
authentication.

All call ``xinfang.portal.services``, the same functions as the portal's HTML pages, so the
throttles and the secrecy of the tracking view are the same whichever door a citizen uses.  The
query code is checked the same way everywhere (``find_petition``): an unknown number and a wrong
code give the same 404, and count against the same failure throttle.
"""

from __future__ import annotations

import base64
from typing import Annotated

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Path, Query, Router
from ninja.responses import Status

from xinfang.core.net import client_ip
from xinfang.portal.services import (
    ACTION_FIELDS,
    PETITIONER_ACTIONS,
    CaptchaFailed,
    PublicView,
    act_as_petitioner,
    check_captcha,
    find_petition,
    new_captcha,
    public_view,
    submit_public_petition,
    track_petition,
)
from xinfang.workflow.engine import TransitionRefused

from ..drafts import draft_from_public_input
from ..errors import ApiError, ErrorCode, refusal_error
from ..schemas import (
    CaptchaOut,
    ErrorOut,
    PortalActionIn,
    PortalTrackIn,
    PublicPetitionOut,
    PublicSubmissionIn,
    PublicSubmittedOut,
)
from ..services import authenticate_token

router = Router(tags=["portal"], auth=None)


@router.post("/captcha", response={201: CaptchaOut, 429: ErrorOut}, summary="网上信访：获取验证码")
def get_captcha(request: HttpRequest) -> Status:
    """A CAPTCHA challenge (an arithmetic question drawn as a PNG), to answer in the next
    submission: ``captcha_key`` and ``captcha``.  Each challenge may be answered once and expires
    after ``expires_in`` seconds; challenges per address are limited (429)."""
    challenge = new_captcha(ip=client_ip(request))
    image = "data:image/png;base64," + base64.b64encode(challenge.image_png).decode()
    return Status(
        201,
        {
            "key": challenge.key,
            "image": image,
            "image_url": reverse("captcha-image", args=[challenge.key]),
            "expires_in": challenge.expires_in,
        },
    )


def _partner_platform(request: HttpRequest) -> bool:
    """Whether the request carries the bearer token of an active system account (a registered
    partner platform such as a 12345 system), which replaces the CAPTCHA.  A token that is sent
    but invalid, or a person's token, is refused (401) rather than ignored."""
    header = request.headers.get("Authorization", "")
    if not header:
        return False
    scheme, _sep, token = header.partition(" ")
    record = authenticate_token(token.strip()) if scheme.lower() == "bearer" else None
    if record is None or not record.user.is_system_account:
        raise ApiError(
            401,
            ErrorCode.UNAUTHORIZED,
            _("令牌无效，或不属于合作平台的系统账号。"),
            headers={"WWW-Authenticate": 'Bearer realm="xinfang"'},
        )
    return True


@router.post(
    "/petitions",
    response={201: PublicSubmittedOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="网上信访：提交信访事项",
)
def submit_petition(request: HttpRequest, payload: PublicSubmissionIn) -> Status:
    """Submit a petition as a citizen.  The channel is "online", the date of receipt today, and
    the office the petition office of the chosen locality.  Returns the number and the query
    code, which is shown only here.  Attachments are accepted by the portal's web form only.

    The same proof as the portal's form is required: ``captcha_key`` and ``captcha`` answering a
    challenge from ``POST /portal/captcha`` (422 ``captcha_invalid`` otherwise, and the challenge
    is used up), unless a partner platform sends its system account's bearer token."""
    if not _partner_platform(request):
        try:
            check_captcha(key=payload.captcha_key, answer=payload.captcha)
        except CaptchaFailed:
            message = str(CaptchaFailed.message)
            raise ApiError(422, ErrorCode.CAPTCHA_INVALID, message, fields={"captcha": [message]}) from None
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
