"""The OpenAPI document (served, complete, and equal to the committed copy) and the error shape."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from xinfang.api.endpoints import petitions as petition_endpoints
from xinfang.api.management.commands.openapi_schema import openapi_document

SNAPSHOT = Path(__file__).resolve().parents[2] / "docs" / "openapi-v1.json"
ENDPOINTS = {
    ("/api/v1/auth/token", "post"),
    ("/api/v1/auth/token", "delete"),
    ("/api/v1/petitions", "post"),
    ("/api/v1/petitions", "get"),
    ("/api/v1/petitions/{number}", "get"),
    ("/api/v1/petitions/{number}/attachments", "post"),
    ("/api/v1/petitions/{number}/actions/{action}", "post"),
    ("/api/v1/portal/captcha", "post"),
    ("/api/v1/portal/petitions", "post"),
    ("/api/v1/portal/petitions/{number}", "get"),
    ("/api/v1/portal/petitions/{number}/track", "post"),
    ("/api/v1/portal/petitions/{number}/actions/{action}", "post"),
    # supervision notices (督办)
    ("/api/v1/petitions/{number}/supervisions", "get"),
    ("/api/v1/petitions/{number}/supervisions", "post"),
    ("/api/v1/supervisions/{notice_id}/feedback", "post"),
    ("/api/v1/supervisions/{notice_id}/accept", "post"),
    ("/api/v1/supervisions/{notice_id}/return", "post"),
    ("/api/v1/supervisions/{notice_id}/lift", "post"),
    # documents (issue #10 point 10)
    ("/api/v1/petitions/{number}/documents", "get"),
    ("/api/v1/petitions/{number}/documents", "post"),
    ("/api/v1/documents/{document_id}", "get"),
    ("/api/v1/documents/{document_id}.pdf", "get"),
    ("/api/v1/documents/{document_id}.docx", "get"),
    ("/api/v1/documents/{document_id}/body", "post"),
    ("/api/v1/documents/{document_id}/approve", "post"),
    ("/api/v1/documents/{document_id}/issue", "post"),
    ("/api/v1/documents/{document_id}/service", "post"),
    # notifications (消息)
    ("/api/v1/notifications", "get"),
    ("/api/v1/notifications/read", "post"),
    # the workbench (工作台)
    ("/api/v1/worklist", "get"),
    # 约谈、通报、改进工作建议 (Arts. 39-40)
    ("/api/v1/accountability", "get"),
    ("/api/v1/accountability", "post"),
    ("/api/v1/accountability/{accountability_id}", "get"),
    ("/api/v1/accountability/{accountability_id}/response", "post"),
    # figures for upper-level systems (统计数据, issue #9)
    ("/api/v1/statistics", "get"),
    # Issue #11: leaders, ledgers and campaigns.
    ("/api/v1/campaigns", "get"),
    ("/api/v1/campaigns", "post"),
    ("/api/v1/campaigns/backlog", "get"),
    ("/api/v1/campaigns/cases/{case_id}", "post"),
    ("/api/v1/campaigns/cases/{case_id}/contract", "post"),
    ("/api/v1/campaigns/cases/{case_id}/resolve", "post"),
    ("/api/v1/campaigns/relief", "get"),
    ("/api/v1/campaigns/relief", "post"),
    ("/api/v1/campaigns/relief/{relief_id}", "get"),
    ("/api/v1/campaigns/relief/{relief_id}/approve", "post"),
    ("/api/v1/campaigns/relief/{relief_id}/paid", "post"),
    ("/api/v1/campaigns/relief/{relief_id}/reject", "post"),
    ("/api/v1/campaigns/{campaign_id}", "get"),
    ("/api/v1/campaigns/{campaign_id}/cases", "get"),
    ("/api/v1/campaigns/{campaign_id}/cases", "post"),
    ("/api/v1/campaigns/{campaign_id}/progress", "get"),
    ("/api/v1/contracts", "get"),
    ("/api/v1/contracts", "post"),
    ("/api/v1/contracts/{contract_id}", "get"),
    ("/api/v1/contracts/{contract_id}/close", "post"),
    ("/api/v1/contracts/{contract_id}/milestones/{milestone_id}/done", "post"),
    ("/api/v1/contracts/{contract_id}/progress", "post"),
    ("/api/v1/disputes", "get"),
    ("/api/v1/disputes", "post"),
    ("/api/v1/disputes/figures", "get"),
    ("/api/v1/disputes/rounds", "get"),
    ("/api/v1/disputes/rounds", "post"),
    ("/api/v1/disputes/rounds/returns/{return_id}", "post"),
    ("/api/v1/disputes/rounds/{round_id}", "get"),
    ("/api/v1/disputes/{number}", "get"),
    ("/api/v1/disputes/{number}", "patch"),
    ("/api/v1/disputes/{number}/leader", "post"),
    ("/api/v1/disputes/{number}/petitions", "post"),
    ("/api/v1/disputes/{number}/status", "post"),
    ("/api/v1/instructions", "get"),
    ("/api/v1/instructions", "post"),
    ("/api/v1/instructions/{instruction_id}", "get"),
    ("/api/v1/instructions/{instruction_id}/answer", "post"),
    ("/api/v1/instructions/{instruction_id}/close", "post"),
    ("/api/v1/instructions/{instruction_id}/return", "post"),
    ("/api/v1/portal/reception-days", "get"),
    ("/api/v1/portal/reception-days/bookings/cancel", "post"),
    ("/api/v1/portal/reception-days/{session_id}/bookings", "post"),
    ("/api/v1/reception-days/bookings", "get"),
    ("/api/v1/reception-days/bookings/{booking_id}/mark", "post"),
    ("/api/v1/reception-days/schedules", "get"),
    ("/api/v1/reception-days/sessions", "get"),
    ("/api/v1/reception-days/sessions/{session_id}", "get"),
    ("/api/v1/reception-days/sessions/{session_id}/bookings", "get"),
    ("/api/v1/referrals", "post"),
    ("/api/v1/referrals/received", "get"),
    ("/api/v1/referrals/sent", "get"),
    ("/api/v1/referrals/sent", "post"),
    ("/api/v1/referrals/sent/{outbound_id}", "get"),
    ("/api/v1/referrals/sent/{outbound_id}/accept", "post"),
    ("/api/v1/referrals/sent/{outbound_id}/return", "post"),
    ("/api/v1/referrals/{case_number}/report", "post"),
    ("/api/v1/referrals/{case_number}/report/accept", "post"),
    ("/api/v1/referrals/{case_number}/report/return", "post"),
    ("/api/v1/reports", "get"),
    ("/api/v1/reports", "post"),
    ("/api/v1/reports/{report_id}", "get"),
    ("/api/v1/reports/{report_id}", "put"),
    ("/api/v1/reports/{report_id}/feedback", "post"),
    ("/api/v1/reports/{report_id}/read", "post"),
    ("/api/v1/reports/{report_id}/return", "post"),
    ("/api/v1/reports/{report_id}/send", "post"),
    ("/api/v1/reports/{report_id}/sign", "post"),
    ("/api/v1/reports/{report_id}/submit", "post"),
    ("/api/v1/campaigns/backlog/rule", "get"),
    ("/api/v1/campaigns/backlog/rule", "put"),
    ("/api/v1/campaigns/categories", "get"),
    ("/api/v1/campaigns/categories", "post"),
    ("/api/v1/duty/log", "get"),
    ("/api/v1/duty/log", "post"),
    ("/api/v1/duty/shifts", "get"),
    ("/api/v1/duty/shifts", "post"),
    ("/api/v1/reception-days/bookings/{booking_id}/register", "post"),
    ("/api/v1/reception-days/outreach", "get"),
    ("/api/v1/reception-days/outreach", "post"),
    ("/api/v1/reception-days/outreach/{visit_id}", "get"),
    ("/api/v1/reception-days/schedules", "post"),
    ("/api/v1/reception-days/schedules/{schedule_id}", "put"),
    ("/api/v1/reception-days/sessions/{session_id}/cancel", "post"),
    ("/api/v1/reception-days/sessions/{session_id}/leader", "post"),
}
PUBLIC = {
    ("/api/v1/auth/token", "post"),
    ("/api/v1/portal/captcha", "post"),
    ("/api/v1/portal/petitions", "post"),
    ("/api/v1/portal/petitions/{number}", "get"),
    ("/api/v1/portal/petitions/{number}/track", "post"),
    ("/api/v1/portal/petitions/{number}/actions/{action}", "post"),
    # The published reception days and booking (issue #11, Art. 18).
    ("/api/v1/portal/reception-days", "get"),
    ("/api/v1/portal/reception-days/bookings/cancel", "post"),
    ("/api/v1/portal/reception-days/{session_id}/bookings", "post"),
}


def test_openapi_document_is_served_and_lists_every_endpoint(client):
    # when
    response = client.get("/api/v1/openapi.json")
    # then
    assert response.status_code == 200
    schema = response.json()
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert operations == ENDPOINTS
    assert schema["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    for path, method in ENDPOINTS:
        operation = schema["paths"][path][method]
        assert bool(operation.get("security")) == ((path, method) not in PUBLIC), (path, method)
        assert operation["summary"]
    create = schema["paths"]["/api/v1/petitions"]["post"]
    assert [p["name"] for p in create["parameters"]] == ["Idempotency-Key"]
    assert {"201", "401", "403", "422"} <= set(create["responses"])


def test_committed_openapi_document_matches_the_code():
    """docs/openapi-v1.json is the reviewed contract.  After an intended API change, regenerate it:
    ``xinfang openapi_schema --output docs/openapi-v1.json`` (with DJANGO_SETTINGS_MODULE set)."""
    assert SNAPSHOT.read_text(encoding="utf-8") == openapi_document(), (
        "The API changed: regenerate docs/openapi-v1.json with "
        "`xinfang openapi_schema --output docs/openapi-v1.json` and review the difference."
    )


def test_unexpected_errors_keep_the_error_shape_and_are_logged(world, api, token_of, monkeypatch, caplog):
    # given
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(petition_endpoints, "petition_list", broken)
    # when
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = api.get("/api/v1/petitions", token=token_of(world.supervisor_a))
    # then
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "server_error", "message": "服务器内部错误，请稍后再试。"}}
    assert "boom" not in response.content.decode()
    assert any(record.exc_info and "boom" in str(record.exc_info[1]) for record in caplog.records)


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/petitions"), ("get", "/api/v1/petitions/XF-1"), ("delete", "/api/v1/auth/token")],
)
def test_every_refusal_has_code_and_message(world, api, method, path):
    response = getattr(api, method)(path)
    error = response.json()["error"]
    assert set(error) == {"code", "message"}
    assert error["code"] == "unauthorized"
    assert json.dumps(error, ensure_ascii=False).isprintable()


def test_no_two_schemas_share_a_name():
    """The OpenAPI components are keyed by class name: two different schemas of one name would
    overwrite each other in the document, and clients would be told the wrong shape."""
    from collections import defaultdict

    from ninja import Schema

    from xinfang.api.v1 import api as _api  # noqa: F401 - imports every endpoint module

    def all_subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from all_subclasses(sub)

    by_name = defaultdict(set)
    for cls in all_subclasses(Schema):
        if cls.__module__.startswith("xinfang."):
            by_name[cls.__name__].add(f"{cls.__module__}.{cls.__qualname__}")
    assert {name: places for name, places in by_name.items() if len(places) > 1} == {}
