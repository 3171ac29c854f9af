"""``POST /api/v1/petitions/{number}/actions/{action}`` for the actions after the reply and the closing
actions: evaluate, request_review, review, request_recheck, start_hearing, end_hearing, recheck,
conclude, refuse_repeat, withdraw, merge, report_urgent, recuse.  Each allowed (status, version,
ETag, event, audit) and refused with its stable code, HTTP status and field — changing nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from freezegun import freeze_time

from xinfang.api.endpoints.actions import FIELDS
from xinfang.api.errors import REFUSAL_FIELDS, REFUSAL_STATUS
from xinfang.audit.models import AuditEvent
from xinfang.petitions.models import Petition, PetitionEvent, Recusal
from xinfang.workflow import appeals, services
from xinfang.workflow.models import Appeal, Assignment, Evaluation, Hearing
from xinfang.workflow.transitions import TRANSITIONS

from ..procedure import (
    OPINION,
    RECHECK,
    REPLY,
    new_registration,
    to_accepted,
    to_replied,
    to_reviewed,
    to_under_recheck,
    to_under_review,
)
from ..workflow.test_appeals import START

NEW_ACTIONS = ["evaluate", "request_review", "review", "request_recheck", "start_hearing",
               "end_hearing", "recheck", "conclude", "refuse_repeat", "withdraw", "merge", "report_urgent",
               "recuse"]  # fmt: skip


def action_url(number: str, action: str) -> str:
    return f"/api/v1/petitions/{number}/actions/{action}"


@pytest.fixture
def clock():
    with freeze_time(START) as frozen:
        yield frozen


def move_to(clock, day: dt.date) -> None:  # noqa: ANN001
    clock.move_to(dt.datetime.combine(day, dt.time(10), tzinfo=timezone.get_current_timezone()))


def snapshot(number: str) -> tuple:
    petition = Petition.objects.get(number=number)
    audit = AuditEvent.objects.filter(action__startswith="petition.")  # not the token logins
    return (petition.status, petition.version, petition.due_on, petition.is_urgent, petition.conclusion,
            petition.repeat_of_id, PetitionEvent.objects.count(), audit.count(), Evaluation.objects.count(),
            list(Appeal.objects.values_list("pk", "decided_on")), Hearing.objects.count(),
            list(Assignment.objects.values_list("pk", "ended_at")), Recusal.objects.count())  # fmt: skip


# --- preparations: each brings a fresh petition to a state and returns the number to act on ------


def registered(world) -> str:
    return new_registration(world).petition.number


def accepted(world) -> str:
    number = registered(world)
    to_accepted(world, number)
    return number


def replied(world) -> str:
    number = registered(world)
    to_replied(world, number)
    return number


def under_review(world) -> str:
    number = registered(world)
    to_under_review(world, number)
    return number


def reviewed(world) -> str:
    number = registered(world)
    to_reviewed(world, number)
    return number


def under_recheck(world) -> str:
    number = registered(world)
    to_under_recheck(world, number)
    return number


def hearing_open(world) -> str:
    number = under_recheck(world)
    appeals.start_hearing(user=world.city_supervisor, number=number)
    return number


def evaluated(world) -> str:
    number = replied(world)
    appeals.evaluate(user=world.intake_a, number=number, office_rating="satisfied", unit_rating="satisfied")
    return number


def urgent(world) -> str:
    number = accepted(world)
    services.report_urgent(user=world.supervisor_a, number=number, reasons="涉及人数众多")
    return number


def repeat_of_concluded(world) -> str:
    earlier = replied(world)
    appeals.conclude(user=world.supervisor_a, number=earlier, conclusion="agreement")
    return new_registration(world, repeat_of_number=earlier).petition.number


def repeat_of_declined(world) -> str:
    earlier = registered(world)
    services.decline(user=world.intake_a, number=earlier, reasons="已依法处理")
    return new_registration(world, repeat_of_number=earlier).petition.number


def intake_recused(world) -> str:
    number = registered(world)
    services.recuse(user=world.supervisor_a, number=number, reasons="利害关系", staff="intake_a")
    return number


def no_higher_body(world) -> str:
    number = replied(world)
    world.a.government.is_active = False
    world.a.government.save(update_fields=["is_active"])
    return number


REHANDLE = {**OPINION, "outcome": "rehandle", "opinion": "撤销原处理意见，责令重新办理。"}

ALLOWED = [
    # (id, action, who, preparation, body, status after)
    ("evaluate", "evaluate", "intake_a", replied,
     {"office_rating": "satisfied", "unit_rating": "dissatisfied", "reasons": "补发不及时"}, "replied"),
    ("request_review", "request_review", "supervisor_a", replied, {"reasons": "补发金额不足"},
     "under_review"),
    ("review", "review", "leader_a", under_review, OPINION, "reviewed"),
    ("review_rehandle", "review", "supervisor_a", under_review, REHANDLE, "accepted"),
    ("request_recheck", "request_recheck", "intake_a", reviewed, {"reasons": "复查意见不当"},
     "under_recheck"),
    ("start_hearing", "start_hearing", "city_supervisor", under_recheck, {"comment": "通知双方"},
     "under_recheck"),
    ("end_hearing", "end_hearing", "city_supervisor", hearing_open, {}, "under_recheck"),
    ("recheck", "recheck", "city_supervisor", under_recheck, RECHECK, "concluded"),
    ("conclude", "conclude", "supervisor_a", replied, {"conclusion": "agreement", "comment": "协议已履行"},
     "concluded"),
    ("refuse_repeat", "refuse_repeat", "intake_a", repeat_of_concluded, {"comment": "已终结"}, "declined"),
    ("withdraw", "withdraw", "intake_a", accepted, {"reasons": "信访人来电撤回"}, "withdrawn"),
    ("merge", "merge", "intake_a", registered, {"into": "OTHER"}, "merged"),
    ("report_urgent", "report_urgent", "supervisor_a", accepted, {"reasons": "拟集体上访"}, "accepted"),
    ("recuse_ordered", "recuse", "supervisor_a", registered, {"reasons": "利害关系", "staff": "intake_a"},
     "registered"),
]  # fmt: skip


def test_the_new_actions_are_all_covered():
    assert {a[1] for a in ALLOWED} == set(NEW_ACTIONS)
    from xinfang.supervision.transitions import ACTIONS as OWN_ENDPOINTS  # the /supervisions endpoints

    assert set(NEW_ACTIONS) <= set(FIELDS) == set(TRANSITIONS) - set(OWN_ENDPOINTS)


@pytest.mark.parametrize(("action", "who", "prepare", "body", "status"), [a[1:] for a in ALLOWED],
                         ids=[a[0] for a in ALLOWED])  # fmt: skip
def test_each_action_after_the_reply_moves_the_petition(
    world, clock, api, token_of, action, who, prepare, body, status, no_document_approval
):
    # given
    number = prepare(world)
    if body.get("into") == "OTHER":
        body = {**body, "into": registered(world)}
    petition = Petition.objects.get(number=number)
    version, events = petition.version, petition.events.count()
    user = getattr(world, who)
    # when
    response = api.post(action_url(number, action), body, token=token_of(user))
    # then
    assert response.status_code == 200, response.json()
    detail = response.json()
    petition.refresh_from_db()
    assert petition.status == status == detail["status"]
    assert petition.version == version + 1 == detail["version"]
    assert response["ETag"] == petition.etag
    assert petition.events.count() == events + 1 == len(detail["events"])
    assert detail["events"][-1]["kind"] == TRANSITIONS[action].event
    assert AuditEvent.objects.filter(action=f"petition.{action}", object_repr=number, actor=user).exists()
    # review and recheck are taken by issuing their opinion (issue #10 point 7)
    document = detail.pop("document")
    kind = {"review": "review_opinion", "recheck": "recheck_opinion"}.get(action)
    assert (document and document["kind"], document and document["status"]) == (
        (kind, "issued") if kind else (None, None)
    )
    again = api.get(f"/api/v1/petitions/{number}", token=token_of(user))
    assert again.json() == detail and again["ETag"] == response["ETag"]


def test_the_response_carries_the_new_deadlines(world, clock, api, token_of):
    number = under_recheck(world)
    received = timezone.localdate()
    clock.tick(dt.timedelta(days=3))
    appeals.start_hearing(user=world.city_supervisor, number=number)
    clock.tick(dt.timedelta(days=5))  # (a token is obtained now: one from before would have expired)
    response = api.post(action_url(number, "end_hearing"), {}, token=token_of(world.city_supervisor))
    assert response.status_code == 200, response.json()
    from xinfang.workflow.deadlines import due_date
    from xinfang.workflow.models import Step

    expected = due_date(Step.RECHECK, received, world.city, paused_days=5).due_on
    assert response.json()["due_on"] == expected.isoformat()


def test_a_person_who_steps_aside_gets_404_from_then_on(world, clock, api, token_of):
    number = accepted(world)
    token = token_of(world.handler_a)
    response = api.post(action_url(number, "recuse"), {"reasons": "信访人系本人亲属"}, token=token)
    # the recusal is done; the petition is out of their sight at once (no detail comes back)
    assert response.status_code == 204, response.content
    assert Recusal.objects.filter(user=world.handler_a, petition__number=number).exists()
    assert api.get(f"/api/v1/petitions/{number}", token=token).status_code == 404
    before = snapshot(number)
    response = api.post(action_url(number, "reply"), REPLY, token=token)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert snapshot(number) == before


def test_an_ordered_recusal_makes_that_person_get_404(world, clock, api, token_of):
    number = intake_recused(world)
    before = snapshot(number)
    token = token_of(world.intake_a)
    assert api.get(f"/api/v1/petitions/{number}", token=token).status_code == 404
    response = api.post(action_url(number, "accept"), {}, token=token)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert snapshot(number) == before


# --- refused ---------------------------------------------------------------------------------------

REFUSED = [
    # (id, preparation, who, action, body, HTTP status, code, field)
    ("evaluate_twice", evaluated, "supervisor_a", "evaluate",
     {"office_rating": "satisfied", "unit_rating": "satisfied"}, 409, "already_evaluated", None),
    ("evaluate_missing_rating", replied, "intake_a", "evaluate", {"office_rating": "satisfied"},
     422, "missing_rating", "unit_rating"),
    ("evaluate_dissatisfied_no_reason", replied, "intake_a", "evaluate",
     {"office_rating": "dissatisfied", "unit_rating": "satisfied"}, 422, "missing_reason", "reasons"),
    ("evaluate_bad_rating", replied, "intake_a", "evaluate",
     {"office_rating": "great", "unit_rating": "satisfied"}, 422, "validation_error", "office_rating"),
    ("evaluate_before_reply", accepted, "intake_a", "evaluate",
     {"office_rating": "satisfied", "unit_rating": "satisfied"}, 409, "wrong_state", None),
    ("evaluate_by_unit", replied, "handler_a", "evaluate",
     {"office_rating": "satisfied", "unit_rating": "satisfied"}, 403, "not_allowed", None),
    ("evaluate_other_field", replied, "intake_a", "evaluate",
     {"office_rating": "satisfied", "unit_rating": "satisfied", "unit": 1}, 422, "validation_error", "unit"),
    ("review_request_no_reason", replied, "intake_a", "request_review", {"reasons": " "},
     422, "missing_reason", "reasons"),
    ("review_request_by_unit", replied, "handler_a", "request_review", {"reasons": "不服"},
     403, "not_allowed", None),
    ("review_request_before_reply", accepted, "intake_a", "request_review", {"reasons": "不服"},
     409, "wrong_state", None),
    ("review_request_no_body", no_higher_body, "intake_a", "request_review", {"reasons": "不服"},
     409, "no_higher_body", None),
    ("review_by_city", under_review, "city_supervisor", "review", OPINION, 403, "not_allowed", None),
    ("review_by_outsider", under_review, "handler_b", "review", OPINION, 404, "not_found", None),
    ("review_without_facts", under_review, "leader_a", "review", {**OPINION, "facts": ""},
     422, "missing_reason", "facts"),
    ("review_missing_basis", under_review, "leader_a", "review", {k: v for k, v in OPINION.items()
                                                                  if k != "basis"}, 422, "missing_reason",
     "basis"),
    ("review_reply_outcome", under_review, "leader_a", "review", {**OPINION, "outcome": "support"},
     422, "missing_outcome", "outcome"),
    ("review_in_replied", replied, "leader_a", "review", OPINION, 409, "wrong_state", None),
    ("recheck_request_in_review", under_review, "intake_a", "request_recheck", {"reasons": "不服"},
     409, "wrong_state", None),
    ("second_hearing", hearing_open, "city_supervisor", "start_hearing", {}, 409, "hearing_open", None),
    ("recheck_during_hearing", hearing_open, "city_supervisor", "recheck", RECHECK,
     409, "hearing_open", None),
    ("end_without_hearing", under_recheck, "city_supervisor", "end_hearing", {}, 409, "no_hearing", None),
    ("hearing_by_county", under_recheck, "leader_a", "start_hearing", {}, 403, "not_allowed", None),
    ("recheck_rehandle", under_recheck, "city_supervisor", "recheck", {**RECHECK, "outcome": "rehandle"},
     422, "missing_outcome", "outcome"),
    ("conclude_window_open", replied, "supervisor_a", "conclude", {"conclusion": "review_lapsed"},
     409, "window_open", None),
    ("conclude_no_reason", replied, "supervisor_a", "conclude", {}, 422, "missing_reason", "conclusion"),
    ("conclude_rechecked", replied, "supervisor_a", "conclude", {"conclusion": "rechecked"},
     422, "validation_error", "conclusion"),
    ("conclude_by_unit", replied, "handler_a", "conclude", {"conclusion": "agreement"},
     403, "not_allowed", None),
    ("conclude_in_review", under_review, "supervisor_a", "conclude", {"conclusion": "agreement"},
     409, "wrong_state", None),
    ("refuse_unlinked", registered, "intake_a", "refuse_repeat", {}, 409, "no_repeat_link", None),
    ("refuse_unsettled", repeat_of_declined, "intake_a", "refuse_repeat", {}, 409, "not_settled", None),
    ("withdraw_after_reply", replied, "intake_a", "withdraw", {"reasons": "撤回"}, 409, "wrong_state", None),
    ("withdraw_no_reason", accepted, "intake_a", "withdraw", {}, 422, "missing_reason", "reasons"),
    ("withdraw_by_unit", accepted, "handler_a", "withdraw", {"reasons": "撤回"}, 403, "not_allowed", None),
    ("merge_into_itself", registered, "intake_a", "merge", {"into": "SELF"}, 422, "invalid_target", "into"),
    ("merge_without_target", registered, "intake_a", "merge", {}, 422, "invalid_target", "into"),
    ("merge_accepted", accepted, "intake_a", "merge", {"into": "XF-1"}, 409, "wrong_state", None),
    ("urgent_twice", urgent, "intake_a", "report_urgent", {"reasons": "再报"}, 409, "already_reported", None),
    ("urgent_no_reason", accepted, "intake_a", "report_urgent", {}, 422, "missing_reason", "reasons"),
    ("recuse_unknown_staff", registered, "supervisor_a", "recuse", {"reasons": "利害关系", "staff": "nobody"},
     422, "invalid_staff", "staff"),
    ("recuse_other_unit", accepted, "supervisor_a", "recuse", {"reasons": "利害关系", "staff": "handler_a"},
     403, "not_allowed", None),
    ("recuse_twice", intake_recused, "supervisor_a", "recuse", {"reasons": "利害关系", "staff": "intake_a"},
     409, "already_recused", None),
    ("recuse_no_reason", registered, "intake_a", "recuse", {}, 422, "missing_reason", "reasons"),
]  # fmt: skip


@pytest.mark.parametrize(("prepare", "who", "action", "body", "status", "code", "field"),
                         [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])  # fmt: skip
def test_each_refusal_has_its_code_and_status_and_changes_nothing(
    world, clock, api, token_of, prepare, who, action, body, status, code, field
):
    number = prepare(world)
    if body.get("into") == "SELF":
        body = {**body, "into": number}
    before = snapshot(number)
    response = api.post(action_url(number, action), body, token=token_of(getattr(world, who)))
    assert response.status_code == status, response.json()
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    if field is None:
        assert "fields" not in error
    else:
        assert list(error["fields"]) == [field]
    assert snapshot(number) == before


@pytest.mark.parametrize(
    ("action", "who", "prepare", "window"),
    [
        ("evaluate", "intake_a", replied, appeals.evaluation_window),
        ("request_review", "intake_a", replied, appeals.review_request_window),
        ("request_recheck", "intake_a", reviewed, appeals.recheck_request_window),
    ],
)
def test_a_lapsed_window_is_409_out_of_window(world, clock, api, token_of, action, who, prepare, window):
    number = prepare(world)
    due_on = window(Petition.objects.get(number=number)).due_on
    move_to(clock, due_on + dt.timedelta(days=1))
    body = (
        {"office_rating": "satisfied", "unit_rating": "satisfied"}
        if action == "evaluate"
        else {"reasons": "不服"}
    )
    before = snapshot(number)
    response = api.post(action_url(number, action), body, token=token_of(getattr(world, who)))
    assert response.status_code == 409, response.json()
    assert response.json()["error"]["code"] == "out_of_window"
    assert due_on.isoformat() in response.json()["error"]["message"]
    assert snapshot(number) == before


def test_conclude_once_the_window_lapsed(world, clock, api, token_of):
    number = replied(world)
    due_on = appeals.review_request_window(Petition.objects.get(number=number)).due_on
    move_to(clock, due_on + dt.timedelta(days=1))
    response = api.post(action_url(number, "conclude"), {"conclusion": "review_lapsed"},
                        token=token_of(world.supervisor_a))  # fmt: skip
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "concluded"


def test_the_new_refusal_codes_have_their_status_and_field():
    conflicts = {"already_evaluated", "hearing_open", "no_hearing", "already_reported", "no_repeat_link",
                 "not_settled", "window_open", "no_higher_body", "already_recused"}  # fmt: skip
    for code in conflicts:
        assert REFUSAL_STATUS[code] == 409, code
    for code, field in {
        "missing_rating": "office_rating",
        "invalid_target": "into",
        "invalid_staff": "staff",
    }.items():
        assert REFUSAL_STATUS[code] == 422 and REFUSAL_FIELDS[code] == field, code
