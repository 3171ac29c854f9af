"""``xinfang openapi_schema [--output PATH]``: write the OpenAPI document of API v1.

The committed copy ``docs/openapi-v1.json`` is compared with the code by the test suite, so a
change to the API shows up in review as a change to that file (as zulip does with its
``zulip.yaml``).  Regenerate it with ``xinfang openapi_schema --output docs/openapi-v1.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xinfang.api.v1 import api

PATH_PREFIX = "/api/v1/"


def openapi_document() -> str:
    """The OpenAPI document as stable text: sorted keys, two-space indent, UTF-8 kept readable."""
    schema = api.get_openapi_schema(path_prefix=PATH_PREFIX)
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Print (or write to --output) the OpenAPI document of API v1."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", default=None, help="file to write instead of standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        text = openapi_document()
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
