"""Campaigns: creation, cases from the backlog and by hand, categories, contracting through the
leadership app, resolution, progress figures that agree with the cases behind them, the closing
report, the pages (allowed and refused) and the workbench panels."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document

from xinfang.audit.models import AuditEvent
from xinfang.campaigns import access, panels, services
from xinfang.campaigns.access import CampaignRefused
from xinfang.campaigns.models import Campaign, CampaignCase, CaseStatus, ResolutionCategory
from xinfang.campaigns.progress import filter_cases, progress
from xinfang.notifications.models import Notification
from xinfang.petitions.models import Petition

from ..factories import make_staff, register
from ..procedure import new_registration, to_accepted
from .conftest import TODAY, overdue

pytestmark = pytest.mark.django_db

LATER = TODAY + dt.timedelta(days=90)


def new_campaign(world, **kw) -> Campaign:
    values = {"name": "百日攻坚", "starts_on": TODAY, "ends_on": LATER, "targets": {"resolution_rate": "95"}}
    values.update(kw)
    return services.create_campaign(user=world.supervisor_a, **values)


def test_create_and_refusals(world):
    c = new_campaign(world)
    assert c.organisation == world.a.government and c.status == "running"
    assert [str(t) for t in c.targets.all()] == ["化解率 ≥ 95.0%"]
    assert [x.name for x in services.categories_for(world.a.government)][:2] == ["化解一批", "终结一批"]
    with pytest.raises(CampaignRefused):
        services.create_campaign(user=world.handler_a, name="x", starts_on=TODAY, ends_on=LATER)
    with pytest.raises(ValidationError) as exc:
        new_campaign(world, name="", ends_on=TODAY - dt.timedelta(days=1), targets={"resolution_rate": "120"})
    assert {"name", "ends_on", "target_resolution_rate"} <= set(exc.value.message_dict)
    assert AuditEvent.objects.filter(action="campaigns.campaign_created").count() == 1


def test_scope_of_campaigns(world, b_supervisor):
    c = new_campaign(world)
    assert c in access.visible_campaigns(world.leader_a)
    assert c in access.visible_campaigns(world.city_supervisor)  # the city above
    assert c in access.visible_campaigns(world.handler_a)  # inside the campaign's area
    assert c not in access.visible_campaigns(b_supervisor)
    assert not access.may_manage(world.handler_a, c) and access.may_manage(world.city_supervisor, c)


def test_cases_categories_resolution_and_progress(world):
    c = new_campaign(world)
    p1, p2, p3 = overdue(world, 40), overdue(world, 50), overdue(world, 60)
    cat = ResolutionCategory.objects.get(organisation=world.a.government, name="化解一批")
    cases = services.add_cases(
        user=world.supervisor_a, campaign_id=c.pk, petition_numbers=[p1.number, p2.number], category=cat.pk
    )
    assert {x.reasons for x in cases} == {"overdue"} and {x.unit for x in cases} == {world.a.office}
    [third] = services.add_cases(user=world.supervisor_a, campaign_id=c.pk, petition_numbers=[p3.number])
    services.update_case(user=world.supervisor_a, case_id=third.pk, unit=world.a.department.pk, category=None)
    with pytest.raises(ValidationError, match="已列入"):
        services.add_cases(user=world.supervisor_a, campaign_id=c.pk, petition_numbers=[p1.number])
    services.resolve_case(
        user=world.supervisor_a, case_id=cases[0].pk, resolved_on=TODAY, note="已补发工资，息访。"
    )
    with pytest.raises(ValidationError):
        services.resolve_case(user=world.supervisor_a, case_id=cases[0].pk, resolved_on=TODAY, note="again")
    figures = progress(c, access.visible_cases(world.supervisor_a, c))
    assert (figures.total.total, figures.total.resolved, str(figures.total.resolution_rate)) == (3, 1, "33.3")
    assert not figures.targets[0].met
    visible = access.visible_cases(world.supervisor_a, c)
    for row in figures.by_unit:  # every figure agrees with the cases it links to
        assert filter_cases(visible, unit=row.key).count() == row.total
        assert filter_cases(visible, unit=row.key, status="resolved").count() == row.resolved
    for row in figures.by_category:
        assert filter_cases(visible, category=row.key).count() == row.total
    assert {r.label: r.total for r in figures.by_category} == {"化解一批": 2, "未分类": 1}
    assert AuditEvent.objects.filter(action="campaigns.case_resolved").count() == 1


def test_cases_refused_outside_scope(world, b_supervisor):
    c = new_campaign(world)
    theirs = register(world.b.office, world.intake_b, world.b.township)
    with pytest.raises(ValidationError, match="不在您的查看范围内"):
        services.add_cases(
            user=world.supervisor_a, campaign_id=c.pk, petition_numbers=[theirs.petition.number]
        )
    with pytest.raises(Campaign.DoesNotExist):
        services.add_cases(user=b_supervisor, campaign_id=c.pk, petition_numbers=[theirs.petition.number])
    with pytest.raises(CampaignRefused):
        services.add_cases(user=world.handler_a, campaign_id=c.pk, petition_numbers=["x"])


def test_contract_through_leadership(world):
    c = new_campaign(world)
    p = overdue(world, 40)
    [case] = services.add_cases(user=world.supervisor_a, campaign_id=c.pk, petition_numbers=[p.number])
    with pytest.raises(ValidationError) as exc:
        services.contract_case(
            user=world.supervisor_a, case_id=case.pk, leader=None, measures="", due_on=None
        )
    assert {"leader", "measures", "due_on"} <= set(exc.value.message_dict)
    services.contract_case(
        user=world.supervisor_a,
        case_id=case.pk,
        leader=world.leader_a.pk,
        measures="约见信访人，协调补发。",
        due_on=TODAY + dt.timedelta(days=30),
    )
    from xinfang.leadership.models import LeaderContract

    contract = LeaderContract.objects.get(petition=p)
    case.refresh_from_db()
    assert case.leader == world.leader_a and case.contract_id == contract.pk
    assert Notification.objects.filter(user=world.leader_a, kind="campaign").exists()
    figures = progress(c, access.visible_cases(world.supervisor_a, c))
    assert figures.total.contracted == 1


def test_closing_report(world):
    c = new_campaign(world)
    ps = [overdue(world, 40 + i) for i in range(3)]
    cases = services.add_cases(
        user=world.supervisor_a, campaign_id=c.pk, petition_numbers=[p.number for p in ps]
    )
    for case in cases[:2]:
        services.resolve_case(user=world.supervisor_a, case_id=case.pk, resolved_on=TODAY, note="化解")
    services.set_campaign_status(
        user=world.supervisor_a, campaign_id=c.pk, status="closed", note="成效明显。"
    )
    from xinfang.campaigns.progress import closing_report

    c.refresh_from_db()
    name, content = closing_report(user=world.supervisor_a, campaign=c)
    text = "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)
    cells = [cell.text for t in Document(io.BytesIO(content)).tables for row in t.rows for cell in row.cells]
    assert name == "关于“百日攻坚”专项行动的总结报告.docx"
    assert "共列入信访积案3件，已化解2件，化解率66.7%" in text and "成效明显。" in text
    assert ps[0].number in cells and "95.0%" in cells and "未完成" in cells
    assert AuditEvent.objects.filter(action="campaigns.closing_report").count() == 1


def test_pages(client, world, b_supervisor):
    client.force_login(world.supervisor_a)
    response = client.post(
        reverse("campaigns:new"),
        {
            "name": "",
            "starts_on": TODAY,
            "ends_on": LATER,
            "description": "清理积案",
            "target_resolution_rate": "95",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "清理积案" in html  # typed text kept on error
    response = client.post(
        reverse("campaigns:new"),
        {"name": "百日攻坚", "starts_on": TODAY, "ends_on": LATER, "target_resolution_rate": "95"},
    )
    c = Campaign.objects.get()
    assert response.status_code == 302
    p1, p2 = overdue(world, 40), overdue(world, 41)
    response = client.post(
        reverse("campaigns:backlog_add"),
        {"campaign": c.pk, "number": [p1.number, p2.number], "from": "backlog"},
    )
    assert response.status_code == 302 and CampaignCase.objects.count() == 2
    html = client.get(reverse("campaigns:detail", args=[c.pk])).content.decode()
    assert p1.number in html and 'id="progress-total"' in html and "下载总结报告" in html
    case = CampaignCase.objects.get(petition=p1)
    response = client.post(
        reverse("campaigns:case", args=[case.pk]), {"form": "resolve", "resolved_on": "", "note": "息访"}
    )
    assert "息访" in response.content.decode()  # kept
    response = client.post(
        reverse("campaigns:case", args=[case.pk]),
        {"form": "resolve", "resolved_on": TODAY.isoformat(), "note": "息访"},
    )
    assert response.status_code == 302
    assert (
        CampaignCase.objects.filter(pk=case.pk).values_list("status", flat=True).get() == CaseStatus.RESOLVED
    )
    xlsx = client.get(reverse("campaigns:detail", args=[c.pk]), {"export": "xlsx", "status": "resolved"})
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    report = client.get(reverse("campaigns:report", args=[c.pk]))
    assert report.status_code == 200 and report.content[:2] == b"PK"
    # refused: another county's supervisor sees nothing, a handler may not manage
    client.force_login(b_supervisor)
    assert client.get(reverse("campaigns:detail", args=[c.pk])).status_code == 404
    assert client.get(reverse("campaigns:case", args=[case.pk])).status_code == 404
    client.force_login(world.handler_a)
    assert client.get(reverse("campaigns:report", args=[c.pk])).status_code == 403
    assert (
        client.post(reverse("campaigns:add_cases", args=[c.pk]), {"petitions": p1.number}).status_code == 403
    )


def test_detail_queries_do_not_grow_with_cases(client, world):
    c = new_campaign(world)
    client.force_login(world.supervisor_a)
    services.add_cases(
        user=world.supervisor_a, campaign_id=c.pk, petition_numbers=[overdue(world, 40).number]
    )
    url = reverse("campaigns:detail", args=[c.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    more_numbers = [overdue(world, 40).number for _ in range(4)]
    services.add_cases(user=world.supervisor_a, campaign_id=c.pk, petition_numbers=more_numbers)
    with CaptureQueriesContext(connection) as more:
        client.get(url)
    assert len(more) == len(few)


def test_late_cases_panel(client, world):
    c = new_campaign(world, starts_on=TODAY - dt.timedelta(days=100), ends_on=TODAY - dt.timedelta(days=1))
    number = new_registration(world).petition.number
    to_accepted(world, number)  # handled by the department, which sees it
    p = Petition.objects.get(number=number)
    [case] = services.add_cases(user=world.supervisor_a, campaign_id=c.pk, petition_numbers=[p.number])
    assert case.unit == world.a.department
    dept_leader = make_staff("dept_leader", world.a.department, "leader")
    [panel] = [x for x in panels.panels(dept_leader, TODAY) if x.key == "campaign-cases-late"]
    assert panel.count == 1 and panel.items[0].reference == p.number and panel.alert
    assert not [x for x in panels.panels(world.handler_b, TODAY) if x.key == "campaign-cases-late"]
    client.force_login(dept_leader)
    assert p.number in client.get(panel.list_url).content.decode()
    assert client.get(panel.export_url).content[:2] == b"PK"
    assert p.number in client.get(reverse("campaigns:my_cases")).content.decode()


def test_uncontracted_backlog_panel_follows_the_policy(world):
    from xinfang.leadership.models import ContractingPolicy

    p = overdue(world, 40)
    assert not [x for x in panels.panels(world.supervisor_a, TODAY) if x.key == "backlog-uncontracted"]
    ContractingPolicy.objects.create(organisation=world.city, require_for_backlog=True)
    [panel] = [x for x in panels.panels(world.supervisor_a, TODAY) if x.key == "backlog-uncontracted"]
    assert panel.count == 1 and panel.items[0].reference == p.number
    from xinfang.leadership.services import open_contract

    open_contract(
        actor=world.supervisor_a,
        leader=world.leader_a,
        petition=p,
        measures="包案",
        due_on=TODAY + dt.timedelta(days=10),
    )
    assert not [x for x in panels.panels(world.supervisor_a, TODAY) if x.key == "backlog-uncontracted"]
