"""Refuse malformed input before any view sees it: NUL characters anywhere, oversized bodies.

Why one middleware rather than a check per route (issue #7, point 26): PostgreSQL cannot store
or even compare a text containing ``\\x00`` (``ValueError: A string literal cannot contain NUL``),
so a NUL in any text field, list filter, path, header, tracking code or login name reached the
database and gave a 500 on ten routes.  Django's form ``CharField`` already refuses NUL, but JSON
bodies, query strings, URL paths and headers are read by other code.  Refusing NUL at the door
covers every present and future route the same way; no legitimate input of this system contains
one (names, addresses and petition texts are plain text; attachments are files and are not
inspected here, only their names are).

Bodies: a JSON body larger than ``XINFANG_MAX_JSON_BODY`` bytes is refused with 413 before it is
read (the largest legitimate one, a petition with 50 petitioners, is a few hundred KB); any other
non-file body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` gets 413 too (Django would raise
``RequestDataTooBig`` deep inside a view, which the API turned into a 500).

Refusals under ``/api/`` leave in the API's error shape (``docs/api.md``: ``bad_request``,
``payload_too_large``); this module is on floor 0 and cannot import ``xinfang.api.errors``, so the
two codes are spelt here and listed there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

__all__ = ["API_PREFIX", "InputGuardMiddleware", "contains_nul", "is_json_content_type"]

API_PREFIX = "/api/"
NUL = "\x00"
# ``\u0000`` in JSON text, unless its backslash is itself escaped (``\\u0000`` is the six
# characters "\u0000", which are harmless).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


class _Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message
        super().__init__(message)


def contains_nul(value: object) -> bool:
    """Whether a decoded value (text, or a list/dict of them) holds a NUL character anywhere."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(v) for v in value)
    return False


def is_json_content_type(content_type: str) -> bool:
    """``application/json`` or a ``+json`` type such as ``application/problem+json``."""
    main = content_type.split(";", 1)[0].strip().lower()
    return main == "application/json" or (main.startswith("application/") and main.endswith("+json"))


def _nul_refusal() -> _Refusal:
    return _Refusal(400, "bad_request", _("请求中含有不允许的空字符（NUL），请删除后重新提交。"))


def _too_large() -> _Refusal:
    return _Refusal(413, "payload_too_large", _("提交的内容过大。"))


class InputGuardMiddleware:
    """400 for a NUL character in the path, query string, headers or non-file body fields; 413 for
    a body over the limits.  Placed before the session and CSRF middleware, so a refused request
    touches neither."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            self._check(request)
        except _Refusal as refusal:
            return _respond(request, refusal)
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> None:
        if NUL in request.path or contains_nul(dict(request.GET.lists())):
            raise _nul_refusal()
        if any(NUL in str(v) for k, v in request.META.items() if k.startswith("HTTP_")):
            raise _nul_refusal()
        if request.method in {"GET", "HEAD", "OPTIONS"}:
            return
        content_type = request.META.get("CONTENT_TYPE", "")
        length = _content_length(request)
        if content_type.startswith("multipart/form-data"):
            self._check_multipart(request, length)
        elif content_type.startswith("application/x-www-form-urlencoded"):
            if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                raise _too_large()
            fields, _names = _form_data(request)
            if contains_nul(fields):
                raise _nul_refusal()
        else:
            self._check_raw_body(request, length, json_body=is_json_content_type(content_type))

    @staticmethod
    def _check_multipart(request: HttpRequest, length: int) -> None:
        if length > settings.XINFANG_MAX_UPLOAD_REQUEST:
            raise _too_large()
        fields, names = _form_data(request)
        if contains_nul(fields) or contains_nul(names):
            raise _nul_refusal()

    @staticmethod
    def _check_raw_body(request: HttpRequest, length: int, *, json_body: bool) -> None:
        # Any body that is not a form: JSON for the API, or something the API will refuse as an
        # unsupported type (415) — it is still checked, so the refusal never depends on the type.
        limit = settings.XINFANG_MAX_JSON_BODY
        if length > limit:
            raise _too_large()
        try:
            body = request.body
        except RequestDataTooBig:
            raise _too_large() from None
        if len(body) > limit:  # a chunked body announces no length
            raise _too_large()
        if b"\x00" in body or (json_body and _JSON_NUL.search(body) and _json_has_nul(body)):
            raise _nul_refusal()


def _json_has_nul(body: bytes) -> bool:
    """Confirm the regex's hit on the decoded document (invalid JSON is left to the API's 400)."""
    try:
        return contains_nul(json.loads(body))
    except ValueError:
        return False


def _form_data(request: HttpRequest) -> tuple[dict[str, list[str]], list[str]]:
    """The non-file fields and the uploaded file names of a form body (parsed once; the view
    reuses the result), turning Django's RequestDataTooBig into a 413."""
    try:
        fields = dict(request.POST.lists())
        names = [upload.name or "" for _key, uploads in request.FILES.lists() for upload in uploads]
    except RequestDataTooBig:
        raise _too_large() from None
    return fields, names


def _content_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _respond(request: HttpRequest, refusal: _Refusal) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        body = {"error": {"code": refusal.code, "message": refusal.message}}
        return HttpResponse(
            json.dumps(body, ensure_ascii=False),
            status=refusal.status,
            content_type="application/json; charset=utf-8",
        )
    return HttpResponse(refusal.message, status=refusal.status, content_type="text/plain; charset=utf-8")
