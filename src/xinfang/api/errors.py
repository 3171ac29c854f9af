"""The one error shape of the API, and the handlers that turn every failure into it.

Every error response body is::

    {"error": {"code": "<stable code>", "message": "<Chinese message>", "fields": {"<path>": ["…"]}}}

``code`` is part of the contract (clients branch on it, STYLE.md §7 rule 25); ``message`` is for
people and may be reworded; ``fields`` is present only for validation errors and is keyed by the
dotted path of the offending input, e.g. ``"title"`` or ``"petitioners.0.id_number"``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import Throttled as NinjaThrottled
from ninja.errors import ValidationError as NinjaValidationError

from xinfang.core.throttle import Throttled
from xinfang.petitions.access import PetitionNotFound
from xinfang.portal.services import QueryCodeLocked, TrackingFailed
from xinfang.workflow.engine import TransitionRefused

from .idempotency import IdempotencyConflict

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger("django.request")  # where Django reports its own 500s (mail_admins …)


class ErrorCode:
    """The stable error codes.  Add new ones here and in docs/api.md; never rename one."""

    VALIDATION = "validation_error"
    NOT_FOUND = "not_found"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    THROTTLED = "throttled"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    BAD_REQUEST = "bad_request"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    SERVER_ERROR = "server_error"
    UNKNOWN_ACTION = "unknown_action"
    # The public surface (issue #7 points 26, 28, 29; docs/security.md §7).  bad_request and
    # payload_too_large are also spelt in core.input_guard, which refuses NUL and big bodies.
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    QUERY_CODE_LOCKED = "query_code_locked"
    CAPTCHA_INVALID = "captcha_invalid"
    # A person asked for a token with a password (403); an error code, not a secret.
    TOKEN_NOT_ALLOWED = "token_not_allowed"  # noqa: S105
    # An upload refused by the attachment checks (type, size, count, whole-container checks:
    # issue #7 point 27), 422 with the reasons under fields.attachments.
    ATTACHMENT_REFUSED = "attachment_refused"
    # A refused workflow action keeps the code of its TransitionRefused (see REFUSAL_STATUS).


class UnsupportedMediaType(Exception):
    """A body sent as something other than JSON to a JSON endpoint (415); see v1.JsonOnlyParser."""


class ApiError(Exception):
    """An error with its HTTP status, stable code and message, raised by endpoint code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers or {}
        super().__init__(message)


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The JSON body of an error response."""
    error: dict[str, Any] = {"code": code, "message": message}
    if fields is not None:
        error["fields"] = fields
    return {"error": error}


def not_found() -> ApiError:
    """The single 404 for a petition that is missing or out of the caller's scope."""
    return ApiError(404, ErrorCode.NOT_FOUND, _("信访事项不存在，或您无权查看。"))


# --- refused workflow actions ---------------------------------------------------------------------

# The HTTP status of each TransitionRefused code (workflow.engine); the code itself is passed on
# unchanged.  409: the petition's state does not allow the action now; 412: the If-Match version
# is not the current one; 403: the caller sees the petition but may not take this action;
# 422: the input is wrong.  A code not listed here is a conflict (409).
REFUSAL_STATUS = {
    "wrong_state": 409,
    "out_of_window": 409,
    "stale_version": 412,
    "not_allowed": 403,
    "missing_reason": 422,
    "invalid_unit": 422,
    "accused_unit": 422,
    # reports and routing (issue #7 points 1, 2, 4)
    "accused_unconfirmed": 409,
    "accused_office": 403,
    "must_go_up": 422,
    "outside_area": 422,
    "missing_subject": 422,
    "not_a_report": 409,
    "invalid_date": 422,
    "extension_too_long": 422,
    "missing_outcome": 422,
    "already_extended": 409,
    "extension_pending": 409,
    "no_pending_extension": 409,
    "no_completion_report": 409,
    # extensions (issue #7 point 11): asked after the deadline; approved by the one who asked
    "deadline_passed": 409,
    "own_extension": 403,
    # after the reply (evaluation, review, recheck, conclusion) and the closing actions
    "already_evaluated": 409,
    "hearing_open": 409,
    "no_hearing": 409,
    "already_reported": 409,
    "no_repeat_link": 409,
    "not_settled": 409,
    "window_open": 409,
    "no_higher_body": 409,
    "already_recused": 409,
    # issue #7 points 5, 7, 10: the objection loop, withdrawal after a reply, merging another person
    "already_objected": 409,
    "no_prior_objection": 409,
    "jurisdiction_decided": 409,
    "already_replied": 409,
    "different_petitioner": 422,
    "missing_rating": 422,
    "invalid_target": 422,
    "invalid_staff": 422,
}
# The body field a refusal is about, where the code alone says so (the endpoint adds the field of
# a missing reason, which depends on the action).
REFUSAL_FIELDS = {
    "invalid_unit": "unit",
    "accused_unit": "unit",
    "must_go_up": "unit",
    "outside_area": "unit",
    "missing_subject": "subject_organisation",
    "invalid_date": "report_due_on",
    "extension_too_long": "days",
    "missing_outcome": "outcome",
    "missing_rating": "office_rating",  # the service names unit_rating when that is the one missing
    "invalid_target": "into",
    "invalid_staff": "staff",
    "different_petitioner": "into",
}


def refusal_error(exc: TransitionRefused, *, field: str | None = None) -> ApiError:
    """A refused action as an API error: status by code, ``code`` = the refusal's code, and
    ``fields`` when the refusal is about one input field."""
    code = exc.code or "refused"
    message = exc.messages[0]
    status = REFUSAL_STATUS.get(code, 409)
    field = field or REFUSAL_FIELDS.get(code)
    fields = {field: [message]} if status == 422 and field else None
    return ApiError(status, code, message, fields=fields)


# --- pydantic / ninja schema errors ---------------------------------------------------------------

# Chinese messages for the pydantic error types a client is likely to cause; anything else keeps
# pydantic's own (English) text rather than a vague translation.
_PYDANTIC_MESSAGES = {
    "missing": "此项为必填项。",
    "extra_forbidden": "不支持此字段。",
    "string_type": "应为文本。",
    "string_too_short": "请填写此项。",
    "string_too_long": "内容过长。",
    "int_type": "应为整数。",
    "int_parsing": "应为整数。",
    "int_from_float": "应为整数。",
    "bool_type": "应为 true 或 false。",
    "bool_parsing": "应为 true 或 false。",
    "date_type": "日期格式应为 YYYY-MM-DD。",
    "date_parsing": "日期格式应为 YYYY-MM-DD。",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD。",
    "date_from_datetime_inexact": "日期格式应为 YYYY-MM-DD。",
    "greater_than_equal": "数值过小。",
    "less_than_equal": "数值过大。",
    "literal_error": "不是可选的值。",
    "enum": "不是可选的值。",
    "list_type": "应为列表。",
    "too_long": "条目过多。",
    "model_type": "应为对象。",
    "dict_type": "应为对象。",
    "json_invalid": "请求体不是有效的 JSON。",
}
# The first element of a ninja error location is where the value came from (body, query …).
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def _field_path(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts.pop(0)
    return ".".join(str(p) for p in parts) or NON_FIELD_ERRORS


def schema_error_fields(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Turn ninja's list of pydantic errors into ``{"dotted.path": ["中文消息", …]}``."""
    fields: dict[str, list[str]] = {}
    for error in errors:
        kind = str(error.get("type", ""))
        message = _PYDANTIC_MESSAGES.get(kind) or str(error.get("msg", ""))
        if kind == "value_error" and "ctx" in error and "error" in error["ctx"]:
            message = str(error["ctx"]["error"])  # our own validators raise Chinese messages
        fields.setdefault(_field_path(error.get("loc", ())), []).append(message)
    return fields


def django_error_fields(exc: DjangoValidationError) -> dict[str, list[str]]:
    """A service's ValidationError as fields; a message without a field goes under ``__all__``."""
    if hasattr(exc, "error_dict"):
        return {key: [str(m) for m in messages] for key, messages in exc.message_dict.items()}
    return {NON_FIELD_ERRORS: [str(m) for m in exc.messages]}


# --- handlers --------------------------------------------------------------------------------------


def install_error_handlers(api: NinjaAPI) -> None:
    """Replace ninja's default handlers so every failure leaves in the one error shape."""

    def respond(request: HttpRequest, error: ApiError) -> HttpResponse:
        response = api.create_response(
            request, error_body(error.code, error.message, error.fields), status=error.status
        )
        for name, value in error.headers.items():
            response[name] = value
        return response

    def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return respond(request, exc)

    def on_schema_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields = schema_error_fields(exc.errors)
        return respond(
            request, ApiError(422, ErrorCode.VALIDATION, _("提交的数据有误，请检查。"), fields=fields)
        )

    def on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        fields = django_error_fields(exc)
        return respond(
            request, ApiError(422, ErrorCode.VALIDATION, _("提交的数据有误，请检查。"), fields=fields)
        )

    def on_transition_refused(request: HttpRequest, exc: TransitionRefused) -> HttpResponse:
        return respond(request, refusal_error(exc))

    def on_idempotency_conflict(request: HttpRequest, exc: IdempotencyConflict) -> HttpResponse:
        message = _("此幂等键已用于另一个内容不同的请求，请为新请求使用新的幂等键。")
        return respond(request, ApiError(422, ErrorCode.IDEMPOTENCY_CONFLICT, message))

    def on_permission(request: HttpRequest, exc: PermissionError) -> HttpResponse:
        return respond(request, ApiError(403, ErrorCode.FORBIDDEN, str(exc) or _("您无权进行此操作。")))

    def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        # PetitionNotFound and TrackingFailed carry the number asked for; it is not echoed back.
        return respond(request, not_found())

    def on_query_code_locked(request: HttpRequest, exc: QueryCodeLocked) -> HttpResponse:
        # The status of a wrong code (an unknown number locks the same way), and the way out.
        return respond(request, ApiError(404, ErrorCode.QUERY_CODE_LOCKED, str(QueryCodeLocked.message)))

    def on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        error = ApiError(
            401,
            ErrorCode.UNAUTHORIZED,
            _("未登录或令牌无效、已过期。"),
            headers={"WWW-Authenticate": 'Bearer realm="xinfang"'},
        )
        return respond(request, error)

    def on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        error = ApiError(429, ErrorCode.THROTTLED, exc.message, headers={"Retry-After": str(exc.retry_after)})
        return respond(request, error)

    def on_ninja_throttled(request: HttpRequest, exc: NinjaThrottled) -> HttpResponse:
        return respond(request, ApiError(429, ErrorCode.THROTTLED, str(Throttled.default_message)))

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # ninja raises HttpError itself only for a body it cannot parse (400); the rest is a
        # safety net for code that raises HttpError directly.
        if isinstance(exc.__cause__, UnsupportedMediaType):  # ninja wraps every parser error in a 400
            message = _("请求体须为 JSON，请使用 Content-Type: application/json。")
            return respond(request, ApiError(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, message))
        if exc.status_code == 400:
            return respond(request, ApiError(400, ErrorCode.BAD_REQUEST, _("请求体不是有效的 JSON。")))
        codes = {
            401: ErrorCode.UNAUTHORIZED,
            403: ErrorCode.FORBIDDEN,
            404: ErrorCode.NOT_FOUND,
            405: ErrorCode.METHOD_NOT_ALLOWED,
            429: ErrorCode.THROTTLED,
        }
        code = codes.get(
            exc.status_code, ErrorCode.BAD_REQUEST if exc.status_code < 500 else ErrorCode.SERVER_ERROR
        )
        return respond(request, ApiError(exc.status_code, code, str(exc)))

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Logged where Django logs its own 500s, so error mails and log shipping still see it;
        # the client gets the error shape, never a traceback.
        logger.error(
            "Internal Server Error: %s",
            request.path,
            exc_info=exc,
            extra={"status_code": 500, "request": request},
        )
        return respond(request, ApiError(500, ErrorCode.SERVER_ERROR, _("服务器内部错误，请稍后再试。")))

    api.add_exception_handler(ApiError, on_api_error)
    api.add_exception_handler(NinjaValidationError, on_schema_error)
    api.add_exception_handler(DjangoValidationError, on_django_validation)
    api.add_exception_handler(TransitionRefused, on_transition_refused)
    api.add_exception_handler(IdempotencyConflict, on_idempotency_conflict)
    api.add_exception_handler(PermissionError, on_permission)
    api.add_exception_handler(PetitionNotFound, on_not_found)
    api.add_exception_handler(TrackingFailed, on_not_found)
    api.add_exception_handler(QueryCodeLocked, on_query_code_locked)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(AuthenticationError, on_authentication)
    api.add_exception_handler(Throttled, on_throttled)
    api.add_exception_handler(NinjaThrottled, on_ninja_throttled)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Exception, on_unexpected)
