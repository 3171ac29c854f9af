"""``xinfang pdfserver``: the warm PDF converter (unoserver + LibreOffice) in the foreground, for a
site that runs it as a service (systemd) and points every web and worker process at it with
``XINFANG_PDF_SERVER=127.0.0.1:<port>`` (docs/deployment.md, "PDF converter").  Without that
setting nobody needs this command: the first process that converts starts one for the machine."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xinfang.documents.pdf import ConversionFailed, run_server_foreground


class Command(BaseCommand):
    help = "在前台运行 PDF 转换服务（LibreOffice + unoserver），供 systemd 管理。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=2003, help="XML-RPC port on 127.0.0.1 (default 2003)")

    def handle(self, *args: Any, port: int, **options: Any) -> None:
        self.stdout.write(f"PDF converter on 127.0.0.1:{port} (XINFANG_PDF_SERVER=127.0.0.1:{port})")
        try:
            run_server_foreground(port)  # replaces this process
        except ConversionFailed as exc:
            raise CommandError(str(exc)) from exc
