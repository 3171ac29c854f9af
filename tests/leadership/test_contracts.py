"""Case contracting (包案): who may contract, the plan, progress, closing with a result, lateness,
one open contract per subject, the scope of the ledger, the audit rows."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from freezegun import freeze_time

from xinfang.audit.models import AuditEvent
from xinfang.leadership import selectors, services
from xinfang.leadership.access import contracts_visible_to
from xinfang.leadership.models import ContractStatus, LeaderContract
from xinfang.notifications.models import Notification

from ..factories import make_staff
from .conftest import days

pytestmark = pytest.mark.django_db


def _open(world, petition, **kw):
    values = {
        "actor": world.leader_a,
        "leader": world.leader_a,
        "petition": petition,
        "measures": "走访信访人，召开协调会",
        "due_on": days(30),
    }
    values.update(kw)
    return services.open_contract(**values)


def test_a_leader_contracts_a_petition_with_a_plan(world, petition, django_capture_on_commit_callbacks):
    """The leader takes the case: team, measures, milestones, deadline; the team's bell rings."""
    # when
    with django_capture_on_commit_callbacks(execute=True):
        contract = _open(
            world, petition, official=world.supervisor_a, handler=world.handler_a,
            milestones=[("走访信访人", days(5)), ("召开协调会", days(15))],
        )  # fmt: skip
    # then
    assert contract.number.startswith("BA") and contract.status == ContractStatus.OPEN
    assert [m.title for m in contract.milestones.all()] == ["走访信访人", "召开协调会"]
    assert AuditEvent.objects.filter(action="leadership.contract_opened", object_id=str(contract.pk)).exists()
    rung = set(Notification.objects.filter(kind="leadership.contract").values_list("user_id", flat=True))
    assert rung == {world.supervisor_a.pk, world.handler_a.pk}  # not the leader who acted


def test_the_office_assigns_a_leader_of_its_government(world, petition):
    contract = _open(world, petition, actor=world.intake_a)
    assert contract.leader == world.leader_a and contract.created_by == world.intake_a


def test_a_handler_may_not_contract_and_a_leader_not_for_another(world, petition):
    with pytest.raises(services.LeadershipRefused):
        _open(world, petition, actor=world.handler_a)
    other = make_staff("leader_x", world.a.government, "leader")
    with pytest.raises(ValidationError) as exc:
        _open(world, petition, actor=world.leader_a, leader=other)
    assert "leader" in exc.value.message_dict


def test_out_of_scope_petition_is_refused(world, petition):
    leader_b = make_staff("leader_b", world.b.government, "leader")
    with pytest.raises(services.LeadershipRefused):
        _open(world, petition, actor=leader_b, leader=leader_b)


def test_bad_input_gives_chinese_field_errors(world, petition):
    with pytest.raises(ValidationError) as exc:
        _open(world, petition, measures="  ")
    assert exc.value.message_dict["measures"] == ["请填写化解措施。"]
    with pytest.raises(ValidationError) as exc:
        _open(world, petition, due_on=days(-1))
    assert "due_on" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _open(world, petition, milestones=[("太晚的节点", days(40))])
    assert "milestones" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.open_contract(actor=world.leader_a, leader=world.leader_a, measures="x", due_on=days(3))


def test_one_open_contract_per_subject(world, petition):
    first = _open(world, petition)
    with pytest.raises(ValidationError):
        _open(world, petition)
    services.close_contract(actor=world.leader_a, contract=first, result="已协调补发工资，信访人息诉罢访。")
    assert _open(world, petition).pk != first.pk


def test_a_dispute_is_contracted_and_its_leader_set(world, dispute):
    contract = services.open_contract(
        actor=world.leader_a, leader=world.leader_a, dispute=dispute, measures="入户调解", due_on=days(20)
    )
    dispute.refresh_from_db()
    assert contract.dispute == dispute and dispute.leader == world.leader_a
    assert contract in contracts_visible_to(world.intake_a)
    assert contract not in contracts_visible_to(world.intake_b)


def test_progress_milestones_and_closing_require_a_result(world, petition):
    contract = _open(world, petition, handler=world.handler_a, milestones=[("走访", days(3))])
    services.add_progress(actor=world.handler_a, contract=contract, text="已走访信访人，了解诉求。")
    milestone = contract.milestones.get()
    services.complete_milestone(actor=world.handler_a, milestone=milestone)
    with pytest.raises(ValidationError) as exc:
        services.close_contract(actor=world.leader_a, contract=contract, result="")
    assert exc.value.message_dict["result"] == ["请填写办结情况。"]
    with pytest.raises(services.LeadershipRefused):
        services.close_contract(actor=world.handler_b, contract=contract, result="x")
    services.close_contract(actor=world.leader_a, contract=contract, result="已化解。")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.CLOSED and contract.result == "已化解。"
    with pytest.raises(ValidationError):
        services.add_progress(actor=world.leader_a, contract=contract, text="再次走访")
    actions = set(AuditEvent.objects.filter(object_id=str(contract.pk)).values_list("action", flat=True))
    assert {
        "leadership.contract_progress",
        "leadership.milestone_done",
        "leadership.contract_closed",
    } <= actions


def test_lateness_is_the_deadline_or_a_step_past_due(world, petition):
    contract = _open(world, petition, milestones=[("走访", days(2))], due_on=days(10))
    assert not contract.is_late()
    with freeze_time(days(5)):
        [row] = selectors.contract_list(world.leader_a)
        assert row.late_milestone and row.is_late()
    with freeze_time(days(12)):
        services.complete_milestone(actor=world.leader_a, milestone=contract.milestones.get())
        [row] = selectors.contract_list(world.leader_a)
        assert row.is_late()  # past the deadline itself


def test_open_contracts_by_petition_is_one_query(world, petition, django_assert_num_queries):
    from ..procedure import new_registration

    other = new_registration(world).petition
    c1 = _open(world, petition)
    _open(world, other, actor=world.intake_a)
    with django_assert_num_queries(1):
        found = selectors.open_contracts_by_petition([petition.pk, other.pk, 999999])
    assert set(found) == {petition.pk, other.pk} and found[petition.pk] == c1


def test_scope_of_the_ledger(world, petition):
    contract = _open(world, petition)
    assert contract in contracts_visible_to(world.city_supervisor)
    assert contract not in contracts_visible_to(world.handler_b)
    assert not contracts_visible_to(world.sysadmin).exists()
    assert LeaderContract.objects.count() == 1
