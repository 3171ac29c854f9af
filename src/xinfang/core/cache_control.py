"""``Cache-Control: no-store`` on every response that may carry personal data (issue #7, point 30).

Staff pages, the staff API and the portal's tracking pages show names, masked (or revealed) ID
numbers, petition texts and timelines.  A shared or browser cache must not keep them: a public
computer in a service hall, a proxy of the office network.  Rather than decorate each view (and
forget the next one), every response under the prefixes below gets ``no-store`` unless the view
set ``Cache-Control`` itself.  The portal's home page, static files (served by WhiteNoise before
this middleware) and the OpenAPI document carry no personal data and may be cached.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

__all__ = ["NO_STORE_PREFIXES", "NoStoreMiddleware"]

NO_STORE_PREFIXES = ("/staff/", "/api/", "/portal/track/", "/portal/submit", "/captcha/")
_CACHEABLE = ("/api/v1/openapi.json",)


class NoStoreMiddleware:
    """Adds ``Cache-Control: no-cache, no-store, must-revalidate, private`` (Django's never_cache)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        path = request.path
        if path.startswith(NO_STORE_PREFIXES) and path not in _CACHEABLE and "Cache-Control" not in response:
            add_never_cache_headers(response)
        return response
