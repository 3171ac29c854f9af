"""``/api/v1/reports``: 信访信息/摘报 information reports (issue #11).

Thin, like the other endpoints: the rules (who drafts, signs off, sends, reads; the flow; the
issue number; no ID numbers in the text) are ``information.services``, shared with the staff
pages.  A report the caller may not read gives the same 404 as a missing one; a step the caller
may not take is 403, a step the report's state does not allow is 409 (``wrong_state``), bad input
is 422 with field errors.  Creating a draft takes an ``Idempotency-Key``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema

from xinfang.core.pagination import capped_count
from xinfang.information import services
from xinfang.information.models import InformationReport, ReportKind, ReportStatus, ReportUse
from xinfang.organisations.choices import CASEWORK_ROLES

from ..auth import auth_user, token_auth
from ..errors import ApiError, ErrorCode
from ..idempotency import IdempotentResult
from ..presenters import idempotent_response
from ..schemas import BoundedIntegers, ErrorOut, InputSchema, OrganisationOut, StaffOut

router = Router(tags=["reports"], auth=token_auth)

KINDS = tuple(ReportKind.values)
STATUSES = tuple(ReportStatus.values)
USES = tuple(v for v in ReportUse.values if v)

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=100, description="幂等键：重试时携带同一键，返回首次结果"),
]


class FigureOut(Schema):
    metric: str
    label: str
    unit: str
    value: int


class ReportFiguresOut(Schema):
    start: str | None = None
    end: str | None = None
    area: str | None = None
    rows: list[FigureOut] = []


class ReportOut(Schema):
    id: int
    kind: str = Field(
        json_schema_extra={"enum": list(KINDS)},
        description=(
            "digest 信访摘报，bulletin 信访工作动态，important 重要信访事项报告，"
            "urgent 紧急信息（条例第二十五条）"
        ),
    )
    kind_label: str
    status: str = Field(
        json_schema_extra={"enum": list(STATUSES)},
        description="draft 草稿，submitted 待签发，returned 已退回修改，signed 已签发待报送，sent 已报送",
    )
    status_label: str
    issue: str = Field(description="期号，如“2026年第12期”；报送时编定，之前为空")
    year: int | None
    sequence: int | None
    title: str
    body: str
    office: OrganisationOut = Field(description="报送单位（拟稿的信访工作机构）")
    receiver: OrganisationOut = Field(description="接收单位（上级信访工作机构）")
    copy_to: str
    petitions: list[str] = Field(description="涉及的信访编号（仅列出调用者可查看的）")
    disputes: list[str] = Field(description="涉及的矛盾纠纷编号")
    figures: ReportFiguresOut = Field(description="附带数据（送签后固定不变）")
    drafted_by: StaffOut
    created_at: dt.datetime
    updated_at: dt.datetime
    approver: StaffOut | None = Field(description="送签领导；空：本机关或本级政府任一领导")
    submitted_at: dt.datetime | None
    return_reason: str
    returned_by: StaffOut | None
    returned_at: dt.datetime | None
    signed_by: StaffOut | None = Field(description="签发人")
    signed_at: dt.datetime | None
    sent_by: StaffOut | None
    sent_at: dt.datetime | None
    read_by: StaffOut | None = Field(description="接收单位的签收人")
    read_at: dt.datetime | None
    use: str = Field(description="used 已采用，instructed 领导已批示，noted 阅知；空：未反馈")
    use_label: str
    feedback: str = Field(description="接收单位的反馈意见或批示")
    feedback_by: StaffOut | None
    feedback_at: dt.datetime | None


class ReportPageOut(Schema):
    count: int
    count_exact: bool
    limit: int
    offset: int
    results: list[ReportOut]


class ReportFilters(BoundedIntegers):
    box: Literal["mine", "inbox"] = Field(
        "mine", description="mine 本机关报送的（含草稿），inbox 下级报送本机关的（已报送）"
    )
    kind: Literal[KINDS] | None = None  # type: ignore[valid-type]
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    unread: bool | None = Field(None, description="inbox：true 只列未读，false 只列已读")
    office: int | None = Field(None, description="inbox：报送单位的机构编号")
    sent_from: dt.date | None = Field(None, description="报送日期自")
    sent_to: dt.date | None = Field(None, description="报送日期至")
    limit: int = Field(30, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)


class ReportIn(InputSchema):
    kind: Literal[KINDS]  # type: ignore[valid-type]
    title: str = Field(max_length=200)
    body: str = Field(max_length=services.MAX_BODY, description="正文，每段一行；不得含身份证号码")
    receiver: int | None = Field(
        None, description="接收单位（上级信访工作机构）的机构编号；不填为上一级信访工作机构"
    )
    petitions: list[str] = Field(
        default_factory=list, max_length=services.MAX_LINKS, description="涉及的信访编号"
    )
    disputes: list[str] = Field(
        default_factory=list, max_length=services.MAX_LINKS, description="涉及的矛盾纠纷编号"
    )
    period_start: dt.date | None = Field(None, description="附带数据的起始日期（与截止日期同时填写）")
    period_end: dt.date | None = Field(None, description="附带数据的截止日期")
    copy_to: str = Field("", max_length=200, description="抄送")


class SubmitIn(InputSchema):
    approver: int | None = Field(
        None, description="送签领导的用户编号（本机关或本级政府的领导）；不填为任一领导"
    )


class ReportReturnIn(InputSchema):
    reason: str = Field(max_length=5000, description="退回理由")


class ReportFeedbackIn(InputSchema):
    use: Literal[USES] = Field(description="used 采用，instructed 批示（须为领导），noted 阅知")  # type: ignore[valid-type]
    feedback: str = Field("", max_length=5000, description="反馈意见或批示内容（批示必填）")


def _staff(user: Any) -> dict[str, Any] | None:
    return {"id": user.pk, "name": str(user)} if user is not None else None


def _links(reports: list[InformationReport], user: Any) -> dict[int, tuple[list[str], list[str]]]:
    """The visible petition numbers and the dispute numbers of each report: three queries a page."""
    from xinfang.petitions.models import Petition
    from xinfang.screening.models import Dispute

    ids = [r.pk for r in reports]
    p_links = list(
        InformationReport.petitions.through.objects.filter(informationreport_id__in=ids).values_list(
            "informationreport_id", "petition_id"
        )
    )
    visible = dict(
        Petition.objects.restrict(user).filter(pk__in={p for _r, p in p_links}).values_list("pk", "number")
    )
    d_links = list(
        InformationReport.disputes.through.objects.filter(informationreport_id__in=ids).values_list(
            "informationreport_id", "dispute_id"
        )
    )
    disputes = dict(Dispute.objects.filter(pk__in={d for _r, d in d_links}).values_list("pk", "number"))
    out: dict[int, tuple[list[str], list[str]]] = {pk: ([], []) for pk in ids}
    for rid, pid in p_links:
        if pid in visible:
            out[rid][0].append(visible[pid])
    for rid, did in d_links:
        out[rid][1].append(disputes[did])
    return {k: (sorted(a), sorted(b)) for k, (a, b) in out.items()}


def _out(r: InformationReport, links: tuple[list[str], list[str]]) -> dict[str, Any]:
    body = {
        "id": r.pk, "kind": r.kind, "kind_label": str(r.get_kind_display()), "status": r.status,
        "status_label": str(r.get_status_display()), "issue": r.issue_label, "year": r.year,
        "sequence": r.sequence, "title": r.title, "body": r.body, "office": r.office, "receiver": r.receiver,
        "copy_to": r.copy_to, "petitions": links[0], "disputes": links[1], "figures": r.figures or {},
        "drafted_by": _staff(r.drafted_by), "created_at": r.created_at, "updated_at": r.updated_at,
        "approver": _staff(r.approver), "submitted_at": r.submitted_at, "return_reason": r.return_reason,
        "returned_by": _staff(r.returned_by), "returned_at": r.returned_at, "signed_by": _staff(r.signed_by),
        "signed_at": r.signed_at, "sent_by": _staff(r.sent_by), "sent_at": r.sent_at,
        "read_by": _staff(r.read_by), "read_at": r.read_at,
        "use": r.use, "use_label": str(r.get_use_display()),
        "feedback": r.feedback, "feedback_by": _staff(r.feedback_by), "feedback_at": r.feedback_at,
    }  # fmt: skip
    return ReportOut.model_validate(body).model_dump(mode="json")


def _casework_user(request: HttpRequest) -> Any:
    user = auth_user(request)
    if not user.role_codes & CASEWORK_ROLES or user.organisation_id is None:
        raise PermissionError(_("信访信息只对登记员、承办人、督办员和领导开放。"))
    return user


def _not_found() -> ApiError:
    return ApiError(404, ErrorCode.NOT_FOUND, _("信访信息不存在，或您无权查看。"))


def _load(user: Any, pk: int) -> InformationReport:
    try:
        return services.get_visible(user, pk)
    except InformationReport.DoesNotExist:
        raise _not_found() from None


def _detail(user: Any, pk: int) -> dict[str, Any]:
    report = _load(user, pk)
    return _out(report, _links([report], user)[report.pk])


def _act(user: Any, pk: int, step: Callable[[], Any]) -> dict[str, Any]:
    """Run one step: 404 before anything else for a report the caller may not read, 409 for a
    step the report's state does not allow, 403 for a step the caller may not take."""
    _load(user, pk)
    try:
        step()
    except services.ReportStateError as exc:
        raise ApiError(409, "wrong_state", str(exc)) from None
    except InformationReport.DoesNotExist:
        raise _not_found() from None
    return _detail(user, pk)


_READ = {200: ReportOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
_WRITE = {**_READ, 409: ErrorOut}


@router.get(
    "", response={200: ReportPageOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}, summary="信访信息列表"
)
def list_reports(request: HttpRequest, filters: Query[ReportFilters]) -> dict[str, Any]:
    """``box=mine``: the reports of the caller's office (drafts included; for a leader, also its
    government's offices), newest change first.  ``box=inbox``: the reports sent from below to the
    caller's office, newest first."""
    user = _casework_user(request)
    qs = services.mine(user) if filters.box == "mine" else services.inbox(user)
    qs = qs.select_related(*services.RELATED)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.unread is not None:
        qs = qs.filter(read_at__isnull=filters.unread)
    if filters.office:
        qs = qs.filter(office_id=filters.office)
    if filters.sent_from:
        qs = qs.filter(sent_at__date__gte=filters.sent_from)
    if filters.sent_to:
        qs = qs.filter(sent_at__date__lte=filters.sent_to)
    qs = qs.order_by("-updated_at", "-pk") if filters.box == "mine" else qs.order_by("-sent_at", "-pk")
    page = list(qs[filters.offset : filters.offset + filters.limit])
    links = _links(page, user)
    count, exact = capped_count(qs)
    return {
        "count": count, "count_exact": exact, "limit": filters.limit, "offset": filters.offset,
        "results": [_out(r, links[r.pk]) for r in page],
    }  # fmt: skip


@router.post(
    "", response={201: ReportOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}, summary="拟写信访信息（草稿）"
)
def create_report(request: HttpRequest, payload: ReportIn, key: IdempotencyKey = None) -> HttpResponse:
    """A draft by an intake clerk or supervisor of a petition office (403 otherwise).  A title or
    body with a resident ID number is refused (422): reports travel up and are circulated."""
    user = auth_user(request)

    def action() -> IdempotentResult:
        report = services.create_draft(
            user=user, kind=payload.kind, title=payload.title, body=payload.body, receiver=payload.receiver,
            petition_numbers=payload.petitions, dispute_numbers=payload.disputes,
            period_start=payload.period_start, period_end=payload.period_end, copy_to=payload.copy_to,
        )  # fmt: skip
        return IdempotentResult(status=201, body=_detail(user, report.pk))

    return idempotent_response(request, user=user, key=key, payload=payload, action=action)


@router.get("/{report_id}", response=_READ, summary="信访信息详情")
def get_report(request: HttpRequest, report_id: int) -> dict[str, Any]:
    return _detail(_casework_user(request), report_id)


@router.put("/{report_id}", response=_WRITE, summary="修改草稿")
def update_report(request: HttpRequest, report_id: int, payload: ReportIn) -> dict[str, Any]:
    """Rewrite a draft or a returned report (the sending office's clerks; 409 once submitted)."""
    user = _casework_user(request)
    return _act(user, report_id, lambda: services.update_draft(
        user=user, report_id=report_id, kind=payload.kind, title=payload.title, body=payload.body,
        receiver=payload.receiver, petition_numbers=payload.petitions, dispute_numbers=payload.disputes,
        period_start=payload.period_start, period_end=payload.period_end, copy_to=payload.copy_to,
    ))  # fmt: skip


@router.post("/{report_id}/submit", response=_WRITE, summary="送签")
def submit_report(request: HttpRequest, report_id: int, payload: SubmitIn | None = None) -> dict[str, Any]:
    """Ask for sign-off; the approver(s) are notified (urgent: also by SMS, Art. 25)."""
    user = _casework_user(request)
    approver = payload.approver if payload else None
    return _act(user, report_id, lambda: services.submit(user=user, report_id=report_id, approver=approver))


@router.post("/{report_id}/sign", response=_WRITE, summary="签发")
def sign_report(request: HttpRequest, report_id: int) -> dict[str, Any]:
    """签发 by a leader of the office or of its government.  An urgent report is sent at once."""
    user = _casework_user(request)
    return _act(user, report_id, lambda: services.sign_off(user=user, report_id=report_id))


@router.post("/{report_id}/return", response=_WRITE, summary="退回修改")
def return_report(request: HttpRequest, report_id: int, payload: ReportReturnIn) -> dict[str, Any]:
    user = _casework_user(request)
    return _act(
        user, report_id, lambda: services.return_report(user=user, report_id=report_id, reason=payload.reason)
    )


@router.post("/{report_id}/send", response=_WRITE, summary="报送")
def send_report(request: HttpRequest, report_id: int) -> dict[str, Any]:
    """Send a signed report to the receiving office; the issue number (期号) is taken now."""
    user = _casework_user(request)
    return _act(user, report_id, lambda: services.send(user=user, report_id=report_id))


@router.post("/{report_id}/read", response=_WRITE, summary="签收（标记已读）")
def read_report(request: HttpRequest, report_id: int) -> dict[str, Any]:
    """The receiving side marks the report read; the first reader is kept."""
    user = _casework_user(request)
    return _act(user, report_id, lambda: services.mark_read(user=user, report_id=report_id))


@router.post("/{report_id}/feedback", response=_WRITE, summary="反馈采用情况")
def feedback_report(request: HttpRequest, report_id: int, payload: ReportFeedbackIn) -> dict[str, Any]:
    """采用 / 批示 (leaders only) / 阅知, with a comment returned to the sender."""
    user = _casework_user(request)
    return _act(user, report_id, lambda: services.give_feedback(
        user=user, report_id=report_id, use=payload.use, feedback=payload.feedback,
    ))  # fmt: skip
