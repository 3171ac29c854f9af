"""``/api/v1/instructions``: leaders' instructions (阅批, issue #11 §1).

A leader instructs on a petition they may see, naming a unit of their scope and a deadline; the
unit answers; the leader closes (read) or sends it back for more.  Scope as the ledger
(``leadership.access``): 404 out of scope, 403 for an actor the rules refuse, 422 on bad input.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema

from xinfang.leadership import selectors, services
from xinfang.leadership.models import Instruction, InstructionStatus
from xinfang.organisations.models import Organisation
from xinfang.petitions.models import Petition

from ..auth import auth_user, token_auth
from ..errors import ApiError, ErrorCode, not_found
from ..idempotency import IdempotentResult
from ..presenters import idempotent_response
from ..schemas import ErrorOut, InputSchema, OrganisationOut

router = Router(tags=["instructions"], auth=token_auth)

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=100, description="幂等键：重试时携带同一键，返回首次结果"),
]
BOXES = ("todo", "answered", "issued", "all")


class InstructionPersonOut(Schema):
    id: int
    name: str


class InstructionEntryOut(Schema):
    step: str = Field(description="issued 批示，answered 回复，returned 要求继续办理，closed 已阅办结")
    step_label: str
    text: str
    actor: InstructionPersonOut
    at: dt.datetime


class InstructionOut(Schema):
    id: int
    number: str = Field(description="阅批编号")
    petition: str = Field(description="信访编号")
    petition_title: str
    leader: InstructionPersonOut = Field(description="批示领导")
    unit: OrganisationOut = Field(description="承办单位")
    text: str = Field(description="批示内容")
    due_on: dt.date = Field(description="办理期限")
    status: str = Field(
        json_schema_extra={"enum": list(InstructionStatus.values)},
        description="open 待办理，answered 已回复待阅，closed 已阅办结",
    )
    status_label: str
    overdue: bool = Field(description="待办理且已过办理期限")
    answer: str = Field(description="最近一次回复")
    created_at: dt.datetime
    answered_at: dt.datetime | None
    closed_at: dt.datetime | None
    history: list[InstructionEntryOut] = []


class InstructionListOut(Schema):
    count: int
    results: list[InstructionOut]


class InstructionIn(InputSchema):
    petition: str = Field(max_length=40, description="信访编号")
    unit: int = Field(description="承办单位（机构编号），须在批示领导辖区内")
    text: str = Field(max_length=5000, description="批示内容，如“请人社局于12月10日前办理并报结果”")
    due_on: dt.date = Field(description="办理期限，须晚于今天")


class InstructionAnswerIn(InputSchema):
    text: str = Field(max_length=5000, description="办理结果")


class InstructionReturnIn(InputSchema):
    text: str = Field(max_length=5000, description="继续办理的要求")
    due_on: dt.date | None = Field(None, description="新的办理期限（可选），须晚于今天")


class InstructionCloseIn(InputSchema):
    note: str = Field("", max_length=5000, description="阅示意见（可选）")


class InstructionFilters(Schema):
    box: str | None = Field(
        None,
        description="todo 交本单位办理，answered 已回复待阅（我批示的），issued 我批示的，"
        "all 全部；默认办理中",
        json_schema_extra={"enum": list(BOXES)},
    )
    status: str | None = Field(None, json_schema_extra={"enum": list(InstructionStatus.values)})
    overdue: bool = False
    petition: str | None = Field(None, max_length=40)
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


def _person(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "name": str(user)}


def instruction_body(i: Instruction, *, full: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": i.pk,
        "number": i.number,
        "petition": i.petition.number,
        "petition_title": i.petition.title,
        "leader": _person(i.leader),
        "unit": i.unit,
        "text": i.text,
        "due_on": i.due_on,
        "status": i.status,
        "status_label": str(i.get_status_display()),
        "overdue": i.is_overdue(timezone.localdate()),
        "answer": i.answer,
        "created_at": i.created_at,
        "answered_at": i.answered_at,
        "closed_at": i.closed_at,
    }
    if full:
        body["history"] = [
            {"step": e.step, "step_label": str(e.get_step_display()), "text": e.text,
             "actor": _person(e.actor), "at": e.at}
            for e in i.entries.select_related("actor")
        ]  # fmt: skip
    return InstructionOut.model_validate(body).model_dump(mode="json")


def _in_scope(user: Any, pk: int) -> Instruction:
    instruction = selectors.instruction_list(user).filter(pk=pk).first()
    if instruction is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, _("阅批不存在，或您无权查看。"))
    return instruction


_WRITE = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@router.get("", response={200: InstructionListOut, 401: ErrorOut, 422: ErrorOut}, summary="阅批台账")
def list_instructions(request: HttpRequest, filters: Query[InstructionFilters]) -> dict[str, Any]:
    """Instructions the caller may see (their petitions', their unit's, their own); by default
    those still being worked on (待办理、已回复待阅), soonest deadline first."""
    user = auth_user(request)
    boxes = {
        "todo": selectors.instructions_to_answer,
        "answered": selectors.instructions_answered,
        "issued": lambda u: selectors.instruction_list(u).filter(leader=u),
        "all": selectors.instruction_list,
    }
    if filters.box and filters.box not in boxes:
        raise ApiError(
            422, ErrorCode.VALIDATION, _("提交的数据有误，请检查。"), fields={"box": [_("不是可选的值。")]}
        )
    qs = boxes[filters.box or "all"](user)
    if not filters.box:
        qs = qs.exclude(status=InstructionStatus.CLOSED)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.overdue:
        qs = qs.filter(status=InstructionStatus.OPEN, due_on__lt=timezone.localdate())
    if filters.petition:
        qs = qs.filter(petition__number=filters.petition)
    qs = qs.select_related("petition", "leader", "unit")
    count = qs.count()
    rows = qs[filters.offset : filters.offset + filters.limit]
    return {"count": count, "results": [instruction_body(i) for i in rows]}


@router.post("", response={201: InstructionOut, **_WRITE}, summary="领导阅批")
def create_instruction(
    request: HttpRequest, payload: InstructionIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """A leader instructs on a petition they may see; the named unit is notified and answers by
    ``due_on``.  403 for a caller who is not a leader."""
    user = auth_user(request)
    petition = Petition.objects.restrict(user).filter(number=payload.petition).first()
    if petition is None:
        raise not_found()
    unit = Organisation.objects.filter(pk=payload.unit).first()
    if unit is None:
        raise ApiError(
            422, ErrorCode.VALIDATION, _("提交的数据有误，请检查。"), fields={"unit": [_("没有此单位。")]}
        )

    def action() -> IdempotentResult:
        instruction = services.issue_instruction(
            actor=user, petition=petition, unit=unit, text=payload.text, due_on=payload.due_on
        )
        return IdempotentResult(status=201, body=instruction_body(_in_scope(user, instruction.pk), full=True))

    return idempotent_response(request, user=user, key=idempotency_key, payload=payload, action=action)


@router.get(
    "/{instruction_id}",
    response={200: InstructionOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="阅批详情",
)
def get_instruction(request: HttpRequest, instruction_id: int) -> dict[str, Any]:
    return instruction_body(_in_scope(auth_user(request), instruction_id), full=True)


@router.post("/{instruction_id}/answer", response={200: InstructionOut, **_WRITE}, summary="回复阅批")
def answer_instruction(
    request: HttpRequest, instruction_id: int, payload: InstructionAnswerIn
) -> dict[str, Any]:
    """Staff of the named unit answer; the answer returns to the leader (403 for anyone else)."""
    user = auth_user(request)
    instruction = _in_scope(user, instruction_id)
    services.answer_instruction(actor=user, instruction=instruction, text=payload.text)
    return instruction_body(_in_scope(user, instruction_id), full=True)


@router.post("/{instruction_id}/close", response={200: InstructionOut, **_WRITE}, summary="阅批已阅办结")
def close_instruction(
    request: HttpRequest, instruction_id: int, payload: InstructionCloseIn | None = None
) -> dict[str, Any]:
    """The leader who wrote it has read the answer and closes it (403 for anyone else)."""
    user = auth_user(request)
    instruction = _in_scope(user, instruction_id)
    services.close_instruction(
        actor=user, instruction=instruction, note=(payload or InstructionCloseIn()).note
    )
    return instruction_body(_in_scope(user, instruction_id), full=True)


@router.post("/{instruction_id}/return", response={200: InstructionOut, **_WRITE}, summary="阅批要求继续办理")
def return_instruction(
    request: HttpRequest, instruction_id: int, payload: InstructionReturnIn
) -> dict[str, Any]:
    """The leader sends the answer back for more; the unit must answer again."""
    user = auth_user(request)
    instruction = _in_scope(user, instruction_id)
    services.return_instruction(actor=user, instruction=instruction, text=payload.text, due_on=payload.due_on)
    return instruction_body(_in_scope(user, instruction_id), full=True)
