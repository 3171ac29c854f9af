"""The petitioner's windows run from service (送达, issue #10 point 8): the review-request window and
the evaluation window from the day the decision letter reached the petitioner (《信访工作条例》
Art. 35: 自收到书面答复之日起30日内; 国信发〔2022〕11号), the recheck-request window from the day the
review opinion did (Art. 36: 自收到复查意见之日起30日内).  Until service nothing runs: the petitioner
may still act, nothing lapses, nothing is concluded for a lapse, the pages say the window has not
started.  Edges: served the same day, served late, never served, served on the eve of a holiday."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from freezegun import freeze_time

from xinfang.petitions.models import Petition
from xinfang.portal.services import public_view
from xinfang.stats import figures, rollup
from xinfang.stats.figures import Period
from xinfang.workflow import appeals, deadlines, services
from xinfang.workflow.deadlines import due_date
from xinfang.workflow.engine import Citizen, TransitionRefused, allowed_actions
from xinfang.workflow.models import DecisionLetter, Step

from ..procedure import (
    REPLY,
    new_registration,
    serve_reply,
    serve_review,
    to_accepted,
    to_replied,
    to_reviewed,
)

pytestmark = pytest.mark.django_db

X = dt.date(2026, 3, 2)  # a Monday; the letter is issued that day in every test below


@pytest.fixture
def clock():
    with freeze_time("2026-03-02 02:00:00") as frozen:  # 10:00 in Asia/Shanghai
        yield frozen


def move_to(clock, day: dt.date) -> None:  # noqa: ANN001
    clock.move_to(dt.datetime.combine(day, dt.time(10), tzinfo=timezone.get_current_timezone()))


def petition_of(number: str) -> Petition:
    return Petition.objects.get(number=number)


def letter_of(number: str) -> DecisionLetter:
    return DecisionLetter.objects.filter(petition__number=number).latest("issued_at", "pk")


def offered(number: str, user) -> set[str]:  # noqa: ANN001
    return {t.action for t in allowed_actions(petition_of(number), user)}


def citizen(number: str) -> Citizen:
    return Citizen(petition_id=petition_of(number).pk)


def refused(code: str, call, *args, **kwargs) -> TransitionRefused:  # noqa: ANN001
    with pytest.raises(TransitionRefused) as excinfo:
        call(*args, **kwargs)
    assert excinfo.value.code == code, excinfo.value.messages
    return excinfo.value


@pytest.fixture
def replied(world, clock) -> str:
    """Replied on X, not served."""
    number = new_registration(world).petition.number
    to_replied(world, number, served=False)
    services.approve_completion(user=world.intake_a, number=number)  # nothing else holds it
    return number


# --- never served ---------------------------------------------------------------------------------


def test_nothing_runs_until_the_letter_is_served(world, clock, replied):
    petition, letter = petition_of(replied), letter_of(replied)
    assert (petition.status, petition.due_on) == ("replied", None)
    assert (letter.served_on, letter.evaluation_due_on) == (None, None)
    assert appeals.review_request_window(petition) is None
    assert appeals.evaluation_window(petition) is None
    assert appeals.evaluation_status(petition) == "pending"
    # the petitioner may act: a window that has not started cannot have passed
    assert {"evaluate", "request_review"} <= offered(replied, citizen(replied))
    # the staff page and the portal say so instead of a date
    assert (
        deadlines.window_not_started(petition)
        == "复查请求期限自处理意见书送达之日起计算；处理意见书尚未送达。"
    )
    windows = public_view(petition).windows
    assert windows.review_request_not_served and windows.review_request_due_on is None
    assert windows.review_request_note == "复查请求期限自处理意见书送达之日起计算；处理意见书尚未送达。"
    assert windows.evaluation_not_served and windows.evaluation_note.startswith(
        "满意度评价期限自处理意见书送达"
    )
    assert windows.shown


def test_never_served_is_never_lapsed_nor_concluded_however_long_ago(world, clock, replied):
    move_to(clock, X + dt.timedelta(days=400))
    petition = petition_of(replied)
    assert appeals.evaluation_status(petition) == "pending"
    assert appeals.conclude_lapsed() == (0, 0)
    error = refused("not_served", appeals.conclude, user=world.supervisor_a, number=replied,
                    conclusion="review_lapsed")  # fmt: skip
    assert "处理意见书尚未送达" in error.messages[0]
    assert petition_of(replied).status == "replied"
    # the statistics do not count an evaluation due for it (its window has not started)
    rollup.refresh()
    counts = figures.counts(["evaluation_due", "evaluated", "replied"], Period.year(2026))[None]
    assert (counts.get("replied"), counts.get("evaluation_due", 0)) == (1, 0)
    # and the petitioner may still ask for review, a year later
    appeals.request_review(user=citizen(replied), number=replied, reasons="处理意见书至今未收到，请求复查")
    assert petition_of(replied).status == "under_review"


# --- served the same day, served late ---------------------------------------------------------------


def test_served_the_same_day(world, clock, replied):
    serve_reply(replied, X)
    petition, letter = petition_of(replied), letter_of(replied)
    review = due_date(Step.REVIEW_REQUEST, X, world.a.department)
    assert petition.due_on == review.due_on == appeals.review_request_window(petition).due_on
    assert review.nominal_end == X + dt.timedelta(days=30)  # the day of service is not counted
    assert letter.served_on == X
    assert letter.evaluation_due_on == X + dt.timedelta(days=7)
    assert deadlines.window_not_started(petition) == ""
    assert public_view(petition).windows.review_request_due_on == petition.due_on


def test_served_late_the_window_runs_from_service(world, clock, replied):
    served = X + dt.timedelta(days=10)
    move_to(clock, served)
    serve_reply(replied, served)
    petition = petition_of(replied)
    assert petition.due_on == due_date(Step.REVIEW_REQUEST, served, world.a.department).due_on
    assert petition.due_on >= served + dt.timedelta(days=30)
    assert letter_of(replied).evaluation_due_on == served + dt.timedelta(days=7)
    # on X+35 — past 30 days from the issue, inside 30 days from service — the request is in time
    move_to(clock, X + dt.timedelta(days=35))
    assert appeals.conclude_lapsed() == (0, 0)
    refused(
        "window_open", appeals.conclude, user=world.supervisor_a, number=replied, conclusion="review_lapsed"
    )
    assert appeals.evaluation_status(petition_of(replied)) == "lapsed"  # 7 days from X+10 are over
    assert "request_review" in offered(replied, citizen(replied))
    appeals.request_review(user=citizen(replied), number=replied, reasons="对处理意见不服")
    assert petition_of(replied).status == "under_review"


def test_served_late_the_window_closes_30_days_after_service(world, clock, replied):
    served = X + dt.timedelta(days=10)
    move_to(clock, served)
    serve_reply(replied, served)
    due_on = petition_of(replied).due_on
    move_to(clock, due_on)
    assert "request_review" in offered(replied, citizen(replied))
    move_to(clock, due_on + dt.timedelta(days=1))
    refused("out_of_window", appeals.request_review, user=citizen(replied), number=replied, reasons="不服")
    assert appeals.conclude_lapsed() == (1, 0)
    assert petition_of(replied).conclusion == "review_lapsed"


def test_service_recorded_later_by_post_counts_from_the_day_received(world, clock, replied):
    """The post's receipt says X+3; the clerk records it on X+12: the window runs from X+3."""
    move_to(clock, X + dt.timedelta(days=12))
    serve_reply(replied, X + dt.timedelta(days=3))
    expected = due_date(Step.REVIEW_REQUEST, X + dt.timedelta(days=3), world.a.department).due_on
    assert petition_of(replied).due_on == expected


def test_evaluation_window_from_service(world, clock, replied):
    served = X + dt.timedelta(days=10)
    move_to(clock, served)
    serve_reply(replied, served)
    window = appeals.evaluation_window(petition_of(replied))
    assert (window.start, window.due_on) == (served, served + dt.timedelta(days=7))
    move_to(clock, window.due_on)
    assert appeals.evaluation_status(petition_of(replied)) == "pending"
    assert "evaluate" in offered(replied, citizen(replied))
    move_to(clock, window.due_on + dt.timedelta(days=1))
    assert appeals.evaluation_status(petition_of(replied)) == "lapsed"
    assert "evaluate" not in offered(replied, citizen(replied))
    rollup.refresh()
    counts = figures.counts(["evaluation_due", "evaluated"], Period.year(2026))[None]
    assert (counts.get("evaluation_due"), counts.get("evaluated", 0)) == (1, 0)


# --- a holiday ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("served", "review_due", "evaluation_due"),
    [
        # the eve of 国庆 2026 (1–7 October): 30 days end on a working Friday; the evaluation's
        # 7 days end on 7 October, a holiday, and move to the next working day, 8 October
        (dt.date(2026, 9, 30), dt.date(2026, 10, 30), dt.date(2026, 10, 8)),
        # 30 days from 7 September end on 7 October, a holiday: the review window moves to the
        # next working day, 8 October (民法典 Art. 203; the rule's roll_forward)
        (dt.date(2026, 9, 7), dt.date(2026, 10, 8), dt.date(2026, 9, 14)),
    ],
)
def test_served_on_the_eve_of_a_holiday(world, served, review_due, evaluation_due):
    with freeze_time("2026-08-24 02:00:00") as clock:
        number = new_registration(world).petition.number
        to_accepted(world, number)
        move_to(clock, served)
        services.reply(user=world.handler_a, number=number, **REPLY)
        serve_reply(number, served)
        petition = petition_of(number)
        assert petition.due_on == review_due
        assert appeals.review_request_window(petition).rule.roll_forward
        evaluation = appeals.evaluation_window(petition)
        assert evaluation.due_on == evaluation_due == letter_of(number).evaluation_due_on
        assert evaluation.rule.roll_forward and evaluation.nominal_end == served + dt.timedelta(days=7)
        move_to(clock, review_due)
        assert "request_review" in offered(number, citizen(number))
        move_to(clock, review_due + dt.timedelta(days=1))
        assert "request_review" not in offered(number, citizen(number))


# --- the recheck window ---------------------------------------------------------------------------


def test_recheck_window_from_the_service_of_the_review_opinion(world, clock):
    number = new_registration(world).petition.number
    to_reviewed(world, number, served=False)
    petition = petition_of(number)
    assert (petition.status, petition.due_on) == ("reviewed", None)
    assert appeals.recheck_request_window(petition) is None
    assert deadlines.window_not_started(petition).endswith("复查意见书尚未送达。")
    assert public_view(petition).windows.recheck_request_not_served
    move_to(clock, X + dt.timedelta(days=200))
    assert appeals.conclude_lapsed() == (0, 0)
    refused("not_served", appeals.conclude, user=world.intake_a, number=number, conclusion="recheck_lapsed")
    # served by post, received 200 days after the opinion: 30 days from then
    served = timezone.localdate()
    serve_review(number, served)
    review = appeals.last_appeal(petition_of(number), "review")
    assert review.opinion_served_on == served
    assert petition_of(number).due_on == due_date(Step.RECHECK_REQUEST, served, review.body).due_on
    move_to(clock, served + dt.timedelta(days=29))
    assert "request_recheck" in offered(number, citizen(number))


# --- service itself -------------------------------------------------------------------------------


def test_served_twice_or_before_issue_is_refused(world, clock, replied):
    letter = letter_of(replied)
    refused("invalid_date", appeals.serve_letter, letter, X - dt.timedelta(days=1))
    refused("invalid_date", appeals.serve_letter, letter, X + dt.timedelta(days=1))  # tomorrow
    appeals.serve_letter(letter, X)
    refused("already_served", appeals.serve_letter, letter_of(replied), X)
    assert letter_of(replied).served_on == X


def test_serving_an_older_letter_only_records_the_day(world, clock):
    number = new_registration(world).petition.number
    to_replied(world, number, served=False)
    first = letter_of(number)
    services.reject_completion(user=world.intake_a, number=number, reasons="答复未回应全部请求")
    move_to(clock, X + dt.timedelta(days=5))
    services.reply(user=world.handler_a, number=number, **REPLY)
    second = letter_of(number)
    assert second.pk != first.pk
    appeals.serve_letter(first, X + dt.timedelta(days=2))  # the older letter reached them late
    first.refresh_from_db()
    assert first.served_on == X + dt.timedelta(days=2)
    assert petition_of(number).due_on is None  # the standing reply is still not served
    assert appeals.review_request_window(petition_of(number)) is None
    appeals.serve_letter(second, X + dt.timedelta(days=5))
    expected = due_date(Step.REVIEW_REQUEST, X + dt.timedelta(days=5), world.a.department).due_on
    assert petition_of(number).due_on == expected


def test_serving_after_the_review_was_requested_keeps_the_review_period(world, clock, replied):
    appeals.request_review(user=citizen(replied), number=replied, reasons="不服")
    review_due = petition_of(replied).due_on
    move_to(clock, X + dt.timedelta(days=3))
    serve_reply(replied, X + dt.timedelta(days=3))
    assert petition_of(replied).due_on == review_due
    assert letter_of(replied).served_on == X + dt.timedelta(days=3)


# --- the pages ------------------------------------------------------------------------------------


def test_the_portal_and_the_staff_page_say_the_window_has_not_started(client, world):
    from django.urls import reverse

    from ..web.test_portal_steps import accepted, bind, forms_on, page

    petition, code = accepted(world)
    services.reply(user=world.handler_a, number=petition.number, **REPLY)
    bind(client, petition, code)
    html = page(client, petition)
    assert '<li id="window-review">复查请求期限自处理意见书送达之日起计算；处理意见书尚未送达。</li>' in html
    assert "满意度评价期限自处理意见书送达之日起计算" in html
    assert {"evaluate", "request_review"} <= forms_on(html)
    serve_reply(petition.number)  # once served, the date
    due = petition_of(petition.number).due_on
    html = page(client, petition)
    assert f"您可在{due.isoformat()}前（含当日）请求复查。" in html and "尚未送达" not in html
    # the staff page: the deadline cell says it while the letter is unserved (another petition)
    other, _code = accepted(world)
    services.reply(user=world.handler_a, number=other.number, **REPLY)
    client.force_login(world.intake_a)
    staff = client.get(reverse("petitions:detail", args=[other.number])).content.decode()
    assert "复查请求期限自处理意见书送达之日起计算；处理意见书尚未送达。" in staff
    staff = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    assert "复查请求期限自处理意见书送达之日起计算" not in staff and due.isoformat() in staff
