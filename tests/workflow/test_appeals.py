"""After the reply (《信访工作条例》Arts. 35–36; 国信发〔2022〕11号): the satisfaction evaluation, review
(复查), recheck (复核) with hearings, and the conclusion (终结), each allowed and refused, at the
service level.  Time is moved with freezegun: every window is counted from the event that opens it.

For a petition assigned to county A's department, which replied: the review body is the county
government (its leader, or the county petition office on its behalf), the recheck body the city
government (the city petition office on its behalf)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinfang.audit.models import AuditEvent
from xinfang.petitions.access import PetitionNotFound
from xinfang.petitions.models import Involvement, Petition, PetitionEvent
from xinfang.portal.services import track_petition
from xinfang.workflow import appeals, services
from xinfang.workflow.calendar import get_calendar
from xinfang.workflow.deadlines import due_date
from xinfang.workflow.engine import Citizen, TransitionRefused, allowed_actions
from xinfang.workflow.models import Appeal, Assignment, DecisionLetter, Evaluation, Hearing, Step

from ..procedure import (
    OPINION,
    RECHECK,
    REPLY,
    new_registration,
    serve_reply,
    serve_review,
    to_accepted,
    to_replied,
    to_reviewed,
    to_under_recheck,
    to_under_review,
)

# 10:00 in Asia/Shanghai on a Monday; whole-day ticks keep the local time of day.
START = "2026-03-02 02:00:00"


@pytest.fixture
def clock():
    with freeze_time(START) as frozen:
        yield frozen


def days_later(clock, days: int) -> dt.date:  # noqa: ANN001
    clock.tick(dt.timedelta(days=days))
    return timezone.localdate()


def move_to(clock, day: dt.date) -> None:  # noqa: ANN001
    clock.move_to(dt.datetime.combine(day, dt.time(10), tzinfo=timezone.get_current_timezone()))


@pytest.fixture
def registration(world, clock):
    return new_registration(world)


@pytest.fixture
def number(registration) -> str:
    return registration.petition.number


def petition_of(number: str) -> Petition:
    return Petition.objects.get(number=number)


def citizen(number: str) -> Citizen:
    return Citizen(petition_id=petition_of(number).pk)


def snapshot(number: str) -> tuple:
    p = petition_of(number)
    return (p.status, p.version, p.due_on, p.conclusion, p.concluded_on, PetitionEvent.objects.count(),
            AuditEvent.objects.count(), Evaluation.objects.count(),
            list(Appeal.objects.order_by("pk").values_list("outcome", "decided_on")),
            list(Hearing.objects.order_by("pk").values_list("started_on", "ended_on")),
            list(Assignment.objects.order_by("pk").values_list("unit_id", "ended_at")),
            Involvement.objects.count())  # fmt: skip


def refused(code: str, call, *args, **kwargs) -> TransitionRefused:  # noqa: ANN001
    with pytest.raises(TransitionRefused) as excinfo:
        call(*args, **kwargs)
    assert excinfo.value.code == code, excinfo.value.messages
    return excinfo.value


def last_event(number: str) -> PetitionEvent:
    return PetitionEvent.objects.filter(petition__number=number).latest("pk")


def public_notes(registration) -> list[str]:
    view = track_petition(number=registration.petition.number, code=registration.query_code, ip="10.0.0.9")
    return [e.note for e in view.events]


def offered(number: str, user) -> set[str]:  # noqa: ANN001
    return {t.action for t in allowed_actions(petition_of(number), user)}


# --- evaluation -------------------------------------------------------------------------------------


def test_the_petitioner_evaluates_the_reply_on_the_portal(world, registration, number):
    to_replied(world, number)
    version = petition_of(number).version
    assert "evaluate" in offered(number, citizen(number))
    assert appeals.evaluation_status(petition_of(number)) == "pending"
    appeals.evaluate(user=citizen(number), number=number, office_rating="satisfied",
                     unit_rating="basically_satisfied")  # fmt: skip
    petition = petition_of(number)
    assert petition.status == "replied" and petition.version == version + 1
    evaluation = Evaluation.objects.get(petition=petition)
    assert (evaluation.office, evaluation.unit) == (world.a.office, world.a.department)
    assert (evaluation.office_rating, evaluation.unit_rating) == ("satisfied", "basically_satisfied")
    assert evaluation.source == "portal" and evaluation.recorded_by is None
    assert evaluation.letter == DecisionLetter.objects.get(petition=petition)
    event = last_event(number)
    assert event.kind == "evaluated" and event.actor is None and event.is_public
    assert "满意" in public_notes(registration)[-1] and "基本满意" in public_notes(registration)[-1]
    audit = AuditEvent.objects.get(action="petition.evaluate")
    assert audit.actor is None and audit.data["source"] == "portal"
    assert appeals.evaluation_status(petition) == "evaluated"
    # one evaluation per petition
    before = snapshot(number)
    refused("already_evaluated", appeals.evaluate, user=world.supervisor_a, number=number,
            office_rating="satisfied", unit_rating="satisfied")  # fmt: skip
    assert snapshot(number) == before
    assert "evaluate" not in offered(number, world.supervisor_a)


def test_staff_record_an_evaluation_from_a_follow_up_call(world, registration, number):
    to_replied(world, number)
    appeals.evaluate(user=world.supervisor_a, number=number, office_rating="satisfied",
                     unit_rating="dissatisfied", reasons="单位答复后未见落实")  # fmt: skip
    evaluation = Evaluation.objects.get(petition__number=number)
    assert evaluation.source == "follow_up" and evaluation.recorded_by == world.supervisor_a
    assert evaluation.reason == "单位答复后未见落实"
    event = last_event(number)
    assert event.actor == world.supervisor_a and event.comment == "单位答复后未见落实"
    # the reason is internal: the petitioner sees the ratings, not the staff's note
    assert "不满意" in public_notes(registration)[-1]
    assert "单位答复后未见落实" not in " ".join(public_notes(registration))


def test_dissatisfied_needs_a_reason_and_ratings_must_be_valid(world, number):
    to_replied(world, number)
    before = snapshot(number)
    for user in (citizen(number), world.intake_a):
        error = refused("missing_reason", appeals.evaluate, user=user, number=number,
                        office_rating="dissatisfied", unit_rating="satisfied", reasons="  ")  # fmt: skip
        assert error.params == {"field": "reasons"}
    refused("missing_rating", appeals.evaluate, user=world.intake_a, number=number, office_rating="",
            unit_rating="satisfied")  # fmt: skip
    refused("missing_rating", appeals.evaluate, user=world.intake_a, number=number,
            office_rating="satisfied", unit_rating="great")  # fmt: skip
    assert snapshot(number) == before


def test_a_lapsed_evaluation_window_refuses(world, clock, number):
    to_replied(world, number)
    window = appeals.evaluation_window(petition_of(number))
    # counted from the reply (today) under the replying unit's rule profile
    assert window.start == timezone.localdate()
    assert window.due_on == due_date(Step.EVALUATION, timezone.localdate(), world.a.department).due_on
    move_to(clock, window.due_on + dt.timedelta(days=1))
    before = snapshot(number)
    refused("out_of_window", appeals.evaluate, user=citizen(number), number=number,
            office_rating="satisfied", unit_rating="satisfied")  # fmt: skip
    assert snapshot(number) == before
    assert appeals.evaluation_status(petition_of(number)) == "lapsed"  # never counted as satisfied
    assert "evaluate" not in offered(number, citizen(number))
    # on the last day it is still open
    move_to(clock, window.due_on)
    appeals.evaluate(user=citizen(number), number=number, office_rating="satisfied", unit_rating="satisfied")


def test_evaluation_refused_before_the_reply_and_to_the_wrong_side(world, number):
    to_accepted(world, number)
    before = snapshot(number)
    refused("wrong_state", appeals.evaluate, user=citizen(number), number=number,
            office_rating="satisfied", unit_rating="satisfied")  # fmt: skip
    services.reply(user=world.handler_a, number=number, **REPLY)
    before = snapshot(number)
    # the replying unit does not rate itself; nor does the government above it
    for user in (world.handler_a, world.leader_a):
        refused("not_allowed", appeals.evaluate, user=user, number=number, office_rating="satisfied",
                unit_rating="satisfied")  # fmt: skip
    with pytest.raises(PetitionNotFound):
        appeals.evaluate(
            user=world.intake_b, number=number, office_rating="satisfied", unit_rating="satisfied"
        )
    assert snapshot(number) == before


# --- request for review (复查) -------------------------------------------------------------------------


def test_the_petitioner_requests_review_from_the_body_above_the_replying_unit(world, registration, number):
    to_replied(world, number)
    assert {"request_review", "evaluate", "withdraw"} & offered(number, citizen(number)) == {
        "request_review", "evaluate"}  # fmt: skip
    appeals.request_review(user=citizen(number), number=number, reasons="补发金额不足")
    petition = petition_of(number)
    today = timezone.localdate()
    assert petition.status == "under_review"
    appeal = Appeal.objects.get(petition=petition)
    assert (appeal.kind, appeal.body, appeal.received_on, appeal.requested_by) == (
        "review", world.a.government, today, None)  # fmt: skip
    assert appeal.request == "补发金额不足" and appeal.decided_on is None
    # the review body's 30 days, from the day it received the request
    assert petition.due_on == due_date(Step.REVIEW, today, world.a.government).due_on
    assert petition.due_on >= today + dt.timedelta(days=30)
    assert Involvement.objects.filter(petition=petition, organisation=world.a.government,
                                      reason="review").exists()  # fmt: skip
    event = last_event(number)
    assert (event.kind, event.organisation, event.comment) == ("review_requested", world.a.government,
                                                               "补发金额不足")  # fmt: skip
    note = public_notes(registration)[-1]
    assert world.a.government.name in note and petition.due_on.isoformat() in note
    assert AuditEvent.objects.filter(action="petition.request_review", actor=None).exists()
    # the review body (its leader, or its petition office) now acts; the city does not
    assert "review" in offered(number, world.leader_a) and "review" in offered(number, world.supervisor_a)
    assert "review" not in offered(number, world.city_supervisor)


def test_the_review_window_is_counted_from_the_reply(world, clock, number):
    to_accepted(world, number)
    replied_on = days_later(clock, 10)
    services.reply(user=world.handler_a, number=number, **REPLY)
    serve_reply(number)  # served the day it is issued (windows run from service)
    window = appeals.review_request_window(petition_of(number))
    assert window.start == replied_on
    assert window.due_on == due_date(Step.REVIEW_REQUEST, replied_on, world.a.department).due_on
    assert window.nominal_end == replied_on + dt.timedelta(days=30)
    assert petition_of(number).due_on == window.due_on
    move_to(clock, window.due_on + dt.timedelta(days=1))
    before = snapshot(number)
    error = refused("out_of_window", appeals.request_review, user=citizen(number), number=number,
                    reasons="不服")  # fmt: skip
    assert window.due_on.isoformat() in error.messages[0]
    assert snapshot(number) == before
    assert "request_review" not in offered(number, citizen(number))
    move_to(clock, window.due_on)  # the last day still counts
    appeals.request_review(user=citizen(number), number=number, reasons="不服")
    assert petition_of(number).status == "under_review"


def test_request_review_refused_without_reason_in_the_wrong_state_or_side(world, number):
    to_accepted(world, number)
    before = snapshot(number)
    refused("wrong_state", appeals.request_review, user=world.intake_a, number=number, reasons="不服")
    services.reply(user=world.handler_a, number=number, **REPLY)
    before = snapshot(number)
    error = refused("missing_reason", appeals.request_review, user=world.intake_a, number=number, reasons=" ")
    assert error.params == {"field": "reasons"}
    # the replying unit and the reviewing body do not ask for a review of the reply
    for user in (world.handler_a, world.leader_a, world.city_supervisor):
        refused("not_allowed", appeals.request_review, user=user, number=number, reasons="不服")
    with pytest.raises(PetitionNotFound):
        appeals.request_review(user=world.handler_b, number=number, reasons="不服")
    assert snapshot(number) == before


def test_no_review_without_an_active_body_above(world, number):
    to_replied(world, number)
    world.a.government.is_active = False
    world.a.government.save(update_fields=["is_active"])
    before = snapshot(number)
    refused("no_higher_body", appeals.request_review, user=world.intake_a, number=number, reasons="不服")
    assert snapshot(number) == before


# --- review opinion -----------------------------------------------------------------------------------


def test_the_county_government_upholds_the_reply(world, registration, number):
    to_under_review(world, number)
    appeals.review(user=world.leader_a, number=number, **OPINION)
    assert petition_of(number).due_on is None  # the recheck window starts on service
    serve_review(number)
    petition = petition_of(number)
    today = timezone.localdate()
    assert petition.status == "reviewed"
    appeal = Appeal.objects.get(petition=petition)
    assert (appeal.outcome, appeal.decided_by, appeal.decided_on) == ("uphold", world.leader_a, today)
    assert (appeal.facts, appeal.basis, appeal.opinion) == (OPINION["facts"], OPINION["basis"],
                                                            OPINION["opinion"])  # fmt: skip
    # the petitioner's 30 days to ask the city for a recheck, from the review opinion
    assert petition.due_on == due_date(Step.RECHECK_REQUEST, today, world.a.government).due_on
    event = last_event(number)
    assert event.kind == "reviewed" and event.organisation == world.a.government
    note = public_notes(registration)[-1]
    assert "维持原处理意见" in note and world.city.name in note and "复核" in note
    assert AuditEvent.objects.filter(action="petition.review", actor=world.leader_a).exists()
    assert "request_recheck" in offered(number, citizen(number))


def test_the_county_petition_office_reviews_on_behalf_of_its_government(world, number):
    to_under_review(world, number)
    appeals.review(user=world.supervisor_a, number=number, **{**OPINION, "outcome": "change"})
    assert petition_of(number).status == "reviewed"
    assert Appeal.objects.get().outcome == "change"


def test_review_refused_to_others_and_without_its_parts(world, number):
    to_replied(world, number)
    refused("wrong_state", appeals.review, user=world.leader_a, number=number, **OPINION)
    appeals.request_review(user=world.intake_a, number=number, reasons="不服")
    before = snapshot(number)
    # the replying unit, an intake clerk (no appeal role), the city (not the body)
    for user in (world.handler_a, world.intake_a, world.city_supervisor):
        refused("not_allowed", appeals.review, user=user, number=number, **OPINION)
    refused("not_allowed", appeals.review, user=citizen(number), number=number, **OPINION)
    with pytest.raises(PetitionNotFound):
        appeals.review(user=world.handler_b, number=number, **OPINION)
    for missing in ("facts", "basis", "opinion"):
        error = refused("missing_reason", appeals.review, user=world.leader_a, number=number,
                        **{**OPINION, missing: ""})  # fmt: skip
        assert error.params == {"field": missing}
    refused("missing_outcome", appeals.review, user=world.leader_a, number=number,
            **{**OPINION, "outcome": "support"})  # fmt: skip
    assert snapshot(number) == before


def test_review_orders_the_replying_unit_to_handle_the_matter_again(world, clock, registration, number):
    to_under_review(world, number)
    days_later(clock, 5)
    rehandle = {**OPINION, "outcome": "rehandle", "opinion": "撤销原处理意见，责令重新办理。"}
    appeals.review(user=world.leader_a, number=number, **rehandle)
    petition = petition_of(number)
    today = timezone.localdate()
    # back to accepted at the replying unit, with a fresh handling period
    assert petition.status == "accepted"
    assert petition.due_on == due_date(Step.HANDLING, today, world.a.department).due_on
    open_ = Assignment.objects.get(petition=petition, ended_at__isnull=True)
    assert open_.unit == world.a.department
    event = last_event(number)
    assert event.kind == "reviewed" and event.data["to"] == "accepted" and event.data["outcome"] == "rehandle"
    assert world.a.department.name in public_notes(registration)[-1]
    assert "重新办理" in public_notes(registration)[-1]
    assert "reply" in offered(number, world.handler_a)
    # the new reply opens a new review window, and may be reviewed again
    replied_on = days_later(clock, 10)
    services.reply(user=world.handler_a, number=number, **REPLY)
    serve_reply(number)
    assert appeals.review_request_window(petition_of(number)).start == replied_on
    appeals.request_review(user=citizen(number), number=number, reasons="重新办理后仍不服")
    assert Appeal.objects.filter(petition=petition, kind="review").count() == 2
    appeals.review(user=world.leader_a, number=number, **OPINION)
    assert petition_of(number).status == "reviewed"


def test_rehandling_the_office_s_own_reply_goes_to_the_city_and_back_to_the_office(world, number):
    services.accept(user=world.supervisor_a, number=number)
    services.reply(user=world.supervisor_a, number=number, **REPLY)
    # the letter tells the petitioner where the review really goes (it used to name the county
    # government, the office's parent, while the request went to the city)
    notice = DecisionLetter.objects.get(petition__number=number).review_notice
    assert world.city.name in notice and world.a.government.name not in notice
    appeals.request_review(user=world.intake_a, number=number, reasons="不服")
    # the county office replied for its government: the city reviews, not the county
    assert Appeal.objects.get().body == world.city
    refused("not_allowed", appeals.review, user=world.leader_a, number=number, **OPINION)
    appeals.review(user=world.city_supervisor, number=number, **{**OPINION, "outcome": "rehandle"})
    petition = petition_of(number)
    assert petition.status == "accepted"
    assert not Assignment.objects.filter(petition=petition).exists()
    assert petition.due_on == due_date(Step.HANDLING, timezone.localdate(), world.a.office).due_on
    assert "reply" in offered(number, world.supervisor_a)


# --- request for recheck (复核) -----------------------------------------------------------------------


def test_the_petitioner_requests_a_recheck_from_the_city(world, registration, number):
    to_reviewed(world, number)
    appeals.request_recheck(user=citizen(number), number=number, reasons="复查意见不当")
    petition = petition_of(number)
    today = timezone.localdate()
    assert petition.status == "under_recheck"
    appeal = Appeal.objects.get(petition=petition, kind="recheck")
    assert (appeal.body, appeal.received_on, appeal.request) == (world.city, today, "复查意见不当")
    assert petition.due_on == due_date(Step.RECHECK, today, world.city).due_on
    event = last_event(number)
    assert event.kind == "recheck_requested" and event.organisation == world.city
    assert world.city.name in public_notes(registration)[-1]
    assert "听证时间不计入" in public_notes(registration)[-1]
    assert {"recheck", "start_hearing"} <= offered(number, world.city_supervisor)
    assert not {"recheck", "start_hearing"} & offered(number, world.leader_a)


def test_the_recheck_window_is_counted_from_the_review_opinion(world, clock, number):
    to_under_review(world, number)
    reviewed_on = days_later(clock, 12)
    appeals.review(user=world.leader_a, number=number, **OPINION)
    serve_review(number)
    window = appeals.recheck_request_window(petition_of(number))
    assert window.start == reviewed_on
    assert window.due_on == due_date(Step.RECHECK_REQUEST, reviewed_on, world.a.government).due_on
    move_to(clock, window.due_on + dt.timedelta(days=1))
    before = snapshot(number)
    refused("out_of_window", appeals.request_recheck, user=citizen(number), number=number, reasons="不服")
    assert snapshot(number) == before
    move_to(clock, window.due_on)
    appeals.request_recheck(user=citizen(number), number=number, reasons="不服")


def test_request_recheck_refused_in_the_wrong_state_side_or_without_reason(world, number):
    to_under_review(world, number)
    refused("wrong_state", appeals.request_recheck, user=world.intake_a, number=number, reasons="不服")
    appeals.review(user=world.leader_a, number=number, **OPINION)
    before = snapshot(number)
    refused("missing_reason", appeals.request_recheck, user=citizen(number), number=number, reasons="")
    for user in (world.handler_a, world.leader_a):
        refused("not_allowed", appeals.request_recheck, user=user, number=number, reasons="不服")
    assert snapshot(number) == before


# --- hearings and the recheck opinion ------------------------------------------------------------------


def test_a_hearing_moves_the_recheck_deadline_by_exactly_the_paused_days(world, clock, registration, number):
    to_under_recheck(world, number)
    received = timezone.localdate()
    before_due = petition_of(number).due_on
    started = days_later(clock, 4)
    appeals.start_hearing(user=world.city_supervisor, number=number, comment="通知双方到场")
    # the clock stands still: no deadline runs, so nothing shows as overdue (issue #7 point 8)
    assert petition_of(number).status == "under_recheck" and petition_of(number).due_on is None
    hearing = Hearing.objects.get()
    assert (hearing.started_on, hearing.ended_on, hearing.note) == (started, None, "通知双方到场")
    event = last_event(number)
    assert event.kind == "hearing_started" and event.comment == "通知双方到场" and event.is_public
    assert "听证期间不计入" in public_notes(registration)[-1]
    assert "通知双方到场" not in " ".join(public_notes(registration))
    # while it is open: no second hearing and no recheck opinion
    before = snapshot(number)
    refused("hearing_open", appeals.start_hearing, user=world.city_supervisor, number=number)
    refused("hearing_open", appeals.recheck, user=world.city_supervisor, number=number, **RECHECK)
    assert snapshot(number) == before
    assert offered(number, world.city_supervisor) >= {"end_hearing"}
    assert not {"recheck", "start_hearing"} & offered(number, world.city_supervisor)
    ended = days_later(clock, 6)
    appeals.end_hearing(user=world.city_supervisor, number=number)
    petition = petition_of(number)
    paused = (ended - started).days + 1  # both the first and the last day of the hearing (issue #7 point 8)
    assert paused == 7
    deadline = due_date(Step.RECHECK, received, world.city, paused_days=paused)
    assert deadline.nominal_end == received + dt.timedelta(days=30 + paused)
    assert petition.due_on == deadline.due_on == get_calendar().working_day_on_or_after(deadline.nominal_end)
    assert petition.due_on > before_due
    assert Hearing.objects.get().ended_on == ended
    assert petition.due_on.isoformat() in public_notes(registration)[-1]
    # a second hearing adds its own days
    second = days_later(clock, 1)
    appeals.start_hearing(user=world.city_supervisor, number=number)
    resumed = days_later(clock, 3)
    appeals.end_hearing(user=world.city_supervisor, number=number)
    total = paused + (resumed - second).days + 1
    assert (
        petition_of(number).due_on == due_date(Step.RECHECK, received, world.city, paused_days=total).due_on
    )


def test_a_hearing_begun_the_day_the_request_arrived_pauses_from_the_next_day(world, clock, number):
    to_under_recheck(world, number)
    received = timezone.localdate()
    appeals.start_hearing(user=world.city_supervisor, number=number)
    assert Hearing.objects.get().started_on == received
    days_later(clock, 3)
    appeals.end_hearing(user=world.city_supervisor, number=number)
    # the day of receipt is never counted (民法典 Art. 201): days 1 to 3 after it are paused, 3 days
    assert petition_of(number).due_on == due_date(Step.RECHECK, received, world.city, paused_days=3).due_on


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offset=st.integers(0, 29), pause=st.integers(0, 45))
def test_property_hearing_days_are_added_exactly(world, offset, pause):
    """For any hearing from day X to day Y, the recheck deadline is the one of the rules with exactly
    Y − X + 1 more days, both ends included (counted from the day after the request arrived, which is
    never counted)."""
    with freeze_time(START) as frozen:
        number = new_registration(world).petition.number
        to_under_recheck(world, number)
        received = timezone.localdate()
        days_later(frozen, offset)
        appeals.start_hearing(user=world.city_supervisor, number=number)
        days_later(frozen, pause)
        appeals.end_hearing(user=world.city_supervisor, number=number)
        paused = pause + 1 if offset > 0 else pause
        expected = due_date(Step.RECHECK, received, world.city, paused_days=paused)
        assert expected.nominal_end == received + dt.timedelta(days=30 + paused)
        assert petition_of(number).due_on == expected.due_on


def test_hearings_only_by_the_rechecking_body_and_only_during_a_recheck(world, clock, number):
    to_under_review(world, number)
    refused("wrong_state", appeals.start_hearing, user=world.city_supervisor, number=number)
    appeals.review(user=world.leader_a, number=number, **OPINION)
    appeals.request_recheck(user=world.intake_a, number=number, reasons="不服")
    days_later(clock, 2)
    before = snapshot(number)
    refused("no_hearing", appeals.end_hearing, user=world.city_supervisor, number=number)
    for user in (world.leader_a, world.supervisor_a, world.handler_a):
        refused("not_allowed", appeals.start_hearing, user=user, number=number)
    refused("not_allowed", appeals.start_hearing, user=citizen(number), number=number)
    assert snapshot(number) == before


def test_the_city_rechecks_and_the_matter_is_concluded(world, clock, registration, number):
    to_under_recheck(world, number)
    days_later(clock, 3)
    appeals.recheck(user=world.city_supervisor, number=number, **RECHECK)
    petition = petition_of(number)
    today = timezone.localdate()
    assert (petition.status, petition.conclusion, petition.concluded_on, petition.due_on) == (
        "concluded", "rechecked", today, None)  # fmt: skip
    appeal = Appeal.objects.get(kind="recheck")
    assert (appeal.outcome, appeal.decided_by, appeal.decided_on) == ("uphold", world.city_supervisor, today)
    # nothing remains open: the unit's assignment ends with the matter
    assert not Assignment.objects.filter(petition=petition, ended_at__isnull=True).exists()
    event = last_event(number)
    assert event.kind == "rechecked" and event.organisation == world.city
    assert "最终意见" in public_notes(registration)[-1]
    assert AuditEvent.objects.filter(action="petition.recheck").exists()
    # a concluded matter goes nowhere
    before = snapshot(number)
    refused("wrong_state", appeals.request_review, user=citizen(number), number=number, reasons="不服")
    refused("wrong_state", appeals.request_recheck, user=citizen(number), number=number, reasons="不服")
    refused("wrong_state", services.withdraw, user=citizen(number), number=number)
    refused("wrong_state", appeals.conclude, user=world.supervisor_a, number=number, conclusion="agreement")
    assert snapshot(number) == before
    assert offered(number, world.city_supervisor) == set()


def test_recheck_refused_to_others_and_never_sends_the_matter_round_again(world, number):
    to_under_recheck(world, number)
    before = snapshot(number)
    refused("missing_outcome", appeals.recheck, user=world.city_supervisor, number=number,
            **{**RECHECK, "outcome": "rehandle"})  # fmt: skip
    refused("missing_reason", appeals.recheck, user=world.city_supervisor, number=number,
            **{**RECHECK, "opinion": " "})  # fmt: skip
    for user in (world.leader_a, world.supervisor_a, world.handler_a):
        refused("not_allowed", appeals.recheck, user=user, number=number, **RECHECK)
    with pytest.raises(PetitionNotFound):
        appeals.recheck(user=world.intake_b, number=number, **RECHECK)
    assert snapshot(number) == before


# --- conclusion (终结) -----------------------------------------------------------------------------------


def test_conclude_after_the_review_window_lapsed(world, clock, registration, number):
    to_replied(world, number)
    window = appeals.review_request_window(petition_of(number))
    before = snapshot(number)
    error = refused("window_open", appeals.conclude, user=world.supervisor_a, number=number,
                    conclusion="review_lapsed")  # fmt: skip
    assert window.due_on.isoformat() in error.messages[0]
    move_to(clock, window.due_on)
    refused(
        "window_open", appeals.conclude, user=world.supervisor_a, number=number, conclusion="review_lapsed"
    )
    assert snapshot(number) == before
    move_to(clock, window.due_on + dt.timedelta(days=1))
    appeals.conclude(
        user=world.supervisor_a, number=number, conclusion="review_lapsed", comment="电话确认不再复查"
    )
    petition = petition_of(number)
    assert (petition.status, petition.conclusion, petition.concluded_on, petition.due_on) == (
        "concluded", "review_lapsed", timezone.localdate(), None)  # fmt: skip
    assert not Assignment.objects.filter(petition=petition, ended_at__isnull=True).exists()
    event = last_event(number)
    assert event.kind == "concluded" and event.comment == "电话确认不再复查"
    assert event.data["conclusion"] == "review_lapsed"
    assert "已终结" in public_notes(registration)[-1]
    assert "电话确认不再复查" not in " ".join(public_notes(registration))
    assert AuditEvent.objects.filter(action="petition.conclude").exists()


def test_conclude_after_the_recheck_window_lapsed(world, clock, number):
    to_reviewed(world, number)
    window = appeals.recheck_request_window(petition_of(number))
    move_to(clock, window.due_on + dt.timedelta(days=1))
    before = snapshot(number)
    # the reason must fit the state: in reviewed it is the recheck window that lapsed
    refused("window_open", appeals.conclude, user=world.intake_a, number=number, conclusion="review_lapsed")
    assert snapshot(number) == before
    appeals.conclude(user=world.intake_a, number=number, conclusion="recheck_lapsed")
    assert petition_of(number).conclusion == "recheck_lapsed"


@pytest.mark.parametrize("state", ["replied", "reviewed"])
def test_conclude_on_an_agreement_carried_out(world, number, state):
    (to_replied if state == "replied" else to_reviewed)(world, number)
    appeals.conclude(user=world.supervisor_a, number=number, conclusion="agreement")
    petition = petition_of(number)
    assert (petition.status, petition.conclusion, petition.due_on) == ("concluded", "agreement", None)


def test_conclude_refused_without_a_reason_in_the_wrong_state_or_side(world, number):
    to_accepted(world, number)
    refused("wrong_state", appeals.conclude, user=world.supervisor_a, number=number, conclusion="agreement")
    services.reply(user=world.handler_a, number=number, **REPLY)
    before = snapshot(number)
    for reason in ("", "rechecked", "tired"):
        error = refused("missing_reason", appeals.conclude, user=world.supervisor_a, number=number,
                        conclusion=reason)  # fmt: skip
        assert error.params == {"field": "conclusion"}
    for user in (world.handler_a, world.leader_a, world.city_supervisor):
        refused("not_allowed", appeals.conclude, user=user, number=number, conclusion="agreement")
    refused("not_allowed", appeals.conclude, user=citizen(number), number=number, conclusion="agreement")
    assert snapshot(number) == before
    appeals.request_review(user=world.intake_a, number=number, reasons="不服")
    refused("wrong_state", appeals.conclude, user=world.supervisor_a, number=number, conclusion="agreement")
    assert petition_of(number).status == "under_review"


# --- the petitioner on the portal --------------------------------------------------------------------


def test_a_citizen_acts_on_their_own_petition_only(world, number):
    other = new_registration(world).petition
    to_replied(world, number)
    to_replied(world, other.number)
    stranger = Citizen(petition_id=other.pk)
    before = snapshot(number)
    with pytest.raises(PetitionNotFound):
        appeals.evaluate(user=stranger, number=number, office_rating="satisfied", unit_rating="satisfied")
    with pytest.raises(PetitionNotFound):
        appeals.request_review(user=stranger, number=number, reasons="不服")
    with pytest.raises(PetitionNotFound):
        services.withdraw(user=stranger, number=number)
    assert allowed_actions(petition_of(number), stranger) == []
    assert snapshot(number) == before
    # their own petition: exactly the petitioner's actions of the state
    assert offered(number, citizen(number)) == {"evaluate", "request_review"}
    appeals.evaluate(user=citizen(number), number=number, office_rating="satisfied", unit_rating="satisfied")
    appeals.request_review(user=citizen(number), number=number, reasons="不服")
    appeals.review(user=world.leader_a, number=number, **OPINION)
    with pytest.raises(PetitionNotFound):
        appeals.request_recheck(user=stranger, number=number, reasons="不服")
    assert offered(number, citizen(number)) == {"request_recheck"}
    appeals.request_recheck(user=citizen(number), number=number, reasons="不服")
    assert petition_of(number).status == "under_recheck"
    # nothing else is theirs to do: the recheck body decides
    assert offered(number, citizen(number)) == set()
    refused("not_allowed", appeals.recheck, user=citizen(number), number=number, **RECHECK)


def test_a_citizen_withdraws_before_the_reply_only(world, registration, number):
    assert offered(number, citizen(number)) == {"withdraw"}
    to_replied(world, number)
    refused("wrong_state", services.withdraw, user=citizen(number), number=number)
    other = new_registration(world)
    services.withdraw(user=Citizen(petition_id=other.petition.pk), number=other.petition.number)
    petition = petition_of(other.petition.number)
    assert petition.status == "withdrawn" and petition.due_on is None
    event = last_event(petition.number)
    assert event.actor is None and event.organisation is None and event.is_public
    assert AuditEvent.objects.filter(action="petition.withdraw", actor=None).exists()
