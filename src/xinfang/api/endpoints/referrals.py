"""``/api/v1/referrals``: 上级交办 referrals between installations (issue #11, docs/api.md
"Exchange between installations").

Peer-to-peer calls (made by the other installation's system account; the peer is the one whose
``account`` is the token's user, never a URL in the body):

* ``POST /referrals`` — the upper level refers a case to us (201 with our petition number; the
  same case number again returns 200 with the same answer);
* ``POST /referrals/{upper_case_number}/report/accept|return`` — the upper level's answer to our
  report;
* ``POST /referrals/{case_number}/report`` — a lower level reports back on a case we referred.

Staff calls: ``GET /referrals/received``, ``GET /referrals/sent``, ``POST /referrals/sent`` (refer a
petition to a peer), ``GET /referrals/sent/{id}`` (with the report), ``POST
/referrals/sent/{id}/accept|return``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Header, Router, Schema

from xinfang.exchange import services
from xinfang.exchange.models import OutboundReferral, Peer, Referral
from xinfang.petitions.access import PetitionNotFound
from xinfang.petitions.drafts import PetitionerDraft

from ..auth import auth_user, token_auth
from ..errors import ApiError
from ..idempotency import IdempotentResult
from ..presenters import idempotent_response
from ..schemas import ErrorOut, InputSchema, PetitionerIn

router = Router(tags=["referrals"], auth=token_auth)

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=100, description="幂等键：上级交办标识；重试时携带同一键"),
]
_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _missing() -> ApiError:
    return ApiError(404, "not_found", "交办事项不存在，或您无权查看。")


# --- schemas ----------------------------------------------------------------------------------------


class ReferralIn(InputSchema):
    case_number: str = Field(min_length=1, max_length=60, description="上级编号（上级的信访编号）")
    upper_organisation: str = Field("", max_length=100, description="交办单位名称；不填为对接平台名称")
    title: str = Field(max_length=1000, description="标题")
    content: str = Field(max_length=50_000, description="信访内容")
    purpose: str = Field(description="信访目的（同登记）")
    category: str = Field(max_length=20, description="问题分类代码")
    locality: str = Field("", max_length=20, description="问题属地的行政区划代码；本级无此代码时为本级政府")
    headcount: int = Field(1, ge=1, le=100_000, description="人数")
    due_on: dt.date | None = Field(None, description="上级期限（报告办理结果的期限）")
    report_required: bool = Field(True, description="是否须报告办理结果")
    petitioners: list[PetitionerIn] = Field(max_length=50, description="信访人（同登记）")


class ReferralCreatedOut(Schema):
    number: str = Field(description="本级信访编号")
    referral_id: int
    case_number: str = Field(description="上级编号")
    status: str


class ReferralReportIn(InputSchema):
    text: str = Field(min_length=1, max_length=50_000, description="办理情况报告正文")
    document_number: str = Field("", max_length=60, description="报告文书的文号")
    handled_on: dt.date | None = Field(None, description="办结日期")
    file_name: str = Field("", max_length=200, description="报告文书文件名（DOCX）")
    file_base64: str = Field("", max_length=20_000_000, description="报告文书（DOCX）的base64编码")


class ReferralReturnIn(InputSchema):
    reason: str = Field(min_length=1, max_length=5000, description="退回理由：需要补充的情况")


class ReferralDecisionOut(Schema):
    case_number: str
    status: str


class ReferralReceivedOut(Schema):
    id: int
    number: str = Field(description="本级信访编号")
    title: str
    upper_organisation: str
    upper_case_number: str
    upper_due_on: dt.date | None
    report_required: bool
    status: str
    status_label: str
    reported_on: dt.date | None
    overdue: bool
    return_reason: str


class ReferralSentOut(Schema):
    id: int
    number: str = Field(description="本级信访编号（即对方的上级编号）")
    peer: str
    remote_number: str = Field(description="对方信访编号（对方接收后）")
    due_on: dt.date
    status: str
    status_label: str
    overdue: bool
    last_error: str
    report_text: str
    report_number: str
    report_handled_on: dt.date | None
    report_received_at: dt.datetime | None
    report_file_name: str
    return_reason: str


class ReferralSendIn(InputSchema):
    number: str = Field(max_length=40, description="本级信访编号")
    peer: int = Field(description="对接平台 id")
    due_on: dt.date = Field(description="报告期限，须晚于今天")
    report_required: bool = True
    instructions: str = Field("", max_length=5000, description="交办要求")


# --- helpers ----------------------------------------------------------------------------------------


def _received(r: Referral, today: dt.date) -> dict[str, Any]:
    return {
        "id": r.pk,
        "number": r.petition.number,
        "title": r.petition.title,
        "upper_organisation": r.upper_organisation,
        "upper_case_number": r.upper_case_number,
        "upper_due_on": r.upper_due_on,
        "report_required": r.report_required,
        "status": r.status,
        "status_label": str(r.get_status_display()),
        "reported_on": r.reported_on,
        "overdue": r.is_overdue(today),
        "return_reason": r.return_reason,
    }


def _sent(o: OutboundReferral, today: dt.date) -> dict[str, Any]:
    return {
        "id": o.pk,
        "number": o.petition.number,
        "peer": o.peer.name,
        "remote_number": o.remote_number,
        "due_on": o.due_on,
        "status": o.status,
        "status_label": str(o.get_status_display()),
        "overdue": o.is_overdue(today),
        "last_error": o.last_error,
        "report_text": o.report_text,
        "report_number": o.report_number,
        "report_handled_on": o.report_handled_on,
        "report_received_at": o.report_received_at,
        "report_file_name": o.report_filename,
        "return_reason": o.return_reason,
    }


def _guarded(work: Callable[[], Any]) -> Any:
    """Service refusals in the API's error shape (ValidationError → 422 is the global handler's)."""
    try:
        return work()
    except PermissionDenied as exc:
        raise ApiError(403, "forbidden", str(exc) or "您无权进行此操作。") from None
    except services.ExchangeRefused as exc:
        raise ApiError(409, exc.code or "refused", exc.messages[0]) from None
    except (Referral.DoesNotExist, OutboundReferral.DoesNotExist, Peer.DoesNotExist, PetitionNotFound):
        raise _missing() from None


def _idempotent(
    request: HttpRequest, key: str | None, payload: Schema | None, action: Callable[[], IdempotentResult]
) -> HttpResponse:
    return idempotent_response(request, user=auth_user(request), key=key, payload=payload, action=action)


# --- peer to peer -------------------------------------------------------------------------------


@router.post(
    "",
    response={200: ReferralCreatedOut, 201: ReferralCreatedOut, **_ERRORS},
    operation_id="referrals_receive",
    summary="接收上级交办",
)
def receive_referral(
    request: HttpRequest, payload: ReferralIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """The upper level's system account refers a case: the petition is registered here (channel
    ``referral``) with the upper level's case number and deadline.  403 ``forbidden`` when the
    token's account is not an enabled peer's; the same case number again answers 200 with the
    petition already registered."""
    user = auth_user(request)
    incoming = services.IncomingReferral(
        case_number=payload.case_number,
        upper_organisation=payload.upper_organisation,
        title=payload.title,
        content=payload.content,
        purpose=payload.purpose,
        category=payload.category,
        locality=payload.locality,
        due_on=payload.due_on,
        report_required=payload.report_required,
        headcount=payload.headcount,
        petitioners=[
            PetitionerDraft(
                name=p.name,
                id_number=p.id_number,
                phone=p.phone,
                address=p.address,
                is_representative=p.is_representative,
            )
            for p in payload.petitioners
        ],
        reference=idempotency_key or "",
    )

    def action() -> IdempotentResult:
        referral, created = _guarded(lambda: services.receive_referral(user=user, incoming=incoming))
        body = {
            "number": referral.petition.number,
            "referral_id": referral.pk,
            "case_number": referral.upper_case_number,
            "status": referral.status,
        }
        return IdempotentResult(status=201 if created else 200, body=body)

    return _idempotent(request, idempotency_key, payload, action)


def _decision(
    request: HttpRequest,
    case_number: str,
    key: str | None,
    payload: Schema | None,
    accepted: bool,
    reason: str,
) -> HttpResponse:
    user = auth_user(request)

    def action() -> IdempotentResult:
        referral = _guarded(
            lambda: services.receive_decision(
                user=user, case_number=case_number, accepted=accepted, reason=reason
            )
        )
        return IdempotentResult(
            status=200, body={"case_number": referral.upper_case_number, "status": referral.status}
        )

    return _idempotent(request, key, payload, action)


@router.post(
    "/{case_number}/report/accept",
    response={200: ReferralDecisionOut, **_ERRORS},
    operation_id="referrals_report_accept",
    summary="上级认可报告",
)
def accept_report(
    request: HttpRequest, case_number: str, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """The upper level accepts our report on its case ``case_number`` (409 ``no_pending_report``)."""
    return _decision(request, case_number, idempotency_key, None, True, "")


@router.post(
    "/{case_number}/report/return",
    response={200: ReferralDecisionOut, **_ERRORS},
    operation_id="referrals_report_return",
    summary="上级退回重报",
)
def return_report(
    request: HttpRequest, case_number: str, payload: ReferralReturnIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """The upper level returns our report for more, with a reason; we report again."""
    return _decision(request, case_number, idempotency_key, payload, False, payload.reason)


@router.post(
    "/{case_number}/report",
    response={200: ReferralSentOut, **_ERRORS},
    operation_id="referrals_report_receive",
    summary="下级报告办理结果",
)
def receive_report(
    request: HttpRequest, case_number: str, payload: ReferralReportIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """A lower level reports on the case we referred to it (``case_number`` is our petition
    number).  409 ``already_reported`` when a report is already recorded and not returned; 404 when
    no referral to the caller's peer has that number."""
    user = auth_user(request)
    report = services.IncomingReport(
        text=payload.text,
        document_number=payload.document_number,
        handled_on=payload.handled_on,
        file_name=payload.file_name,
        file_base64=payload.file_base64,
    )

    def action() -> IdempotentResult:
        outbound = _guarded(
            lambda: services.receive_report(user=user, case_number=case_number, report=report)
        )
        return IdempotentResult(status=200, body=_jsonable_sent(outbound))

    return _idempotent(request, idempotency_key, payload, action)


def _jsonable_sent(outbound: OutboundReferral) -> dict[str, Any]:
    outbound = OutboundReferral.objects.select_related("petition", "peer").get(pk=outbound.pk)
    return ReferralSentOut.model_validate(_sent(outbound, timezone.localdate())).model_dump(mode="json")


# --- staff ----------------------------------------------------------------------------------------


@router.get(
    "/received",
    response={200: list[ReferralReceivedOut], 401: ErrorOut, 422: ErrorOut},
    operation_id="referrals_received_list",
    summary="上级交办台账",
)
def list_received(request: HttpRequest, open_only: bool = True) -> list[dict[str, Any]]:
    """The referrals received in the caller's scope, open ones by default, by the upper deadline."""
    qs = services.received_for(auth_user(request)).select_related("petition")
    if open_only:
        qs = qs.filter(status__in=services.OPEN_REFERRAL_STATUSES)
    today = timezone.localdate()
    return [_received(r, today) for r in qs.order_by("upper_due_on", "pk")[:500]]


@router.get(
    "/sent",
    response={200: list[ReferralSentOut], 401: ErrorOut},
    operation_id="referrals_sent_list",
    summary="向下交办台账",
)
def list_sent(request: HttpRequest, number: str = "") -> list[dict[str, Any]]:
    """Our referrals to peers in the caller's scope; ``number`` narrows to one petition."""
    qs = services.sent_for(auth_user(request)).select_related("petition", "peer")
    if number:
        qs = qs.filter(petition__number=number)
    today = timezone.localdate()
    return [_sent(o, today) for o in qs.order_by("-sent_at", "-pk")[:500]]


@router.post(
    "/sent",
    response={201: ReferralSentOut, **_ERRORS},
    operation_id="referrals_sent_create",
    summary="向下级平台交办",
)
def refer(
    request: HttpRequest, payload: ReferralSendIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """A supervisor or intake clerk of the office refers the petition to a peer; the worker
    delivers it (status ``sent``, then ``received`` with the peer's number, or ``failed`` while it
    retries)."""
    user = auth_user(request)

    def action() -> IdempotentResult:
        peer = _guarded(lambda: Peer.objects.get(pk=payload.peer))
        outbound = _guarded(
            lambda: services.refer(
                user=user,
                number=payload.number,
                peer=peer,
                due_on=payload.due_on,
                report_required=payload.report_required,
                instructions=payload.instructions,
            )
        )
        return IdempotentResult(status=201, body=_jsonable_sent(outbound))

    return _idempotent(request, idempotency_key, payload, action)


def _sent_in_scope(request: HttpRequest, pk: int) -> OutboundReferral:
    outbound = services.sent_for(auth_user(request)).select_related("petition", "peer").filter(pk=pk).first()
    if outbound is None:
        raise _missing()
    return outbound


@router.get(
    "/sent/{outbound_id}",
    response={200: ReferralSentOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    operation_id="referrals_sent_get",
    summary="向下交办详情",
)
def get_sent(request: HttpRequest, outbound_id: int) -> dict[str, Any]:
    """One referral to a peer with the report received (the DOCX itself: the staff page)."""
    return _sent(_sent_in_scope(request, outbound_id), timezone.localdate())


@router.post(
    "/sent/{outbound_id}/accept",
    response={200: ReferralSentOut, **_ERRORS},
    operation_id="referrals_sent_accept",
    summary="认可下级报告",
)
def accept_sent(
    request: HttpRequest, outbound_id: int, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    outbound = _sent_in_scope(request, outbound_id)
    user = auth_user(request)

    def action() -> IdempotentResult:
        done = _guarded(lambda: services.decide_report(user=user, outbound=outbound, accepted=True))
        return IdempotentResult(status=200, body=_jsonable_sent(done))

    return _idempotent(request, idempotency_key, None, action)


@router.post(
    "/sent/{outbound_id}/return",
    response={200: ReferralSentOut, **_ERRORS},
    operation_id="referrals_sent_return",
    summary="退回下级重报",
)
def return_sent(
    request: HttpRequest, outbound_id: int, payload: ReferralReturnIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    outbound = _sent_in_scope(request, outbound_id)
    user = auth_user(request)

    def action() -> IdempotentResult:
        done = _guarded(
            lambda: services.decide_report(
                user=user, outbound=outbound, accepted=False, reason=payload.reason
            )
        )
        return IdempotentResult(status=200, body=_jsonable_sent(done))

    return _idempotent(request, idempotency_key, payload, action)
