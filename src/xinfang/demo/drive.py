"""Replaying a sample of demo stories through the real workflow services (``make demo`` only).

The sample's petitions are written in bulk as registered; here each story's actions are taken by
the demo accounts (the intake clerk, the supervisor and leader of 青山县, the handler of its 人社局,
the city's supervisor for reviews and rechecks) and by the petitioner on the portal, each at its
planned moment with the clock set back by freezegun.  So the sample's timelines, assignments,
extension requests, decision letters, evaluations, appeals and hearings are exactly the rows the
services write, with their due dates, audit events and versions.

Needs freezegun (a development dependency) and the demo accounts; otherwise the sample is simply
written in bulk like every other petition (stories.py decides that before planning).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from xinfang.organisations.models import Organisation, User
from xinfang.workflow import appeals, services
from xinfang.workflow.engine import Citizen

from .storyrows import DECLINE_REASONS, LETTER_TEXTS, REDIRECT_CHANNELS, WITHDRAW_REASONS
from .tree import DemoTree

# The units whose stories can be replayed: those with a demo handler account.
DRIVE_UNIT = "人社局"
ACTOR_NAMES = ("intake", "supervisor", "leader", "handler", "city_supervisor")
RATINGS = {
    "support": ("satisfied", "satisfied", ""),
    "explain": ("satisfied", "basically_satisfied", ""),
    "not_supported": ("basically_satisfied", "dissatisfied", "诉求未得到解决，对处理结果不满意。"),
}
REVIEW_TEXTS = {
    "uphold": ("经复查，原处理意见认定事实清楚，适用依据正确。", "《信访工作条例》第三十五条",
               "维持原处理意见。"),
    "change": ("经复查，原处理意见对部分事实认定不清。", "《信访工作条例》第三十五条",
               "变更原处理意见，支持信访人的部分请求。"),
}  # fmt: skip


@dataclass
class DriveResult:
    petitions: int = 0
    actions: int = 0
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # (number, action, code)


def can_drive() -> bool:
    """freezegun is installed (``pip install -e .[dev]``, as ``make demo`` does)."""
    return importlib.util.find_spec("freezegun") is not None


def demo_actors(tree: DemoTree) -> dict[str, User] | None:
    """The demo accounts the replay acts as, or None when any is missing (``--no-accounts``)."""
    users = {u.username: u for u in User.objects.filter(username__in=ACTOR_NAMES, is_active=True)}
    if set(users) != set(ACTOR_NAMES):
        return None
    unit = tree.county_1.departments.get(DRIVE_UNIT)
    if unit is None or users["handler"].organisation_id != unit.pk:
        return None
    if users["intake"].organisation_id != tree.county_1.office.pk:  # type: ignore[union-attr]
        return None
    return users


def replay(stories: list[tuple[int, str, tuple]], actors: dict[str, User]) -> DriveResult:
    """Take every story's actions at their moments; a refused action ends that story there (and is
    reported: the demo's tests require none)."""
    from freezegun import freeze_time

    result = DriveResult()
    units: dict[int, Organisation] = {}
    if not stories:
        return result
    with freeze_time(stories[0][2][0][1]) as clock:
        for petition_id, number, steps in stories:
            result.petitions += 1
            story = _Story(petition_id, number, actors, units)
            for action, moment, argument in steps:
                clock.move_to(dt.datetime.fromisoformat(moment))
                try:
                    story.take(action, argument)
                except ValidationError as exc:
                    result.refused.append((number, action, getattr(exc, "code", "") or str(exc.messages)))
                    break
                # a report's accused, confirmed first; service is no transition (no petition.* audit)
                result.actions += (action not in SERVICE_STEPS) + story.confirmed
                story.confirmed = 0
    return result


# 送达 of the letter or the opinion: recorded as the documents app does (appeals.serve_*), which
# starts the petitioner's windows; not a transition of the petition.
SERVICE_STEPS = frozenset({"serve_letter", "serve_opinion"})
# The office's first decisions on a petition; a report needs its accused confirmed before any of
# them (issue #7 point 1), which the clerk does just before, with what was registered.
DISPOSALS = frozenset({"forward", "assign", "accept", "decline", "redirect"})


class _Story:
    def __init__(
        self, petition_id: int, number: str, actors: dict[str, User], units: dict[int, Organisation]
    ):
        self.number = number
        self.actors = actors
        self.units = units
        self.citizen = Citizen(petition_id=petition_id)
        self.by_unit = False
        self.outcome = "explain"
        self.seed = petition_id
        self.confirmed = 0  # name_subject calls made before the last action

    def _confirm_accused(self) -> None:
        from xinfang.petitions.choices import Purpose
        from xinfang.petitions.models import Petition

        petition = Petition.objects.select_related("subject_organisation").get(number=self.number)
        if petition.purpose != Purpose.REPORT or petition.subject_confirmed:
            return
        subject = petition.subject_organisation
        services.name_subject(
            user=self.actors["intake"], number=self.number, subject_organisation=subject,
            no_subject_organisation=subject is None,
        )  # fmt: skip
        self.confirmed += 1

    def _serve(self, action: str) -> None:
        """送达 today, as the documents app records it: the letter (or the latest opinion) reached
        the petitioner; their window starts (issue #10 point 8)."""
        from django.utils import timezone

        from xinfang.petitions.models import Petition

        petition = Petition.objects.get(number=self.number)
        if action == "serve_letter":
            appeals.serve_letter(appeals.last_letter(petition), timezone.localdate())
            return
        opinion = petition.appeals.filter(decided_on__isnull=False).order_by("-decided_on", "-pk").first()
        appeals.serve_opinion(opinion, timezone.localdate())

    def _unit(self, argument: str) -> Organisation:
        pk = int(argument)
        if pk not in self.units:
            self.units[pk] = Organisation.objects.get(pk=pk)
        return self.units[pk]

    def take(self, action: str, argument: str) -> Any:
        a, n = self.actors, self.number
        if action in DISPOSALS:
            self._confirm_accused()
        handling = a["handler"] if self.by_unit else a["supervisor"]
        # The body reviewing the reply: the unit's government (its petition office acts for it), or
        # for the office's own reply the city above (the city's petition office).
        reviewer = a["supervisor"] if self.by_unit else a["city_supervisor"]
        if action in {"forward", "assign"}:
            self.by_unit = True
            service = services.forward if action == "forward" else services.assign
            return service(user=a["intake"], number=n, unit=self._unit(argument))
        if action == "accept":
            return services.accept(user=a["intake"], number=n)
        if action == "decline":
            return services.decline(user=a["intake"], number=n, reasons=DECLINE_REASONS[self.seed % 3])
        if action == "redirect":
            return services.redirect(user=a["intake"], number=n, channel=REDIRECT_CHANNELS[self.seed % 3])
        if action == "withdraw":
            return services.withdraw(user=a["intake"], number=n, reasons=WITHDRAW_REASONS[self.seed % 2])
        if action == "unit_accept":
            return services.unit_accept(user=a["handler"], number=n)
        if action == "return":
            return services.return_petition(
                user=a["handler"], number=n, reasons="该事项涉及土地权属认定，不属于本单位职责范围。"
            )
        if action == "overrule_return":
            return services.overrule_return(
                user=a["supervisor"],
                number=n,
                comment="经研究，该事项主要涉及劳动报酬，属你单位职责，请依法办理。",
            )
        if action == "request_extension":
            return services.request_extension(
                user=handling,
                number=n,
                days=int(argument),
                reasons="案情复杂，需现场核查并组织相关部门会商。",
            )
        if action == "approve_extension":
            return services.approve_extension(user=a["leader"], number=n, comment="同意延期。")
        if action == "reply":
            self.outcome = argument.split(":")[0]
            facts, basis, opinion = LETTER_TEXTS[self.outcome]
            return services.reply(user=handling, number=n, outcome=self.outcome, facts=facts, basis=basis,
                                  opinion=opinion)  # fmt: skip
        if action in {"serve_letter", "serve_opinion"}:
            return self._serve(action)
        if action == "approve_completion":
            return services.approve_completion(user=a["supervisor"], number=n)
        if action == "evaluate":
            office_rating, unit_rating, reasons = RATINGS[self.outcome]
            return appeals.evaluate(user=self.citizen, number=n, office_rating=office_rating,
                                    unit_rating=unit_rating, reasons=reasons)  # fmt: skip
        if action == "request_review":
            return appeals.request_review(user=self.citizen, number=n, reasons="对处理意见不服，请求复查。")
        if action == "review":
            facts, basis, opinion = REVIEW_TEXTS[argument]
            return appeals.review(user=reviewer, number=n, outcome=argument, facts=facts, basis=basis,
                                  opinion=opinion)  # fmt: skip
        if action == "request_recheck":
            return appeals.request_recheck(user=self.citizen, number=n, reasons="对复查意见不服，请求复核。")
        if action == "start_hearing":
            return appeals.start_hearing(
                user=a["city_supervisor"], number=n, comment="组织听证，邀请人大代表参加。"
            )
        if action == "end_hearing":
            return appeals.end_hearing(user=a["city_supervisor"], number=n, comment="听证结束。")
        if action == "recheck":
            facts, basis, _opinion = REVIEW_TEXTS[argument]
            return appeals.recheck(user=a["city_supervisor"], number=n, outcome=argument, facts=facts,
                                   basis=basis.replace("第三十五条", "第三十六条"),
                                   opinion=_opinion.replace("复查", "复核"))  # fmt: skip
        if action == "conclude":
            return appeals.conclude(user=a["intake"], number=n, conclusion=argument)
        raise ValueError(f"unknown demo action {action!r}")
