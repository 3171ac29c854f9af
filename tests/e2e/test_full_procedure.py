"""One petition the whole way, in a real browser (issue #3, "Done when"):

portal submission → the county office assigns it to a county department → the department accepts →
extension requested and approved → reply → the citizen rates "dissatisfied" → review → recheck with
a hearing → concluded.  Every step is taken through the pages people use: the portal for the
citizen, the action panel of the staff petition page for each official, each in their own browser
session; the reply, the review and the recheck as their documents (issue #10: drafted, approved by
a leader, issued).  Screenshots of the staff petition page and the portal timeline go to
test-artifacts/.
"""

from __future__ import annotations

import pytest

from xinfang.petitions.models import Petition

from ..factories import make_id_number, make_staff
from .staff import Staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _status(number: str) -> str:
    return Petition.objects.get(number=number).status


def test_one_petition_from_the_portal_to_conclusion(live_server, browser, page, shot, world):
    base = live_server.url

    # --- the citizen submits on the portal -----------------------------------------------------------
    page.goto(base + "/portal/submit/")
    page.fill("#id_name", "吴八")
    page.fill("#id_id_number", make_id_number())
    page.fill("#id_phone", "13600004444")
    page.select_option("#id_purpose", "request")
    page.select_option("#id_locality", label=world.a.township.name)
    page.select_option("#id_category", index=1)
    page.fill("#id_title", "小区排水管网改造拖延")
    page.fill("#id_content", "小区排水管网年久失修，雨天积水严重，申请改造两年未果，请求尽快落实改造。")
    page.fill("#id_captcha_1", "PASSED")
    page.click("#portal-submit button[type=submit]")
    number = page.inner_text("#receipt-number").strip()
    code = page.inner_text("#receipt-code").strip()

    city_leader_user = make_staff("leader_city", world.city, "leader")  # approves the recheck opinion
    people = (world.intake_a, world.handler_a, world.leader_a, world.supervisor_a, world.city_supervisor,
              city_leader_user)  # fmt: skip
    office, handler, leader, reviewer, rechecker, city_leader = (
        Staff(browser, base, user) for user in people
    )
    try:
        # --- the county office assigns it to the county department ------------------------------------
        text = office.act(
            number, "assign", fill={"comment": "请依法办理并报送办结报告"},
            select={"unit": {"label": world.a.department.name}},
        )  # fmt: skip
        assert "已办理" in text and _status(number) == "assigned"

        # --- the department accepts, asks for more time, its leader approves ---------------------------
        handler.act(number, "unit_accept", fill={"comment": "已接收"})
        assert _status(number) == "accepted"
        handler.act(number, "request_extension", fill={"days": "20", "reasons": "需委托第三方检测管网"})
        text = leader.act(number, "approve_extension", fill={"comment": "同意"})
        assert "已办理" in text
        assert Petition.objects.get(number=number).extension_requests.get().decision == "approved"

        # --- the department replies ----------------------------------------------------------------------
        text = handler.issue_document(
            number, "reply", leader,
            fill={"facts": "经查，该小区管网建于1998年，已列入改造计划。",
                  "basis": "《城镇排水与污水处理条例》", "opinion": "将于明年汛期前完成改造。"},
            outcome="explain",
        )  # fmt: skip
        assert "已印发，文号" in text
        assert _status(number) == "replied"

        # --- the citizen follows it, rates "dissatisfied" and asks for a review ------------------------
        page.goto(base + "/portal/track/")
        page.fill("#id_number", number)
        page.fill("#id_code", code)
        page.click("#portal-track button[type=submit]")
        assert "答复" in page.inner_text("#public-timeline")
        evaluation = page.locator("#portal-evaluate")
        evaluation.locator("[name=office_rating][value=basically_satisfied]").check()
        evaluation.locator("[name=unit_rating][value=dissatisfied]").check()
        evaluation.locator("[name=reasons]").fill("改造时间太晚，雨季仍然积水。")
        evaluation.locator("button[type=submit]").click()
        assert Petition.objects.get(number=number).evaluations.get().unit_rating == "dissatisfied"
        review_form = page.locator("#portal-request_review")
        review_form.locator("[name=reasons]").fill("请求上级复查，尽快在雨季前改造。")
        review_form.locator("button[type=submit]").click()
        assert _status(number) == "under_review"

        # --- the county government reviews (its petition office acts for it) ----------------------------
        reviewer.issue_document(
            number, "review", leader,
            fill={"facts": "原答复属实。", "basis": "《信访工作条例》第三十五条",
                  "opinion": "维持原处理意见。"},
            outcome="uphold",
        )  # fmt: skip
        assert _status(number) == "reviewed"

        # --- the citizen asks for a recheck --------------------------------------------------------------
        page.reload()
        recheck_form = page.locator("#portal-request_recheck")
        recheck_form.locator("[name=reasons]").fill("对复查意见不服，请求复核。")
        recheck_form.locator("button[type=submit]").click()
        assert _status(number) == "under_recheck"

        # --- the city holds a hearing, then issues the final recheck opinion ------------------------------
        rechecker.act(number, "start_hearing", fill={"comment": "组织听证"})
        assert "听证" in rechecker.page.inner_text("main")
        rechecker.act(number, "end_hearing", fill={"comment": "听证结束"})
        rechecker.issue_document(
            number, "recheck", city_leader,
            fill={"facts": "经听证，原处理意见正确。", "basis": "《信访工作条例》第三十六条",
                  "opinion": "维持复查意见，提前至汛期前两个月完成改造。"},
            outcome="change",
        )  # fmt: skip
        petition = Petition.objects.get(number=number)
        assert petition.status == "concluded" and petition.conclusion == "rechecked"

        # --- the record: the staff petition page and the portal timeline --------------------------------
        office.open(number)
        assert "已终结" in office.page.inner_text("main")
        shot(office.page, "procedure-staff-petition")
        page.reload()
        timeline = page.inner_text("#public-timeline")
        for step in ("交办", "受理", "延长", "答复", "复查", "听证", "复核", "终结"):
            assert step in timeline, step
        assert "请依法办理并报送办结报告" not in page.content()  # internal comments never reach the portal
        shot(page, "procedure-portal-timeline")
    finally:
        for person in (office, handler, leader, reviewer, rechecker, city_leader):
            person.close()
