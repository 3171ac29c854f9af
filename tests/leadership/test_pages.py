"""Staff pages of leadership: the petition page's panel, the contract and instruction forms and
ledgers (open work by default, XLSX, print), the duty rota and log; refusals (403/404) and forms
that keep what was typed."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from xinfang.leadership import services
from xinfang.leadership.models import DutyShift, Instruction, LeaderContract

from .conftest import days

pytestmark = pytest.mark.django_db


def _contract(world, petition, **kw):
    return services.open_contract(
        actor=world.leader_a, leader=world.leader_a, petition=petition, measures="走访", due_on=days(10), **kw
    )


def test_the_petition_page_shows_the_panel_and_links(client, world, petition):
    _contract(world, petition)
    client.force_login(world.leader_a)
    html = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    assert 'id="leadership-panel"' in html and "包案" in html and 'id="instruct-link"' in html
    assert 'id="contract-link"' not in html  # already contracted
    client.force_login(world.intake_a)
    html = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    assert 'id="instruct-link"' not in html


def test_contract_form_keeps_input_on_error_and_creates(client, world, petition):
    client.force_login(world.leader_a)
    url = reverse("leadership:contract_new") + f"?petition={petition.number}"
    assert client.get(url).status_code == 200
    bad = client.post(url, {"leader": world.leader_a.pk, "measures": "走访并协调", "due_on": str(days(5)),
                            "milestones": "not-a-date 走访"})  # fmt: skip
    html = bad.content.decode()
    assert bad.status_code == 200 and "走访并协调" in html and "格式不对" in html
    late = client.post(url, {"leader": world.leader_a.pk, "measures": "走访并协调", "due_on": str(days(5)),
                             "milestones": f"{days(9)} 走访"})  # fmt: skip
    assert "计划完成日期须在办结期限之前" in late.content.decode()
    ok = client.post(url, {"leader": world.leader_a.pk, "measures": "走访并协调", "due_on": str(days(5))})
    contract = LeaderContract.objects.get()
    assert ok.status_code == 302 and ok["Location"] == reverse("leadership:contract", args=[contract.pk])


def test_contract_pages_refuse_others(client, world, petition):
    contract = _contract(world, petition)
    client.force_login(world.handler_a)
    url = reverse("leadership:contract_new") + f"?petition={petition.number}"
    assert client.get(url).status_code == 404  # handler_a does not see the unrouted petition
    client.force_login(world.intake_b)
    assert client.get(reverse("leadership:contract", args=[contract.pk])).status_code == 404
    client.force_login(world.sysadmin)
    assert client.get(reverse("leadership:contracts")).status_code == 403
    client.logout()
    assert client.get(reverse("leadership:contracts")).status_code == 302


def test_contract_detail_progress_and_close(client, world, petition):
    contract = _contract(world, petition, milestones=[("走访", days(3))])
    client.force_login(world.leader_a)
    page = reverse("leadership:contract", args=[contract.pk])
    assert "标记为今天完成" in client.get(page).content.decode()
    client.post(reverse("leadership:contract_progress", args=[contract.pk]), {"text": "已走访"})
    empty = client.post(reverse("leadership:contract_close", args=[contract.pk]), {"result": ""})
    assert (
        empty.status_code == 200
        and "此字段是必填项" in empty.content.decode()
        or "必填" in empty.content.decode()
    )
    client.post(reverse("leadership:contract_close", args=[contract.pk]), {"result": "已化解"})
    contract.refresh_from_db()
    assert contract.status == "closed" and contract.progress.count() == 1


def test_contract_ledger_defaults_to_open_exports_and_prints(
    client, world, petition, django_assert_max_num_queries
):
    from ..procedure import new_registration

    _contract(world, petition)
    closed = _contract(world, new_registration(world).petition)
    services.close_contract(actor=world.leader_a, contract=closed, result="已化解")
    client.force_login(world.leader_a)
    url = reverse("leadership:contracts")
    html = client.get(url).content.decode()
    assert petition.number in html and closed.number not in html
    assert closed.number in client.get(url, {"status": "all"}).content.decode()
    xlsx = client.get(url, {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "案件/纠纷", "包案领导") and len(rows) == 2
    printed = client.get(url, {"format": "print"}).content.decode()
    assert 'id="ledger-print"' in printed and "mainnav" not in printed
    # no N+1: more contracts cost no more queries
    for _ in range(3):
        _contract(world, new_registration(world).petition)
    with django_assert_max_num_queries(20):
        client.get(url)


def test_instruction_pages(client, world, petition):
    client.force_login(world.leader_a)
    url = reverse("leadership:instruction_new") + f"?petition={petition.number}"
    bad = client.post(url, {"unit": world.a.department.pk, "text": "请办理", "due_on": str(days(0))})
    assert "办理期限须晚于今天" in bad.content.decode() and "请办理" in bad.content.decode()
    ok = client.post(url, {"unit": world.a.department.pk, "text": "请办理", "due_on": str(days(3))})
    instruction = Instruction.objects.get()
    assert ok.status_code == 302
    client.force_login(world.handler_a)
    assert (
        instruction.number in client.get(reverse("leadership:instructions"), {"box": "todo"}).content.decode()
    )
    detail = client.get(reverse("leadership:instruction", args=[instruction.pk])).content.decode()
    assert 'id="answer-form"' in detail and petition.content[:10] in detail  # the unit reads the content
    client.post(reverse("leadership:instruction_answer", args=[instruction.pk]), {"text": "已办"})
    client.force_login(world.leader_a)
    assert (
        'id="close-form"'
        in client.get(reverse("leadership:instruction", args=[instruction.pk])).content.decode()
    )
    client.post(reverse("leadership:instruction_close", args=[instruction.pk]), {"note": ""})
    instruction.refresh_from_db()
    assert instruction.status == "closed"
    client.force_login(world.supervisor_a)
    assert client.get(url).status_code == 403  # not a leader
    client.force_login(world.handler_b)
    assert client.get(reverse("leadership:instruction", args=[instruction.pk])).status_code == 404
    client.force_login(world.leader_a)
    xlsx = client.get(reverse("leadership:instructions"), {"box": "all", "format": "xlsx"})
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_duty_rota_and_log(client, world, petition):
    client.force_login(world.supervisor_a)
    form = {"organisation": world.a.office.pk, "date": str(days(1)), "kind": "day",
            "leader": world.leader_a.pk, "staff_on_duty": "陈静、赵敏", "phone": "0571-1234567"}  # fmt: skip
    saved = client.post(reverse("leadership:shift_new"), form)
    shift = DutyShift.objects.get()
    assert saved.status_code == 302
    clash = client.post(reverse("leadership:shift_new"), form)
    assert "已有此班次" in clash.content.decode()
    entry = {"at": f"{days(1)}T09:30", "happened": "群众来访反映欠薪", "petitions": petition.number,
             "action_taken": "登记并转人社局", "handed_over_to": "夜班"}  # fmt: skip
    assert client.post(reverse("leadership:shift", args=[shift.pk]), entry).status_code == 302
    assert shift.log_entries.get().petitions.get() == petition
    bad = client.post(reverse("leadership:shift", args=[shift.pk]), {**entry, "petitions": "XF-NOPE"})
    assert "不在您的工作范围" in bad.content.decode()
    month = days(1).strftime("%Y-%m")
    rota = client.get(reverse("leadership:rota"), {"month": month}).content.decode()
    assert "陈静、赵敏" in rota
    printed = client.get(reverse("leadership:rota"), {"month": month, "format": "print"}).content.decode()
    assert "陈静、赵敏" in printed and "mainnav" not in printed
    log = client.get(reverse("leadership:duty_log"), {"month": month, "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(log.content)).active.iter_rows(values_only=True))
    assert rows[1][4] == "群众来访反映欠薪" and rows[1][5] == petition.number
    client.force_login(world.handler_b)
    assert client.get(reverse("leadership:shift", args=[shift.pk])).status_code == 404
    assert client.get(reverse("leadership:shift_new")).status_code == 403


def test_policy_page_and_the_uncontracted_list(client, world, petition):
    from xinfang.supervision import services as supervision
    from xinfang.supervision.models import NoticeKind

    from ..factories import make_staff
    from ..procedure import to_accepted

    client.force_login(world.handler_a)
    assert client.get(reverse("leadership:policy")).status_code == 403
    client.force_login(world.supervisor_a)
    assert client.post(reverse("leadership:policy"), {"require_for_listed": "on"}).status_code == 302
    to_accepted(world, petition.number)
    supervision.supervise(
        user=world.city_supervisor, number=petition.number, kind=NoticeKind.LISTED, requirements="挂牌督办",
        respond_by=days(5), leader=make_staff("city_leader", world.city, "leader"),
    )  # fmt: skip
    html = client.get(reverse("leadership:contracts"), {"box": "uncontracted"}).content.decode()
    assert petition.number in html and "contract_new" not in html and "包案" in html


def test_a_dispute_is_contracted_from_the_web(client, world, dispute):
    client.force_login(world.intake_a)
    url = reverse("leadership:contract_new") + f"?dispute={dispute.number}"
    form = {"leader": world.leader_a.pk, "measures": "入户调解", "due_on": str(days(9))}
    assert client.post(url, form).status_code == 302
    contract = LeaderContract.objects.get()
    assert contract.dispute == dispute and contract.created_by == world.intake_a
    page = client.get(reverse("leadership:contract", args=[contract.pk])).content.decode()
    assert dispute.number in page
    client.force_login(world.intake_b)
    assert client.get(url).status_code == 404


def test_ledger_filters_by_leader_and_rota_by_unit(client, world, petition):
    from ..factories import make_staff

    other = make_staff("leader_x", world.a.government, "leader")
    _contract(world, petition)
    client.force_login(world.intake_a)
    url = reverse("leadership:contracts")
    assert petition.number in client.get(url, {"leader": world.leader_a.pk}).content.decode()
    assert petition.number not in client.get(url, {"leader": other.pk}).content.decode()
    for org, kind in ((world.a.office, "day"), (world.a.department, "night")):
        services.save_shift(actor=world.supervisor_a, organisation=org, date=days(1), kind=kind, leader=other)
    month = days(1).strftime("%Y-%m")
    html = client.get(
        reverse("leadership:rota"), {"month": month, "organisation": world.a.department.pk}
    ).content.decode()
    assert 'id="rota-filters"' in html and len(re.findall(r'id="shift-\d+"', html)) == 1
