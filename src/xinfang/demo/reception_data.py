"""Demo records of the reception app (issue #11), so a newcomer sees them after ``make demo``:
青山县信访局 and the city's 信访局 each publish a reception day on "每月的第一个工作日" (the county's
rota: 王建国, 县长, and a deputy 张立新, 副县长, created here because the demo has one county leader;
the city's: 李卫东), with sessions for the next three months; three citizens book the county's
next session (today's, when today is one); 王建国 records one visit down (下访) on two petitions.

Everything goes through ``reception.services`` (audit rows, notifications, slots taken by the same
conditional UPDATE).  Each part is skipped when its records exist, so a rerun adds nothing.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from xinfang.organisations.choices import RoleCode
from xinfang.organisations.models import User
from xinfang.organisations.services import create_staff
from xinfang.petitions.models import Petition
from xinfang.petitions.validators import id_check_digit
from xinfang.reception import services
from xinfang.reception.models import (
    OutreachKind,
    OutreachVisit,
    ReceptionBooking,
    ReceptionSchedule,
    RuleKind,
)

from .accounts import DEMO_PASSWORD
from .tree import DemoTree

log = logging.getLogger(__name__)

DEPUTY = ("deputy_leader", "张立新")
BOOKERS = (
    ("刘桂兰", "19620315", "13905710001", "小区供暖不达标，多次反映未解决，希望领导协调。"),
    ("何建军", "19780902", "13905710002", "工程款被拖欠两年，农民工工资无法发放。"),
    ("马秀英", "19551120", "13905710003", "宅基地确权有争议，请求依法处理。"),
)


def _user(username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).select_related("organisation").first()


def _deputy(tree: DemoTree) -> User:
    user = _user(DEPUTY[0])
    if user is None:
        user = create_staff(
            username=DEPUTY[0],
            password=DEMO_PASSWORD,
            organisation=tree.county_1.government,
            roles=[RoleCode.LEADER],
            full_name=DEPUTY[1],
            bootstrap=True,
        )
    return user


def _schedule(clerk: User | None, title: str, rota: list[tuple[User | None, str]], place: str) -> int:
    if clerk is None or any(u is None for u, _t in rota):
        return 0
    if ReceptionSchedule.objects.filter(organisation=clerk.organisation, title=title).exists():
        return 0
    today = timezone.localdate()
    services.save_schedule(
        user=clerk,
        organisation=clerk.organisation,
        data=services.ScheduleInput(
            title=title,
            rule=RuleKind.FIRST_WORKING_DAY,
            starts_on=today.replace(day=1),
            start_time=dt.time(9, 0),
            end_time=dt.time(12, 0),
            place=place,
            rota=[(u.pk, t) for u, t in rota],
            slot_minutes=60,
            capacity_per_slot=3,
            published=True,
        ),
    )
    return 1


def _bookings(tree: DemoTree) -> int:
    office = tree.county_1.office
    session = services.public_sessions().filter(organisation=office).first()
    if session is None or ReceptionBooking.objects.filter(session__organisation=office).exists():
        return 0
    slots = list(session.slots.order_by("starts_at"))
    made = 0
    for i, (name, birth, phone, description) in enumerate(BOOKERS):
        code = tree.county_1.government.code or ""
        region = code if len(code) == 6 and code.isdigit() else "330102"
        first17 = f"{region}{birth}{i + 21:03d}"
        services.book_slot(
            session_id=session.pk,
            slot_id=slots[i % len(slots)].pk,
            name=name,
            id_number=first17 + id_check_digit(first17),
            phone=phone,
            description=description,
            ip=f"demo-{i}",
        )
        made += 1
    return made


def _outreach(leader: User | None) -> int:
    if leader is None or OutreachVisit.objects.filter(organisation=leader.organisation).exists():
        return 0
    petitions = list(
        Petition.objects.restrict(leader).filter(is_confidential=False).order_by("-received_on", "id")[:2]
    )
    services.record_outreach(
        user=leader,
        data=services.OutreachInput(
            kind=OutreachKind.WITH_CASE,
            date=timezone.localdate() - dt.timedelta(days=6),
            place="青山县城关镇便民服务中心",
            leader_ids=[leader.pk],
            staff_ids=[u.pk for u in (_user("handler"), _user("intake")) if u is not None],
            other_participants="城关镇党委、镇司法所",
            petition_numbers=[p.number for p in petitions],
            notes="带案下访，与信访人当面沟通，现场协调人社局、属地镇政府，约定十日内书面答复。",
        ),
    )
    return 1


def seed(tree: DemoTree) -> int:
    """Add the demo reception records that are missing (a rerun adds nothing); return how many were made."""
    leader = _user("leader")
    made = 0
    if leader is not None:
        deputy = _deputy(tree)
        made += _schedule(
            _user("intake"),
            "青山县领导接待日",
            [(leader, "县长"), (deputy, "副县长")],
            "青山县信访局一楼接待大厅",
        )
    made += _schedule(
        _user("city_supervisor"), "市领导接访日", [(_user("city_leader"), "副市长")], "市信访局来访接待中心"
    )
    made += _bookings(tree)
    made += _outreach(leader)
    return made
