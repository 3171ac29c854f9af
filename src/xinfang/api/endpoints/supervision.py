"""``/api/v1/petitions/{number}/supervisions`` and ``/api/v1/supervisions/{id}/…``: supervision
notices (督办, 《信访工作条例》第三十九条、第四十条).

Thin, like the action endpoints: scope first (a petition, or a notice whose petition, the caller
may not see is the usual 404), then ``supervision.services`` does the rest through the engine —
state, side, role, version (``If-Match``), timeline and audit.  A refusal keeps its code; the
writes take an ``Idempotency-Key`` like registration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Header, Router, Schema

from xinfang.petitions.access import access_petition
from xinfang.petitions.models import Petition
from xinfang.supervision import services
from xinfang.supervision.models import NoticeKind, NoticeStatus, SupervisionNotice
from xinfang.supervision.selectors import notices_for_petition
from xinfang.workflow.engine import TransitionRefused

from ..auth import auth_user, token_auth
from ..errors import REFUSAL_STATUS, ApiError, not_found
from ..idempotency import IdempotentResult, request_fingerprint, run_idempotent
from ..presenters import json_response
from ..schemas import ErrorOut, InputSchema, OrganisationOut, StaffOut
from .actions import expected_version

petition_router = Router(tags=["supervision"], auth=token_auth)
router = Router(tags=["supervision"], auth=token_auth)

KINDS = tuple(NoticeKind.values)

# HTTP status of the supervision refusals (the rest as errors.REFUSAL_STATUS; unknown: 409).
REFUSALS = {
    "not_addressed": 403,
    "not_issuer": 403,
    "no_open_notice": 409,
    "no_answer": 409,
    "no_live_notice": 409,
    "already_supervised": 409,
    "invalid_kind": 422,
    "missing_leader": 422,
    "invalid_leader": 422,
    "choose_notice": 422,
    "invalid_notice": 422,
}
# The body field a refusal names (the services' argument names are the body's, except these).
_FIELD = {"text": "text", "notice": "notice"}

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=100, description="幂等键：重试时携带同一键，返回首次结果"),
]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=100, description="信访事项详情的 ETag；版本已变化时返回 412"),
]


class FeedbackOut(Schema):
    id: int
    text: str
    submitted_by: StaffOut
    submitted_at: dt.datetime
    decision: str = Field(description="pending 待审核，accepted 已认可，returned 已退回")
    decision_label: str
    decided_by: StaffOut | None
    decided_at: dt.datetime | None
    decision_note: str


class NoticeOut(Schema):
    id: int
    petition: str = Field(description="信访编号")
    kind: str = Field(
        json_schema_extra={"enum": list(KINDS)},
        description="urge 催办，formal 督办，listed 挂牌督办，onsite 现场督办",
    )
    kind_label: str
    office: OrganisationOut = Field(description="督办机关（信访工作机构）")
    unit: OrganisationOut = Field(description="被督办单位（督办时的承办单位）")
    issued_by: StaffOut
    issued_at: dt.datetime
    requirements: str
    respond_by: dt.date = Field(description="反馈期限")
    overdue: bool = Field(description="待反馈且已过反馈期限")
    leader: StaffOut | None = Field(description="挂牌领导（挂牌督办）")
    status: str = Field(
        json_schema_extra={"enum": list(NoticeStatus.values)},
        description="open 待反馈，answered 已反馈待审核，accepted 已办结，lifted 已解除",
    )
    status_label: str
    escalation_level: int = Field(description="0 未升级，1 已告知被督办单位领导，2 已报上一级信访部门")
    published: bool = Field(description="信访人查询页面是否显示“上级机关已督办”")
    lifted_at: dt.datetime | None
    lift_reason: str
    feedback: list[FeedbackOut]


class NoticeListOut(Schema):
    results: list[NoticeOut]


class SuperviseIn(InputSchema):
    kind: Literal[KINDS]  # type: ignore[valid-type]
    requirements: str = Field(max_length=5000, description="督办要求")
    respond_by: dt.date | None = Field(None, description="反馈期限，须晚于今天；不填为5个工作日后")
    leader: int | str | None = Field(
        None, description="挂牌领导（用户编号或用户名）：本机关或本级政府的领导；listed 必填"
    )
    published: bool = Field(False, description="在信访人查询页面显示“上级机关已督办”（不含督办内容）")


class FeedbackIn(InputSchema):
    text: str = Field(max_length=5000, description="督办反馈：办理进展和结果")


class AcceptIn(InputSchema):
    comment: str = Field("", max_length=5000, description="审核意见（可选）")


class ReturnIn(InputSchema):
    reasons: str = Field(max_length=5000, description="退回理由")
    respond_by: dt.date | None = Field(None, description="新的反馈期限，须晚于今天；不填为5个工作日后")


class LiftIn(InputSchema):
    reasons: str = Field(max_length=5000, description="解除（摘牌）理由")


def _staff(user: Any) -> dict[str, Any] | None:
    return {"id": user.pk, "name": str(user)} if user is not None else None


def notice_body(notice: SupervisionNotice) -> dict[str, Any]:
    """The notice as JSON (with its feedback), for a response or a stored idempotent result."""
    today = timezone.localdate()
    body = {
        "id": notice.pk,
        "petition": notice.petition.number,
        "kind": notice.kind,
        "kind_label": str(notice.get_kind_display()),
        "office": notice.office,
        "unit": notice.unit,
        "issued_by": _staff(notice.issued_by),
        "issued_at": notice.issued_at,
        "requirements": notice.requirements,
        "respond_by": notice.respond_by,
        "overdue": notice.is_overdue(today),
        "leader": _staff(notice.leader),
        "status": notice.status,
        "status_label": str(notice.get_status_display()),
        "escalation_level": notice.escalation_level,
        "published": notice.published,
        "lifted_at": notice.lifted_at,
        "lift_reason": notice.lift_reason,
        "feedback": [
            {
                "id": f.pk,
                "text": f.text,
                "submitted_by": _staff(f.submitted_by),
                "submitted_at": f.submitted_at,
                "decision": f.decision,
                "decision_label": str(f.get_decision_display()),
                "decided_by": _staff(f.decided_by),
                "decided_at": f.decided_at,
                "decision_note": f.decision_note,
            }
            for f in notice.feedback.all()
        ],
    }
    return NoticeOut.model_validate(body).model_dump(mode="json")


def _reload(pk: int) -> SupervisionNotice:
    return (
        SupervisionNotice.objects.select_related("petition", "office", "unit", "issued_by", "leader")
        .prefetch_related("feedback__submitted_by", "feedback__decided_by")
        .get(pk=pk)
    )


def _refusal(exc: TransitionRefused) -> ApiError:
    code = exc.code or "refused"
    message = exc.messages[0]
    status = REFUSALS.get(code) or REFUSAL_STATUS.get(code, 409)
    field = (exc.params or {}).get("field")
    field = _FIELD.get(field, field)
    fields = {field: [message]} if status == 422 and field else None
    return ApiError(status, code, message, fields=fields)


def _run(
    request: HttpRequest,
    *,
    key: str | None,
    payload: Schema | None,
    status: int,
    work: Callable[[], SupervisionNotice],
) -> HttpResponse:
    """Run ``work`` once per Idempotency-Key; answer with the notice it returns."""
    user = auth_user(request)

    def action() -> IdempotentResult:
        try:
            notice = work()
        except TransitionRefused as exc:
            raise _refusal(exc) from None
        return IdempotentResult(status=status, body=notice_body(_reload(notice.pk)))

    body = payload.model_dump(mode="json") if payload is not None else {}
    fingerprint = request_fingerprint(method="POST", path=request.path, payload=body)
    result = run_idempotent(user=user, key=key, fingerprint=fingerprint, action=action)
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return json_response(request, result.body, status=result.status, headers=headers)


def _notice_in_scope(user: Any, pk: int) -> SupervisionNotice:
    """The notice if the caller may see its petition; a missing one and one out of scope are
    the same 404."""
    notice = (
        SupervisionNotice.objects.filter(pk=pk, petition__in=Petition.objects.restrict(user).values("pk"))
        .select_related("petition")
        .first()
    )
    if notice is None:
        raise not_found()
    return notice


_WRITE_RESPONSES = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 412: ErrorOut, 422: ErrorOut}


@petition_router.get(
    "/{number}/supervisions",
    response={200: NoticeListOut, 401: ErrorOut, 404: ErrorOut},
    summary="督办通知列表",
)
def list_supervisions(request: HttpRequest, number: str) -> dict[str, Any]:
    """Every supervision notice of the petition, newest first, with its feedback.  Internal: the
    portal never shows them (only, when published, the line "上级机关已督办")."""
    petition = access_petition(auth_user(request), number)
    return {"results": [notice_body(n) for n in notices_for_petition(petition).select_related("petition")]}


@petition_router.post(
    "/{number}/supervisions", response={201: NoticeOut, **_WRITE_RESPONSES}, summary="督办（发出督办通知）"
)
def create_supervision(
    request: HttpRequest,
    number: str,
    payload: SuperviseIn,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> HttpResponse:
    """The caller's petition office (supervisor or leader; not the office handling the petition
    itself) issues a notice to the body handling the petition.  ``listed`` (挂牌督办) needs
    ``leader``; ``respond_by`` must be after today.  One live notice per office and petition
    (409 ``already_supervised``)."""
    user = auth_user(request)
    petition = access_petition(user, number)
    version = expected_version(if_match, petition)

    def work() -> SupervisionNotice:
        return services.supervise(
            user=user, number=number, version=version, kind=payload.kind, requirements=payload.requirements,
            respond_by=payload.respond_by, leader=payload.leader, published=payload.published,
        )  # fmt: skip

    return _run(request, key=idempotency_key, payload=payload, status=201, work=work)


def _notice_action(
    request: HttpRequest,
    pk: int,
    payload: Schema,
    key: str | None,
    if_match: str | None,
    call: Callable[..., Any],
) -> HttpResponse:
    user = auth_user(request)
    notice = _notice_in_scope(user, pk)
    version = expected_version(if_match, notice.petition)

    def work() -> SupervisionNotice:
        call(user=user, number=notice.petition.number, version=version, notice=notice.pk)
        return notice

    return _run(request, key=key, payload=payload, status=200, work=work)


@router.post("/{notice_id}/feedback", response={200: NoticeOut, **_WRITE_RESPONSES}, summary="督办反馈")
def answer_supervision(
    request: HttpRequest, notice_id: int, payload: FeedbackIn, idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> HttpResponse:  # fmt: skip
    """The body the notice is addressed to reports its progress (403 ``not_addressed`` for any
    other); the notice then waits for the issuing office's decision."""

    def call(**kwargs: Any) -> Any:
        return services.answer_supervision(text=payload.text, **kwargs)

    return _notice_action(request, notice_id, payload, idempotency_key, if_match, call)


@router.post("/{notice_id}/accept", response={200: NoticeOut, **_WRITE_RESPONSES}, summary="认可督办反馈")
def accept_supervision(
    request: HttpRequest, notice_id: int, payload: AcceptIn | None = None,
    idempotency_key: IdempotencyKey = None, if_match: IfMatch = None,
) -> HttpResponse:  # fmt: skip
    """The issuing office accepts the answer (403 ``not_issuer`` for another office); the notice
    is closed (``accepted``)."""
    payload = payload or AcceptIn()

    def call(**kwargs: Any) -> Any:
        return services.accept_supervision_answer(comment=payload.comment, **kwargs)

    return _notice_action(request, notice_id, payload, idempotency_key, if_match, call)


@router.post("/{notice_id}/return", response={200: NoticeOut, **_WRITE_RESPONSES}, summary="退回督办反馈")
def return_supervision(
    request: HttpRequest, notice_id: int, payload: ReturnIn, idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> HttpResponse:  # fmt: skip
    """The issuing office sends the answer back with a reason; the notice is open again with a new
    ``respond_by`` (after today; default 5 working days)."""

    def call(**kwargs: Any) -> Any:
        return services.return_supervision_answer(
            reasons=payload.reasons, respond_by=payload.respond_by, **kwargs
        )

    return _notice_action(request, notice_id, payload, idempotency_key, if_match, call)


@router.post("/{notice_id}/lift", response={200: NoticeOut, **_WRITE_RESPONSES}, summary="解除督办（摘牌）")
def lift_supervision(
    request: HttpRequest, notice_id: int, payload: LiftIn, idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> HttpResponse:  # fmt: skip
    """The issuing office lifts a live notice, or a listed one whose answer it accepted (摘牌),
    with a reason."""

    def call(**kwargs: Any) -> Any:
        return services.lift_supervision(reasons=payload.reasons, **kwargs)

    return _notice_action(request, notice_id, payload, idempotency_key, if_match, call)
