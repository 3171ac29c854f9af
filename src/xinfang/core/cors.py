"""Cross-origin requests to the API: answered only for the origins an operator configured.

Issue #7, point 28: a browser page on any site could post to the public API.  Browsers enforce the
same-origin policy with CORS headers, so the API sends none unless the request's ``Origin`` is one
of ``XINFANG_CORS_ORIGINS`` (exact ``scheme://host[:port]`` strings; no wildcard, because every
cross-origin caller is a known partner page).  A preflight (``OPTIONS`` with
``Access-Control-Request-Method``) from a configured origin gets 204 with the allowed methods and
headers; from any other origin it gets 403 without CORS headers, so the browser never sends the
real request.  Simple requests (``text/plain`` and form bodies) need no preflight, which is why the
API also refuses every non-JSON body with 415 (``api.v1``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .input_guard import API_PREFIX

__all__ = ["ALLOWED_HEADERS", "ALLOWED_METHODS", "CorsMiddleware", "allowed_origin"]

ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-Match"
EXPOSED_HEADERS = "ETag, Location, Retry-After, Idempotent-Replayed"
PREFLIGHT_MAX_AGE = "600"


def allowed_origin(request: HttpRequest) -> str | None:
    """The request's ``Origin`` if it is configured in ``XINFANG_CORS_ORIGINS``, else None."""
    origin = request.headers.get("Origin", "")
    return origin if origin and origin in settings.XINFANG_CORS_ORIGINS else None


class CorsMiddleware:
    """CORS headers on ``/api/`` responses to configured origins; preflights answered here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        origin = allowed_origin(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = HttpResponse(status=204 if origin else 403)
            if origin:
                response["Access-Control-Allow-Methods"] = ALLOWED_METHODS
                response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
                response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        else:
            response = self.get_response(request)
        if origin:
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        # Caches must not hand one origin's answer to another.
        response["Vary"] = ", ".join(filter(None, [response.get("Vary"), "Origin"]))
        return response
