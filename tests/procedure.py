"""Bringing a petition through the procedure to a given state with the workflow services, the
standard way: county A's office registers it and assigns it to county A's department, which accepts
and replies; the office asks for review on the petitioner's behalf (the county government reviews),
then for recheck (the city rechecks).  Shared by the workflow, API and staff-page tests.

The decision letter and the review opinion are served (送达) on the day they are issued, as the
documents app records it (``serve_reply`` / ``serve_review``): the petitioner's windows run from
service, so a test that wants a running window must serve; one that calls ``services.reply`` or
``appeals.review`` itself and expects a window serves with these helpers."""

from __future__ import annotations

from django.utils import timezone

from xinfang.petitions.models import Petition
from xinfang.workflow import appeals, services

from .factories import register

REPLY = {"outcome": "support", "facts": "经查，工资确未足额发放。",
         "basis": "《保障农民工工资支付条例》第十五条", "opinion": "责成用人单位于十日内补发。"}  # fmt: skip
OPINION = {"outcome": "uphold", "facts": "经复查，原处理意见认定事实清楚。",
           "basis": "《信访工作条例》第三十五条", "opinion": "维持原处理意见。"}  # fmt: skip
RECHECK = {**OPINION, "facts": "经复核，原复查意见认定事实清楚。", "opinion": "维持复查意见。"}


# --- building a petition up to a given state ----------------------------------------------------


def new_registration(world, **overrides):
    return register(world.a.office, world.intake_a, world.a.township, **overrides)


def to_accepted(world, number: str) -> None:
    services.assign(user=world.intake_a, number=number, unit=world.a.department)
    services.unit_accept(user=world.handler_a, number=number)


def serve_reply(number: str, served_on=None) -> None:  # noqa: ANN001
    """The latest decision letter of ``number`` reached the petitioner (default: today)."""
    letter = appeals.last_letter(Petition.objects.get(number=number))
    appeals.serve_letter(letter, served_on or timezone.localdate())


def serve_review(number: str, served_on=None) -> None:  # noqa: ANN001
    """The latest review opinion of ``number`` reached the petitioner (default: today)."""
    review = appeals.last_appeal(Petition.objects.get(number=number), "review")
    appeals.serve_opinion(review, served_on or timezone.localdate())


def to_replied(world, number: str, *, served: bool = True) -> None:
    to_accepted(world, number)
    services.reply(user=world.handler_a, number=number, **REPLY)
    if served:
        serve_reply(number)


def to_under_review(world, number: str) -> None:
    to_replied(world, number)
    appeals.request_review(user=world.intake_a, number=number, reasons="处理意见未解决欠薪问题")


def to_reviewed(world, number: str, *, served: bool = True) -> None:
    to_under_review(world, number)
    appeals.review(user=world.leader_a, number=number, **OPINION)
    if served:
        serve_review(number)


def to_under_recheck(world, number: str) -> None:
    to_reviewed(world, number)
    appeals.request_recheck(user=world.intake_a, number=number, reasons="复查意见仍未解决欠薪问题")
