"""``/api/v1/accountability``: 约谈、通报和改进工作建议 (《信访工作条例》第三十九条、第四十条).

Thin, like the other endpoints: the rules (who may issue, respond, read) are those of
``supervision.accountability``, shared with the staff pages.  A record the caller may not read
gives the same 404 as a missing one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from xinfang.core.pagination import capped_count
from xinfang.organisations.choices import CASEWORK_ROLES
from xinfang.supervision import accountability as services
from xinfang.supervision.models import Accountability, AccountabilityKind, AccountabilityStatus

from ..auth import auth_user, token_auth
from ..schemas import BoundedIntegers, ErrorOut, InputSchema, OrganisationOut, StaffOut

router = Router(tags=["supervision"], auth=token_auth)

KINDS = tuple(AccountabilityKind.values)
STATUSES = tuple(AccountabilityStatus.values)


class AccountabilityOut(Schema):
    id: int
    kind: str = Field(
        json_schema_extra={"enum": list(KINDS)},
        description="summons 约谈，circular 通报，recommendation 改进工作建议",
    )
    kind_label: str
    office: OrganisationOut = Field(description="发出机关（信访工作机构）")
    unit: OrganisationOut = Field(description="对象单位")
    title: str
    content: str
    issued_by: StaffOut
    issued_at: dt.datetime
    response_due_on: dt.date | None = Field(description="书面回复期限；空：无需书面回复")
    response: str
    responded_by: StaffOut | None
    responded_at: dt.datetime | None
    status: str = Field(
        json_schema_extra={"enum": list(STATUSES)}, description="open 待回复，answered 已回复，closed 已办结"
    )
    status_label: str
    overdue: bool = Field(description="待回复且已过回复期限")
    petitions: list[str] = Field(description="涉及的信访编号（仅列出调用者可查看的）")


class AccountabilityPageOut(Schema):
    count: int
    count_exact: bool
    limit: int
    offset: int
    results: list[AccountabilityOut]


class AccountabilityFilters(BoundedIntegers):
    kind: Literal[KINDS] | None = None  # type: ignore[valid-type]
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    limit: int = Field(30, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)


class AccountabilityIn(InputSchema):
    kind: Literal[KINDS]  # type: ignore[valid-type]
    unit: int = Field(description="对象单位的机构编号（本机关管辖范围内，不能是本机关）")
    title: str = Field(max_length=200)
    content: str = Field(max_length=20_000)
    response_due_on: dt.date | None = Field(None, description="书面回复期限：约谈和改进工作建议必填")
    petitions: list[str] = Field(
        default_factory=list, max_length=services.MAX_PETITIONS, description="涉及的信访编号"
    )


class ResponseIn(InputSchema):
    response: str = Field(max_length=20_000, description="书面回复：整改措施和结果")


def _staff(user: Any) -> dict[str, Any] | None:
    return {"id": user.pk, "name": str(user)} if user is not None else None


def _out(record: Accountability, user: Any, numbers: list[str]) -> dict[str, Any]:
    return {
        "id": record.pk,
        "kind": record.kind,
        "kind_label": str(record.get_kind_display()),
        "office": record.office,
        "unit": record.unit,
        "title": record.title,
        "content": record.content,
        "issued_by": _staff(record.issued_by),
        "issued_at": record.issued_at,
        "response_due_on": record.response_due_on,
        "response": record.response,
        "responded_by": _staff(record.responded_by),
        "responded_at": record.responded_at,
        "status": record.status,
        "status_label": str(record.get_status_display()),
        "overdue": record.is_overdue(),
        "petitions": numbers,
    }


def _numbers(records: list[Accountability], user: Any) -> dict[int, list[str]]:
    """The visible petition numbers of each record, in one query for the whole page."""
    from xinfang.petitions.models import Petition

    through = Accountability.petitions.through
    links = list(
        through.objects.filter(accountability_id__in=[r.pk for r in records]).values_list(
            "accountability_id", "petition_id"
        )
    )
    visible = dict(
        Petition.objects.restrict(user).filter(pk__in={p for _a, p in links}).values_list("pk", "number")
    )
    out: dict[int, list[str]] = {r.pk: [] for r in records}
    for acc_id, petition_id in links:
        if petition_id in visible:
            out[acc_id].append(visible[petition_id])
    return {k: sorted(v) for k, v in out.items()}


def _casework_user(request: HttpRequest) -> Any:
    user = auth_user(request)
    if not user.role_codes & CASEWORK_ROLES:
        raise services.AccountabilityRefused(_("约谈、通报和工作建议只对登记员、承办人、督办员和领导开放。"))
    return user


def _load(user: Any, pk: int) -> Accountability:
    try:
        return services.get_visible(user, pk)
    except Accountability.DoesNotExist:
        raise Http404 from None


@router.get(
    "",
    response={200: AccountabilityPageOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="约谈、通报和工作建议列表",
)
def list_accountability(request: HttpRequest, filters: Query[AccountabilityFilters]) -> dict[str, Any]:
    """The records the caller may read (issued by their petition office or the offices below it,
    or addressed to their organisation), newest first, filtered by kind and status."""
    user = _casework_user(request)
    qs = services.visible_to(user).select_related("office", "unit", "issued_by", "responded_by")
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    qs = qs.order_by("-issued_at", "-id")
    page = list(qs[filters.offset : filters.offset + filters.limit])
    numbers = _numbers(page, user)
    count, exact = capped_count(qs)
    return {
        "count": count,
        "count_exact": exact,
        "limit": filters.limit,
        "offset": filters.offset,
        "results": [_out(r, user, numbers[r.pk]) for r in page],
    }


@router.post(
    "",
    response={201: AccountabilityOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="发出约谈、通报或改进工作建议",
)
def create_accountability(request: HttpRequest, payload: AccountabilityIn) -> Status:
    """Issue a record to an organisation in the caller's scope.  Only supervisors and leaders of a
    petition office (403 otherwise); the petitions listed must be ones the caller may see (422
    otherwise).  The organisation's leaders are notified; each petition's internal timeline gets an
    ``accountability`` event."""
    user = auth_user(request)
    record = services.record_accountability(
        user=user,
        kind=payload.kind,
        unit=payload.unit,
        title=payload.title,
        content=payload.content,
        response_due_on=payload.response_due_on,
        petition_numbers=payload.petitions,
    )
    record = services.get_visible(user, record.pk)
    return Status(201, _out(record, user, _numbers([record], user)[record.pk]))


@router.get(
    "/{accountability_id}",
    response={200: AccountabilityOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="约谈、通报或工作建议详情",
)
def get_accountability(request: HttpRequest, accountability_id: int) -> dict[str, Any]:
    user = _casework_user(request)
    record = _load(user, accountability_id)
    return _out(record, user, _numbers([record], user)[record.pk])


@router.post(
    "/{accountability_id}/response",
    response={200: AccountabilityOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="对象单位书面回复",
)
def respond_accountability(
    request: HttpRequest, accountability_id: int, payload: ResponseIn
) -> dict[str, Any]:
    """The written answer of the organisation concerned (its leaders only, 403 otherwise; only while
    the record is open).  The issuing office is notified."""
    user = auth_user(request)
    _load(user, accountability_id)  # 404 before 403: an unreadable record is not revealed
    services.respond_accountability(user=user, accountability_id=accountability_id, response=payload.response)
    record = _load(user, accountability_id)
    return _out(record, user, _numbers([record], user)[record.pk])
