"""SMS gateways.

A gateway has one method, ``send(phone, text) -> provider message id``, and raises ``SmsError``
(``retryable`` or not) when the provider refuses or cannot be reached.  Which gateway is used is a
setting (``XINFANG_SMS_BACKEND``, a dotted path); its account comes from ``XINFANG_SMS_URL``,
``XINFANG_SMS_ACCOUNT``, ``XINFANG_SMS_PASSWORD``.  docs/deployment.md, "Notifications", describes
the provider protocol and how to add another provider.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
import uuid
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class SmsError(Exception):
    """The provider did not take the message.  ``retryable``: a later attempt may succeed (network,
    provider busy, rate limit); otherwise the message is marked failed at once (bad number, bad
    account, rejected content) for staff to see."""

    def __init__(self, message: str, *, retryable: bool, code: str = "") -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


class SmsBackend:
    """The interface.  ``demo``: nothing leaves the machine (the outbox shows "sent (demo)")."""

    demo = False

    def send(self, phone: str, text: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleBackend(SmsBackend):
    """For development and demonstrations: logs that a message was "sent" (masked number, never the
    text, which may name the petition) and returns a made-up id."""

    demo = True

    def send(self, phone: str, text: str) -> str:
        msg_id = f"demo-{uuid.uuid4().hex[:12]}"
        log.info("SMS (demo) to %s***%s: %d characters, id %s", phone[:3], phone[-2:], len(text), msg_id)
        return msg_id


class Chuanglan253Backend(SmsBackend):
    """创蓝253 (chuanglan) "智能短信" JSON API, v1.

    ``POST {XINFANG_SMS_URL}`` (e.g. ``https://smssh1.253.com/msg/v1/send/json``) with
    ``Content-Type: application/json`` and the body
    ``{"account": ..., "password": ..., "msg": text, "phone": "13800000000", "report": "true"}``;
    the answer is ``{"code": "0", "msgId": "...", "time": "...", "errorMsg": ""}`` on success, a
    non-zero ``code`` with ``errorMsg`` otherwise.  The signature 【…】 is part of ``msg``.

    Retried: no connection, timeouts, HTTP 5xx/429, and the codes in ``RETRYABLE_CODES`` (the
    provider is busy or rate-limits: 103 提交过快, 104 系统忙, 109 无发送额度 — sent once the
    account is topped up, 110 不在发送时间内).  Every other code (wrong account/password, bad
    number, rejected content, …) fails the message at once.
    """

    RETRYABLE_CODES = frozenset({"103", "104", "109", "110"})

    def __init__(
        self,
        url: str | None = None,
        account: str | None = None,
        password: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.url = url if url is not None else settings.XINFANG_SMS_URL
        self.account = account if account is not None else settings.XINFANG_SMS_ACCOUNT
        self.password = password if password is not None else settings.XINFANG_SMS_PASSWORD
        self.timeout = timeout if timeout is not None else settings.XINFANG_SMS_TIMEOUT

    def send(self, phone: str, text: str) -> str:
        if not self.url or not self.account:
            raise SmsError("XINFANG_SMS_URL / XINFANG_SMS_ACCOUNT not set", retryable=False, code="config")
        payload = json.dumps(
            {
                "account": self.account,
                "password": self.password,
                "msg": text,
                "phone": phone,
                "report": "true",
            },
            ensure_ascii=False,
        ).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
            self.url,
            data=payload,
            headers={"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            retryable = exc.code >= 500 or exc.code == 429
            raise SmsError(f"HTTP {exc.code}", retryable=retryable, code=f"http{exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"connection: {exc}", retryable=True, code="network") from exc
        try:
            answer: dict[str, Any] = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise SmsError("unreadable answer", retryable=True, code="answer") from exc
        code = str(answer.get("code", ""))
        if code == "0":
            return str(answer.get("msgId") or "")
        message = str(answer.get("errorMsg") or "")[:200]
        raise SmsError(f"{code} {message}".strip(), retryable=code in self.RETRYABLE_CODES, code=code)


def get_backend() -> SmsBackend:
    """The configured gateway (a fresh instance: settings may change in tests)."""
    return import_string(settings.XINFANG_SMS_BACKEND)()
