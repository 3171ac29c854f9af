"""Two simultaneous ``reply`` actions through the API (issue #10 point 7): the second waits on the
petition's row lock (taken before the trial run, and by the step itself at issue) and then meets
``wrong_state`` — one decision letter, one reply, no stray draft.  Committed data and concurrent
connections: PostgreSQL only."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test import Client

from xinfang.api.endpoints import actions as action_endpoints
from xinfang.documents.models import Document
from xinfang.workflow.models import DecisionLetter

from ..procedure import REPLY, new_registration, to_accepted
from .test_idempotency_concurrency import ON_POSTGRES, _audit_truncate_restored, committed_db  # noqa: F401

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: concurrent connections"),
]


def test_two_simultaneous_replies_make_one_letter(committed_db, world, token_of, monkeypatch):  # noqa: F811
    # given: a petition whose department issues letters without approval, drafting made slow
    from xinfang.documents.kinds import default_prefix
    from xinfang.documents.models import KindSetting

    monkeypatch.setattr("xinfang.documents.tasks.docx_to_pdf", lambda docx: b"%PDF-1.4\n%%EOF\n")
    KindSetting.objects.create(
        organisation=world.a.department, kind="decision_letter",
        prefix=default_prefix(world.a.department, "decision_letter"), requires_approval=False,
    )  # fmt: skip
    number = new_registration(world).petition.number
    to_accepted(world, number)
    real_draft = action_endpoints.documents.draft

    def slow_draft(**kwargs):
        time.sleep(0.5)
        return real_draft(**kwargs)

    monkeypatch.setattr(action_endpoints.documents, "draft", slow_draft)
    token = token_of(world.handler_a)
    barrier = threading.Barrier(2)
    responses = []

    def send() -> None:
        try:
            barrier.wait()
            responses.append(
                Client().post(
                    f"/api/v1/petitions/{number}/actions/reply",
                    REPLY,
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {token}",
                )  # fmt: skip
            )
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then
    assert sorted(r.status_code for r in responses) == [200, 409]
    refused = next(r for r in responses if r.status_code == 409)
    assert refused.json()["error"]["code"] == "wrong_state"
    assert Document.objects.filter(petition__number=number).count() == 1
    assert DecisionLetter.objects.filter(petition__number=number).count() == 1
