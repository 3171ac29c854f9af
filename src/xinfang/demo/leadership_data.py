"""Demo records of the leadership app (issue #11), so a newcomer sees them after ``make demo``:
王建国 (``leader``) contracts five open petitions of his county (one with a step past due, so
late) and ``city_leader`` one; the city requires contracting for listed supervision and backlog
cases; six instructions to county departments (two answered, one closed, one overdue); this
month's duty rota of the county petition office with a few log entries.

Everything goes through ``leadership.services`` (audit rows, numbers, notifications).  Each part
is skipped when its records exist already, so a rerun adds nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db.models import Q
from django.utils import timezone

from xinfang.organisations.models import User
from xinfang.petitions.choices import FINAL_STATUSES
from xinfang.petitions.models import Petition

from .tree import DemoTree

log = logging.getLogger(__name__)

MEASURES = (
    "包案领导带队走访信访人，听取诉求；责成责任单位三日内核实情况；召开协调会，依法依规提出处理意见。",
    "约谈用人单位负责人，督促限期补发工资；对确有困难的，协调劳动保障监察介入。",
    "组织国土、住建等部门现场勘查，对照政策逐项答复；必要时召开听证会。",
    "会同属地乡镇、村组开展入户调解，做好信访人思想疏导和稳控工作。",
    "查清历史遗留问题，形成书面答复意见，由包案领导当面答复信访人。",
)
INSTRUCTIONS = (
    ("请人社局于{due}前核实欠薪情况，依法督促补发并报结果。", 12),
    ("请人社局会同属地乡镇妥善处理，{due}前将办理情况报我。", 8),
    ("请认真研究信访人诉求，依法依规答复，{due}前报结果。", 15),
    ("此件反映问题较集中，请人社局牵头调查，{due}前报告。", 10),
    ("请核查社保缴纳情况并答复信访人，{due}前报结果。", 6),
    ("请抓紧办理，{due}前报办理结果。", 4),
)


def _user(username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).select_related("organisation").first()


def _open_petitions(user: Any, exclude: set[int], n: int) -> list[Petition]:
    from xinfang.leadership.models import ContractStatus, LeaderContract

    contracted = LeaderContract.objects.filter(status=ContractStatus.OPEN, petition__isnull=False).values(
        "petition_id"
    )
    return list(
        Petition.objects.restrict(user)
        .exclude(status__in=FINAL_STATUSES)
        .exclude(pk__in=contracted)
        .exclude(pk__in=exclude)
        .filter(is_confidential=False)
        .order_by("received_on", "id")[:n]
    )


def _contracts(tree: DemoTree, today: dt.date) -> int:
    from xinfang.leadership import services
    from xinfang.leadership.models import LeaderContract

    leader, city_leader, intake = _user("leader"), _user("city_leader"), _user("intake")
    handler, supervisor = _user("handler"), _user("supervisor")
    # Other demo areas (disputes, campaigns) contract cases too: this part's own mark is its measures.
    if leader is None or intake is None or LeaderContract.objects.filter(measures__in=MEASURES).exists():
        return 0
    made = 0
    for i, petition in enumerate(_open_petitions(leader, set(), 5)):
        # The first is late: its first step ("走访信访人") was due two days ago and is not done.
        first_step = today - dt.timedelta(days=2) if i == 0 else today + dt.timedelta(days=3 + i)
        contract = services.open_contract(
            actor=intake if i % 2 else leader,  # the office assigns some, the leader takes others
            leader=leader,
            petition=petition,
            measures=MEASURES[i],
            due_on=today + dt.timedelta(days=10 + 7 * i),
            official=supervisor,
            handler=handler if i < 3 else None,
            milestones=[("走访信访人", first_step), ("召开协调会", today + dt.timedelta(days=8 + 7 * i))],
        )
        made += 1 + 2
        if i in (1, 2):
            services.add_progress(
                actor=handler or leader, contract=contract, text="已走访信访人，了解诉求，正在协调责任单位。"
            )
            made += 1
    if city_leader is not None:
        for petition in _open_petitions(city_leader, set(), 1):
            services.open_contract(
                actor=city_leader,
                leader=city_leader,
                petition=petition,
                measures="市领导包案：召集县、部门联席会议，统筹化解。",
                due_on=today + dt.timedelta(days=30),
                milestones=[("召开联席会议", today + dt.timedelta(days=10))],
            )
            made += 2
    city_supervisor = _user("city_supervisor")
    if city_supervisor is not None:
        # The city requires contracting for listed supervision (挂牌督办) and backlog cases (积案).
        services.set_policy(actor=city_supervisor, require_for_listed=True, require_for_backlog=True)
        made += 1
    return made


def _instructions(tree: DemoTree, today: dt.date) -> int:
    from xinfang.leadership import services
    from xinfang.leadership.models import Instruction, InstructionEntry

    leader, handler = _user("leader"), _user("handler")
    if leader is None or handler is None or Instruction.objects.filter(leader=leader).exists():
        return 0
    unit = handler.organisation  # county 1's 人社局: its staff answer
    letters = list(
        Petition.objects.restrict(leader)
        .exclude(status__in=FINAL_STATUSES)
        .filter(is_confidential=False)
        .filter(Q(channel="letter") | Q(channel="visit"))
        .order_by("-received_on", "-id")[:6]
    )
    made = 0
    for i, petition in enumerate(letters):
        text, days = INSTRUCTIONS[i]
        due = today + dt.timedelta(days=days)
        instruction = services.issue_instruction(
            actor=leader,
            petition=petition,
            unit=unit,
            text=text.format(due=f"{due.month}月{due.day}日"),
            due_on=due,
        )
        made += 1
        if i in (0, 1):
            services.answer_instruction(
                actor=handler,
                instruction=instruction,
                text="已约谈用人单位，欠薪已全部补发，信访人表示满意。",
            )
        if i == 1:
            services.close_instruction(actor=leader, instruction=instruction, note="阅。")
        if i == 5:
            # One overdue instruction for the demo's red line: the service only accepts a future
            # deadline, so this one is moved back in time after it was issued (demo data only).
            past = timezone.now() - dt.timedelta(days=9)
            Instruction.objects.filter(pk=instruction.pk).update(
                due_on=today - dt.timedelta(days=2), created_at=past
            )
            InstructionEntry.objects.filter(instruction=instruction).update(at=past)
    return made


def _rota(tree: DemoTree, today: dt.date) -> int:
    """Last month's and this month's rota of county 1's petition office, and a few log entries on
    days already past (so the log has content whatever the day of the month)."""
    from xinfang.leadership import services
    from xinfang.leadership.models import DutyShift, ShiftKind
    from xinfang.workflow.calendar import is_working_day

    supervisor, leader = _user("supervisor"), _user("leader")
    office = tree.county_1.office
    if supervisor is None or leader is None or office is None:
        return 0
    first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)  # the first of last month
    if DutyShift.objects.filter(organisation=office, date__gte=first).exists():
        return 0
    made = 0
    shifts = {}
    day = first
    while day.month in (first.month, today.month):
        kind = ShiftKind.DAY if is_working_day(day) else ShiftKind.HOLIDAY
        shifts[day] = services.save_shift(
            actor=supervisor, organisation=office, date=day, kind=kind, leader=leader,
            staff_on_duty="陈静、赵敏" if day.day % 2 else "赵敏、陈静", phone="0000-12345",
        )  # fmt: skip
        made += 1
        day += dt.timedelta(days=1)
    petitions = list(Petition.objects.restrict(supervisor).filter(is_confidential=False).order_by("-id")[:3])
    entries = [
        (
            1,
            "上午9时，三名群众来访反映工地欠薪问题，情绪较激动。",
            "带班领导接待，登记后交人社局核实，约定三日内答复。",
        ),
        (3, "接市信访局电话通知，近期加强重点人员稳控。", "已传达至各乡镇，落实专人负责。"),
        (6, "夜间接群众来电咨询征地补偿政策。", "已解答，告知次日到窗口登记。"),
    ]
    for i, (offset, happened, done) in enumerate(entries):
        day = today - dt.timedelta(days=offset)
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 30)))
        services.log_duty(
            actor=supervisor, shift=shifts[day], at=at, happened=happened, action_taken=done,
            handed_over_to="次日值班人员", petitions=petitions[i : i + 1],
        )  # fmt: skip
        made += 1
    return made


def seed(tree: DemoTree) -> int:
    """Add the demo leadership records that are missing (a rerun adds nothing); return how many were made."""
    today = timezone.localdate()
    return _contracts(tree, today) + _instructions(tree, today) + _rota(tree, today)
