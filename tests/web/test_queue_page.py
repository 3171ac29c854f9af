"""The work queue page (issue #8 §2, §7): handling unit and handler columns without N+1, the
traffic light only for staff deadlines with a Chinese tooltip, 超期 in red, the petitioner's window
as a plain labelled date, the open-work switch and the export link with the same parameters; the
handler line on the petition page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from xinfang.petitions.models import Petition
from xinfang.workflow import services

from ..procedure import new_registration, to_accepted, to_replied

pytestmark = pytest.mark.django_db


def set_due(petition, days: int) -> None:
    Petition.objects.filter(pk=petition.pk).update(due_on=timezone.localdate() + dt.timedelta(days=days))


def queue_html(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(reverse("petitions:queue"), params)
    assert response.status_code == 200
    return response.content.decode()


def row_of(html: str, number: str) -> str:
    """The <tr> of one petition in the queue."""
    match = re.search(
        r"<tr>\s*<td class=\"nowrap\"><a href=\"[^\"]*\">" + re.escape(number) + r"</a>.*?</tr>", html, re.S
    )
    assert match, f"{number} not listed"
    return match.group(0)


def make_rows(world, count: int) -> None:
    """Half of them assigned to county A's department with a named handler, half kept by the office."""
    for index in range(count):
        petition = new_registration(world, title=f"事项{index}").petition
        if index % 2:
            to_accepted(world, petition.number)
            services.assign_handler(user=world.handler_a, number=petition.number, staff="handler_a")


def test_the_queue_costs_the_same_queries_for_5_and_40_rows(client, world, settings):
    settings.DEBUG = False  # the page holds 30: 40 rows fill it
    make_rows(world, 5)
    client.force_login(world.intake_a)
    with CaptureQueriesContext(connection) as few:
        html = client.get(reverse("petitions:queue")).content.decode()
    assert html.count("handling-unit") == 5
    make_rows(world, 35)
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("petitions:queue")).content.decode()
    assert html.count("handling-unit") == 30
    # The same queries, but for the count: 5 rows fit on the page, so the page's rows were the count
    # (core.pagination.CappedPaginator.read_page); 40 do not, and are counted.
    counts = [q["sql"] for q in many.captured_queries if "COUNT(" in q["sql"]]
    assert len(many) == len(few) + 1 and len(counts) == 1 + sum(
        "COUNT(" in q["sql"] for q in few.captured_queries
    )


def test_handling_unit_and_handler_columns(client, world):
    kept = new_registration(world, title="本局自办").petition
    assigned = new_registration(world, title="交办人社局").petition
    to_accepted(world, assigned.number)
    services.assign_handler(user=world.handler_a, number=assigned.number, staff="handler_a")
    html = queue_html(client, world.intake_a)
    assert '<td class="nowrap handling-unit">甲县信访局</td>' in row_of(html, kept.number)
    assert "未指定" in row_of(html, kept.number)
    assert '<td class="nowrap handling-unit">甲县人社局</td>' in row_of(html, assigned.number)
    assert '<td class="nowrap handler">handler_a</td>' in row_of(html, assigned.number)


def test_an_overdue_staff_deadline_is_red_with_a_chinese_tooltip(client, world):
    late = new_registration(world).petition
    set_due(late, -3)
    row = row_of(queue_html(client, world.intake_a), late.number)
    assert '<span class="light red" title="已超期"' in row
    assert '<strong class="overdue" title="已超期">超期3天</strong>' in row
    assert 'title="red"' not in row and 'title="green"' not in row


@pytest.mark.parametrize(("days", "light", "tooltip", "text"), [
    (10, "green", "时限充足", "剩10天"),
    (2, "yellow", "即将到期（3天以内）", "剩2天"),
    (0, "yellow", "即将到期（3天以内）", "今天到期"),
])  # fmt: skip
def test_the_light_of_a_staff_deadline(client, world, days, light, tooltip, text):
    petition = new_registration(world).petition
    set_due(petition, days)
    row = row_of(queue_html(client, world.intake_a), petition.number)
    assert f'<span class="light {light}" title="{tooltip}"' in row and text in row
    assert "超期" not in row


def test_the_petitioners_window_is_a_plain_date_never_overdue(client, world):
    replied = new_registration(world).petition
    to_replied(world, replied.number)
    set_due(replied, -4)
    row = row_of(queue_html(client, world.intake_a), replied.number)
    assert "评价/复查期限" in row
    assert 'class="light' not in row and "超期" not in row
    assert (timezone.localdate() - dt.timedelta(days=4)).isoformat() in row


def test_the_switch_and_the_scope_line(client, world):
    done = new_registration(world, title="已不予受理").petition
    services.decline(user=world.intake_a, number=done.number, reasons="不属于信访事项")
    html = queue_html(client, world.intake_a)
    assert done.number not in html and "显示全部（含已办结）" in html and "仅显示未办结的信访件" in html
    html = queue_html(client, world.intake_a, all="on")
    assert done.number in html and "全部信访件" in html


def test_the_overdue_and_mine_filters_on_the_page(client, world):
    late = new_registration(world, title="超期件").petition
    to_accepted(world, late.number)
    services.assign_handler(user=world.handler_a, number=late.number, staff="handler_a")
    set_due(late, -1)
    fresh = new_registration(world, title="新件").petition
    html = queue_html(client, world.intake_a, overdue="on")
    assert late.number in html and fresh.number not in html
    html = queue_html(client, world.handler_a, mine="on")
    assert late.number in html and fresh.number not in html


def test_the_export_link_carries_the_same_parameters(client, world):
    html = queue_html(client, world.intake_a, overdue="on", status="accepted", page="1")
    link = re.search(r'<a href="([^"]*)"[^>]*id="queue-export"', html).group(1)
    assert link.startswith("/staff/export/?") and "overdue=on" in link and "status=accepted" in link
    assert "page=" not in link
    export = client.get(link.replace("&amp;", "&"))  # the workbench's export reads the same parameters
    assert export.status_code == 200 and "spreadsheetml" in export["Content-Type"]


def test_a_workbench_section_is_named_above_the_queue(client, world):
    from xinfang.workbench import sections

    section = sections.SECTIONS[0]
    html = queue_html(client, world.intake_a, section=section.key)
    assert f"工作台：{section.label}" in html and 'id="queue-section"' in html
    assert 'name="section" value="' + section.key + '"' in html  # kept when filtering further
    assert 'id="queue-section"' not in queue_html(client, world.intake_a, section="no-such-section")


# --- the petition page ----------------------------------------------------------------------------


def test_the_petition_page_shows_the_handler_and_offers_a_change(client, world):
    petition = new_registration(world).petition
    to_accepted(world, petition.number)
    client.force_login(world.handler_a)
    html = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    assert '<dd id="handling-unit">甲县人社局</dd>' in html
    assert 'id="change-handler">指定</a>' in html and 'id="action-assign_handler"' in html
    services.assign_handler(user=world.handler_a, number=petition.number, staff="handler_a")
    html = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    assert re.search(
        r'<dd id="handler">handler_a <a href="#action-assign_handler" id="change-handler">更换</a>', html
    )
    # The handler select of the action panel lists the handling body's staff.
    assert '<option value="handler_a">handler_a · 甲县人社局</option>' in html


def test_no_change_link_for_who_may_not_name_the_handler(client, world):
    petition = new_registration(world).petition
    to_accepted(world, petition.number)  # handled by the department now, not by the office
    client.force_login(world.intake_a)
    html = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    assert '<dd id="handler"><span class="muted">未指定</span></dd>' in html
    assert "change-handler" not in html


def test_the_petition_page_light_follows_the_status(client, world):
    petition = new_registration(world).petition
    to_replied(world, petition.number)
    set_due(petition, -2)
    client.force_login(world.intake_a)
    html = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    deadline = re.search(r'<dd id="deadline">.*?</dd>', html, re.S).group(0)
    assert "评价/复查期限" in deadline and "超期" not in deadline and "light" not in deadline
