"""Property-based fuzzing of the whole API against its own OpenAPI document (issue #7, point 26).

schemathesis generates requests from ``/api/v1/openapi.json`` — valid ones and deliberately invalid
ones (wrong types, missing fields, out-of-range numbers, odd strings) — and sends them to the WSGI
application in this process, authenticated as an intake clerk who can see a real petition.  Every
answer must be no server error, carry a status the document lists for that operation, and have a
documented content type.  It runs in ``make test`` on SQLite and PostgreSQL alike (``.ci/run`` runs
it on both), bounded to a few hundred requests: ``FUZZ_EXAMPLES`` per operation and mode (the
environment variable ``XINFANG_FUZZ_EXAMPLES`` raises it for a longer local run).
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from xinfang.api.management.commands.openapi_schema import openapi_document
from xinfang.api.services import obtain_token

from ..factories import PASSWORD, register

FUZZ_EXAMPLES = int(os.environ.get("XINFANG_FUZZ_EXAMPLES", "20"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]
MODES = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]

pytestmark = pytest.mark.fuzz


def _cases() -> list[tuple[str, str, schemathesis.GenerationMode]]:
    """Every operation in both modes; negative data needs something to negate (a parameter or a
    body), so an operation with neither runs positive only."""
    document = json.loads(openapi_document())
    cases = []
    for path, item in sorted(document["paths"].items()):
        for method, operation in sorted(item.items()):
            takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
            cases.extend((path, method.upper(), mode) for mode in MODES if takes_input or mode == MODES[0])
    return cases


@pytest.fixture(scope="module")
def schema():
    """The committed-equal document (no request needed), served by the WSGI app in this process."""
    loaded = schemathesis.openapi.from_dict(json.loads(openapi_document()))
    loaded.app = get_wsgi_application()
    return loaded


@pytest.fixture(autouse=True)
def _requests_inside_the_test_transaction():
    """As Django's test client does: a WSGI request must not close the test's connection (the
    handler's request_started/finished signals would, and roll back the test's data)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize(("path", "method", "mode"), _cases(), ids=lambda v: getattr(v, "value", v))
def test_no_request_makes_the_api_fail(schema, world, path, method, mode):
    """0 server errors; every status and content type documented (negative data included)."""
    # given: a petition the caller can see, its number offered to the generator for {number}
    registration = register(world.a.office, world.intake_a, world.a.township)
    token = obtain_token(username=world.intake_a.username, password=PASSWORD, ip="127.0.0.9").token
    operation = schema[path][method]
    path_parameters = {"number": registration.petition.number} if "{number}" in path else None
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
    failures: list[str] = []

    @given(case=strategy)
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: schemathesis.Case) -> None:
        headers = dict(case.headers or {})
        headers.setdefault("Authorization", f"Bearer {token}")
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except AssertionError as failure:  # collected, so one run reports every distinct problem
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {failure}")

    # when
    fuzz()
    # then
    assert not failures, "\n\n".join(failures[:5])
