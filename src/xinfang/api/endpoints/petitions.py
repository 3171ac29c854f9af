"""``/api/v1/petitions``: register, list and read petitions, always inside the caller's scope."""

from __future__ import annotations

from typing import Annotated

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Header, Query, Router, Status
from ninja.files import UploadedFile

from xinfang.core import pagination
from xinfang.core.pagination import SEARCH_COUNT_CAP, capped_count
from xinfang.core.replica import stale_ok
from xinfang.organisations.choices import RoleCode
from xinfang.petitions.filtersets import SearchRefused
from xinfang.petitions.models import Petition
from xinfang.petitions.services import add_attachments, find_possible_repeats, record_view
from xinfang.search.query import highlight_petitions
from xinfang.workflow import services as workflow

from ..auth import auth_user, require_role, token_auth
from ..drafts import draft_from_input
from ..errors import ApiError, ErrorCode
from ..filters import petition_list
from ..idempotency import IdempotentResult, request_fingerprint, run_idempotent
from ..presenters import created_body, json_response, load_petition
from ..schemas import (
    AttachmentOut,
    ErrorOut,
    PetitionCreatedOut,
    PetitionFilters,
    PetitionIn,
    PetitionOut,
    PetitionPageOut,
)

router = Router(tags=["petitions"], auth=token_auth)


@router.post(
    "",
    response={201: PetitionCreatedOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="登记信访事项",
)
def create_petition(
    request: HttpRequest,
    payload: PetitionIn,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", max_length=100, description="幂等键：重试时携带同一键，返回首次结果"),
    ] = None,
) -> HttpResponse:
    """Register a petition for the caller's office (role ``intake``).

    With an ``Idempotency-Key`` header, a retry returns the first response (same status and
    body, plus ``Idempotent-Replayed: true``) instead of registering twice; the same key with a
    different body is refused with 422 ``idempotency_conflict``.  Attachments are not accepted
    here (JSON only): upload them afterwards with ``POST /petitions/{number}/attachments``.
    """
    user = require_role(request, RoleCode.INTAKE)
    draft = draft_from_input(payload)

    def register() -> IdempotentResult:
        # The repeat look-up first: it reads, and needs nothing of the new petition (docs/performance.md,
        # "Registration throughput"); the number is taken inside ``register`` as its last write.
        repeats = find_possible_repeats(user, draft.petitioners)
        registration = workflow.register(draft=draft, office=user.organisation, actor=user, keep_written=True)
        body = created_body(registration, user=user, draft=draft, repeats=repeats)
        return IdempotentResult(status=201, body=body)

    fingerprint = request_fingerprint(
        method="POST", path=request.path, payload=payload.model_dump(mode="json")
    )
    result = run_idempotent(user=user, key=idempotency_key, fingerprint=fingerprint, action=register)
    headers = {"Location": reverse("api-v1:get_petition", kwargs={"number": result.body["number"]})}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(request, result.body, status=result.status, headers=headers)


@router.get("", response={200: PetitionPageOut, 401: ErrorOut, 422: ErrorOut}, summary="信访事项列表")
@stale_ok()
def list_petitions(request: HttpRequest, filters: Query[PetitionFilters]) -> dict[str, object]:
    """The petitions the caller may see, filtered like the work queue, one page at a time.
    Petitioners are shown masked (ID and phone numbers are not decrypted for lists)."""
    try:
        qs = petition_list(auth_user(request), filters)
    except SearchRefused as exc:
        if isinstance(exc.__cause__, PermissionError):
            raise PermissionError(exc.message) from exc
        raise DjangoValidationError({"q": [exc.message]}) from exc
    # One row more than the page: when the list ends on this page, its count is known without
    # the count query (a rare word, a small filter).
    rows = list(qs[filters.offset : filters.offset + filters.limit + 1])
    page = rows[: filters.limit]
    cap = SEARCH_COUNT_CAP if filters.q else pagination.COUNT_CAP  # read now: settings may change it
    if len(rows) <= filters.limit and (rows or not filters.offset) and filters.offset + len(rows) <= cap:
        count, exact = filters.offset + len(rows), True
    else:
        count, exact = capped_count(qs, cap)
    if filters.q:
        highlight_petitions(page, filters.q)
    return {
        "count": count,
        "count_exact": exact,
        "limit": filters.limit,
        "offset": filters.offset,
        "results": page,
    }


@router.get(
    "/{number}",
    response={200: PetitionOut, 401: ErrorOut, 404: ErrorOut},
    summary="信访事项详情",
)
def get_petition(request: HttpRequest, number: str, response: HttpResponse) -> Petition:
    """One petition with its petitioners (masked), attachments and whole timeline.  A petition
    that does not exist and one outside the caller's scope give the same 404.  The ``ETag``
    header carries the version, for ``If-Match`` on future changes."""
    user = auth_user(request)
    petition = load_petition(user, number)
    # Audited like the staff page (issue #7 point 23): the answer carries personal data.
    record_view(user=user, petition=petition, via="api")
    response["ETag"] = petition.etag
    return petition


@router.post(
    "/{number}/attachments",
    response={201: list[AttachmentOut], 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="上传附件",
)
def upload_attachments(
    request: HttpRequest,
    number: str,
    files: list[UploadedFile] = File(..., description="附件文件"),  # noqa: B008
) -> Status:
    """Attach scans, photos or documents to a petition (multipart ``files``, one or more).

    For intake clerks and handlers who may see the petition; types are checked by content, at most
    10 files per petition and 10 MB each; all or nothing.  Each file is checked as a whole (a Word
    file holding a program, macros or a zip bomb, a damaged image or PDF): any refusal is a 422
    ``attachment_refused`` with the reasons under ``fields.attachments``.
    """
    try:
        stored = add_attachments(user=auth_user(request), number=number, uploads=list(files))
    except DjangoValidationError as exc:
        raise _attachment_refused(exc) from None
    return Status(201, stored)


def _attachment_refused(exc: DjangoValidationError) -> Exception:
    """A refusal of the files themselves as ``attachment_refused``; anything else unchanged."""
    messages = getattr(exc, "message_dict", {}).get("attachments")
    if not messages:
        return exc
    return ApiError(
        422,
        ErrorCode.ATTACHMENT_REFUSED,
        _("附件未通过检查，未保存任何文件。"),
        fields={"attachments": [str(m) for m in messages]},
    )
