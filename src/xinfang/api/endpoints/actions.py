"""``/api/v1/petitions/{number}/actions/{action}``: every transition of the procedure (issue #3).

Thin, like the other endpoints: scope first (a petition out of reach is the usual 404), then the
body is checked against what the action takes, and ``workflow.services`` does the rest — state,
role, side, version, timeline and audit, all in ``engine.perform``.  A refusal keeps the code of
its TransitionRefused (errors.REFUSAL_STATUS gives the HTTP status).

``reply``, ``review`` and ``recheck`` are taken by issuing a document (issue #10 point 7): the
decision letter or the review or recheck opinion is drafted from the posted fields and, when the
issuing organisation does not require a leader's approval of that kind, issued at once — the issue
performs the step, and the answer is the petition as for any action, with the document.  When an
approval is required the answer is 202 with the draft: a leader approves it
(``POST /documents/{id}/approve``) and it is issued with ``POST /documents/{id}/issue``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Header, Path, Router, Status

from xinfang.documents import kinds as document_kinds
from xinfang.documents import services as documents
from xinfang.documents.models import Document
from xinfang.organisations.models import Organisation
from xinfang.petitions.access import PetitionNotFound, access_petition
from xinfang.petitions.models import Petition
from xinfang.petitions.services import record_view
from xinfang.workflow import services
from xinfang.workflow.engine import TransitionRefused
from xinfang.workflow.transitions import TRANSITIONS

from ..auth import auth_user, token_auth
from ..errors import ApiError, ErrorCode, refusal_error
from ..presenters import json_response, load_petition, petition_body
from ..schemas import ActionIn, ErrorOut
from .documents import DocumentPendingOut, PetitionActionOut, document_body, document_error

router = Router(tags=["workflow"], auth=token_auth)

SERVICES = services.ACTION_SERVICES

# action: (fields it requires, fields it may take besides).  A required text (a reason) is left to
# the service, which refuses a blank one with ``missing_reason``; a missing ``unit`` is a plain
# validation error.  Any other field is refused rather than silently dropped.
FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "name_subject": (
        (),
        ("subject_organisation", "no_subject_organisation", "subject_name", "subject_person"),
    ),
    "forward": (("unit",), ("comment",)),
    "assign": (("unit",), ("report_due_on", "comment")),
    "accept": ((), ("comment",)),
    "decline": (("reasons",), ()),
    "redirect": (("channel",), ()),
    "unit_accept": ((), ("comment",)),
    "return": (("reasons",), ()),
    "overrule_return": (("comment",), ()),
    "dispute_jurisdiction": (("reasons",), ()),
    "decide_jurisdiction": (("unit", "reasons"), ()),
    "request_extension": (("days", "reasons"), ()),
    "approve_extension": ((), ("comment",)),
    "reject_extension": (("reasons",), ()),
    "reply": (("outcome", "facts", "basis", "opinion"), ()),
    "approve_completion": ((), ("comment",)),
    "reject_completion": (("reasons",), ()),
    "evaluate": (("office_rating", "unit_rating"), ("reasons",)),
    "request_review": (("reasons",), ()),
    "review": (("outcome", "facts", "basis", "opinion"), ()),
    "request_recheck": (("reasons",), ()),
    "start_hearing": ((), ("comment",)),
    "end_hearing": ((), ("comment",)),
    "recheck": (("outcome", "facts", "basis", "opinion"), ()),
    "conclude": (("conclusion",), ("comment",)),
    "record_agreement": (("parties", "terms"), ()),
    "refuse_repeat": ((), ("comment",)),
    "withdraw": (("reasons",), ()),
    "merge": (("into",), ("comment",)),
    "report_urgent": (("reasons",), ()),
    "recuse": (("reasons",), ("staff",)),
    "assign_handler": (("staff",), ("reasons",)),
}
# The reason each action requires, for the ``fields`` of a ``missing_reason`` refusal.
REASON_FIELD = {
    "decline": "reasons",
    "redirect": "channel",
    "return": "reasons",
    "overrule_return": "comment",
    "request_extension": "reasons",
    "reject_extension": "reasons",
    "reject_completion": "reasons",
}  # the newer services name the field in the refusal itself (params["field"])

# Not an enum in the schema: an unknown action is a 404 ``unknown_action``, not a validation error.
_ACTION_HELP = "操作：" + "、".join(TRANSITIONS)

_ETAG = re.compile(r'"(\d+)-(\d+)"')


def expected_version(if_match: str | None, petition: Petition) -> int | None:
    """The version an ``If-Match`` header names (None: no header, or ``*``).  A value that is not
    this petition's ETag cannot match, so it fails the precondition like an old version."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.fullmatch(if_match.strip())
    if match is None or int(match[1]) != petition.pk:
        raise TransitionRefused(_("该信访事项已被他人更新，请刷新后重试。"), code="stale_version")
    return int(match[2])


def resolve_unit(ref: int | str, field: str = "unit") -> Organisation:
    """The organisation an id (integer) or a code (string, naming exactly one organisation) refers to."""
    if isinstance(ref, int):
        matches = list(Organisation.objects.filter(pk=ref))
    else:
        matches = list(Organisation.objects.filter(code=ref.strip())[:2]) if ref.strip() else []
    if len(matches) != 1:
        message = _("请选择有效的责任单位。") if field == "unit" else _("请选择有效的机构。")
        raise ApiError(422, "invalid_unit", message, fields={field: [message]})
    return matches[0]


def action_arguments(action: str, payload: ActionIn | None) -> dict[str, Any]:
    """The service's keyword arguments from the body, checked against what ``action`` takes."""
    required, optional = FIELDS[action]
    given = payload.model_dump() if payload is not None else {}
    sent = {name: value for name, value in given.items() if value is not None}
    fields: dict[str, list[str]] = {}
    for name in sent:
        if name not in required and name not in optional:
            fields[name] = [_("此操作不使用此项。")]
    if "unit" in required and "unit" not in sent:
        fields["unit"] = [_("请选择责任单位。")]
    if fields:
        raise ApiError(422, ErrorCode.VALIDATION, _("提交的数据有误，请检查。"), fields=fields)
    for name in required:
        if name == "days" and name not in sent:
            fields[name] = [_("请填写申请延长天数。")]
        # a missing reason or text: the service refuses it in its own words
        sent.setdefault(name, "")
    if fields:
        raise ApiError(422, ErrorCode.VALIDATION, _("提交的数据有误，请检查。"), fields=fields)
    if "unit" in sent:
        sent["unit"] = resolve_unit(sent["unit"])
    if "subject_organisation" in sent:  # name_subject: any organisation, by id or code
        sent["subject_organisation"] = resolve_unit(sent["subject_organisation"], "subject_organisation")
    return sent


@router.post(
    "/{number}/actions/{action}",
    response={
        200: PetitionActionOut,
        202: DocumentPendingOut,
        204: None,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        412: ErrorOut,
        422: ErrorOut,
    },
    summary="办理操作（" + "、".join(str(t.label) for t in TRANSITIONS.values()) + "）",
)
def perform_action(
    request: HttpRequest,
    number: str,
    action: Annotated[str, Path(description=_ACTION_HELP)],
    response: HttpResponse,
    payload: ActionIn | None = None,
    if_match: Annotated[
        str | None,
        Header(alias="If-Match", max_length=100, description="详情响应的 ETag；版本已变化时返回 412"),
    ] = None,
) -> Petition | tuple[int, None]:
    """Take ``action`` on the petition, as the caller.

    The actions and the body fields each takes are in docs/api.md.  With ``If-Match`` (the
    ``ETag`` of the detail) the action runs only if nobody changed the petition since (else 412
    ``stale_version``).  A petition that does not exist and one outside the caller's scope give
    the same 404; a refusal keeps the workflow's code (``wrong_state``, ``not_allowed`` …) and
    changes nothing.  The response is the petition's detail, with its new ``ETag`` — or 204
    without a body when the action took the petition out of the caller's sight (``recuse`` of
    oneself).

    ``reply``, ``review`` and ``recheck`` go through their document (处理意见书, 复查意见书,
    复核意见书): issued at once when the issuing organisation needs no approval of it (the answer
    carries ``document``: its id and 文号), else 202 with the draft, to be approved and then issued
    with ``POST /documents/{id}/issue``.
    """
    user = auth_user(request)
    # Actions registered by apps above workflow (supervision) have endpoints of their own and no
    # entry in FIELDS: unknown here too, rather than a 500.
    if action not in SERVICES or action not in FIELDS:
        raise ApiError(404, ErrorCode.UNKNOWN_ACTION, _("没有此办理操作。"))
    petition = access_petition(user, number)
    version = expected_version(if_match, petition)
    arguments = action_arguments(action, payload)
    if action in DOCUMENT_STEPS:
        return _step_by_document(request, user, petition, action, version, arguments)
    try:
        SERVICES[action](user=user, number=number, version=version, **arguments)
    except TransitionRefused as exc:
        # The input a refusal is about: named by the service (params["field"]), else the reason
        # the action requires, else the code's own field (errors.REFUSAL_FIELDS).
        field = (exc.params or {}).get("field")
        if exc.code == "missing_reason" and not field:
            field = REASON_FIELD.get(action)
        raise refusal_error(exc, field=field) from None
    try:
        petition = load_petition(user, number)
    except PetitionNotFound:
        # Done, and the caller may no longer see the petition (they stepped aside, 回避): no
        # detail and no ETag, but not a 404 either, which would say that nothing happened.
        return Status(204, None)
    record_view(user=user, petition=petition, via="api")  # the answer shows the petition's detail
    response["ETag"] = petition.etag
    return petition


# --- the steps taken by issuing a document (issue #10 point 7) ----------------------------------

# action → the kind whose issue performs it (kinds.Kind.completes_step)
DOCUMENT_STEPS = {k.completes_step: code for code, k in document_kinds.KINDS.items() if k.completes_step}


class _DryRun(Exception):
    """Undoes the trial run of a step (see ``_check_step``)."""


def _check_step(action: str, user: Any, number: str, version: int | None, arguments: dict[str, Any]) -> None:
    """Run the workflow step in a savepoint and undo it: every refusal the issue would meet (state,
    role, window, input, version) comes now, with the workflow's own code and field, before a
    draft is written — so a draft that could never be issued is not kept, and the refusals of these
    actions are the same as before documents existed."""
    try:
        with transaction.atomic():
            SERVICES[action](user=user, number=number, version=version, **arguments)
            raise _DryRun
    except _DryRun:
        pass
    except TransitionRefused as exc:
        field = (exc.params or {}).get("field")
        if exc.code == "missing_reason" and not field:
            field = REASON_FIELD.get(action)
        raise refusal_error(exc, field=field) from None


def _step_by_document(
    request: HttpRequest,
    user: Any,
    petition: Petition,
    action: str,
    version: int | None,
    arguments: dict[str, Any],
) -> Any:
    """Draft the step's document from the posted fields and issue it when no approval is needed
    (200, the petition and the document), else leave the draft for approval (202)."""
    kind = DOCUMENT_STEPS[action]
    try:
        with transaction.atomic():
            # The petition's row lock first (as engine.perform takes it), held from the trial run
            # to the issue, so nobody changes the petition in between.
            Petition.objects.select_for_update().filter(pk=petition.pk).first()
            _check_step(action, user, petition.number, version, arguments)
            document = documents.draft(user=user, number=petition.number, kind=kind, body=arguments)
            if documents.requires_approval(document):
                pending = document
            else:
                pending = None
                document = documents.issue(user=user, document=document)
    except (documents.DocumentRefused, PermissionDenied, DjangoValidationError) as exc:
        raise document_error(exc) from None
    document = Document.objects.select_related(
        "petition", "organisation", "addressee_unit", "template", "drafted_by", "approved_by", "issued_by"
    ).get(pk=document.pk)
    if pending is not None:
        message = _(
            "{kind}已起草（草稿编号{id}），须经领导审批后印发；"
            "审批后请调用 POST /api/v1/documents/{id}/issue 印发，印发后办理步骤才完成。"
        ).format(kind=document.get_kind_display(), id=document.pk)
        body = {"code": "approval_required", "message": message, "document": document_body(document)}
        return json_response(
            request, body, status=202, headers={"Location": f"/api/v1/documents/{document.pk}"}
        )
    try:
        loaded = load_petition(user, petition.number)
    except PetitionNotFound:
        return Status(204, None)
    record_view(user=user, petition=loaded, via="api")
    body = {**petition_body(loaded), "document": document_body(document)}
    return json_response(request, body, status=200, headers={"ETag": loaded.etag})
