"""``/api/v1/contracts``: case contracting (包案, ``LeaderContract``, issue #11 §1).

Thin over ``leadership.services`` and the same scope as the ledger (``leadership.access``): a
contract whose subject the caller may not see is the usual 404; an actor the rules refuse gets
403 ``forbidden``; bad input 422 ``validation_error`` with Chinese field messages.  Creation takes
an ``Idempotency-Key``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema

from xinfang.leadership import access, selectors, services
from xinfang.leadership.models import ContractMilestone, ContractStatus, LeaderContract
from xinfang.organisations.models import User
from xinfang.petitions.models import Petition

from ..auth import auth_user, token_auth
from ..errors import ApiError, ErrorCode, not_found
from ..idempotency import IdempotentResult
from ..presenters import idempotent_response
from ..schemas import ErrorOut, InputSchema

router = Router(tags=["contracts"], auth=token_auth)

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=100, description="幂等键：重试时携带同一键，返回首次结果"),
]
MAX_LIMIT = 200


class ContractPersonOut(Schema):
    id: int
    name: str


class ContractMilestoneOut(Schema):
    id: int
    title: str
    due_on: dt.date
    done_on: dt.date | None


class ContractProgressOut(Schema):
    id: int
    on: dt.date
    text: str
    author: ContractPersonOut


class ContractOut(Schema):
    id: int
    number: str = Field(description="包案编号")
    petition: str | None = Field(description="信访编号（包案对象为信访事项时）")
    dispute: str | None = Field(description="矛盾纠纷编号（包案对象为矛盾纠纷时）")
    subject_title: str
    leader: ContractPersonOut = Field(description="包案领导")
    official: ContractPersonOut | None = Field(description="责任人")
    handler: ContractPersonOut | None = Field(description="承办人")
    measures: str
    due_on: dt.date = Field(description="办结期限")
    status: str = Field(
        json_schema_extra={"enum": list(ContractStatus.values)}, description="open 包案中，closed 已办结"
    )
    status_label: str
    late: bool = Field(description="包案中且已过办结期限，或有节点逾期未完成")
    next_milestone_due: dt.date | None
    result: str = Field(description="办结情况")
    created_at: dt.datetime
    closed_at: dt.datetime | None
    milestones: list[ContractMilestoneOut] = []
    progress: list[ContractProgressOut] = []


class ContractListOut(Schema):
    count: int
    results: list[ContractOut]


class ContractMilestoneIn(InputSchema):
    title: str = Field(max_length=200)
    due_on: dt.date


class ContractIn(InputSchema):
    petition: str | None = Field(None, max_length=40, description="信访编号；与 dispute 二选一")
    dispute: str | None = Field(None, max_length=40, description="矛盾纠纷编号；与 petition 二选一")
    leader: int | str | None = Field(
        None,
        description="包案领导（用户编号或用户名）；领导本人登记时可不填，信访工作机构须填本级政府辖区内的领导",
    )
    official: int | str | None = Field(None, description="责任人（用户编号或用户名）")
    handler: int | str | None = Field(None, description="承办人（用户编号或用户名）")
    measures: str = Field(max_length=5000, description="化解措施")
    due_on: dt.date = Field(description="办结期限，不早于今天")
    milestones: list[ContractMilestoneIn] = Field([], max_length=20, description="工作节点")


class ContractProgressIn(InputSchema):
    text: str = Field(max_length=5000, description="进展情况")
    on: dt.date | None = Field(None, description="日期，不填为今天")


class ContractCloseIn(InputSchema):
    result: str = Field(max_length=5000, description="办结情况（必填）")


class ContractFilters(Schema):
    status: str | None = Field(None, description="open（默认）、closed 或 all")
    late: bool = Field(False, description="仅逾期")
    mine: bool = Field(False, description="仅我参与的（包案领导、责任人或承办人）")
    petition: str | None = Field(None, max_length=40, description="信访编号")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=1_000_000)


def _person(user: Any) -> dict[str, Any] | None:
    return {"id": user.pk, "name": str(user)} if user is not None else None


def contract_body(c: LeaderContract, *, full: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": c.pk,
        "number": c.number,
        "petition": c.petition.number if c.petition_id else None,
        "dispute": c.dispute.number if c.dispute_id else None,
        "subject_title": c.subject_title,
        "leader": _person(c.leader),
        "official": _person(c.official),
        "handler": _person(c.handler),
        "measures": c.measures,
        "due_on": c.due_on,
        "status": c.status,
        "status_label": str(c.get_status_display()),
        "late": c.is_late(),
        "next_milestone_due": getattr(c, "next_milestone_due", None),
        "result": c.result,
        "created_at": c.created_at,
        "closed_at": c.closed_at,
    }
    if full:
        body["milestones"] = [
            {"id": m.pk, "title": m.title, "due_on": m.due_on, "done_on": m.done_on}
            for m in c.milestones.all()
        ]
        body["progress"] = [
            {"id": p.pk, "on": p.on, "text": p.text, "author": _person(p.author)}
            for p in c.progress.select_related("author")
        ]
    return ContractOut.model_validate(body).model_dump(mode="json")


def _in_scope(user: Any, pk: int) -> LeaderContract:
    contract = selectors.contract_list(user).filter(pk=pk).first()
    if contract is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, _("包案不存在，或您无权查看。"))
    return contract


def _user(value: int | str | None, field: str) -> User | None:
    if value in (None, ""):
        return None
    lookup = Q(pk=value) if isinstance(value, int) else Q(username=value)
    user = User.objects.filter(lookup, is_active=True).first()
    if user is None:
        raise ApiError(
            422, ErrorCode.VALIDATION, _("提交的数据有误，请检查。"), fields={field: [_("没有此工作人员。")]}
        )
    return user


_WRITE = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@router.get("", response={200: ContractListOut, 401: ErrorOut, 422: ErrorOut}, summary="包案台账")
def list_contracts(request: HttpRequest, filters: Query[ContractFilters]) -> dict[str, Any]:
    """The contracts whose subject the caller may see; open ones by default, soonest deadline first."""
    user = auth_user(request)
    today = timezone.localdate()
    qs = selectors.contract_list(user, today)
    if filters.status != "all":
        qs = qs.filter(status=filters.status or ContractStatus.OPEN)
    if filters.late:
        qs = qs.filter(selectors.late_q(today))
    if filters.mine:
        qs = qs.filter(Q(leader=user) | Q(official=user) | Q(handler=user))
    if filters.petition:
        qs = qs.filter(petition__number=filters.petition)
    count = qs.count()
    rows = qs[filters.offset : filters.offset + filters.limit]
    return {"count": count, "results": [contract_body(c) for c in rows]}


@router.post("", response={201: ContractOut, **_WRITE}, summary="领导包案")
def create_contract(
    request: HttpRequest, payload: ContractIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """A leader contracts a petition or a dispute for themself, or a petition office's clerk or
    supervisor assigns a leader of its government.  One open contract per subject."""
    user = auth_user(request)
    petition = dispute = None
    if payload.petition:
        petition = Petition.objects.restrict(user).filter(number=payload.petition).first()
        if petition is None:
            raise not_found()
    if payload.dispute:
        dispute_pk = access.visible_disputes(user).filter(number=payload.dispute).first()
        if dispute_pk is None:
            raise ApiError(404, ErrorCode.NOT_FOUND, _("矛盾纠纷不存在，或您无权查看。"))
        from xinfang.screening.models import Dispute

        dispute = Dispute.objects.get(pk=dispute_pk["pk"])
    leader = _user(payload.leader, "leader") or user

    def action() -> IdempotentResult:
        contract = services.open_contract(
            actor=user, leader=leader, petition=petition, dispute=dispute, measures=payload.measures,
            due_on=payload.due_on, official=_user(payload.official, "official"),
            handler=_user(payload.handler, "handler"),
            milestones=[(m.title, m.due_on) for m in payload.milestones],
        )  # fmt: skip
        return IdempotentResult(status=201, body=contract_body(_in_scope(user, contract.pk), full=True))

    return idempotent_response(request, user=user, key=idempotency_key, payload=payload, action=action)


@router.get(
    "/{contract_id}",
    response={200: ContractOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="包案详情",
)
def get_contract(request: HttpRequest, contract_id: int) -> dict[str, Any]:
    return contract_body(_in_scope(auth_user(request), contract_id), full=True)


@router.post("/{contract_id}/progress", response={200: ContractOut, **_WRITE}, summary="填报包案进展")
def add_progress(request: HttpRequest, contract_id: int, payload: ContractProgressIn) -> dict[str, Any]:
    """The team (leader, official, handler) or the petition office of the scope records progress."""
    user = auth_user(request)
    contract = _in_scope(user, contract_id)
    services.add_progress(actor=user, contract=contract, text=payload.text, on=payload.on)
    return contract_body(_in_scope(user, contract_id), full=True)


@router.post(
    "/{contract_id}/milestones/{milestone_id}/done",
    response={200: ContractOut, **_WRITE},
    summary="完成包案节点",
)
def complete_milestone(request: HttpRequest, contract_id: int, milestone_id: int) -> dict[str, Any]:
    user = auth_user(request)
    contract = _in_scope(user, contract_id)
    milestone = ContractMilestone.objects.filter(contract=contract, pk=milestone_id).first()
    if milestone is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, _("节点不存在。"))
    milestone.contract = contract
    services.complete_milestone(actor=user, milestone=milestone)
    return contract_body(_in_scope(user, contract_id), full=True)


@router.post("/{contract_id}/close", response={200: ContractOut, **_WRITE}, summary="办结包案")
def close_contract(request: HttpRequest, contract_id: int, payload: ContractCloseIn) -> dict[str, Any]:
    """The leader, the official or the petition office closes the contract; ``result`` is required."""
    user = auth_user(request)
    contract = _in_scope(user, contract_id)
    services.close_contract(actor=user, contract=contract, result=payload.result)
    return contract_body(_in_scope(user, contract_id), full=True)
