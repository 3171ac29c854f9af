"""Loading petitions for display and turning them into response bodies (no rules here)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

from xinfang.petitions.access import access_petition
from xinfang.petitions.drafts import PetitionDraft
from xinfang.petitions.models import Petition, PetitionEvent
from xinfang.petitions.services import Registration, find_possible_repeats, forget_written

from .filters import masked_petitioners, open_assignments
from .idempotency import IdempotentResult, request_fingerprint, run_idempotent
from .schemas import PetitionOut, PossibleRepeatOut

_renderer = JSONRenderer()


def json_response(
    request: HttpRequest, body: Any, *, status: int, headers: dict[str, str] | None = None
) -> HttpResponse:
    """A JSON response rendered the way ninja renders its own, for bodies built ahead of time
    (a stored idempotent result must replay byte for byte)."""
    response = HttpResponse(
        _renderer.render(request, body, response_status=status),
        status=status,
        content_type=f"{_renderer.media_type}; charset={_renderer.charset}",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def idempotent_response(
    request: HttpRequest, *, user: Any, key: str | None, payload: Any, action: Callable[[], IdempotentResult]
) -> HttpResponse:
    """Run ``action`` once per ``Idempotency-Key`` (``run_idempotent``) for a POST of ``payload`` (a
    schema, or ``None`` for no body) and answer its result, with ``Idempotent-Replayed: true`` when
    it is the stored result of an earlier request."""
    body = payload.model_dump(mode="json") if payload is not None else {}
    fingerprint = request_fingerprint(method="POST", path=request.path, payload=body)
    result = run_idempotent(user=user, key=key, fingerprint=fingerprint, action=action)
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return json_response(request, result.body, status=result.status, headers=headers)


def load_petition(user: Any, number: str) -> Petition:
    """The petition ``number`` with what the detail shows, if ``user`` may see it.

    Scope first (``access_petition``: missing and forbidden both raise PetitionNotFound), then one
    load with every relation: a fixed number of queries however long the timeline is.
    """
    petition = access_petition(user, number)
    return (
        Petition.objects.select_related(
            "category", "locality", "office", "subject_organisation", "repeat_of", "registered_by", "handler"
        )
        .prefetch_related(
            masked_petitioners(),
            open_assignments(),
            "attachments",
            Prefetch("events", queryset=PetitionEvent.objects.select_related("actor", "organisation")),
        )
        .get(pk=petition.pk)
    )


def jsonable(data: Any) -> Any:
    """Plain JSON data encoded exactly as ninja encodes responses (e.g. datetimes to the
    millisecond), so a body built ahead of time and stored looks like every other response."""
    return json.loads(json.dumps(data, cls=NinjaJSONEncoder))


def petition_body(petition: Petition) -> dict[str, Any]:
    """The detail of a loaded petition as JSON-ready data."""
    return jsonable(PetitionOut.from_orm(petition).model_dump())


def created_body(
    registration: Registration, *, user: Any, draft: PetitionDraft, repeats: list[Petition] | None = None
) -> dict[str, Any]:
    """The 201 body of a registration: the detail, the query code (the only time it is shown),
    and earlier petitions of the same people within the clerk's scope (``repeats``, looked up by
    the caller before registering, outside the office's numbering lock; else looked up here).

    The detail is built from the petition as registration wrote it (its petitioners, events and
    related objects are set on it): nothing is read back.  Runs inside the registering
    transaction: if the new petition is not in the clerk's own scope (a confidential report
    against the clerk's organisation, 条例 Art. 30 ¶3), PermissionError undoes the registration —
    after a write, check the object is still visible (STYLE.md §5): one indexed query by id.
    """
    petition = registration.petition
    if not Petition.objects.restrict(user).filter(pk=petition.pk).exists():
        raise PermissionError(_("您无权登记针对本机构的检举控告，请交由上级信访工作机构登记。"))
    if repeats is None:
        repeats = find_possible_repeats(user, draft.petitioners)
    shown = [p for p in repeats if p.pk != petition.pk and p.pk != petition.repeat_of_id]
    body = {
        **petition_body(petition),
        "query_code": registration.query_code,
        "possible_repeats": [jsonable(PossibleRepeatOut.from_orm(p).model_dump()) for p in shown],
    }
    forget_written(petition)
    return body
