"""The leadership panels on the workbench: 我包案的, 阅批待回复, 阅批已回复, 需包案未包案 (per the
contracting policy); each for the users it concerns, in a fixed number of queries."""

from __future__ import annotations

import pytest
from django.urls import reverse
from freezegun import freeze_time

from xinfang.core import worklists
from xinfang.leadership import services
from xinfang.leadership.panels import panels
from xinfang.supervision import services as supervision
from xinfang.supervision.models import NoticeKind

from ..factories import make_staff
from ..procedure import new_registration, to_accepted
from .conftest import days

pytestmark = pytest.mark.django_db


def _keys(user, today=None):
    return {p.key: p for p in panels(user, today or days(0))}


def test_my_contracts_panel_shows_lateness(world, petition):
    contract = services.open_contract(
        actor=world.intake_a, leader=world.leader_a, petition=petition, measures="走访", due_on=days(3),
        handler=world.handler_a, milestones=[("走访", days(1))],
    )  # fmt: skip
    panel = _keys(world.leader_a)["leadership-contracts"]
    assert panel.count == 1 and not panel.alert and panel.items[0].reference == petition.number
    assert "leadership-contracts" in _keys(world.handler_a)
    assert "leadership-contracts" not in _keys(world.supervisor_a)
    with freeze_time(days(2)):
        late = _keys(world.leader_a, days(2))["leadership-contracts"]
        assert late.alert and late.items[0].reason == "包案领导 · 已逾期"
    services.close_contract(actor=world.leader_a, contract=contract, result="已化解")
    assert "leadership-contracts" not in _keys(world.leader_a)


def test_instruction_panels(world, petition):
    instruction = services.issue_instruction(
        actor=world.leader_a, petition=petition, unit=world.a.department, text="请办理", due_on=days(2)
    )
    todo = _keys(world.handler_a)["leadership-instructions-todo"]
    assert todo.count == 1 and todo.items[0].due_on == days(2)
    assert "leadership-instructions-todo" not in _keys(world.leader_a)
    with freeze_time(days(3)):
        assert _keys(world.handler_a, days(3))["leadership-instructions-todo"].alert  # overdue: red
    services.answer_instruction(actor=world.handler_a, instruction=instruction, text="已办")
    assert "leadership-instructions-todo" not in _keys(world.handler_a)
    assert _keys(world.leader_a)["leadership-instructions-answered"].count == 1


def test_uncontracted_listed_supervision_per_policy(world, petition):
    city_leader = make_staff("city_leader", world.city, "leader")
    to_accepted(world, petition.number)
    supervision.supervise(
        user=world.city_supervisor, number=petition.number, kind=NoticeKind.LISTED, requirements="挂牌督办",
        respond_by=days(5), leader=city_leader,
    )  # fmt: skip
    assert "leadership-uncontracted" not in _keys(world.leader_a)  # no policy yet
    services.set_policy(actor=world.leader_a, require_for_listed=True, require_for_backlog=False)
    panel = _keys(world.leader_a)["leadership-uncontracted"]
    assert panel.count == 1 and panel.items[0].reference == petition.number and panel.alert
    assert "leadership-uncontracted" in _keys(world.supervisor_a)  # the petition office too
    assert "leadership-uncontracted" not in _keys(world.handler_a)
    assert services.policy_for(world.a.township).require_for_listed  # the county's policy covers its towns
    services.open_contract(
        actor=world.leader_a, leader=world.leader_a, petition=petition, measures="x", due_on=days(9)
    )
    assert "leadership-uncontracted" not in _keys(world.leader_a)


def test_panels_read_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    def make(n):
        for _ in range(n):
            p = new_registration(world).petition
            services.open_contract(
                actor=world.leader_a, leader=world.leader_a, petition=p, measures="x", due_on=days(9)
            )
            services.issue_instruction(
                actor=world.leader_a, petition=p, unit=world.a.department, text="x", due_on=days(9)
            )

    make(1)
    with django_assert_max_num_queries(30) as few:
        panels(world.leader_a, days(0))
    make(6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        panels(world.leader_a, days(0))


def test_the_workbench_shows_the_panel(client, world, petition):
    services.open_contract(
        actor=world.leader_a, leader=world.leader_a, petition=petition, measures="x", due_on=days(9)
    )
    client.force_login(world.leader_a)
    html = client.get(reverse("workbench:home")).content.decode()
    assert 'id="panel-leadership-contracts"' in html and "我包案的" in html
    assert worklists._PROVIDERS["leadership"] is panels
    export = client.get(reverse("leadership:contracts"), {"mine": "1", "format": "xlsx"})
    assert export.status_code == 200


def test_the_daily_job_rings_overdue_instructions_and_late_contracts_once(world, petition):
    from xinfang.leadership.tasks import remind_overdue
    from xinfang.notifications.models import Notification

    services.issue_instruction(
        actor=world.leader_a, petition=petition, unit=world.a.department, text="x", due_on=days(1)
    )
    services.open_contract(
        actor=world.leader_a, leader=world.leader_a, petition=petition, measures="x", due_on=days(1)
    )
    assert remind_overdue() == 0
    with freeze_time(days(3)):
        assert remind_overdue() > 0
        assert remind_overdue() == 0  # once
    kinds = set(Notification.objects.values_list("user__username", "kind"))
    assert ("handler_a", "leadership.instruction_overdue") in kinds
    assert ("leader_a", "leadership.contract_late") in kinds
