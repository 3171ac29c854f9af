"""The workbench page: casework roles land on it; counts link to the queue narrowed to their
section; the first rows show the reason, due date, handling unit, handler and "新"; an empty
workbench says what to do; the query count does not grow with the number of petitions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from xinfang.petitions.models import Petition

from ..factories import PASSWORD
from ..procedure import new_registration, to_accepted

pytestmark = pytest.mark.django_db
PAGE = reverse("workbench:home")


@pytest.mark.parametrize("who", ["intake_a", "handler_a", "supervisor_a", "leader_a", "city_supervisor"])
def test_casework_roles_land_on_the_workbench(client, world, who):
    response = client.post(reverse("login"), {"username": getattr(world, who).username, "password": PASSWORD})
    response = client.get(response.url, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == PAGE


@pytest.mark.parametrize("who", ["sysadmin", "secadmin", "auditor"])
def test_administrators_are_refused(client, world, who):
    client.force_login(getattr(world, who))
    assert client.get(PAGE).status_code == 403
    assert client.get(reverse("workbench:export_section", args=["overdue"])).status_code == 403


def test_anonymous_goes_to_login(client, world):
    response = client.get(PAGE)
    assert response.status_code == 302 and reverse("login") in response.url


def test_counts_link_to_the_queue_and_rows_show_what_to_do(client, desk):
    from xinfang.notifications.models import Notification

    world = desk.world
    Notification.objects.create(
        user=world.handler_a, kind="test", title="新督办", petition=desk.p["accepted"]
    )
    client.force_login(world.handler_a)
    html = client.get(PAGE).content.decode()
    # counts, each linking to the queue narrowed to its section
    assert 'id="count-handling"' in html and 'href="/staff/?section=handling"' in html
    assert 'id="count-dispose"' not in html  # not a section of a handler
    # the first rows of 办理中: handling unit, handler, days left; the overdue one in red
    section = html[html.index('id="section-handling"') :]
    section = section[: section.index("</section>")]
    assert desk.number("overdue") in section and world.a.department.name in section
    assert 'class="overdue"' in section and "超期3天" in section
    assert "handler_a" in section  # the named handler of ``mine``
    # the unread notification marks its petition as new
    new_row = section[section.index(desk.number("accepted")) - 200 :][:600]
    assert "wb-new" in new_row and 'class="tag new"' in new_row
    # export link for every listed section
    assert reverse("workbench:export_section", args=["handling"]) in section


def test_the_petitioners_window_is_a_plain_date(client, desk):
    client.force_login(desk.world.intake_a)
    html = client.get(PAGE).content.decode()
    section = html[html.index('id="section-approve"') :]
    row = section[section.index(desk.number("window_passed")) :]
    row = row[: row.index("</tr>")]
    assert "信访人期限" in row and "超期" not in row and "light" not in row


def test_empty_workbench_says_what_to_do(client, world):
    client.force_login(world.handler_b)
    html = client.get(PAGE).content.decode()
    assert 'id="workbench-empty"' in html and "没有等待您或本单位处理" in html


def test_export_of_a_foreign_section_is_not_found(client, world):
    client.force_login(world.intake_a)
    assert client.get(reverse("workbench:export_section", args=["handling"])).status_code == 404
    assert client.get(reverse("workbench:export_section", args=["nonsense"])).status_code == 404


def test_queue_export_takes_the_queue_parameters(client, desk):
    from io import BytesIO

    from openpyxl import load_workbook

    client.force_login(desk.world.handler_a)
    response = client.get(reverse("workbench:export_queue"), {"section": "overdue"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "信访编号" and [r[0] for r in rows[1:]] == [desk.number("overdue")]


def test_export_is_capped_with_a_message(desk):
    from io import BytesIO

    from openpyxl import load_workbook

    from xinfang.workbench.exports import petitions_xlsx

    user = desk.world.handler_a
    response = petitions_xlsx(Petition.objects.restrict(user).order_by("pk"), "全部", user, cap=2)
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert "仅导出前2件" in rows[0][0] and len(rows) == 4 and response["X-Export-Capped"] == "2"


def test_query_count_does_not_grow_with_the_petitions(client, desk, django_assert_max_num_queries):
    world = desk.world
    client.force_login(world.handler_a)
    client.get(PAGE)  # warm the per-process caches (calendar, rules)
    with CaptureQueriesContext(connection) as before:
        assert client.get(PAGE).status_code == 200
    for _ in range(4):  # more rows in 新交办, 办理中, 已超期
        p = new_registration(world).petition
        to_accepted(world, p.number)
        Petition.objects.filter(pk=p.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    with django_assert_max_num_queries(len(before.captured_queries)):
        assert client.get(PAGE).status_code == 200


def test_export_masks_personal_data_and_has_the_list_columns(client, desk):
    from io import BytesIO

    from openpyxl import load_workbook

    from xinfang.petitions.models import Petitioner

    client.force_login(desk.world.handler_a)
    response = client.get(reverse("workbench:export_section", args=["handling"]))
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    head = rows[0]
    for column in (
        "信访编号",
        "标题",
        "信访人",
        "状态",
        "承办单位",
        "承办人",
        "期限",
        "剩余天数",
        "登记日期",
    ):
        assert column in head
    person = Petitioner.objects.filter(petition=desk.p["mine"]).first()
    row = next(r for r in rows[1:] if r[0] == desk.number("mine"))
    assert person.id_number not in [str(v) for v in row] and person.phone not in [str(v) for v in row]
    assert row[head.index("证件号码")] == person.id_number_mask and "*" in person.id_number_mask
    assert row[head.index("承办人")] == "handler_a"
    assert row[head.index("承办单位")] == desk.world.a.department.name


@pytest.mark.parametrize("key", ["handling", "due_soon", "supervision", "mine"])
def test_rows_of_a_large_section_come_in_the_same_order(desk, key):
    """A section at the count's cap finds its first rows by walking the due_on index; the order is
    the same as sorting the section (undated rows last, ties by id)."""
    from xinfang.workbench.sections import get_section
    from xinfang.workbench.selectors import section_rows

    user, section = desk.world.handler_a, get_section(key)
    Petition.objects.filter(pk=desk.p["mine"].pk).update(due_on=None)  # an undated row sorts last
    sorted_rows = [r.petition.number for r in section_rows(section, user, limit=10)]
    walked = [r.petition.number for r in section_rows(section, user, limit=10, dense=True)]
    assert walked == sorted_rows and sorted_rows
