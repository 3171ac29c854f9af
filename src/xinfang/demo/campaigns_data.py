"""Demo records of the campaigns app (issue #11), so a newcomer sees them after ``make demo``: the
backlog rules of county 1 and its city, a running "百日攻坚" campaign over county 1 with about a
dozen of its backlog cases (categories assigned, most contracted to 王建国 or 李卫东, some
resolved), and two relief applications (one approved and paid).  Everything goes through the
services (audit rows, notifications); a rerun adds nothing."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from xinfang.organisations.models import User
from xinfang.petitions.models import Petition
from xinfang.workflow.transitions import OPEN_STATUSES

from .tree import DemoTree

CAMPAIGN = "百日攻坚"
CASES = 12


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _rules(tree: DemoTree) -> int:
    from xinfang.campaigns import services
    from xinfang.campaigns.models import BacklogRule

    made = 0
    for username, area, days in (
        ("supervisor", tree.county_1.government, 30),
        ("city_supervisor", tree.cities[0].government, 60),
    ):
        user = _user(username)
        if user is None or BacklogRule.objects.filter(organisation=area).exists():
            continue
        services.save_backlog_rule(
            user=user, overdue_enabled=True, overdue_days=days, repeat_enabled=True, repeat_count=2,
            concluded_enabled=True,
        )  # fmt: skip
        made += 1
    return made


def _pick(user: Any, today: dt.date) -> list[str]:
    """About a dozen backlog cases of county 1, topped up with its oldest open petitions."""
    from xinfang.campaigns import backlog

    numbers = list(backlog.backlog_cases(user, today).values_list("number", flat=True)[:CASES])
    if len(numbers) < CASES:
        more = (
            Petition.objects.restrict(user)
            .filter(status__in=list(OPEN_STATUSES), due_on__isnull=False)
            .exclude(number__in=numbers)
            .order_by("due_on", "id")
            .values_list("number", flat=True)[: CASES - len(numbers)]
        )
        numbers += list(more)
    return numbers


def _campaign(tree: DemoTree, today: dt.date) -> int:
    from xinfang.campaigns import services
    from xinfang.campaigns.models import Campaign

    supervisor, leader, city_supervisor, city_leader = (
        _user(n) for n in ("supervisor", "leader", "city_supervisor", "city_leader")
    )
    if supervisor is None or Campaign.objects.filter(name=CAMPAIGN).exists():
        return 0
    campaign = services.create_campaign(
        user=supervisor,
        name=CAMPAIGN,
        starts_on=today - dt.timedelta(days=60),
        ends_on=today + dt.timedelta(days=40),
        description="集中百日时间，清理和化解本县信访积案：逐案落实包案领导，分类化解，确保化解率达到95%以上。",
        targets={"resolution_rate": "95", "contract_rate": "100"},
    )
    numbers = _pick(supervisor, today)
    if not numbers:
        return 1
    cases = services.add_cases(user=supervisor, campaign_id=campaign.pk, petition_numbers=numbers)
    categories = services.category_choices(campaign)
    weights = [0, 0, 0, 1, 2, 0, 3, 4, 0, 1, 2, 0]  # 化解一批 most often
    for case, pick in zip(cases, itertools.cycle(weights), strict=False):
        services.update_case(user=supervisor, case_id=case.pk, category=categories[pick % len(categories)].pk)
    for i, case in enumerate(cases[:10]):
        actor, who = (city_supervisor, city_leader) if i % 4 == 3 else (supervisor, leader)
        if actor is None or who is None:
            continue
        try:
            services.contract_case(
                user=actor, case_id=case.pk, leader=who.pk,
                measures="约见信访人，查清事实，协调责任单位限期解决。",
                due_on=today + dt.timedelta(days=20 + i * 3),
            )  # fmt: skip
        except (ValidationError, PermissionError):
            continue  # already contracted in the leadership pages, or a leader outside the actor's line
    for i, case in enumerate(cases[:4]):
        services.resolve_case(
            user=supervisor, case_id=case.pk, resolved_on=today - dt.timedelta(days=10 - i * 2),
            note="经包案领导约访，问题已解决，信访人签字息访。",
        )  # fmt: skip
    return 1 + len(cases)


def _relief(tree: DemoTree, today: dt.date) -> int:
    from xinfang.campaigns import services
    from xinfang.campaigns.models import ReliefApplication

    intake, leader = _user("intake"), _user("leader")
    if (
        intake is None
        or leader is None
        or ReliefApplication.objects.filter(organisation=tree.county_1.government).exists()
    ):
        return 0
    concluded = list(
        Petition.objects.restrict(intake)
        .filter(status="concluded")
        .prefetch_related("petitioners")
        .order_by("id")[:2]
    )
    made = 0
    for i, petition in enumerate(concluded):
        applicant = petition.petitioners.all()[0]
        application = services.apply_relief(
            user=intake, petition_number=petition.number, applicant=applicant.pk,
            reason="事项已终结，信访人因病致贫、生活困难，申请一次性信访救助。",
            amount="8000" if i == 0 else "5000",
        )  # fmt: skip
        made += 1
        if i == 0:
            services.approve_relief(user=leader, relief_id=application.pk, amount="6000")
            services.pay_relief(user=intake, relief_id=application.pk, paid_on=today)
    return made


def seed(tree: DemoTree) -> int:
    """Add the demo campaigns records that are missing (a rerun adds nothing); return how many were made."""
    today = timezone.localdate()
    return _rules(tree) + _campaign(tree, today) + _relief(tree, today)
