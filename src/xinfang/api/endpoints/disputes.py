"""``/api/v1/disputes``: the dispute screening ledger (矛盾纠纷排查台账, issue #11 §2) and its
screening rounds (``/api/v1/disputes/rounds``).

Thin over ``screening.services`` and ``screening.filters``, like the staff pages: the scope first
(a dispute or a round the caller may not see is the same 404 as a missing one), then the service,
which checks who may write (403, ``forbidden``) and the input (422, field errors in Chinese).
Casework roles only; administrators see nothing.  Creating a dispute takes an ``Idempotency-Key``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Path, Query, Router, Schema

from xinfang.organisations.models import Organisation, User
from xinfang.screening import access, figures, services
from xinfang.screening.filters import ALL, CLOSED, LedgerFilter, ledger
from xinfang.screening.models import (
    Dispute,
    DisputeKind,
    DisputeSource,
    DisputeStatus,
    RiskLevel,
    RoundKind,
    RoundReturn,
    ScreeningRound,
)

from ..auth import auth_user, token_auth
from ..errors import ApiError, ErrorCode
from ..idempotency import IdempotentResult
from ..presenters import idempotent_response, json_response
from ..schemas import ErrorOut, InputSchema, OrganisationOut, StaffOut

router = Router(tags=["disputes"], auth=token_auth)

KINDS = tuple(DisputeKind.values)
RISKS = tuple(RiskLevel.values)
SOURCES = tuple(DisputeSource.values)
STATUSES = tuple(DisputeStatus.values)
MAX_LIMIT = 200
FACTS = {"title", "kind", "risk", "source", "description", "plan", "deadline", "screened_on"}

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=100, description="幂等键：重试时携带同一键，返回首次结果"),
]
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1, description="编号")]
_READ = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
_WRITE = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _caller(request: HttpRequest) -> User:
    """The door check: casework roles only (403); the services check the rest."""
    user = auth_user(request)
    if not access.is_casework(user):
        raise PermissionError(_("您的账号没有矛盾纠纷台账的权限。"))
    return user


def _not_found() -> ApiError:
    return ApiError(404, ErrorCode.NOT_FOUND, _("矛盾纠纷不存在，或您无权查看。"))


# --- schemas ---------------------------------------------------------------------------------------


class PartyOut(Schema):
    """A party as lists show it: masked, never decrypted."""

    name: str
    id_number_masked: str
    phone_masked: str


class DisputeEventOut(Schema):
    at: dt.datetime
    actor: StaffOut | None
    action: str
    from_status: str
    to_status: str
    note: str


class DisputeOut(Schema):
    number: str
    title: str
    kind: str = Field(json_schema_extra={"enum": list(KINDS)})
    kind_label: str
    description: str
    risk: str = Field(json_schema_extra={"enum": list(RISKS)}, description="high 高，medium 中，low 低")
    risk_label: str
    source: str = Field(
        json_schema_extra={"enum": list(SOURCES)},
        description="round 排查任务，grid 网格上报，petition 信访事项，other 其他",
    )
    round: int | None = Field(description="排查任务编号（来源为排查任务时）")
    organisation: OrganisationOut = Field(description="责任单位")
    locality: OrganisationOut | None = Field(description="属地")
    leader: StaffOut | None = Field(description="包案领导")
    plan: str
    deadline: dt.date | None = Field(description="化解期限")
    overdue: bool = Field(description="未办结且已过化解期限")
    status: str = Field(json_schema_extra={"enum": list(STATUSES)})
    status_label: str
    screened_on: dt.date
    resolved_on: dt.date | None
    closed_on: dt.date | None
    parties: list[PartyOut]
    petitions: list[str] = Field(description="关联的信访编号（调用者可见的）")
    created_at: dt.datetime


class DisputeDetailOut(DisputeOut):
    events: list[DisputeEventOut]


class DisputeListOut(Schema):
    count: int
    results: list[DisputeOut]


class PartyIn(InputSchema):
    name: str = Field(max_length=100)
    id_number: str = Field("", max_length=30)
    phone: str = Field("", max_length=30)


class DisputeIn(InputSchema):
    title: str = Field(max_length=200)
    organisation: int = Field(description="责任单位编号：本辖区内（承办人：本单位及下属）")
    kind: Literal[KINDS] = "other"  # type: ignore[valid-type]
    risk: Literal[RISKS] = "low"  # type: ignore[valid-type]
    source: Literal[SOURCES] = "other"  # type: ignore[valid-type]
    round: int | None = Field(None, description="排查任务编号；来源为 round 时必填")
    locality: int | None = Field(None, description="属地（组织编号）；不填同责任单位")
    description: str = Field("", max_length=5000)
    plan: str = Field("", max_length=5000)
    deadline: dt.date | None = None
    screened_on: dt.date | None = Field(None, description="排查日期；不填为今天")
    leader: int | None = Field(None, description="包案领导（用户编号）")
    parties: list[PartyIn] = Field(default_factory=list, max_length=10)


class DisputePatch(InputSchema):
    title: str | None = Field(None, max_length=200)
    organisation: int | None = None
    kind: Literal[KINDS] | None = None  # type: ignore[valid-type]
    risk: Literal[RISKS] | None = None  # type: ignore[valid-type]
    source: Literal[SOURCES] | None = None  # type: ignore[valid-type]
    round: int | None = None
    locality: int | None = None
    description: str | None = Field(None, max_length=5000)
    plan: str | None = Field(None, max_length=5000)
    deadline: dt.date | None = None
    screened_on: dt.date | None = None
    parties: list[PartyIn] | None = Field(None, max_length=10, description="给出则替换全部当事人")


class StatusIn(InputSchema):
    to: Literal[STATUSES]  # type: ignore[valid-type]
    note: str = Field(max_length=5000, description="化解措施、化解结果、转信访原因或移交机关及理由")
    petition: str = Field("", max_length=40, description="转为信访事项时：已登记的信访编号")


class PetitionLinkIn(InputSchema):
    petition: str = Field(max_length=40)


class LeaderIn(InputSchema):
    leader: int | None = Field(description="包案领导（用户编号）；null 取消")


class LedgerQuery(Schema):
    unit: int | None = Field(None, ge=1, le=2**31 - 1, description="责任单位编号")
    kind: Literal[KINDS] | None = None  # type: ignore[valid-type]
    risk: Literal[RISKS] | None = None  # type: ignore[valid-type]
    status: Literal[(*STATUSES, ALL, CLOSED)] | None = Field(  # type: ignore[valid-type]
        None, description="不填：未办结；all 全部；closed 已办结；或某一状态"
    )
    overdue: bool = False
    screened_from: dt.date | None = None
    screened_to: dt.date | None = None
    leader: int | None = Field(None, ge=1, le=2**31 - 1)
    q: str = Field("", max_length=100)
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=1_000_000)


class ReturnOut(Schema):
    id: int
    unit: OrganisationOut
    completed_at: dt.datetime | None
    on_time: bool
    late: bool = Field(description="已过报送期限仍未报送")
    disputes_found: int
    is_zero: bool
    note: str
    disputes: list[str]


class RoundOut(Schema):
    id: int
    title: str
    kind: str = Field(
        json_schema_extra={"enum": list(RoundKind.values)}, description="monthly 月度，sensitive 敏感节点前"
    )
    office: OrganisationOut
    period_start: dt.date
    period_end: dt.date
    due_on: dt.date
    instructions: str
    returns: list[ReturnOut]


class RoundListOut(Schema):
    results: list[RoundOut]


class RoundIn(InputSchema):
    title: str = Field(max_length=200)
    kind: Literal[tuple(RoundKind.values)] = "monthly"  # type: ignore[valid-type]
    period_start: dt.date
    period_end: dt.date
    due_on: dt.date
    unit_kinds: list[str] = Field(default_factory=lambda: list(services.DEFAULT_UNIT_KINDS), max_length=9)
    instructions: str = Field("", max_length=5000)


class RoundReturnIn(InputSchema):
    disputes: list[str] = Field(default_factory=list, max_length=500, description="排查发现的矛盾纠纷编号")
    zero: bool = Field(False, description="零报告")
    note: str = Field("", max_length=5000)


class UnitFiguresOut(Schema):
    unit: OrganisationOut
    returns_due: int
    returns_on_time: int
    screening_rate: float | None = Field(description="排查率（%）")
    screened: int
    resolved: int
    resolution_rate: float | None = Field(description="化解率（%）")


class DisputeFiguresOut(Schema):
    start: dt.date
    end: dt.date
    units: list[UnitFiguresOut]


# --- bodies ----------------------------------------------------------------------------------------


def _org(org: Organisation | None) -> dict[str, Any] | None:
    return None if org is None else {"id": org.pk, "name": org.name, "code": org.code}


def _staff(user: Any) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "name": str(user)}


def dispute_body(
    d: Dispute, user: Any, *, detail: bool = False, petitions: list[str] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": d.number, "title": d.title, "kind": d.kind, "kind_label": str(d.get_kind_display()),
        "description": d.description, "risk": d.risk, "risk_label": str(d.get_risk_display()),
        "source": d.source, "round": d.round_id, "organisation": _org(d.organisation),
        "locality": _org(d.locality), "leader": _staff(d.leader), "plan": d.plan, "deadline": d.deadline,
        "overdue": d.is_overdue(), "status": d.status, "status_label": str(d.get_status_display()),
        "screened_on": d.screened_on, "resolved_on": d.resolved_on, "closed_on": d.closed_on,
        "parties": [{"name": p.name, "id_number_masked": p.id_number_mask, "phone_masked": p.phone_mask}
                    for p in d.parties.all()],
        "petitions": petitions if petitions is not None else [],
        "created_at": d.created_at,
    }  # fmt: skip
    if detail:
        body["petitions"] = list(
            d.petitions.restrict(user).order_by("number").values_list("number", flat=True)
        )
        body["events"] = [
            {"at": e.at, "actor": _staff(e.actor), "action": e.action, "from_status": e.from_status,
             "to_status": e.to_status, "note": e.note}
            for e in d.events.select_related("actor")
        ]  # fmt: skip
        return DisputeDetailOut.model_validate(body).model_dump(mode="json")
    return body


def _get(user: Any, number: str) -> Dispute:
    d = (
        access.restrict_disputes(Dispute.objects.all(), user)
        .select_related("organisation", "locality", "leader")
        .filter(number=number)
        .first()
    )
    if d is None:
        raise _not_found()
    return d


def _org_in_scope(user: Any, pk: int | None, field: str) -> Organisation | None:
    if pk is None:
        return None
    path = access.scope_path(user) or "-"
    org = Organisation.objects.filter(pk=pk, path__startswith=path).first()
    if org is None:
        raise ApiError(
            422,
            ErrorCode.VALIDATION,
            _("提交的数据有误，请检查。"),
            fields={field: [_("单位不存在或不在您的辖区内。")]},
        )
    return org


def _round_in_scope(user: Any, pk: int | None) -> ScreeningRound | None:
    if pk is None:
        return None
    rnd = access.restrict_rounds(ScreeningRound.objects.all(), user).filter(pk=pk).first()
    if rnd is None:
        raise ApiError(
            422,
            ErrorCode.VALIDATION,
            _("提交的数据有误，请检查。"),
            fields={"round": [_("排查任务不存在，或不在您的范围内。")]},
        )
    return rnd


def _leader(pk: int | None) -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise ApiError(
            422,
            ErrorCode.VALIDATION,
            _("提交的数据有误，请检查。"),
            fields={"leader": [_("包案领导须是本辖区具有领导角色的在岗人员。")]},
        )
    return user


def _parties(items: list[PartyIn]) -> list[services.PartyData]:
    return [services.PartyData(p.name, p.id_number, p.phone) for p in items]


# --- rounds (declared first: "/rounds" must not be read as a dispute number) ----------------------


def _round_body(rnd: ScreeningRound, returns: list[RoundReturn], today: dt.date) -> dict[str, Any]:
    return {
        "id": rnd.pk, "title": rnd.title, "kind": rnd.kind, "office": _org(rnd.office),
        "period_start": rnd.period_start, "period_end": rnd.period_end, "due_on": rnd.due_on,
        "instructions": rnd.instructions,
        "returns": [
            {"id": r.pk, "unit": _org(r.unit), "completed_at": r.completed_at, "on_time": r.on_time,
             "late": r.is_late(today), "disputes_found": r.disputes_found, "is_zero": r.is_zero,
             "note": r.note, "disputes": sorted(d.number for d in r.disputes.all())}
            for r in returns
        ],
    }  # fmt: skip


def _visible_returns(user: Any, rounds: list[ScreeningRound]) -> dict[int, list[RoundReturn]]:
    """The returns of ``rounds`` the caller sees, in one query (plus one for their disputes)."""
    path = access.scope_path(user) or "-"
    out: dict[int, list[RoundReturn]] = {r.pk: [] for r in rounds}
    rows = (
        RoundReturn.objects.filter(round__in=rounds)
        .filter(Q(unit_path__startswith=path) | Q(round__area_path__startswith=path))
        .select_related("unit", "round")
        .prefetch_related("disputes")
        .order_by("unit__path")
    )
    for r in rows:
        out[r.round_id].append(r)
    return out


@router.get(
    "/rounds",
    response={200: RoundListOut, **_READ},
    summary="排查任务列表",
    operation_id="disputes_rounds_list",
)
def list_rounds(request: HttpRequest, limit: int = Query(50, ge=1, le=MAX_LIMIT)) -> dict[str, Any]:
    """Rounds issued in the caller's area or that one of its units must report, newest due first."""
    user = _caller(request)
    rounds = list(
        access.restrict_rounds(ScreeningRound.objects.all(), user)
        .select_related("office")
        .order_by("-due_on", "-pk")[:limit]
    )
    returns = _visible_returns(user, rounds)
    today = timezone.localdate()
    return {"results": [_round_body(r, returns[r.pk], today) for r in rounds]}


@router.post(
    "/rounds",
    response={201: RoundOut, **_WRITE},
    summary="下发排查任务",
    operation_id="disputes_rounds_create",
)
def create_round(request: HttpRequest, payload: RoundIn) -> HttpResponse:
    """Supervisors and leaders of a petition office: one return per unit of the chosen kinds in the area."""
    user = _caller(request)
    rnd = services.issue_round(actor=user, **payload.model_dump())
    rnd = ScreeningRound.objects.select_related("office").get(pk=rnd.pk)
    body = _round_body(rnd, _visible_returns(user, [rnd])[rnd.pk], timezone.localdate())
    return json_response(request, RoundOut.model_validate(body).model_dump(mode="json"), status=201)


@router.get(
    "/rounds/{round_id}",
    response={200: RoundOut, **_READ},
    summary="排查任务详情",
    operation_id="disputes_round_get",
)
def get_round(request: HttpRequest, round_id: RecordId) -> dict[str, Any]:
    user = _caller(request)
    rnd = (
        access.restrict_rounds(ScreeningRound.objects.all(), user)
        .select_related("office")
        .filter(pk=round_id)
        .first()
    )
    if rnd is None:
        raise _not_found()
    return _round_body(rnd, _visible_returns(user, [rnd])[rnd.pk], timezone.localdate())


@router.post(
    "/rounds/returns/{return_id}",
    response={200: ReturnOut, **_WRITE},
    summary="报送排查情况",
    operation_id="disputes_return_complete",
)
def complete_return(request: HttpRequest, return_id: RecordId, payload: RoundReturnIn) -> dict[str, Any]:
    """The unit reports the disputes it found (registered in the ledger first) or a zero report."""
    user = _caller(request)
    path = access.scope_path(user) or "-"
    ret = (
        RoundReturn.objects.filter(Q(unit_path__startswith=path) | Q(round__area_path__startswith=path))
        .select_related("round", "unit")
        .filter(pk=return_id)
        .first()
    )
    if ret is None:
        raise _not_found()
    ret = services.complete_return(
        actor=user, round_return=ret, dispute_numbers=payload.disputes, zero=payload.zero, note=payload.note
    )
    ret = RoundReturn.objects.select_related("round", "unit").prefetch_related("disputes").get(pk=ret.pk)
    return _round_body(ret.round, [ret], timezone.localdate())["returns"][0]


@router.get(
    "/figures",
    response={200: DisputeFiguresOut, **_READ},
    summary="排查率与化解率",
    operation_id="disputes_figures",
)
def get_figures(
    request: HttpRequest, start: dt.date | None = None, end: dt.date | None = None
) -> dict[str, Any]:
    """Per unit of the caller's scope, for a period (default: this quarter); definitions in
    docs/statistics.md, the same numbers as the staff figures page."""
    user = _caller(request)
    today = timezone.localdate()
    default = figures.Period.quarter(*figures.current_quarter(today))
    period = figures.Period(start or default.start, end or default.end)
    rows = figures.unit_figures(user, period, today)
    codes = dict(Organisation.objects.filter(pk__in=[r.unit_id for r in rows]).values_list("pk", "code"))
    return {
        "start": period.start,
        "end": period.end,
        "units": [
            {"unit": {"id": r.unit_id, "name": r.unit_name, "code": codes.get(r.unit_id, "")},
             "returns_due": r.returns_due, "returns_on_time": r.returns_on_time,
             "screening_rate": r.screening_rate, "screened": r.screened, "resolved": r.resolved,
             "resolution_rate": r.resolution_rate}
            for r in rows
        ],
    }  # fmt: skip


# --- disputes --------------------------------------------------------------------------------------


@router.get("", response={200: DisputeListOut, **_READ}, summary="矛盾纠纷台账", operation_id="disputes_list")
def list_disputes(request: HttpRequest, filters: Query[LedgerQuery]) -> dict[str, Any]:
    """The caller's ledger, newest first; by default only open disputes (screened, in resolution)."""
    user = _caller(request)
    flt = LedgerFilter(
        unit=filters.unit, kind=filters.kind or "", risk=filters.risk or "", status=filters.status or "",
        overdue=filters.overdue, screened_from=filters.screened_from, screened_to=filters.screened_to,
        leader=filters.leader, q=filters.q.strip(),
    )  # fmt: skip
    qs = ledger(user, flt)
    rows = list(qs[filters.offset : filters.offset + filters.limit])
    return {"count": qs.count(), "results": [dispute_body(d, user) for d in rows]}


def _created(request: HttpRequest, payload: DisputeIn, key: str | None) -> HttpResponse:
    user = _caller(request)

    def action() -> IdempotentResult:
        dispute = services.create_dispute(
            actor=user,
            organisation=_org_in_scope(user, payload.organisation, "organisation"),
            locality=_org_in_scope(user, payload.locality, "locality"),
            round=_round_in_scope(user, payload.round),
            leader=_leader(payload.leader),
            parties=_parties(payload.parties),
            **payload.model_dump(include=FACTS),
        )  # fmt: skip
        return IdempotentResult(status=201, body=dispute_body(_get(user, dispute.number), user, detail=True))

    return idempotent_response(request, user=user, key=key, payload=payload, action=action)


@router.post(
    "", response={201: DisputeDetailOut, **_WRITE}, summary="登记矛盾纠纷", operation_id="disputes_create"
)
def create_dispute(
    request: HttpRequest, payload: DisputeIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """Intake clerks, supervisors and leaders for any unit of their scope; handlers for their own unit."""
    return _created(request, payload, idempotency_key)


@router.get(
    "/{number}",
    response={200: DisputeDetailOut, **_READ},
    summary="矛盾纠纷详情",
    operation_id="disputes_get",
)
def get_dispute(request: HttpRequest, number: str) -> dict[str, Any]:
    user = _caller(request)
    return dispute_body(_get(user, number), user, detail=True)


@router.patch(
    "/{number}",
    response={200: DisputeDetailOut, **_WRITE},
    summary="修改矛盾纠纷",
    operation_id="disputes_update",
)
def update_dispute(request: HttpRequest, number: str, payload: DisputePatch) -> dict[str, Any]:
    """Only the fields sent change (not the status: see ``/status``); a closed dispute is refused."""
    user = _caller(request)
    dispute = _get(user, number)
    given = payload.model_dump(exclude_unset=True)
    parties = given.pop("parties", None)
    if "organisation" in given:
        given["organisation"] = _org_in_scope(user, given["organisation"], "organisation")
    if "locality" in given:
        given["locality"] = _org_in_scope(user, given["locality"], "locality")
    if "round" in given:
        given["round"] = _round_in_scope(user, given["round"])
    for key in ("title", "kind", "risk", "source", "description", "plan", "screened_on"):
        if key in given and given[key] is None:
            given.pop(key)
    services.update_dispute(
        actor=user,
        dispute=dispute,
        parties=_parties(payload.parties) if parties is not None else None,
        **given,
    )
    return dispute_body(_get(user, number), user, detail=True)


@router.post(
    "/{number}/status",
    response={200: DisputeDetailOut, **_WRITE},
    summary="变更矛盾纠纷状态",
    operation_id="disputes_change_status",
)
def change_status(request: HttpRequest, number: str, payload: StatusIn) -> dict[str, Any]:
    """screened → in_resolution → resolved / turned_petition / handed_over, each with its note;
    an illegal move is a 422 with the reason under ``to``."""
    user = _caller(request)
    services.transition(
        actor=user,
        dispute=_get(user, number),
        to=payload.to,
        note=payload.note,
        petition_number=payload.petition,
    )
    return dispute_body(_get(user, number), user, detail=True)


@router.post(
    "/{number}/petitions",
    response={200: DisputeDetailOut, **_WRITE},
    summary="关联信访事项",
    operation_id="disputes_link_petition",
)
def link_petition(request: HttpRequest, number: str, payload: PetitionLinkIn) -> dict[str, Any]:
    user = _caller(request)
    services.link_petition(actor=user, dispute=_get(user, number), petition_number=payload.petition)
    return dispute_body(_get(user, number), user, detail=True)


@router.post(
    "/{number}/leader",
    response={200: DisputeDetailOut, **_WRITE},
    summary="确定包案领导",
    operation_id="disputes_set_leader",
)
def set_leader(request: HttpRequest, number: str, payload: LeaderIn) -> dict[str, Any]:
    user = _caller(request)
    services.set_leader(dispute=_get(user, number), leader=_leader(payload.leader), actor=user)
    return dispute_body(_get(user, number), user, detail=True)
