"""Request context (core/context.py, middleware.py, net.py): the client address seen by the audit log."""

from __future__ import annotations

import threading

import pytest
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from xinfang.core.context import current_ip, request_context
from xinfang.core.middleware import RequestContextMiddleware
from xinfang.core.net import client_ip


def test_context_is_per_thread():
    """Another thread serving another request does not see this request's address."""
    seen = []
    with request_context(ip="192.0.2.1"):
        thread = threading.Thread(target=lambda: seen.append(current_ip()))
        thread.start()
        thread.join()
    assert seen == [""]


def test_context_is_reset_after_an_exception():
    """An exception inside a request does not leak its address into the next one."""
    with pytest.raises(RuntimeError), request_context(ip="192.0.2.1"):
        raise RuntimeError
    assert current_ip() == ""


def test_middleware_exposes_the_client_address_during_the_request():
    """Services called by a view see the request's address; afterwards it is cleared."""
    seen = []

    def view(request):
        seen.append(current_ip())
        return HttpResponse()

    RequestContextMiddleware(view)(RequestFactory().get("/", REMOTE_ADDR="203.0.113.9"))
    assert seen == ["203.0.113.9"]
    assert current_ip() == ""


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "203.0.113.9"),  # no proxy trusted: the header is the client's to forge
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # only the address our proxy added counts
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (2, "198.51.100.1", "203.0.113.9"),  # fewer hops than proxies: fall back to the peer
    ],
)
def test_client_ip_trusts_only_configured_proxies(proxies, forwarded, expected):
    """X-Forwarded-For is read only through the configured number of proxies, from the right."""
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(XINFANG_TRUSTED_PROXIES=proxies):
        assert client_ip(request) == expected
