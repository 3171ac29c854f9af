"""Request-scoped context (client address) without passing the request into every service."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_ip: contextvars.ContextVar[str] = contextvars.ContextVar("xinfang_client_ip", default="")


@contextlib.contextmanager
def request_context(*, ip: str) -> Iterator[None]:
    token = _ip.set(ip)
    try:
        yield
    finally:
        _ip.reset(token)


def current_ip() -> str:
    """The address of the request being served, or "" outside a request (jobs, commands)."""
    return _ip.get()
