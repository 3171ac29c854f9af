"""Every action after the reply (and the ones open at any time) through the staff action panel:
the page offers the action to the right person, the POST performs it, and a refused POST shows the
Chinese reason and changes nothing.  The services' own rules are tested in test_appeals.py and
test_closing.py; this is the staff UI's share of "every transition works in the staff UI"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from xinfang.petitions.models import Petition, PetitionEvent
from xinfang.workflow import appeals
from xinfang.workflow.actions import ACTION_REDIRECTS

from ..procedure import new_registration, to_replied, to_reviewed, to_under_recheck, to_under_review

OPINION = {"facts": "原答复属实。", "basis": "《信访工作条例》", "opinion": "维持。"}


def _at(step: Callable[[Any, str], None]) -> Callable[[Any], str]:
    """A fresh petition brought to a state by one of tests/procedure.py's steps."""

    def arrive(world) -> str:
        number = new_registration(world).petition.number
        step(world, number)
        return number

    return arrive


_replied, _under_review, _reviewed, _under_recheck = (
    _at(to_replied),
    _at(to_under_review),
    _at(to_reviewed),
    _at(to_under_recheck),
)


def _hearing(world) -> str:
    number = _under_recheck(world)
    appeals.start_hearing(user=world.city_supervisor, number=number)
    return number


def _registered(world) -> str:
    return new_registration(world).petition.number


def _repeat_of_concluded(world) -> str:
    earlier = _reviewed(world)
    Petition.objects.filter(number=earlier).update(status="concluded", conclusion="agreement", due_on=None)
    number = _registered(world)
    Petition.objects.filter(number=number).update(
        repeat_of=Petition.objects.get(number=earlier), is_repeat=True
    )
    return number


# action: (how to get there, who acts, the form, what follows)
CASES: dict[str, tuple[Callable[[Any], str], str, dict[str, Any], str]] = {
    "evaluate": (_replied, "intake_a",
                 {"office_rating": "satisfied", "unit_rating": "dissatisfied", "reasons": "回访：不满意"},
                 "replied"),
    "request_review": (_replied, "intake_a", {"reasons": "代信访人请求复查"}, "under_review"),
    "review": (_under_review, "supervisor_a", {"appeal_outcome": "uphold", **OPINION}, "reviewed"),
    "request_recheck": (_reviewed, "intake_a", {"reasons": "代信访人请求复核"}, "under_recheck"),
    "start_hearing": (_under_recheck, "city_supervisor", {"comment": "听证"}, "under_recheck"),
    "end_hearing": (_hearing, "city_supervisor", {"comment": "结束"}, "under_recheck"),
    "recheck": (_under_recheck, "city_supervisor", {"appeal_outcome": "change", **OPINION}, "concluded"),
    "conclude": (_reviewed, "supervisor_a", {"conclusion": "agreement", "comment": "已履行"}, "concluded"),
    "refuse_repeat": (_repeat_of_concluded, "intake_a", {"comment": "同一事实"}, "declined"),
    "withdraw": (_registered, "intake_a", {"reasons": "信访人来电撤回"}, "withdrawn"),
    "report_urgent": (_registered, "supervisor_a", {"reasons": "群体性苗头"}, "registered"),
    "recuse": (_registered, "supervisor_a", {"staff": "intake_a", "reasons": "系信访人亲属"}, "registered"),
}  # fmt: skip
# The form left empty where the action needs an input: refused with this message.
REFUSALS = {
    "evaluate": ({"office_rating": "satisfied", "unit_rating": "dissatisfied"}, "请填写理由"),
    "request_review": ({}, "请填写请求及理由"),
    "review": ({"appeal_outcome": "uphold"}, "请填写查明的事实"),
    "request_recheck": ({}, "请填写请求及理由"),
    "recheck": ({"appeal_outcome": "rehandle", **OPINION}, "复核意见为最终意见"),
    "conclude": ({"conclusion": "recheck_lapsed"}, "尚未届满"),
    "withdraw": ({}, "请填写撤回的情况说明"),
    "report_urgent": ({}, "请填写重大紧急的情况"),
    "recuse": ({"staff": "nobody", "reasons": "x"}, "没有这名工作人员"),
}


def _page(client, number: str) -> str:
    return client.get(reverse("petitions:detail", args=[number])).content.decode()


@pytest.mark.parametrize("action", sorted(CASES))
def test_the_panel_offers_and_performs_the_action(client, world, action):
    if action in ACTION_REDIRECTS:
        pytest.skip(f"{action} is taken by issuing its document (tests/documents/test_views.py)")
    arrive, who, form, status = CASES[action]
    number = arrive(world)
    client.force_login(getattr(world, who))
    assert f'id="action-{action}"' in _page(client, number)
    version = Petition.objects.get(number=number).version
    response = client.post(
        reverse("workflow:act", args=[number, action]), {"version": version, **form}, follow=True
    )
    assert "已办理" in response.content.decode()
    petition = Petition.objects.get(number=number)
    assert petition.status == status and petition.version == version + 1
    assert PetitionEvent.objects.filter(petition=petition).latest("at", "id").kind


@pytest.mark.parametrize("action", sorted(REFUSALS))
def test_a_refused_post_says_why_and_changes_nothing(client, world, action):
    if action in ACTION_REDIRECTS:
        pytest.skip(f"{action} is taken by issuing its document (tests/documents/test_views.py)")
    arrive, who, _form, _status = CASES[action]
    number = arrive(world)
    client.force_login(getattr(world, who))
    before = Petition.objects.get(number=number)
    events = PetitionEvent.objects.filter(petition=before).count()
    data, message = REFUSALS[action]
    url = reverse("workflow:act", args=[number, action])
    response = client.post(url, {"version": before.version, **data}, follow=True)
    assert message in response.content.decode()
    after = Petition.objects.get(number=number)
    assert (after.status, after.version) == (before.status, before.version)
    assert PetitionEvent.objects.filter(petition=after).count() == events


@pytest.mark.parametrize("action", ["review", "start_hearing", "recheck"])
def test_the_body_below_is_not_offered_the_appeal(client, world, action):
    """The replying unit's handler never reviews or rechecks its own reply."""
    arrive, _who, form, _status = CASES[action]
    number = arrive(world)
    client.force_login(world.handler_a)
    assert f'id="action-{action}"' not in _page(client, number)
    version = Petition.objects.get(number=number).version
    response = client.post(
        reverse("workflow:act", args=[number, action]), {"version": version, **form}, follow=True
    )
    assert "无权" in response.content.decode() or response.status_code == 404
    assert Petition.objects.get(number=number).version == version


def test_a_recused_clerk_loses_the_page(client, world):
    number = _registered(world)
    client.force_login(world.supervisor_a)
    client.post(reverse("workflow:act", args=[number, "recuse"]),
                {"version": 1, "staff": "intake_a", "reasons": "系信访人亲属"})  # fmt: skip
    client.force_login(world.intake_a)
    assert client.get(reverse("petitions:detail", args=[number])).status_code == 404
    assert number not in client.get(reverse("petitions:queue")).content.decode()
