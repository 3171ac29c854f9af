"""Regression tests for the procedure defects found in the trial of issue #7 (points 5–10).

Each test fails on the code before its fix; the decisions are in docs/procedure.md §8.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from freezegun import freeze_time

from xinfang.petitions.choices import InvolvementReason, Status
from xinfang.petitions.models import Involvement, Petition
from xinfang.workflow import appeals, disputes, services
from xinfang.workflow.deadlines import due_date
from xinfang.workflow.engine import TransitionRefused, allowed_actions
from xinfang.workflow.models import Assignment, JurisdictionDispute, Step

from ..factories import make_staff, register
from ..procedure import REPLY, serve_reply, to_accepted, to_replied

pytestmark = pytest.mark.django_db


def _offered(number: str, user) -> set[str]:
    return {t.action for t in allowed_actions(Petition.objects.get(number=number), user)}


def _refused(code: str, call, *args, **kwargs) -> None:
    with pytest.raises(TransitionRefused) as excinfo:
        call(*args, **kwargs)
    assert excinfo.value.code == code, excinfo.value


# --- point 5: the objection loop ends with the common superior (Art. 24 ¶1) ----------------------


def _overruled_once(world) -> str:
    """Assigned to county A's department, which objects; the office overrules it once."""
    number = register(world.a.office, world.intake_a, world.a.township).petition.number
    services.assign(user=world.intake_a, number=number, unit=world.a.department)
    services.return_petition(user=world.handler_a, number=number, reasons="不属于本单位职责")
    services.overrule_return(user=world.intake_a, number=number, comment="属于人社部门职责")
    return number


def test_a_unit_overruled_once_cannot_return_the_petition_again(world):
    """Before the fix every overrule opened a new objection window: return/overrule without end."""
    number = _overruled_once(world)
    assert "return" not in _offered(number, world.handler_a)
    assert "dispute_jurisdiction" in _offered(number, world.handler_a)
    _refused(
        "already_objected", services.return_petition, user=world.handler_a, number=number, reasons="仍不属于"
    )
    assert Petition.objects.get(number=number).status == Status.ASSIGNED


def test_the_second_objection_goes_to_the_common_superior_which_decides(world):
    number = _overruled_once(world)
    with freeze_time(dt.datetime.now(dt.UTC)):
        services.ACTION_SERVICES["dispute_jurisdiction"](
            user=world.handler_a, number=number, reasons="该事项属于乡镇人民政府职责"
        )
        petition = Petition.objects.get(number=number)
        assert petition.status == Status.DISPUTED
        dispute = JurisdictionDispute.objects.get(petition=petition)
        # the lowest government above both the county petition office and the county department
        assert dispute.body == world.a.government and dispute.unit == world.a.department
        assert petition.due_on == due_date(Step.DISPOSAL, dispute.received_on, world.a.government).due_on
    assert Involvement.objects.filter(
        petition=petition, organisation=world.a.government, reason=InvolvementReason.SUPERIOR
    ).exists()
    assert not Assignment.objects.filter(petition=petition, ended_at__isnull=True).exists()
    # the office that overruled is a party: it does not decide; the county government's leader does
    assert "decide_jurisdiction" not in _offered(number, world.intake_a)
    assert "decide_jurisdiction" not in _offered(number, world.supervisor_a)
    assert "decide_jurisdiction" in _offered(number, world.leader_a)
    _refused("not_allowed", disputes.decide_jurisdiction, user=world.supervisor_a, number=number,
             unit=world.a.township, reasons="属于乡镇职责")  # fmt: skip
    _refused("invalid_unit", disputes.decide_jurisdiction, user=world.leader_a, number=number,
             unit=world.b.department, reasons="属于乙县职责")  # fmt: skip
    disputes.decide_jurisdiction(
        user=world.leader_a, number=number, unit=world.a.township, reasons="属地管理"
    )
    petition.refresh_from_db()
    assert petition.status == Status.ASSIGNED  # as the disputed routing was (交办)
    assignment = Assignment.objects.get(petition=petition, ended_at__isnull=True)
    assert assignment.unit == world.a.township and assignment.report_required
    dispute.refresh_from_db()
    assert dispute.decided_unit == world.a.township and dispute.decided_by == world.leader_a
    # the decision settles it: the designated unit may accept, but never object again
    handler_town = make_staff("handler_town", world.a.township, "handler")
    offered = _offered(number, handler_town)
    assert "unit_accept" in offered and not offered & {"return", "dispute_jurisdiction"}
    _refused(
        "jurisdiction_decided", services.return_petition, user=handler_town, number=number, reasons="不属于"
    )
    services.unit_accept(user=handler_town, number=number)
    assert Petition.objects.get(number=number).status == Status.ACCEPTED


def test_a_first_objection_cannot_skip_the_office(world):
    number = register(world.a.office, world.intake_a, world.a.township).petition.number
    services.forward(user=world.intake_a, number=number, unit=world.a.department)
    assert "dispute_jurisdiction" not in _offered(number, world.handler_a)
    _refused("no_prior_objection", disputes.dispute_jurisdiction, user=world.handler_a, number=number,
             reasons="不属于本单位")  # fmt: skip


def test_a_government_unit_in_dispute_goes_one_level_further_up(world):
    """The county government as the objecting unit is a party: the city decides, and the city
    petition office (not a party) may act for it."""
    number = register(world.a.office, world.intake_a, world.a.township).petition.number
    services.forward(user=world.intake_a, number=number, unit=world.a.government)
    services.return_petition(user=world.leader_a, number=number, reasons="应由部门办理")
    services.overrule_return(user=world.intake_a, number=number, comment="由县政府研究办理")
    disputes.dispute_jurisdiction(user=world.leader_a, number=number, reasons="应由人社局办理")
    assert JurisdictionDispute.objects.get(petition__number=number).body == world.city
    assert Petition.objects.restrict(world.city_supervisor).filter(number=number).exists()
    assert "decide_jurisdiction" in _offered(number, world.city_supervisor)
    assert "decide_jurisdiction" not in _offered(number, world.leader_a)
    disputes.decide_jurisdiction(
        user=world.city_supervisor, number=number, unit=world.a.department, reasons="属人社局职责"
    )
    assert Petition.objects.get(number=number).status == Status.FORWARDED


def test_the_dispute_steps_on_the_action_panel(client, world):
    number = _overruled_once(world)
    client.force_login(world.handler_a)
    page = client.get(reverse("petitions:detail", args=[number])).content.decode()
    assert 'id="action-dispute_jurisdiction"' in page and 'id="action-return"' not in page
    version = Petition.objects.get(number=number).version
    client.post(
        reverse("workflow:act", args=[number, "dispute_jurisdiction"]),
        {"version": version, "reasons": "属于乡镇职责"},
    )
    petition = Petition.objects.get(number=number)
    assert petition.status == Status.DISPUTED
    client.force_login(world.leader_a)
    page = client.get(reverse("petitions:detail", args=[number])).content.decode()
    assert 'id="action-decide_jurisdiction"' in page
    assert f'value="{world.a.township.pk}"' in page  # the superior's own area is offered
    client.post(
        reverse("workflow:act", args=[number, "decide_jurisdiction"]),
        {"version": petition.version, "unit": world.a.township.pk, "reasons": "属地管理"},
    )
    assert Petition.objects.get(number=number).status == Status.ASSIGNED


# --- point 7: no withdrawal once a reply was given ---------------------------------------------------


def test_no_withdrawal_after_a_reply_sent_back_for_rehandling(world):
    """reject_completion put the petition back in ``accepted``, where withdraw used to be allowed."""
    number = register(world.a.office, world.intake_a, world.a.township).petition.number
    to_replied(world, number)
    services.reject_completion(user=world.intake_a, number=number, reasons="答复未回应诉求")
    assert Petition.objects.get(number=number).status == Status.ACCEPTED
    assert "withdraw" not in _offered(number, world.intake_a)
    _refused(
        "already_replied", services.withdraw, user=world.intake_a, number=number, reasons="信访人要求撤回"
    )
    from xinfang.workflow.engine import Citizen

    citizen = Citizen(petition_id=Petition.objects.get(number=number).pk)
    assert "withdraw" not in _offered(number, citizen)
    _refused("already_replied", services.withdraw, user=citizen, number=number)


def test_withdrawal_before_any_reply_still_works(world):
    number = register(world.a.office, world.intake_a, world.a.township).petition.number
    to_accepted(world, number)
    services.withdraw(user=world.intake_a, number=number, reasons="信访人书面申请撤回")
    assert Petition.objects.get(number=number).status == Status.WITHDRAWN


# --- point 6: the evaluation belongs to the reply that stands ----------------------------------------

START = "2026-03-02 02:00:00"  # a Monday, 10:00 in Shanghai
RATINGS = {"office_rating": "satisfied", "unit_rating": "basically_satisfied"}


def _citizen(number: str):
    from xinfang.workflow.engine import Citizen

    return Citizen(petition_id=Petition.objects.get(number=number).pk)


def test_the_new_reply_after_reject_completion_can_be_evaluated_within_its_own_window(world):
    """Before the fix the window ran from the first letter: ten days later the new reply could not
    be evaluated any more (out_of_window)."""
    with freeze_time(START) as frozen:
        number = register(world.a.office, world.intake_a, world.a.township).petition.number
        to_replied(world, number)
        frozen.tick(dt.timedelta(days=10))  # past the 7-day evaluation window of the first reply
        services.reject_completion(user=world.intake_a, number=number, reasons="答复未回应诉求")
        # being handled again: no reply stands, nothing to evaluate
        assert appeals.evaluation_window(Petition.objects.get(number=number)) is None
        _refused("wrong_state", appeals.evaluate, user=_citizen(number), number=number, **RATINGS)
        services.reply(user=world.handler_a, number=number, **{**REPLY, "opinion": "已补发全部工资。"})
        serve_reply(number)  # its windows run from service, the day it is issued here
        petition = Petition.objects.get(number=number)
        second = appeals.last_letter(petition)
        assert appeals.evaluation_window(petition).start == timezone_date(second.issued_at)
        assert appeals.evaluation_status(petition) == "pending"
        assert "evaluate" in _offered(number, _citizen(number))
        appeals.evaluate(user=_citizen(number), number=number, **RATINGS)
        evaluation = petition.evaluations.get()
        assert evaluation.letter == second
        assert appeals.evaluation_status(petition) == "evaluated"


def test_an_evaluated_reply_rehandled_on_review_lets_the_new_reply_be_evaluated(world):
    """Before the fix one evaluation per petition: the first reply's rating blocked the new reply's
    (already_evaluated), though the first reply no longer stands."""
    with freeze_time(START) as frozen:
        number = register(world.a.office, world.intake_a, world.a.township).petition.number
        to_replied(world, number)
        appeals.evaluate(user=_citizen(number), number=number, office_rating="dissatisfied",
                         unit_rating="dissatisfied", reasons="未解决")  # fmt: skip
        appeals.request_review(user=_citizen(number), number=number, reasons="处理意见未解决欠薪问题")
        frozen.tick(dt.timedelta(days=12))
        appeals.review(user=world.leader_a, number=number, outcome="rehandle", facts="认定事实不清",
                       basis="《信访工作条例》第三十五条", opinion="责令重新办理")  # fmt: skip
        assert Petition.objects.get(number=number).status == Status.ACCEPTED
        services.reply(user=world.handler_a, number=number, **REPLY)
        appeals.evaluate(user=_citizen(number), number=number, **RATINGS)
        petition = Petition.objects.get(number=number)
        assert petition.evaluations.count() == 2  # the first stays on record, for its own letter
        assert appeals.standing_evaluation(petition).office_rating == "satisfied"
        _refused("already_evaluated", appeals.evaluate, user=_citizen(number), number=number, **RATINGS)


def timezone_date(value):
    from django.utils import timezone

    return timezone.localdate(value)


# --- point 8: hearings pause their days, and nothing is overdue while one is open ---------------------


def _to_under_recheck(world) -> str:
    from ..procedure import to_under_recheck

    number = register(world.a.office, world.intake_a, world.a.township).petition.number
    to_under_recheck(world, number)
    return number


def test_a_one_day_hearing_pauses_that_day(world):
    """Before the fix a hearing started and ended on the same day paused nothing (0 days)."""
    with freeze_time(START) as frozen:
        number = _to_under_recheck(world)
        received = timezone_date(dt.datetime.now(dt.UTC))
        before = Petition.objects.get(number=number).due_on
        frozen.tick(dt.timedelta(days=5))
        appeals.start_hearing(user=world.city_supervisor, number=number)
        appeals.end_hearing(user=world.city_supervisor, number=number)
        appeal = appeals.last_appeal(Petition.objects.get(number=number), "recheck")
        deadline = appeals.appeal_deadline(appeal)
        assert deadline.paused_days == 1
        assert deadline.nominal_end == received + dt.timedelta(days=31)
        assert Petition.objects.get(number=number).due_on == deadline.due_on >= before


def test_an_open_hearing_never_shows_as_overdue(client, world):
    """Before the fix the stored due date stayed the one before the pause: a long hearing made the
    petition red in the queue and negative in days_left."""
    with freeze_time(START) as frozen:
        number = _to_under_recheck(world)
        due_before = Petition.objects.get(number=number).due_on
        frozen.tick(dt.timedelta(days=2))
        appeals.start_hearing(user=world.city_supervisor, number=number)
        frozen.tick(dt.timedelta(days=45))  # long past the recheck deadline as it stood
        petition = Petition.objects.get(number=number)
        assert petition.due_on is None
        client.force_login(world.city_supervisor)
        page = client.get(reverse("petitions:queue")).content.decode()
        assert number in page and "light red" not in page
        detail = client.get(reverse("petitions:detail", args=[number])).content.decode()
        assert "已超期" not in detail
        appeals.end_hearing(user=world.city_supervisor, number=number)
        petition.refresh_from_db()
        assert petition.due_on > due_before  # 46 paused days added


# --- point 9: 不再受理 only against an accepted matter within its time limit --------------------------


def test_refuse_repeat_against_a_merely_registered_petition_is_refused(world):
    """Before the fix a registered petition (nobody had accepted it) counted as "being handled
    within its time limit", so the new one was refused 不再受理."""
    from xinfang.petitions.views import repeat_standing

    earlier = register(world.a.office, world.intake_a, world.a.township).petition
    number = register(
        world.a.office, world.intake_a, world.a.township, repeat_of_number=earlier.number
    ).petition.number
    _refused("not_settled", services.refuse_repeat, user=world.intake_a, number=number)
    assert repeat_standing(earlier) == ("", "")
    # sent to a unit that has not accepted it yet: still not accepted
    services.forward(user=world.intake_a, number=earlier.number, unit=world.a.department)
    _refused("not_settled", services.refuse_repeat, user=world.intake_a, number=number)
    # accepted and within the handling period: refused as a repeat (Art. 19 ¶3)
    services.unit_accept(user=world.handler_a, number=earlier.number)
    assert repeat_standing(Petition.objects.get(pk=earlier.pk))[0] == "in_handling"
    services.refuse_repeat(user=world.intake_a, number=number)
    assert Petition.objects.get(number=number).status == Status.DECLINED


def test_refuse_repeat_against_an_accepted_petition_past_its_limit_is_refused(world):
    with freeze_time(START) as frozen:
        earlier = register(world.a.office, world.intake_a, world.a.township).petition
        to_accepted(world, earlier.number)
        frozen.tick(dt.timedelta(days=70))  # past the 60-day handling period
        number = register(
            world.a.office, world.intake_a, world.a.township, repeat_of_number=earlier.number
        ).petition.number
        _refused("not_settled", services.refuse_repeat, user=world.intake_a, number=number)


# --- point 10: merging joins only the same petitioner ----------------------------------------------


def _person(name: str, id_number: str, phone: str):
    from xinfang.petitions.drafts import PetitionerDraft

    return [PetitionerDraft(name=name, id_number=id_number, phone=phone, address="城关镇幸福路1号")]


def test_merge_refuses_petitions_of_different_petitioners(world):
    """Before the fix any two visible petitions could be merged, whoever brought them."""
    from ..factories import make_id_number

    target = register(world.a.office, world.intake_a, world.a.township,
                      petitioners=_person("张三", make_id_number(), "13812345678")).petition  # fmt: skip
    other = register(world.a.office, world.intake_a, world.a.township,
                     petitioners=_person("李四", make_id_number(), "13900001111")).petition  # fmt: skip
    _refused(
        "different_petitioner", services.merge, user=world.intake_a, number=other.number, into=target.number
    )
    # the same name with another phone number is not enough either
    namesake = register(world.a.office, world.intake_a, world.a.township,
                        petitioners=_person("张三", make_id_number(), "13900002222")).petition  # fmt: skip
    _refused(
        "different_petitioner",
        services.merge,
        user=world.intake_a,
        number=namesake.number,
        into=target.number,
    )
    assert Petition.objects.get(pk=other.pk).status == Status.REGISTERED


def test_merge_joins_the_same_petitioner_by_id_number_or_by_name_and_phone(world):
    from ..factories import make_id_number

    id_number = make_id_number()
    target = register(world.a.office, world.intake_a, world.a.township,
                      petitioners=_person("张三", id_number, "13812345678")).petition  # fmt: skip
    same_id = register(world.a.office, world.intake_a, world.a.township,
                       petitioners=_person("张叁", id_number, "13900003333")).petition  # fmt: skip
    same_phone = register(world.a.office, world.intake_a, world.a.township,
                          petitioners=_person("张三", make_id_number(), "13812345678")).petition  # fmt: skip
    services.merge(user=world.intake_a, number=same_id.number, into=target.number)
    services.merge(user=world.intake_a, number=same_phone.number, into=target.number)
    assert set(Petition.objects.filter(repeat_of=target).values_list("status", flat=True)) == {Status.MERGED}


def test_the_merged_petitions_code_shows_the_result_of_the_petition_it_went_into(world):
    """Before the fix the merged petition's code showed only "已合并" for good."""
    from xinfang.portal.services import track_petition

    target = register(world.a.office, world.intake_a, world.a.township).petition
    merged = register(world.a.office, world.intake_a, world.a.township)
    services.merge(user=world.intake_a, number=merged.petition.number, into=target.number)
    to_replied(world, target.number)
    view = track_petition(number=merged.petition.number, code=merged.query_code, ip="127.0.0.7")
    assert view.number == merged.petition.number and view.merged_into == target.number
    assert view.status == Status.REPLIED
    assert [letter.opinion for letter in view.letters] == [REPLY["opinion"]]
    kinds = [e.kind for e in view.events]
    assert "merged" in kinds and kinds[-1] == "replied"
    assert view.allowed_actions == []


def test_a_disputed_petition_stands_at_disposal_on_the_portal(world):
    """The portal's step list places the disputed state at 转送/交办, not as an early end."""
    from xinfang.portal.services import public_view

    number = _overruled_once(world)
    disputes.dispute_jurisdiction(user=world.handler_a, number=number, reasons="属于乡镇职责")
    view = public_view(Petition.objects.get(number=number))
    assert view.status == Status.DISPUTED
    assert [s.key for s in view.steps if s.state == "current"] == ["disposal"]
    assert "withdraw" in view.allowed_actions
