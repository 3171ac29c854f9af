"""A working morning for the workbench tests: petitions of county A in every state a section
lists, one of county B, and the staff of the test world (tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from xinfang.petitions.models import Petition
from xinfang.supervision import services as supervision
from xinfang.workflow import services
from xinfang.workflow.calendar import add_working_days
from xinfang.workflow.models import DecisionLetter

from ..factories import make_staff, register
from ..procedure import REPLY, new_registration, to_accepted, to_replied, to_under_review


@dataclass
class Desk:
    """The petitions by name; ``expected[user][section]`` the numbers each section must hold."""

    world: object
    p: dict[str, Petition] = field(default_factory=dict)
    city_leader: object = None
    leader_b: object = None

    def number(self, name: str) -> str:
        return self.p[name].number

    def numbers(self, *names: str) -> set[str]:
        return {self.p[n].number for n in names}


def _set_due(petition: Petition, due_on: dt.date) -> None:
    Petition.objects.filter(pk=petition.pk).update(due_on=due_on)
    petition.refresh_from_db()


@pytest.fixture
def desk(world) -> Desk:
    d = Desk(world=world)
    today = timezone.localdate()
    d.city_leader = make_staff("city_leader", world.city, "leader")
    d.leader_b = make_staff("leader_b", world.b.government, "leader")

    def new(name: str) -> Petition:
        d.p[name] = new_registration(world).petition
        return d.p[name]

    # 待处置 at county A's office: registered, and one the unit returned.
    new("registered")
    returned = new("returned")
    services.assign(user=world.intake_a, number=returned.number, unit=world.a.department)
    services.return_petition(user=world.handler_a, number=returned.number, reasons="不属于本单位职责范围")
    # 新交办 at county A's department: assigned (交办) and forwarded (转送), not yet accepted.
    services.assign(user=world.intake_a, number=new("assigned").number, unit=world.a.department)
    services.forward(user=world.intake_a, number=new("forwarded").number, unit=world.a.department)
    # 办理中: accepted by the department; one with handler_a named, one due soon, one overdue.
    to_accepted(world, new("accepted").number)
    to_accepted(world, new("mine").number)
    services.assign_handler(user=world.handler_a, number=d.number("mine"), staff="handler_a")
    to_accepted(world, new("due_soon").number)
    _set_due(d.p["due_soon"], add_working_days(today, 2))
    to_accepted(world, new("overdue").number)
    _set_due(d.p["overdue"], today - dt.timedelta(days=3))
    # The office's own matter (受理 by the office itself, no assignment), overdue: 办理中 and
    # 已超期 of the office, nobody else's handling.
    services.accept(user=world.intake_a, number=new("own").number)
    _set_due(d.p["own"], today - dt.timedelta(days=1))
    # 待审批: an extension the department asked for, waiting for the county's leader.
    to_accepted(world, new("extension").number)
    services.request_extension(
        user=world.handler_a, number=d.number("extension"), reasons="需现场核查", days=15
    )
    # Replied with a completion report due (交办) and no evaluation yet: 待审批 (report) and 待回访.
    to_replied(world, new("replied").number)
    # A petitioner's window that has passed: never overdue, never in any staff section.
    to_replied(world, new("window_passed").number)
    _set_due(d.p["window_passed"], today - dt.timedelta(days=40))
    # 待复查复核: the county government reviews (its petition office acts for it).
    to_under_review(world, new("review").number)
    # The letter of ``window_passed`` was issued 40 days ago: its evaluation window closed too.
    DecisionLetter.objects.filter(petition=d.p["window_passed"]).update(
        issued_at=timezone.now() - dt.timedelta(days=40)
    )
    # Supervision: the city supervises ``accepted`` (待反馈督办 for the department) and lists
    # ``mine`` (挂牌督办); county A's office supervised ``due_soon`` and the department answered
    # (待审核督办反馈 for the office).
    supervision.supervise(
        user=world.city_supervisor,
        number=d.number("accepted"),
        kind="formal",
        requirements="请于期限内报送办理进展",
    )
    supervision.supervise(
        user=world.city_supervisor, number=d.number("mine"), kind="listed",
        requirements="挂牌督办，按周报送进展", leader=d.city_leader,
    )  # fmt: skip
    supervision.supervise(
        user=world.supervisor_a, number=d.number("due_soon"), kind="urge", requirements="请抓紧办理"
    )
    supervision.answer_supervision(
        user=world.handler_a, number=d.number("due_soon"), text="已约谈双方，三日内答复"
    )
    # County B: none of it may appear for county A's staff.
    d.p["b_registered"] = register(world.b.office, world.intake_b, world.b.township).petition
    for p in d.p.values():
        p.refresh_from_db()
    return d


def reply_body() -> dict:
    return dict(REPLY)
