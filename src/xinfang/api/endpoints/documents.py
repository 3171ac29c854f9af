"""``/api/v1/petitions/{number}/documents`` and ``/api/v1/documents/{id}…``: documents (文书,
issue #10 point 10).

Thin, like the other endpoints: scope first (a document whose petition the caller may not see is
the same 404 as a missing one), then ``documents.services`` does the rest — who may draft, approve,
issue and record service, the numbering, the workflow step an issue performs, the audit.  Reads of
the body (which may hold the petitioner's address) and downloads are audited; the writes take an
``Idempotency-Key`` like the other writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Header, Router, Schema

from xinfang.audit.services import record_event
from xinfang.core.files import open_plaintext
from xinfang.documents import kinds as document_kinds
from xinfang.documents import selectors
from xinfang.documents import services as documents
from xinfang.documents.choices import DocumentKind, DocumentStatus, ServiceMethod
from xinfang.documents.models import Document
from xinfang.documents.pdf import ConversionFailed
from xinfang.documents.tasks import ensure_pdf
from xinfang.petitions.access import access_petition

from ..auth import auth_user, token_auth
from ..errors import ApiError, ErrorCode
from ..idempotency import IdempotentResult, request_fingerprint, run_idempotent
from ..presenters import json_response, jsonable
from ..schemas import ErrorOut, InputSchema, OrganisationOut, PetitionOut

petition_router = Router(tags=["documents"], auth=token_auth)
router = Router(tags=["documents"], auth=token_auth)

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# HTTP status of each refusal code of documents.services (DocumentRefused.code); unknown: 409.
REFUSALS = {
    "not_issued": 409,
    "already_served": 409,
    "issued": 409,
    "approval_required": 409,
    "wrong_state": 409,
    "not_available": 409,
    "unknown_kind": 422,
    "bad_supersedes": 422,
    "not_found": 404,
}
# The body field a refusal is about.
_REFUSAL_FIELDS = {"unknown_kind": "kind", "bad_supersedes": "supersedes"}

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=100, description="幂等键：重试时携带同一键，返回首次结果"),
]


# --- schemas -----------------------------------------------------------------------------------


class DocumentOut(Schema):
    id: int
    petition: str = Field(description="信访编号")
    kind: str = Field(json_schema_extra={"enum": list(DocumentKind.values)}, description="文书种类")
    kind_label: str
    status: str = Field(
        json_schema_extra={"enum": list(DocumentStatus.values)},
        description="draft 草稿，approved 已审批，issued 已印发",
    )
    status_label: str
    reference: str = Field(description="文号，印发时编定；印发前为空")
    organisation: OrganisationOut = Field(description="发文机关")
    addressee_kind: str = Field(
        json_schema_extra={"enum": ["petitioner", "unit"]}, description="petitioner 信访人，unit 单位"
    )
    addressee: str = Field(description="受文人或受文单位名称")
    addressee_unit: OrganisationOut | None = Field(description="受文单位（发给单位的文书）")
    requires_approval: bool = Field(description="印发前是否须经领导审批（本机关的文书设置）")
    supersedes: int | None = Field(description="本文书更正的文书编号")
    template_version: int | None = Field(description="所用模板版本；0 为系统内置模板；印发前为空")
    drafted_at: dt.datetime
    drafted_by: str | None = Field(description="起草人用户名")
    approved_at: dt.datetime | None
    approved_by: str | None = Field(description="审批人用户名")
    issued_at: dt.datetime | None
    issued_by: str | None = Field(description="印发人用户名")
    issued_on: dt.date | None = Field(description="成文日期")
    served_on: dt.date | None = Field(description="送达日期；复查、复核和评价期限自此日起算")
    service_method: str = Field(
        json_schema_extra={"enum": ["", *ServiceMethod.values]},
        description=("送达方式：in_person 直接，post 邮寄，electronic 电子，announcement 公告；未送达为空"),
    )
    has_pdf: bool = Field(description="PDF 是否已生成（未生成时下载 PDF 会当场生成）")


class DocumentDetailOut(DocumentOut):
    body: dict[str, str] = Field(description="正文字段（含信访人地址等个人信息；读取记入审计日志）")
    approval_note: str = Field(description="审批意见")
    service_detail: dict[str, str] = Field(description="送达情况：签收人、邮件单号、公告方式等")


class DocumentListOut(Schema):
    results: list[DocumentOut]


class DocumentPendingOut(Schema):
    """202 of a reply, review or recheck whose document needs a leader's approval first."""

    code: str = Field(description="approval_required")
    message: str
    document: DocumentOut


class PetitionActionOut(PetitionOut):
    """The answer of ``POST /petitions/{number}/actions/{action}``: the petition's detail, and for
    ``reply``, ``review`` and ``recheck`` the document whose issue took the step."""

    document: DocumentOut | None = Field(
        None,
        description="reply、review、recheck：印发的处理意见书、复查意见书或复核意见书（含文号）；其他为 null",
    )


_TEXT = Annotated[str, Field(max_length=20000)]


class DocumentDraftIn(InputSchema):
    kind: str = Field(
        json_schema_extra={"enum": list(DocumentKind.values)}, max_length=20, description="文书种类"
    )
    body: dict[str, _TEXT] = Field(
        default_factory=dict, description="正文字段（各种类的字段见 docs/api.md）；未给出的从案卷生成"
    )
    supersedes: int | None = Field(None, description="更正：被更正的已印发同类文书编号")


class DocumentEditIn(InputSchema):
    body: dict[str, _TEXT] = Field(description="要修改的正文字段")


class ApproveIn(InputSchema):
    note: str = Field("", max_length=5000, description="审批意见（可选）")


class ServiceDetailIn(InputSchema):
    recipient: str | None = Field(None, max_length=200, description="签收人（直接送达必填）")
    tracking_number: str | None = Field(None, max_length=100, description="邮件单号（邮寄送达必填）")
    announcement: str | None = Field(None, max_length=1000, description="公告方式及载体（公告送达必填）")


class ServiceIn(InputSchema):
    method: Literal[tuple(ServiceMethod.values)] = Field(  # type: ignore[valid-type]
        description="in_person 直接送达，post 邮寄送达，electronic 电子送达，announcement 公告送达"
    )
    served_on: dt.date = Field(description="送达日期：不早于成文日期，不晚于今天")
    detail: ServiceDetailIn | None = None


# --- presenting ----------------------------------------------------------------------------------


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def document_body(
    document: Document, *, detail: bool = False, requires_approval: bool | None = None
) -> dict[str, Any]:
    """The document as JSON-ready data (with its body and service record when ``detail``).
    ``requires_approval`` may be given by a caller that looked the settings up for many at once."""
    data: dict[str, Any] = {
        "id": document.pk,
        "petition": document.petition.number,
        "kind": document.kind,
        "kind_label": str(document.get_kind_display()),
        "status": document.status,
        "status_label": str(document.get_status_display()),
        "reference": document.reference,
        "organisation": document.organisation,
        "addressee_kind": document.addressee_kind,
        "addressee": document.addressee,
        "addressee_unit": document.addressee_unit,
        "requires_approval": documents.requires_approval(document)
        if requires_approval is None
        else requires_approval,
        "supersedes": document.supersedes_id,
        "template_version": (document.template.version if document.template_id else 0)
        if document.is_issued
        else None,
        "drafted_at": document.drafted_at,
        "drafted_by": _username(document.drafted_by),
        "approved_at": document.approved_at,
        "approved_by": _username(document.approved_by),
        "issued_at": document.issued_at,
        "issued_by": _username(document.issued_by),
        "issued_on": document.issued_on,
        "served_on": document.served_on,
        "service_method": document.service_method,
        "has_pdf": bool(document.pdf_file),
    }
    if not detail:
        return jsonable(DocumentOut.model_validate(data).model_dump(mode="json"))
    data.update(
        body={k: str(v) for k, v in document.body.items()},
        approval_note=document.approval_note,
        service_detail={k: str(v) for k, v in (document.service_detail or {}).items()},
    )
    return jsonable(DocumentDetailOut.model_validate(data).model_dump(mode="json"))


def _reload(pk: int) -> Document:
    return Document.objects.select_related(
        "petition", "organisation", "addressee_unit", "template", "drafted_by", "approved_by", "issued_by"
    ).get(pk=pk)


# --- errors --------------------------------------------------------------------------------------


def document_not_found() -> ApiError:
    return ApiError(404, ErrorCode.NOT_FOUND, _("文书不存在，或您无权查看。"))


def document_error(exc: Exception, *, field_prefix: str = "") -> Exception:
    """A refusal of ``documents.services`` in the API's error shape: a DocumentRefused keeps its
    code; a PermissionDenied is 403 ``forbidden``; field errors are 422 with the body's path
    (``body.facts`` for a field of the document's body)."""
    if isinstance(exc, documents.DocumentRefused):
        code = exc.code or "refused"
        status = REFUSALS.get(code, 409)
        message = exc.messages[0]
        field = _REFUSAL_FIELDS.get(code)
        return ApiError(status, code, message, fields={field: [message]} if status == 422 and field else None)
    if isinstance(exc, PermissionDenied):
        return ApiError(403, ErrorCode.FORBIDDEN, str(exc) or _("您无权进行此操作。"))
    if isinstance(exc, DjangoValidationError) and hasattr(exc, "error_dict"):
        fields = {f"{field_prefix}{k}": [str(m) for m in v] for k, v in exc.message_dict.items()}
        return ApiError(422, ErrorCode.VALIDATION, _("提交的数据有误，请检查。"), fields=fields)
    return exc


def check_body_fields(kind: str, body: dict[str, str]) -> None:
    """Only the kind's editable fields: the rest of a body is drawn from the record and a misspelt
    key must not be stored silently."""
    if kind not in document_kinds.KINDS:
        return  # the service refuses the kind itself (unknown_kind)
    names = {spec.name for spec in document_kinds.kind(kind).fields}
    unknown = sorted(set(body) - names)
    if unknown:
        raise ApiError(
            422,
            ErrorCode.VALIDATION,
            _("提交的数据有误，请检查。"),
            fields={f"body.{name}": [_("此文书没有此项。")] for name in unknown},
        )


def _in_scope(request: HttpRequest, document_id: int) -> Document:
    document = selectors.document_in_scope(auth_user(request), document_id)
    if document is None:
        raise document_not_found()
    return document


def _write(
    request: HttpRequest,
    *,
    key: str | None,
    payload: Schema | None,
    status: int,
    work: Callable[[], Document],
    field_prefix: str = "",
) -> HttpResponse:
    """Run ``work`` once per Idempotency-Key; answer with the document it returns (metadata only:
    the body is read with ``GET /documents/{id}``, so no personal data sits in the replay store)."""
    user = auth_user(request)

    def action() -> IdempotentResult:
        try:
            document = work()
        except (documents.DocumentRefused, PermissionDenied, DjangoValidationError) as exc:
            raise document_error(exc, field_prefix=field_prefix) from None
        return IdempotentResult(status=status, body=document_body(_reload(document.pk)))

    body = payload.model_dump(mode="json") if payload is not None else {}
    fingerprint = request_fingerprint(method="POST", path=request.path, payload=body)
    result = run_idempotent(user=user, key=key, fingerprint=fingerprint, action=action)
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return json_response(request, result.body, status=result.status, headers=headers)


_WRITE_RESPONSES = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# --- /petitions/{number}/documents -------------------------------------------------------------


@petition_router.get(
    "/{number}/documents", response={200: DocumentListOut, 401: ErrorOut, 404: ErrorOut}, summary="文书列表"
)
def list_documents(request: HttpRequest, number: str) -> dict[str, Any]:
    """Every document of the petition, drafts included, oldest first — metadata without the body.
    A petition that does not exist and one outside the caller's scope give the same 404."""
    petition = access_petition(auth_user(request), number)
    found = selectors.documents_of_petition(petition)
    approval = documents.approval_rules(found)  # one query for every organisation and kind
    return {
        "results": [document_body(d, requires_approval=approval[(d.organisation_id, d.kind)]) for d in found]
    }


@petition_router.post(
    "/{number}/documents", response={201: DocumentOut, **_WRITE_RESPONSES}, summary="起草文书"
)
def draft_document(
    request: HttpRequest, number: str, payload: DocumentDraftIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """起草: a draft of ``kind`` for the petition, its body drawn from the record and the given
    ``body`` fields (only the kind's editable fields; see docs/api.md).  Only staff of the issuing
    organisation; 409 ``not_available`` while the petition is not at the step that calls for the
    kind.  The decision letter and the review and recheck opinions are better drafted through the
    ``reply``/``review``/``recheck`` actions, which check the step first."""
    user = auth_user(request)
    access_petition(user, number)
    check_body_fields(payload.kind, payload.body)

    def work() -> Document:
        supersedes = None
        if payload.supersedes is not None:
            supersedes = selectors.document_in_scope(user, payload.supersedes)
            if supersedes is None:
                message = _("只能更正本事项已印发的同类文书。")
                raise ApiError(422, "bad_supersedes", message, fields={"supersedes": [message]})
        return documents.draft(
            user=user, number=number, kind=payload.kind, body=payload.body, supersedes=supersedes
        )

    return _write(request, key=idempotency_key, payload=payload, status=201, work=work, field_prefix="body.")


# --- /documents/{id} ---------------------------------------------------------------------------


def _file_response(request: HttpRequest, document_id: int, fmt: str) -> FileResponse:
    user = auth_user(request)
    document = _in_scope(request, document_id)
    if not document.is_issued:
        raise ApiError(409, "not_issued", _("文书尚未印发，没有正式文件；草稿请在系统中预览。"))
    if fmt == "pdf" and not document.pdf_file:
        try:
            ensure_pdf(document)  # the worker makes it after issue; not yet (or it failed): now
        except ConversionFailed:
            raise ApiError(
                503, "pdf_unavailable", _("PDF文件暂时无法生成，请稍后再试，或先下载DOCX文件。")
            ) from None
    stored = document.pdf_file if fmt == "pdf" else document.docx_file
    with transaction.atomic():
        record_event(
            actor=user, action="document.download", obj=document,
            data={"via": "api", "petition": document.petition.number, "format": fmt},
        )  # fmt: skip
    response = FileResponse(
        open_plaintext(stored),
        as_attachment=True,
        filename=f"{document.reference or document.kind}.{fmt}",
        content_type="application/pdf" if fmt == "pdf" else DOCX_TYPE,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _file_openapi(content_type: str) -> dict[str, Any]:
    return {
        "responses": {
            200: {
                "description": "文件（解密后传送）",
                "content": {content_type: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    }


_FILE_RESPONSES = {401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# The file routes come before "/{document_id}", which would otherwise take "12.pdf" as an id.
@router.get(
    "/{document_id}.pdf",
    response={**_FILE_RESPONSES, 503: ErrorOut},
    summary="下载文书 PDF",
    openapi_extra=_file_openapi("application/pdf"),
)
def download_document_pdf(request: HttpRequest, document_id: int) -> FileResponse:
    """The issued document's PDF (made now if the worker has not made it yet; 503
    ``pdf_unavailable`` if the converter is down).  409 ``not_issued`` for a draft.  Audited
    (``document.download``)."""
    return _file_response(request, document_id, "pdf")


@router.get(
    "/{document_id}.docx",
    response=_FILE_RESPONSES,
    summary="下载文书 DOCX",
    openapi_extra=_file_openapi(DOCX_TYPE),
)
def download_document_docx(request: HttpRequest, document_id: int) -> FileResponse:
    """The issued document's DOCX, as it was issued.  409 ``not_issued`` for a draft.  Audited
    (``document.download``)."""
    return _file_response(request, document_id, "docx")


@router.get(
    "/{document_id}", response={200: DocumentDetailOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="文书详情",
)  # fmt: skip
def get_document(request: HttpRequest, document_id: int) -> HttpResponse:
    """The document's metadata and its body fields.  Staff who may see the petition may read the
    body, which can hold the petitioner's name and address: each read is audited
    (``document.view``), as the petition's detail is."""
    user = auth_user(request)
    document = _in_scope(request, document_id)
    with transaction.atomic():
        record_event(actor=user, action="document.view", obj=document, data={"via": "api"})
    return json_response(request, document_body(document, detail=True), status=200)


@router.post("/{document_id}/body", response={200: DocumentOut, **_WRITE_RESPONSES}, summary="修改文书草稿")
def edit_document(
    request: HttpRequest, document_id: int, payload: DocumentEditIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """修改草稿: change body fields of a draft (409 ``issued`` once issued: draft a correction).
    An approved draft that is changed goes back to ``draft`` and needs approving again."""
    user = auth_user(request)
    document = _in_scope(request, document_id)
    check_body_fields(document.kind, payload.body)

    def work() -> Document:
        return documents.update_draft(user=user, document=document, body=payload.body)

    return _write(request, key=idempotency_key, payload=payload, status=200, work=work, field_prefix="body.")


@router.post("/{document_id}/approve", response={200: DocumentOut, **_WRITE_RESPONSES}, summary="审批文书")
def approve_document(
    request: HttpRequest,
    document_id: int,
    payload: ApproveIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> HttpResponse:
    """审批: a leader of the issuing organisation or of a body above it approves the draft (403
    for anyone else; 409 ``wrong_state`` if it is not a draft)."""
    user = auth_user(request)
    document = _in_scope(request, document_id)
    payload = payload or ApproveIn()

    def work() -> Document:
        return documents.approve(user=user, document=document, note=payload.note)

    return _write(request, key=idempotency_key, payload=payload, status=200, work=work)


@router.post("/{document_id}/issue", response={200: DocumentOut, **_WRITE_RESPONSES}, summary="印发文书")
def issue_document(
    request: HttpRequest, document_id: int, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """印发: number the document (文号), keep its DOCX, and — for the decision letter and the review
    and recheck opinions — perform the step (the reply, the review, the recheck), with the
    workflow's own refusals (``wrong_state``, ``not_allowed`` …).  409 ``approval_required`` until a
    leader approved a kind that needs it; 409 ``issued`` the second time.  The PDF follows on the
    worker."""
    user = auth_user(request)
    document = _in_scope(request, document_id)

    def work() -> Document:
        return documents.issue(user=user, document=document)

    return _write(request, key=idempotency_key, payload=None, status=200, work=work)


@router.post(
    "/{document_id}/service", response={200: DocumentOut, **_WRITE_RESPONSES}, summary="登记文书送达"
)
def record_document_service(
    request: HttpRequest, document_id: int, payload: ServiceIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """送达: how and when the issued document reached the addressee — once (409
    ``already_served``).  ``detail.recipient`` for ``in_person``, ``detail.tracking_number`` for
    ``post``, ``detail.announcement`` for ``announcement`` (422 naming ``detail.…`` otherwise);
    ``served_on`` not before the date of issue nor after today.  Serving a decision letter or a
    review opinion starts the petitioner's windows from that day."""
    user = auth_user(request)
    document = _in_scope(request, document_id)
    detail = payload.detail.model_dump(exclude_none=True) if payload.detail is not None else {}

    def work() -> Document:
        try:
            return documents.record_service(
                user=user,
                document=document,
                method=payload.method,
                served_on=payload.served_on,
                detail=detail,
            )
        except documents.DocumentRefused:
            raise
        except DjangoValidationError as exc:
            # the service names the detail's keys bare (recipient …); the body nests them
            if hasattr(exc, "error_dict"):
                fields = {
                    (f"detail.{k}" if k in ServiceDetailIn.model_fields else k): [str(m) for m in v]
                    for k, v in exc.message_dict.items()
                }
                raise ApiError(
                    422, ErrorCode.VALIDATION, _("提交的数据有误，请检查。"), fields=fields
                ) from None
            raise

    return _write(request, key=idempotency_key, payload=payload, status=200, work=work)
