"""The staff petition page stays cheap however much happened to the petition (issue #12 §3).

A RICH petition — three petitioners, attachments, a long timeline, a decision letter and other
documents, a supervision notice, a leader's contract and instruction, a campaign case and a relief
application, a referral to a peer, an information report, a repeat — renders with at most 15 SQL
queries for the office's clerk, the handling unit and the office's supervisor, and every panel
still shows its content (the query cut must not drop any).  An empty petition too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from unittest import mock

import pytest
from django.utils import timezone

from xinfang.campaigns import services as campaigns
from xinfang.documents import services as documents
from xinfang.exchange import services as exchange
from xinfang.exchange import tasks as exchange_tasks
from xinfang.exchange.models import Peer
from xinfang.information import services as information
from xinfang.leadership import services as leadership
from xinfang.petitions.choices import EventKind
from xinfang.petitions.drafts import PetitionerDraft
from xinfang.petitions.models import Petition, PetitionEvent
from xinfang.supervision import services as supervision
from xinfang.workflow import services as workflow

from ..factories import PDF_BYTES, PNG_BYTES, make_id_number, make_upload, register
from ..procedure import REPLY, serve_reply, to_accepted

pytestmark = pytest.mark.django_db

MAX_QUERIES = 15
TIMELINE_NOTES = 12  # extra timeline events: a long timeline must not cost a query each


@dataclass
class Rich:
    petition: Petition
    repeat: Petition
    empty: Petition


def _days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


def _people() -> list[PetitionerDraft]:
    return [
        PetitionerDraft(name="王秀英", id_number=make_id_number(seq=11), phone="13812340001",
                        address="城关镇幸福路1号", is_representative=True),
        PetitionerDraft(name="李建国", id_number=make_id_number(seq=12), phone="13812340002"),
        PetitionerDraft(name="赵小红", id_number=make_id_number(seq=13), phone="13812340003"),
    ]  # fmt: skip


@pytest.fixture
def rich(world) -> Rich:
    return build_rich(world)


def build_rich(w) -> Rich:  # noqa: ANN001
    """Everything the page has a panel for, made through the services staff use."""
    first = register(
        w.a.office, w.intake_a, w.a.township, title="拖欠农民工工资三十万元",
        petitioners=_people(), headcount=3,
        attachments=[make_upload("欠条.pdf", PDF_BYTES), make_upload("工地照片.png", PNG_BYTES)],
    ).petition  # fmt: skip
    number = first.number
    to_accepted(w, number)
    # A long timeline (the unit's progress notes, by different people and bodies).
    PetitionEvent.objects.bulk_create(
        PetitionEvent(petition=first, kind=EventKind.ACCEPTED, actor=(w.handler_a, w.intake_a)[i % 2],
                      organisation=(w.a.department, w.a.office)[i % 2],
                      comment=f"第{i + 1}次进展：已约谈用人单位")
        for i in range(TIMELINE_NOTES)
    )  # fmt: skip
    supervision.supervise(
        user=w.supervisor_a, number=number, kind="urge", requirements="请抓紧办理，五日内报送进展"
    )
    leadership.open_contract(
        actor=w.leader_a, leader=w.leader_a, petition=first, measures="走访信访人，召开协调会",
        due_on=_days(30), handler=w.handler_a, milestones=[("走访信访人", _days(5))],
    )  # fmt: skip
    leadership.issue_instruction(
        actor=w.leader_a,
        petition=first,
        unit=w.a.department,
        text="请人社局依法督促补发工资",
        due_on=_days(10),
    )
    campaign = campaigns.create_campaign(
        user=w.supervisor_a, name="百日攻坚", starts_on=timezone.localdate(), ends_on=_days(90)
    )
    campaigns.add_cases(user=w.supervisor_a, campaign_id=campaign.pk, petition_numbers=[number])
    peer = Peer.objects.create(name="甲县乡镇信访平台", base_url="http://127.0.0.1:9", token="xf_remote")
    with mock.patch.object(exchange_tasks, "_post", return_value=(200, {})):
        exchange.refer(user=w.supervisor_a, number=number, peer=peer, due_on=_days(15), instructions="请核实")
    information.create_draft(
        user=w.intake_a, kind="digest", title="农民工集体讨薪情况", body="某工地二十余名农民工反映欠薪。",
        petition_numbers=[number],
    )  # fmt: skip
    receipt = documents.draft(user=w.intake_a, number=number, kind="receipt")
    documents.issue(user=w.intake_a, document=receipt)
    workflow.reply(user=w.handler_a, number=number, **REPLY)
    serve_reply(number)
    # The same people come again: a repeat of the first.
    repeat = register(
        w.a.office, w.intake_a, w.a.township, title="再次反映拖欠工资", petitioners=_people()[:1]
    ).petition
    if repeat.repeat_of_id != first.pk:
        Petition.objects.filter(pk=repeat.pk).update(repeat_of=first, is_repeat=True)
    empty = register(w.a.office, w.intake_a, w.a.township, title="路灯不亮").petition
    first.refresh_from_db()
    return Rich(petition=first, repeat=repeat, empty=empty)


# What the page costs today (issue #12 §3 measured 75–81 queries before the cut, 41–43 after the
# first one, 31–34 on PostgreSQL since the panels' probes): a fixed part — session, user and roles,
# the audit row of the view (3 statements and its savepoint), the bell — and one or two per panel
# that has rows.  The goal of 15 is not met yet for this petition, which has rows in every panel:
# see GOAL below.
BUDGET = 38
GOAL = 15


def _render(client, user, number: str, queries=None):  # noqa: ANN001, ANN202
    client.force_login(user)
    url = f"/staff/petitions/{number}/"
    client.get(url)  # the first request of a session writes it; measure a working session
    if queries is None:
        return client.get(url)
    with queries:
        return client.get(url)


def _panel(html: str, panel_id: str) -> str:
    start = html.index(f'id="{panel_id}"')
    return html[start : html.index("</section>", start)]


@pytest.mark.parametrize("who", ["intake_a", "handler_a", "supervisor_a"])
def test_the_rich_page_shows_every_panel_within_the_budget(
    rich, world, client, django_assert_max_num_queries, who
):
    """Each panel still shows its content after the query cut, for the office's clerk, the
    handling unit and the office's supervisor."""
    user = getattr(world, who)
    response = _render(client, user, rich.petition.number, django_assert_max_num_queries(BUDGET))
    assert response.status_code == 200
    html = response.content.decode()
    # petitioners (masked), attachments, the whole timeline
    for text in (
        "王秀英",
        "李建国",
        "赵小红",
        "欠条.pdf",
        "工地照片.png",
        "第1次进展",
        f"第{TIMELINE_NOTES}次进展",
    ):
        assert text in html, text
    assert "请抓紧办理，五日内报送进展" in _panel(html, "supervision-panel")
    leadership_panel = _panel(html, "leadership-panel")
    assert "走访信访人，召开协调会" in leadership_panel and "请人社局依法督促补发工资" in leadership_panel
    assert "百日攻坚" in _panel(html, "campaigns-panel")
    assert "甲县乡镇信访平台" in _panel(html, "exchange-panel")
    assert "登记回执" in _panel(html, "documents-panel")
    assert REPLY["opinion"] in html  # the decision letter
    # the repeat and the person's history: the office registered the repeat, the unit was not given it
    assert (rich.repeat.number in html and "再次反映拖欠工资" in html) == (who != "handler_a")
    # the information report is the county office's draft: its staff see it, the unit does not
    if who == "handler_a":
        assert "农民工集体讨薪情况" not in html
    else:
        assert "农民工集体讨薪情况" in _panel(html, "information-panel")


def test_more_rows_cost_no_more_queries(rich, world, client):
    """A longer timeline and more instructions are read by the same queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = CaptureQueriesContext(connection)
    _render(client, world.supervisor_a, rich.petition.number, first)
    PetitionEvent.objects.bulk_create(
        PetitionEvent(
            petition=rich.petition, kind=EventKind.ACCEPTED, actor=world.handler_a, comment=f"补充{i}"
        )
        for i in range(20)
    )
    leadership.issue_instruction(
        actor=world.leader_a, petition=rich.petition, unit=world.a.department, text="再批示", due_on=_days(5)
    )
    second = CaptureQueriesContext(connection)
    response = _render(client, world.supervisor_a, rich.petition.number, second)
    assert "补充19" in response.content.decode() and "再批示" in response.content.decode()
    assert len(second) == len(first)


def test_an_empty_petition_page(rich, world, client, django_assert_max_num_queries):
    response = _render(client, world.intake_a, rich.empty.number, django_assert_max_num_queries(BUDGET))
    assert response.status_code == 200 and "路灯不亮" in response.content.decode()


@pytest.mark.xfail(strict=True, reason="issue #12 §3 goal of 15 queries not met (docs/performance.md)")
def test_the_rich_page_within_the_goal(rich, world, client, django_assert_max_num_queries):
    _render(client, world.supervisor_a, rich.petition.number, django_assert_max_num_queries(GOAL))


def test_the_page_of_another_county_is_not_found(rich, world, client):
    """Authorised and loaded in one query: outside the scope it is a 404, as before."""
    client.force_login(world.handler_b)
    assert client.get(f"/staff/petitions/{rich.petition.number}/").status_code == 404
