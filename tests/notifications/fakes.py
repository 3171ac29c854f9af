"""Local stand-ins for the outside world: an SMS provider speaking 创蓝253's JSON API over real
HTTP on 127.0.0.1, and an SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeSmsProvider:
    """Answers each POST with the next scripted answer (``(http_status, body_dict)``), the last one
    repeating; records every request body."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]], delay: float = 0.0) -> None:
        self.answers = list(answers)
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                with provider.lock:
                    provider.requests.append(
                        {"path": self.path, "content_type": self.headers["Content-Type"], **body}
                    )
                    status, answer = (
                        provider.answers[0] if len(provider.answers) == 1 else provider.answers.pop(0)
                    )
                if provider.delay:
                    time.sleep(provider.delay)  # a slow provider: concurrent senders overlap
                data = json.dumps(answer).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/msg/v1/send/json"

    @contextmanager
    def running(self) -> Iterator[FakeSmsProvider]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def ok(msg_id: str = "17041010383624511") -> tuple[int, dict[str, Any]]:
    return 200, {"code": "0", "msgId": msg_id, "time": "20261201120000", "errorMsg": ""}


def error(code: str, message: str) -> tuple[int, dict[str, Any]]:
    return 200, {"code": code, "msgId": "", "time": "20261201120000", "errorMsg": message}


@contextmanager
def smtp_server() -> Iterator[Any]:
    """An SMTP server on 127.0.0.1 (a free port); yields (port, received messages)."""
    import socket

    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            received.append(envelope)
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()
