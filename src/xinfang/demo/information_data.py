"""Demo records of the information app (issue #11), so a newcomer sees them after ``make demo``.

County 1's 信访局 (青山县) sends three reports to its city's 信访局 (东岭市), through the real
services so the audit rows, issue numbers and notifications exist: a 信访摘报 the city has used
with feedback, an urgent report (紧急信息, Art. 25) sent at once on sign-off and still unread
above, and a 信访工作动态 waiting for 王建国's sign-off.  Each is found again by its title, so a
rerun adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from xinfang.information import services
from xinfang.information.models import InformationReport
from xinfang.organisations.models import User
from xinfang.petitions.models import Petition

from .tree import DemoTree


@dataclass(frozen=True)
class Story:
    kind: str
    title: str
    body: str
    stop: str  # how far the report goes: "submitted", "sent" or "used"
    pick: Callable[[Any], Any]  # which petitions it draws on, from the clerk's restricted queryset


def _first(n: int) -> Callable[[Any], Any]:
    return lambda qs: qs.order_by("pk")[:n]


def _urgent_or_collective(qs: Any) -> Any:
    urgent = qs.filter(is_urgent=True).order_by("pk")[:1]
    return urgent if urgent else qs.filter(is_collective=True).order_by("pk")[:1]


STORIES = (
    Story(
        "digest",
        "关于城关镇部分业主集中反映房产证办理滞后问题的情况",
        "近期，城关镇某小区部分业主先后来信来访，反映购房多年仍未取得不动产权证书，涉及住户约120户。\n"
        "经了解，问题起因是开发企业欠缴土地出让金，项目未能办理竣工验收备案。县信访局已将相关信访事项交办县住建局、"
        "自然资源局，并协调县政府召开专题会议，明确由开发企业分期补缴、相关部门并联审批。\n"
        "目前，首批40户的材料已受理。下一步，我局将跟踪督办办理进度，每半月向县政府报告一次，防止矛盾激化。",
        "used",
        _first(2),
    ),
    Story(
        "urgent",
        "白马乡部分村民因征地补偿问题聚集乡政府",
        "今日上午9时许，白马乡某村村民30余人聚集在乡政府门前，反映征地补偿款分配不公。\n"
        "县信访局已会同乡党委、县自然资源局赶赴现场，接待群众代表5名，现场秩序总体平稳，未发生过激行为。\n"
        "县政府已责成白马乡和县自然资源局三日内核查补偿款发放情况并向群众公开。我局将持续关注，有新情况随时续报。",
        "sent",
        _urgent_or_collective,
    ),
    Story(
        "bulletin",
        "青山县信访工作动态（本月）",
        "本月，县信访局深入开展矛盾纠纷排查化解，组织全县各乡镇、部门完成月度排查，新排查矛盾纠纷若干件，落实包案领导。\n"
        "县领导按照接访日安排，在县信访接待中心接待来访群众，现场协调解决一批群众反映的实际问题。\n"
        "下一步，县信访局将继续推进信访积案化解，对重复信访事项逐件落实化解措施。",
        "submitted",
        _first(0),
    ),
)


def _account(username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).select_related("organisation").first()


def seed(tree: DemoTree) -> int:
    """Add the demo information records that are missing (a rerun adds nothing); return how many were made."""
    office = tree.county_1.office
    clerk, leader, city_supervisor = _account("intake"), _account("leader"), _account("city_supervisor")
    if office is None or clerk is None or leader is None or city_supervisor is None:
        return 0
    made = 0
    for story in STORIES:
        if InformationReport.objects.filter(office=office, title=story.title).exists():
            continue
        petitions = list(story.pick(Petition.objects.restrict(clerk)))
        report = services.create_draft(
            user=clerk, kind=story.kind, title=story.title, body=story.body,
            petition_numbers=[p.number for p in petitions],
        )  # fmt: skip
        services.submit(user=clerk, report_id=report.pk, approver=leader.pk)
        if story.stop != "submitted":
            services.sign_off(user=leader, report_id=report.pk)
            report.refresh_from_db()
            if report.status != "sent":
                services.send(user=clerk, report_id=report.pk)
        if story.stop == "used":
            services.give_feedback(
                user=city_supervisor, report_id=report.pk, use="used",
                feedback="已采用，编入本期《东岭市信访信息》。请继续跟踪办证进度，化解后报结果。",
            )  # fmt: skip
        made += 1
    return made
