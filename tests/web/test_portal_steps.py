"""The portal's petition page (issue #3): steps, public timeline, opinions and windows, and the
petitioner's own actions — evaluate, request review, request recheck, withdraw — within the windows.

Petitions are built through the workflow services, as staff would move them; the petitioner acts
through the pages only.  The helpers at the top are shared with ``tests/api/test_portal_actions.py``.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from xinfang.audit.models import AuditEvent
from xinfang.petitions.models import Petition, PetitionEvent
from xinfang.workflow import appeals, services
from xinfang.workflow.models import Appeal, Evaluation

from ..factories import register
from ..procedure import serve_reply, serve_review

REPLY = {"outcome": "support", "facts": "经查，工资确未足额发放。",
         "basis": "《保障农民工工资支付条例》第十五条", "opinion": "责成用人单位于十日内补发。"}  # fmt: skip
REVIEW = {"outcome": "uphold", "facts": "复查查明：原处理意见认定事实清楚。",
          "basis": "《信访工作条例》第三十五条", "opinion": "原处理意见并无不当，予以维持。"}  # fmt: skip
RECHECK = {"outcome": "change", "facts": "复核查明：补发金额计算有误。",
           "basis": "《信访工作条例》第三十六条", "opinion": "变更为补发全部工资及利息。"}  # fmt: skip
# Written by staff for staff: must never reach the portal.
INTERNAL = ("内部意见：此人多次来访，注意稳控", "内部：复查组意见分歧", "内部：听证安排")
STAFF = ("intake_a", "handler_a", "supervisor_a", "city_supervisor")


# --- building petitions through the workflow ---------------------------------------------------


def registered(world):
    """A petition registered by county A's office; returns ``(petition, query code)``."""
    registration = register(world.a.office, world.intake_a, world.a.township)
    return registration.petition, registration.query_code


def accepted(world):
    petition, code = registered(world)
    services.assign(user=world.intake_a, number=petition.number, unit=world.a.department, comment=INTERNAL[0])
    services.unit_accept(user=world.handler_a, number=petition.number, comment=INTERNAL[0])
    return Petition.objects.get(pk=petition.pk), code


def replied(world):
    petition, code = accepted(world)
    services.reply(user=world.handler_a, number=petition.number, **REPLY)
    serve_reply(petition.number)  # the windows run from service (issue #10 point 8)
    return Petition.objects.get(pk=petition.pk), code


def under_review(world):
    """Replied, and the petitioner asked for a review (through a clerk, with the reasons)."""
    petition, code = replied(world)
    appeals.request_review(user=world.intake_a, number=petition.number, reasons="对补发金额有异议")
    return Petition.objects.get(pk=petition.pk), code


def reviewed(world):
    """The review opinion (by county A's government, through its petition office) upholds the reply."""
    petition, code = under_review(world)
    appeals.review(user=world.supervisor_a, number=petition.number, **REVIEW)
    serve_review(petition.number)
    return Petition.objects.get(pk=petition.pk), code


def rechecked(world):
    """Rechecked by the city (through its petition office), with a hearing: the matter is concluded."""
    petition, code = reviewed(world)
    appeals.request_recheck(user=world.intake_a, number=petition.number, reasons="对复查意见不服")
    appeals.recheck(user=world.city_supervisor, number=petition.number, **RECHECK)
    PetitionEvent.objects.create(petition=petition, kind="hearing_started", comment=INTERNAL[2])
    return Petition.objects.get(pk=petition.pk), code


def day_after(due_on: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(due_on + dt.timedelta(days=1), dt.time(10)))


def bind(client, petition: Petition, code: str):
    """Look the petition up as the citizen does; the session is then bound to it."""
    response = client.post(reverse("portal:track"), {"number": petition.number, "code": code})
    assert response.status_code == 302, response.content.decode()[:1000]
    assert response["Location"] == reverse("portal:petition", args=[petition.number])
    return response


def page(client, petition: Petition) -> str:
    response = client.get(reverse("portal:petition", args=[petition.number]))
    assert response.status_code == 200
    return response.content.decode()


def act(client, petition: Petition, action: str, **data):
    return client.post(reverse("portal:act", args=[petition.number, action]), data)


def snapshot(petition: Petition) -> tuple:
    petition.refresh_from_db()
    return (petition.status, petition.version, PetitionEvent.objects.filter(petition=petition).count(),
            Evaluation.objects.count(), Appeal.objects.count(), AuditEvent.objects.count())  # fmt: skip


def forms_on(html: str) -> set[str]:
    return set(re.findall(r'id="portal-(evaluate|request_review|request_recheck|withdraw)"', html))


def current_step(html: str) -> str:
    return re.search(r'data-step="(\w+)" aria-current="step"', html).group(1)


def assert_nothing_internal(html: str, petition: Petition) -> None:
    # 查明事实 and 法律政策依据 are part of the letter and of the opinions the petitioner receives
    # (issue #8 §7); internal comments and the staff who signed never leave the staff system.
    for secret in (*INTERNAL, *STAFF):
        assert secret not in html, secret
    person = petition.petitioners.get()
    for secret in (person.name, person.id_number, person.phone):
        assert secret not in html, secret


# --- binding the session (post/redirect/get) ----------------------------------------------------


def test_track_binds_the_session_and_redirects_to_the_petition_page(client, world):
    # given
    petition, code = registered(world)
    # when
    bind(client, petition, code)
    html = page(client, petition)
    # then: the steps, with registration the current one, and the public timeline
    assert 'id="steps"' in html and current_step(html) == "registered"
    assert "已登记您的信访事项" in html
    assert forms_on(html) == {"withdraw"}  # before the reply the petitioner may only withdraw
    # the code is kept nowhere but in the petitioner's hands
    assert code not in html
    assert code not in str(dict(client.session))
    assert client.session["portal_petitions"] == {petition.number: petition.pk}


def test_the_session_key_changes_when_a_petition_is_bound(client, world):
    petition, code = registered(world)
    client.get(reverse("portal:track"))
    client.session.save()
    before = client.session.session_key
    bind(client, petition, code)
    assert client.session.session_key != before


def test_an_unbound_session_is_sent_back_to_the_track_form(client, world):
    # given a petition whose number is known, but not its code
    petition, _code = replied(world)
    # when
    response = client.get(reverse("portal:petition", args=[petition.number]))
    # then
    assert response.status_code == 302 and response["Location"] == reverse("portal:track")
    html = client.get(response["Location"]).content.decode()
    assert "请输入信访编号和查询码查询办理情况" in html
    assert REPLY["opinion"] not in html


def test_another_petitions_number_is_not_shown_nor_acted_on(client, world):
    # given the session is bound to one petition
    mine, code = replied(world)
    other, _ = replied(world)
    bind(client, mine, code)
    before = snapshot(other)
    # when it asks for, and acts on, another
    shown = client.get(reverse("portal:petition", args=[other.number]))
    acted = act(client, other, "evaluate", office_rating="satisfied", unit_rating="satisfied")
    # then both go back to the track form and nothing changes
    assert shown.status_code == acted.status_code == 302
    assert acted["Location"] == reverse("portal:track")
    assert snapshot(other) == before


def test_an_action_from_an_unbound_session_changes_nothing(client, world):
    petition, _code = replied(world)
    before = snapshot(petition)
    response = act(client, petition, "request_review", reasons="不服")
    assert response.status_code == 302 and response["Location"] == reverse("portal:track")
    assert snapshot(petition) == before


def test_forget_removes_the_binding(client, world):
    petition, code = registered(world)
    bind(client, petition, code)
    client.post(reverse("portal:forget", args=[petition.number]))
    response = client.get(reverse("portal:petition", args=[petition.number]))
    assert response.status_code == 302


def test_actions_need_post_and_a_csrf_token(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    petition, code = replied(world)
    html = client.get(reverse("portal:track")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    client.post(
        reverse("portal:track"), {"number": petition.number, "code": code, "csrfmiddlewaretoken": token}
    )
    before = snapshot(petition)
    url = reverse("portal:act", args=[petition.number, "evaluate"])
    assert client.get(url).status_code == 405
    assert client.post(url, {"office_rating": "satisfied", "unit_rating": "satisfied"}).status_code == 403
    assert snapshot(petition) == before


def test_an_unknown_action_is_not_found(client, world):
    petition, code = replied(world)
    bind(client, petition, code)
    before = snapshot(petition)
    for action in ("reply", "conclude", "nope"):
        assert act(client, petition, action, reasons="x").status_code == 404
    assert snapshot(petition) == before


@pytest.mark.parametrize("rate", ["3/900"])
def test_the_failure_throttle_still_applies(client, world, settings, rate):
    settings.XINFANG_PORTAL_TRACK_FAILURE_RATE = rate
    petition, code = registered(world)
    for _ in range(3):
        assert (
            client.post(reverse("portal:track"), {"number": petition.number, "code": "WRONG"}).status_code
            == 404
        )
    response = client.post(reverse("portal:track"), {"number": petition.number, "code": code})
    assert response.status_code == 429
    assert "portal_petitions" not in client.session


# --- what the page shows --------------------------------------------------------------------------


def test_replied_petition_shows_the_letter_windows_and_forms(client, world):
    # given
    petition, code = replied(world)
    evaluation_due = appeals.evaluation_window(petition).due_on
    review_due = appeals.review_request_window(petition).due_on
    # when
    bind(client, petition, code)
    html = page(client, petition)
    # then: the current step, the decision letter's summary and the windows in plain Chinese
    assert current_step(html) == "reply"
    assert 'data-step="disposal"' in html and ">\n      交办" in html
    assert "支持" in html and REPLY["opinion"] in html and "请求复查" in html
    assert f"请您在{evaluation_due.isoformat()}前（含当日）对办理情况作出满意度评价。" in html
    assert f"您可在{review_due.isoformat()}前（含当日）请求复查。" in html
    assert forms_on(html) == {"evaluate", "request_review"}
    for name in ('name="office_rating"', 'name="unit_rating"', 'name="reasons"', "提交评价", "提交复查请求"):
        assert name in html
    assert_nothing_internal(html, petition)


def test_reviewed_and_rechecked_opinions_are_shown_without_anything_internal(client, world):
    # given a matter reviewed, rechecked and so concluded
    petition, code = rechecked(world)
    # when
    bind(client, petition, code)
    html = page(client, petition)
    # then
    assert current_step(html) == "concluded"
    for text in ("维持原处理意见", REVIEW["opinion"], "变更原处理意见", RECHECK["opinion"], "A市"):
        assert text in html
    # no appeal is left; the reply may still be rated within its window (国信发〔2022〕11号)
    assert forms_on(html) == {"evaluate"}
    assert 'data-step="review"' in html and 'data-step="recheck"' in html
    assert_nothing_internal(html, petition)


def test_open_review_shows_the_body_and_its_due_date(client, world):
    petition, code = under_review(world)
    bind(client, petition, code)
    html = page(client, petition)
    assert current_step(html) == "review"
    assert "甲县人民政府" in html
    assert f"应于{petition.due_on.isoformat()}前作出意见" in html


# --- evaluate ---------------------------------------------------------------------------------------


def test_evaluate_within_the_window(client, world):
    # given
    petition, code = replied(world)
    bind(client, petition, code)
    # when
    response = act(client, petition, "evaluate", office_rating="satisfied", unit_rating="basically_satisfied")
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:petition", args=[petition.number])
    evaluation = Evaluation.objects.get(petition=petition)
    assert (evaluation.office_rating, evaluation.unit_rating, evaluation.source) == (
        "satisfied", "basically_satisfied", "portal")  # fmt: skip
    html = client.get(response["Location"]).content.decode()
    assert "感谢您的评价。" in html
    assert "您已作出满意度评价" in html
    assert "evaluate" not in forms_on(html)


def test_dissatisfied_without_a_reason_is_refused(client, world):
    petition, code = replied(world)
    bind(client, petition, code)
    before = snapshot(petition)
    response = act(client, petition, "evaluate", office_rating="satisfied", unit_rating="dissatisfied")
    assert response.status_code == 400
    assert "评价为不满意的，请填写理由。" in response.content.decode()
    assert snapshot(petition) == before
    # with a reason it goes through
    response = act(client, petition, "evaluate", office_rating="satisfied", unit_rating="dissatisfied",
                   reasons="补发不足额")  # fmt: skip
    assert response.status_code == 302
    assert Evaluation.objects.get(petition=petition).reason == "补发不足额"


def test_missing_rating_is_refused(client, world):
    petition, code = replied(world)
    bind(client, petition, code)
    before = snapshot(petition)
    response = act(client, petition, "evaluate", office_rating="satisfied")
    assert response.status_code == 400
    assert "请选择对办理单位的评价。" in response.content.decode()
    assert snapshot(petition) == before


def test_evaluating_twice_is_refused(client, world):
    petition, code = replied(world)
    bind(client, petition, code)
    act(client, petition, "evaluate", office_rating="satisfied", unit_rating="satisfied")
    before = snapshot(petition)
    response = act(client, petition, "evaluate", office_rating="dissatisfied", unit_rating="dissatisfied",
                   reasons="改主意")  # fmt: skip
    assert response.status_code == 409
    assert "该信访事项已经评价过。" in response.content.decode()
    assert snapshot(petition) == before


def test_evaluate_before_the_reply_is_refused(client, world):
    petition, code = accepted(world)
    bind(client, petition, code)
    before = snapshot(petition)
    response = act(client, petition, "evaluate", office_rating="satisfied", unit_rating="satisfied")
    assert response.status_code == 409
    assert "不能满意度评价" in response.content.decode()
    assert snapshot(petition) == before


def test_evaluate_after_the_window_is_refused(client, world):
    # given the evaluation window has passed (but the review window still runs)
    petition, code = replied(world)
    late = day_after(appeals.evaluation_window(petition).due_on)
    with freeze_time(late):
        bind(client, petition, code)
        html = page(client, petition)
        assert "满意度评价的期限已于" in html and "evaluate" not in forms_on(html)
        before = snapshot(petition)
        # when
        response = act(client, petition, "evaluate", office_rating="satisfied", unit_rating="satisfied")
    # then
    assert response.status_code == 409
    assert "满意度评价的期限已于" in response.content.decode()
    assert snapshot(petition) == before


# --- request review and recheck -----------------------------------------------------------------


def test_request_review_within_the_window(client, world):
    petition, code = replied(world)
    bind(client, petition, code)
    response = act(client, petition, "request_review", reasons="补发金额不足，请求复查")
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.status == "under_review"
    appeal = Appeal.objects.get(petition=petition)
    assert (appeal.kind, appeal.body, appeal.requested_by) == ("review", world.a.government, None)
    html = client.get(response["Location"]).content.decode()
    assert "您的复查请求已提交。" in html
    assert current_step(html) == "review"
    assert "request_review" not in forms_on(html)


def test_request_review_without_reasons_is_refused(client, world):
    petition, code = replied(world)
    bind(client, petition, code)
    before = snapshot(petition)
    response = act(client, petition, "request_review", reasons="   ")
    assert response.status_code == 400
    assert "请填写请求及理由。" in response.content.decode()
    assert snapshot(petition) == before


def test_request_review_after_the_window_is_refused(client, world):
    petition, code = replied(world)
    late = day_after(appeals.review_request_window(petition).due_on)
    with freeze_time(late):
        bind(client, petition, code)
        html = page(client, petition)
        assert "请求复查的期限已于" in html and "request_review" not in forms_on(html)
        before = snapshot(petition)
        response = act(client, petition, "request_review", reasons="不服")
    assert response.status_code == 409
    assert "请求复查的期限已于" in response.content.decode()
    assert snapshot(petition) == before


def test_request_review_in_the_wrong_state_is_refused(client, world):
    petition, code = accepted(world)
    bind(client, petition, code)
    before = snapshot(petition)
    response = act(client, petition, "request_review", reasons="不服")
    assert response.status_code == 409
    assert "不能请求复查" in response.content.decode()
    assert snapshot(petition) == before


def test_request_recheck_within_the_window(client, world):
    petition, code = reviewed(world)
    bind(client, petition, code)
    html = page(client, petition)
    due = appeals.recheck_request_window(petition).due_on
    assert f"您可在{due.isoformat()}前（含当日）请求复核。" in html
    assert "request_recheck" in forms_on(html) and "提交复核请求" in html
    response = act(client, petition, "request_recheck", reasons="对复查意见不服")
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.status == "under_recheck"
    assert Appeal.objects.get(petition=petition, kind="recheck").body == world.city
    assert "您的复核请求已提交。" in client.get(response["Location"]).content.decode()


def test_request_recheck_refused_before_a_review_and_after_the_window(client, world):
    # wrong state: only replied
    petition, code = replied(world)
    bind(client, petition, code)
    before = snapshot(petition)
    assert act(client, petition, "request_recheck", reasons="不服").status_code == 409
    assert snapshot(petition) == before
    # window passed
    petition, code = reviewed(world)
    late = day_after(appeals.recheck_request_window(petition).due_on)
    with freeze_time(late):
        bind(client, petition, code)
        assert "请求复核的期限已于" in page(client, petition)
        before = snapshot(petition)
        response = act(client, petition, "request_recheck", reasons="不服")
    assert response.status_code == 409
    assert snapshot(petition) == before


def test_request_recheck_without_reasons_is_refused(client, world):
    petition, code = reviewed(world)
    bind(client, petition, code)
    before = snapshot(petition)
    response = act(client, petition, "request_recheck", reasons="")
    assert response.status_code == 400
    assert "请填写请求及理由。" in response.content.decode()
    assert snapshot(petition) == before


# --- withdraw -----------------------------------------------------------------------------------------


def test_withdraw_before_the_reply(client, world):
    petition, code = accepted(world)
    bind(client, petition, code)
    assert "确认撤回" in page(client, petition)
    response = act(client, petition, "withdraw")  # no reason needed from the petitioner
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.status == "withdrawn"
    html = client.get(response["Location"]).content.decode()
    assert "您已撤回该信访事项。" in html
    assert current_step(html) == "withdrawn"
    assert forms_on(html) == set()


def test_withdraw_after_the_reply_is_refused(client, world):
    petition, code = replied(world)
    bind(client, petition, code)
    before = snapshot(petition)
    response = act(client, petition, "withdraw", reasons="不想办了")
    assert response.status_code == 409
    assert "不能撤回" in response.content.decode()
    assert snapshot(petition) == before


# --- steps of a matter that ended early, and the cost of the page ------------------------------------


def test_a_declined_petition_shows_where_it_ended(client, world):
    petition, code = registered(world)
    services.decline(user=world.intake_a, number=petition.number, reasons="属于诉讼途径解决的事项")
    bind(client, petition, code)
    html = page(client, petition)
    assert re.findall(r'data-step="(\w+)"', html) == ["registered", "declined"]
    assert current_step(html) == "declined"
    assert 'id="windows"' not in html and forms_on(html) == set()


def test_the_page_costs_the_same_queries_however_long_the_timeline(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    petition, code = replied(world)
    bind(client, petition, code)
    with CaptureQueriesContext(connection) as first:
        page(client, petition)
    for n in range(10):
        PetitionEvent.objects.create(
            petition=petition, kind="replied", is_public=True, public_note=f"公开记录{n}"
        )
    with CaptureQueriesContext(connection) as second:
        html = page(client, petition)
    assert "公开记录9" in html
    assert len(second.captured_queries) == len(first.captured_queries) <= 25


def test_a_review_that_orders_rehandling_shows_handling_again(client, world):
    petition, code = under_review(world)
    appeals.review(user=world.supervisor_a, number=petition.number, **{**REVIEW, "outcome": "rehandle"})
    bind(client, petition, code)
    html = page(client, petition)
    assert current_step(html) == "handling"
    assert "撤销原处理意见，责令重新办理" in html and REPLY["opinion"] in html
    assert 'id="window-review"' not in html


def test_a_matter_concluded_after_the_review_window_lapsed_omits_the_appeals(client, world):
    from xinfang.petitions.choices import Conclusion

    petition, code = replied(world)
    with freeze_time(day_after(appeals.review_request_window(petition).due_on)):
        appeals.conclude(user=world.intake_a, number=petition.number, conclusion=Conclusion.REVIEW_LAPSED)
        bind(client, petition, code)
        html = page(client, petition)
    steps = re.findall(r'data-step="(\w+)"', html)
    assert steps == ["registered", "disposal", "handling", "reply", "evaluation", "concluded"]
    assert current_step(html) == "concluded"
    assert forms_on(html) == set()
    assert "超期未评价" in html


def test_the_portal_offers_exactly_the_petitioners_transitions():
    """A transition the petitioner may take must have its form and fields on the portal."""
    from xinfang.portal.forms import ACTION_FORMS
    from xinfang.portal.services import ACTION_FIELDS, PETITIONER_ACTIONS
    from xinfang.workflow.transitions import TRANSITIONS

    by_petitioner = {action for action, t in TRANSITIONS.items() if t.by_petitioner}
    assert set(PETITIONER_ACTIONS) == by_petitioner == set(ACTION_FORMS) == set(ACTION_FIELDS)
    for action in PETITIONER_ACTIONS:
        assert set(ACTION_FORMS[action].base_fields) == set(ACTION_FIELDS[action])
