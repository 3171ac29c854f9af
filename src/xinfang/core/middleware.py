"""Keeps the current request's actor and address for the audit log of this thread."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .context import request_context
from .net import client_ip


class RequestContextMiddleware:
    """Exposes the client address to services that write audit events without a request argument."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_context(ip=client_ip(request)):
            return self.get_response(request)
