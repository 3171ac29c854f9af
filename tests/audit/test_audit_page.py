"""The audit page (issue #7, point 23): readable Chinese instead of codes and Python dict text,
filters on indexed columns, a fixed number of queries whatever the page holds, and a CSV export.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from xinfang.audit.models import AuditEvent
from xinfang.audit.services import record_event
from xinfang.workflow import services

from ..factories import register

URL = "audit:log"


@pytest.fixture
def auditor(client, world):
    client.force_login(world.auditor)
    return client


@pytest.fixture
def forwarded(world):
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    services.forward(user=world.intake_a, number=petition.number, unit=world.a.department)
    return petition


def cells(response) -> str:
    """The text of the log table only (the filter's choices name codes in option values)."""
    html = response.content.decode()
    return html[html.index('id="audit-log"') :]


def test_actions_objects_and_details_are_in_chinese(auditor, world, forwarded):
    response = auditor.get(reverse(URL))
    assert response.status_code == 200
    table = cells(response)
    for text in (
        "登记信访事项",
        "转送",
        "信访事项",
        "原状态：已登记",
        "新状态：已转送",
        "责任单位：甲县人社局",
    ):
        assert text in table, text
    # no raw codes shown as text, no Python dict text
    assert ">petition.forward<" not in table
    assert ">petition.register<" not in table
    assert "{&#x27;" not in table and "{'" not in table
    assert "petitions.petition" not in table


def test_the_action_filter_offers_labels(auditor, forwarded):
    html = auditor.get(reverse(URL)).content.decode()
    assert '<option value="petition.forward">转送</option>' in html
    assert '<option value="audit.search">查询审计日志</option>' in html


def test_filters_narrow_the_list(auditor, world, forwarded):
    record_event(actor=world.handler_a, action="petition.view", obj=forwarded, data={"via": "web"})
    response = auditor.get(reverse(URL), {"action": "petition.view", "actor": "handler_a"})
    assert [row["event"].actor_name for row in response.context["rows"]] == ["handler_a"]
    response = auditor.get(reverse(URL), {"object": forwarded.number})
    assert {row["event"].action for row in response.context["rows"]} == {
        "petition.register",
        "petition.forward",
        "petition.view",
    }


def test_date_filters_use_the_local_day(auditor, world):
    today = timezone.localdate()
    old = record_event(actor=world.intake_a, action="test.old")
    # written "yesterday" (the row is new, so its time can be set before it is saved)
    yesterday = AuditEvent(action="test.yesterday", at=timezone.now() - dt.timedelta(days=1))
    yesterday.save()
    response = auditor.get(reverse(URL), {"date_from": today.isoformat(), "date_to": today.isoformat()})
    shown = {row["event"].pk for row in response.context["rows"]}
    assert old.pk in shown and yesterday.pk not in shown
    response = auditor.get(reverse(URL), {"date_to": (today - dt.timedelta(days=1)).isoformat()})
    assert {row["event"].pk for row in response.context["rows"]} == {yesterday.pk}


def test_a_bad_date_is_an_error_on_the_form_not_a_crash(auditor):
    response = auditor.get(reverse(URL), {"date_from": "2026-13-45"})
    assert response.status_code == 200
    assert response.context["form"].errors["date_from"]


def test_the_page_costs_the_same_queries_for_few_and_many_rows(auditor, world, forwarded):
    """No query per row: organisations named in details are looked up once for the page."""

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert auditor.get(reverse(URL)).status_code == 200
        return len(captured)

    few = queries()
    for n in range(40):
        record_event(
            actor=world.intake_a, action="petition.forward", data={"unit": world.a.department.pk, "n": n}
        )
        record_event(
            actor=world.intake_a, action="organisation.change", obj=world.a.office, data={"parent": n}
        )
    assert queries() == few


def test_csv_export(auditor, world, forwarded):
    response = auditor.get(reverse(URL), {"format": "csv", "object": forwarded.number})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 only with the BOM
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["时间", "操作人", "来源地址", "操作", "操作代码", "对象类型", "对象", "详情", "链序号"]
    by_code = {row[4]: row for row in rows[1:]}
    assert set(by_code) == {"petition.register", "petition.forward"}
    forward = by_code["petition.forward"]
    assert forward[3] == "转送" and forward[5] == "信访事项" and forward[6] == forwarded.number
    assert "责任单位：甲县人社局" in forward[7]


def test_csv_export_does_not_let_a_spreadsheet_run_formulas(auditor):
    """A failed login records the user name as typed: it must not become a formula in Excel."""
    record_event(actor=None, action="login.failed", data={"username": '=HYPERLINK("x")'}, ip="192.0.2.1")
    record_event(actor=None, action="test.formula", obj=None)
    AuditEvent(action="test.formula2", object_repr="+cmd|' /C calc'!A0").save()
    response = auditor.get(reverse(URL), {"format": "csv"})
    rows = list(
        csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")))
    )
    for row in rows[1:]:
        for value in row:
            assert value[:1] not in ("=", "+", "-", "@"), row
