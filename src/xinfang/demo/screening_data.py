"""Demo records of the screening app (issue #11), so a newcomer sees them after ``make demo``:
county 1's dispute ledger (15 disputes across kinds, risk levels and statuses, some overdue, one
turned into a seeded petition), this month's screening round with some units reported and some
late, and last quarter's briefing.

Everything goes through ``screening.services`` (numbers, parties' encryption, timeline, audit);
only dates are moved back afterwards (a round due yesterday, a return made on time), since the
services rightly refuse a due date in the past.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from xinfang.organisations.models import User
from xinfang.petitions.models import Petition
from xinfang.screening import briefings, figures, services
from xinfang.screening.models import Briefing, Dispute, RoundReturn, ScreeningRound
from xinfang.screening.services import PartyData

from .tree import DemoTree

# title, kind, risk, status, days since screened, days to the deadline (negative: passed)
DISPUTES = [
    ("青石村征地补偿款分配纠纷", "land", "high", "in_resolution", 40, -5),
    ("城南片区旧房拆迁安置纠纷", "demolition", "high", "screened", 12, 20),
    ("某建筑公司拖欠农民工工资", "labour", "high", "in_resolution", 20, -2),
    ("刘某夫妇离婚财产分割纠纷", "family", "low", "resolved", 60, -30),
    ("东街两户宅基地界址纠纷", "neighbours", "medium", "resolved", 100, -70),
    ("锦绣小区物业费收缴纠纷", "property", "medium", "in_resolution", 25, 10),
    ("造纸厂排污影响农田纠纷", "environment", "high", "screened", 8, 30),
    ("县医院手术后遗症赔偿纠纷", "medical", "medium", "handed_over", 95, -60),
    ("张某不服民事判决多次申诉", "litigation", "medium", "turned_petition", 30, 15),
    ("山林承包合同到期续包纠纷", "other", "low", "screened", 5, 25),
    ("河西村土地流转租金纠纷", "land", "medium", "resolved", 110, -80),
    ("商铺租赁押金退还纠纷", "other", "low", "in_resolution", 50, -10),
    ("供暖不达标业主集体投诉", "property", "high", "screened", 3, 12),
    ("养殖场异味邻里纠纷", "neighbours", "low", "resolved", 35, 5),
    ("物流公司解除劳动合同纠纷", "labour", "medium", "in_resolution", 15, 14),
]
NOTES = {
    "in_resolution": "镇司法所、村委会联合调解，已召开协调会。",
    "resolved": "双方达成调解协议并已履行。",
    "handed_over": "当事人已向县人民法院起诉，移交诉讼程序。",
    "turned_petition": "当事人到县信访局反映，已登记为信访事项。",
}
NAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"]


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def seed(tree: DemoTree) -> int:
    """Add the demo screening records that are missing (a rerun adds nothing); return how many were made."""
    intake, supervisor, leader = _user("intake"), _user("supervisor"), _user("leader")
    if intake is None or supervisor is None:
        return 0
    county = tree.county_1
    made = 0
    if not Dispute.objects.filter(organisation_path__startswith=county.government.path).exists():
        made += _disputes(tree, intake, leader)
    made += _round(tree, supervisor)
    made += _briefing(supervisor)
    return made


def _units(tree: DemoTree) -> list:
    county = tree.county_1
    return [*county.townships, *county.departments.values()] or [county.government]


def _disputes(tree: DemoTree, intake: User, leader: User | None) -> int:
    today = timezone.localdate()
    units = _units(tree)
    petition = (
        Petition.objects.restrict(intake)
        .filter(locality__path__startswith=tree.county_1.government.path)
        .order_by("pk")
        .first()
    )
    for i, (title, kind, risk, status, age, to_deadline) in enumerate(DISPUTES):
        screened_on = today - dt.timedelta(days=age)
        unit = units[i % len(units)]
        dispute = services.create_dispute(
            actor=intake,
            organisation=unit,
            locality=tree.county_1.townships[i % len(tree.county_1.townships)]
            if tree.county_1.townships
            else None,
            title=title,
            kind=kind,
            risk=risk,
            source=["grid", "round", "petition", "other"][i % 4] if i % 4 != 1 else "grid",
            description=f"{title}：当事人诉求集中，需属地和主管部门共同化解。",
            plan="定领导、定措施、定时间、定责任：包案领导牵头，责任单位制定化解方案并限期办结。",
            deadline=screened_on + dt.timedelta(days=age + to_deadline),
            screened_on=screened_on,
            leader=leader if risk == "high" else None,
            parties=[
                PartyData(f"{NAMES[i % 10]}某某", "", f"1390000{i:04d}"),
                PartyData(f"{NAMES[(i + 3) % 10]}某", "", ""),
            ],
        )
        if status == "screened":
            continue
        closed_on = min(today, screened_on + dt.timedelta(days=max(1, age // 2)))
        if status != "in_resolution":
            dispute = services.transition(
                actor=intake, dispute=dispute, to="in_resolution", note=NOTES["in_resolution"], on=closed_on
            )
        if status == "turned_petition" and petition is None:
            continue
        dispute = services.transition(
            actor=intake,
            dispute=dispute,
            to=status,
            note=NOTES[status],
            petition_number=petition.number if status == "turned_petition" else "",
            on=closed_on,
        )
    return len(DISPUTES)


def _round(tree: DemoTree, supervisor: User) -> int:
    """This month's round, due yesterday: the departments reported on time, the townships are late
    (the supervisor's workbench lists them); the first township phoned its zero report in."""
    today = timezone.localdate()
    title = f"{today.year}年{today.month}月矛盾纠纷排查"
    if ScreeningRound.objects.filter(office=supervisor.organisation, title=title).exists():
        return 0
    rnd = services.issue_round(
        actor=supervisor,
        title=title,
        period_start=today.replace(day=1),
        period_end=today,
        due_on=today,
        instructions="重点排查征地拆迁、劳资纠纷、涉众型经济纠纷和敏感节点前的突出矛盾，做到早发现、早报告、早化解。",
    )
    due = today - dt.timedelta(days=1)
    ScreeningRound.objects.filter(pk=rnd.pk).update(due_on=due)  # demo: the due date has just passed
    departments = {d.pk for d in tree.county_1.departments.values()}
    first_town = tree.county_1.townships[0].pk if tree.county_1.townships else None
    for ret in RoundReturn.objects.filter(round=rnd).select_related("unit", "round"):
        if ret.unit_id in departments or ret.unit_id == first_town:
            found = list(
                Dispute.objects.filter(organisation=ret.unit, screened_on__gte=rnd.period_start).values_list(
                    "number", flat=True
                )
            )
            note = "已逐一登记台账，落实包案领导和责任人。" if found else "经排查，本月无新发矛盾纠纷。"
            services.complete_return(
                actor=supervisor, round_return=ret, dispute_numbers=found, zero=not found, note=note
            )
            RoundReturn.objects.filter(pk=ret.pk).update(completed_on=due)  # reported on time
    return 1


def _briefing(supervisor: User) -> int:
    year, quarter = figures.previous_quarter(timezone.localdate())
    if Briefing.objects.filter(office=supervisor.organisation, year=year, quarter=quarter).exists():
        return 0
    briefings.generate_briefing(actor=supervisor, year=year, quarter=quarter)
    return 1
