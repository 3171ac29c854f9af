"""Request middleware: the client address for the audit log, and the interface language."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from .context import request_context
from .net import client_ip


class RequestContextMiddleware:
    """Exposes the client address to services that write audit events without a request argument."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_context(ip=client_ip(request)):
            return self.get_response(request)


class LanguageMiddleware(LocaleMiddleware):
    """Simplified Chinese unless the user picked another language with the language menu.

    Django's LocaleMiddleware would follow the browser's Accept-Language, so a clerk on an English
    system browser would get English screens unasked; here only the language cookie (set by the
    menu, ``set_language``) switches away from ``LANGUAGE_CODE``.
    """

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
