"""The staff petition page: the routing proposal in the forward/assign forms, and the records after
the reply (evaluation, appeals, hearings, conclusion, recusals, the urgent flag)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.services import create_organisation
from xinfang.petitions.models import Category
from xinfang.workflow.models import RoutingRule

from ..factories import register

pytestmark = pytest.mark.django_db


def _page(client, user, petition) -> str:
    client.force_login(user)
    response = client.get(reverse("petitions:detail", args=[petition.number]))
    assert response.status_code == 200
    return response.content.decode()


def _selected_units(page: str, action: str) -> list[str]:
    """The pre-selected option of the unit select in one action's form."""
    form = page.split(f'id="action-{action}"', 1)[1].split("</details>", 1)[0]
    select = form.split('name="unit"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="(\d+)" selected>', select)


# --- routing proposal -------------------------------------------------------------------------


def test_forward_and_assign_preselect_the_rule_and_say_why(client, world):
    # given
    housing = create_organisation(
        name="甲县住建局", kind=OrganisationKind.DEPARTMENT, level=Level.COUNTY, parent=world.a.government
    )
    RoutingRule.objects.create(
        area=world.a.government, category=Category.objects.get(code="0102"), unit=housing
    )
    category = Category.objects.get(code="0102")
    petition = register(world.a.office, world.intake_a, world.a.township, category_id=category.pk).petition
    # when
    page = _page(client, world.intake_a, petition)
    # then
    assert _selected_units(page, "forward") == [str(housing.pk)]
    assert _selected_units(page, "assign") == [str(housing.pk)]
    assert "建议：甲县住建局（分办规则：甲县人民政府·住房保障）" in page
    assert "诉访分离" not in page


def test_legal_category_offers_the_political_legal_organ_and_warns(client, world):
    """诉访分离: the city's 政法委 is outside the county office's area, yet offered and proposed."""
    # given
    organ = create_organisation(
        name="A市委政法委", kind=OrganisationKind.POLITICAL_LEGAL, level=Level.CITY, parent=world.city
    )
    category = Category.objects.get(code="0602")
    petition = register(world.a.office, world.intake_a, world.a.township, category_id=category.pk).petition
    # when
    page = _page(client, world.intake_a, petition)
    # then
    assert _selected_units(page, "forward") == [str(organ.pk)]
    assert "涉法涉诉事项应导入政法机关依法处理（诉访分离" in page
    assert "建议：A市委政法委" in page
    # and the office can forward there
    response = client.post(
        reverse("workflow:act", args=[petition.number, "forward"]),
        {"version": petition.version, "unit": organ.pk},
    )
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.status == "forwarded" and petition.assignments.get().unit == organ


def test_discipline_category_warns_even_without_an_organ(client, world):
    category = Category.objects.get(code="0701")
    petition = register(world.a.office, world.intake_a, world.a.township, category_id=category.pk).petition
    page = _page(client, world.intake_a, petition)
    assert "应转送纪检监察机关处理" in page
    assert _selected_units(page, "forward") == []
    assert "建议：" not in page


def test_no_proposal_work_for_a_user_who_cannot_route(client, world):
    """The unit's handler is offered no forward/assign, so no proposal is computed."""
    from xinfang.workflow import services

    petition = register(world.a.office, world.intake_a, world.a.township).petition
    services.forward(user=world.intake_a, number=petition.number, unit=world.a.department)
    page = _page(client, world.handler_a, petition)
    assert 'id="action-forward"' not in page and "建议：" not in page


# --- after the reply --------------------------------------------------------------------------

REPLY = {"outcome": "explain", "facts": "经查属实。", "basis": "有关规定", "opinion": "已解释说明。"}
OPINION = {"facts": "原答复属实。", "basis": "《信访工作条例》", "opinion": "维持原处理意见。"}


def _replied(world) -> str:
    from xinfang.workflow import services

    number = register(world.a.office, world.intake_a, world.a.township).petition.number
    services.assign(user=world.intake_a, number=number, unit=world.a.department)
    services.unit_accept(user=world.handler_a, number=number)
    services.reply(user=world.handler_a, number=number, **REPLY)
    return number


def _under_recheck(world) -> str:
    from xinfang.workflow import appeals

    number = _replied(world)
    appeals.evaluate(
        user=world.intake_a, number=number, office_rating="satisfied", unit_rating="dissatisfied",
        reasons="答复未解决实际问题",
    )  # fmt: skip
    appeals.request_review(user=world.intake_a, number=number, reasons="对答复不服，请求复查")
    appeals.review(user=world.supervisor_a, number=number, outcome="uphold", **OPINION)
    appeals.request_recheck(user=world.intake_a, number=number, reasons="对复查意见不服，请求复核")
    appeals.start_hearing(user=world.city_supervisor, number=number, comment="公开听证")
    appeals.end_hearing(user=world.city_supervisor, number=number)
    return number


def test_after_reply_records_on_the_staff_page(client, world):
    """Evaluation with both ratings, source and status; both appeals with body, dates, outcome and
    opinion, the running one with its due date; the hearing; then the conclusion."""
    from xinfang.petitions.models import Petition
    from xinfang.workflow import appeals

    # given
    number = _under_recheck(world)
    petition = Petition.objects.get(number=number)
    recheck = petition.appeals.get(kind="recheck")
    # when
    page = _page(client, world.intake_a, petition)
    # then
    evaluation = page.split('id="evaluation"', 1)[1].split("</dl>", 1)[0]
    assert "已评价" in evaluation and "满意" in evaluation and "不满意" in evaluation
    assert "甲县信访局" in evaluation and "甲县人社局" in evaluation
    assert "工作人员回访录入" in evaluation and "答复未解决实际问题" in evaluation
    assert "对答复不服，请求复查" in page and "维持原处理意见" in page
    due = appeals.appeal_deadline(recheck).due_on
    assert f"应于{due:%Y-%m-%d}前出具意见" in page
    assert "起暂停计时" in page and "恢复计时" in page
    assert 'id="conclusion"' not in page
    # when the recheck is decided, the matter is concluded
    appeals.recheck(user=world.city_supervisor, number=number, outcome="uphold", **OPINION)
    page = _page(client, world.intake_a, petition)
    assert "应于" not in page
    conclusion = page.split('id="conclusion"', 1)[1].split("</p>", 1)[0]
    assert "复核意见已送达" in conclusion


def test_evaluation_pending_before_any_rating(client, world):
    from xinfang.petitions.models import Petition

    petition = Petition.objects.get(number=_replied(world))
    page = _page(client, world.intake_a, petition)
    assert "待评价" in page.split('id="evaluation"', 1)[1]


def test_nothing_after_reply_before_the_reply(client, world):
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    assert 'id="after-reply"' not in _page(client, world.intake_a, petition)


def test_recusals_are_shown_to_the_office_and_leaders_only(client, world):
    from xinfang.petitions.models import Petition
    from xinfang.workflow import services

    from ..factories import make_staff

    # given: a second handler of the unit steps aside
    colleague = make_staff("handler_a2", world.a.department, "handler")
    number = _replied(world)
    services.recuse(user=colleague, number=number, reasons="与信访人系近亲属")
    petition = Petition.objects.get(number=number)
    # then
    for viewer in (world.intake_a, world.leader_a):
        page = _page(client, viewer, petition)
        assert "与信访人系近亲属" in page.split('id="recusals"', 1)[1]
    assert "与信访人系近亲属" not in _page(client, world.handler_a, petition).split('id="timeline"')[0]


def test_urgent_badge(client, world):
    from xinfang.workflow import services

    petition = register(world.a.office, world.intake_a, world.a.township).petition
    assert 'id="urgent-badge"' not in _page(client, world.intake_a, petition)
    services.report_urgent(user=world.intake_a, number=petition.number, reasons="二十人以上集体上访")
    assert 'id="urgent-badge"' in _page(client, world.intake_a, petition)


def test_after_reply_tag_runs_a_fixed_number_of_queries(rf, world, django_assert_max_num_queries):
    """No N+1: more appeals' hearings and more recusals cost no more queries."""
    import datetime as dt

    from django.template import Context, Template

    from xinfang.petitions.models import Petition, Recusal
    from xinfang.workflow.models import Hearing

    from ..factories import make_staff

    number = _under_recheck(world)
    petition = Petition.objects.get(number=number)
    request = rf.get("/")
    request.user = world.intake_a
    world.intake_a.role_codes  # noqa: B018 - read once, as the request's middleware would
    template = Template("{% load workflow %}{% petition_after_reply petition %}")

    def render() -> str:
        return template.render(Context({"request": request, "petition": petition}))

    render()  # warm the rule book and calendar caches
    with django_assert_max_num_queries(5) as few:  # evaluation, appeals, hearings, open deadline, recusals
        render()
    # more hearings on both appeals and more recusals
    for appeal in petition.appeals.all():
        for days in (1, 2, 3):
            Hearing.objects.create(
                appeal=appeal,
                started_on=appeal.received_on,
                ended_on=appeal.received_on + dt.timedelta(days=days),
            )
    for i in range(3):
        Recusal.objects.create(
            petition=petition, user=make_staff(f"r{i}", world.a.department, "handler"), reason=f"理由{i}",
            decided_by=world.leader_a,
        )  # fmt: skip
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = render()
    assert "理由2" in html


# --- intake: the repeat look-up ---------------------------------------------------------------


def _earlier_of(world, id_number: str):
    from xinfang.petitions.drafts import PetitionerDraft

    return register(
        world.a.office, world.intake_a, world.a.township,
        petitioners=[PetitionerDraft(name="王五", id_number=id_number, phone="13900001111")],
    ).petition  # fmt: skip


def test_repeat_lookup_marks_concluded_and_in_handling(client, world):
    """Art. 36 ¶3: concluded; Art. 19 ¶3: in handling within its time limit; an overdue one is not
    marked (a higher body may take it up)."""
    import datetime as dt

    from django.utils import timezone

    from xinfang.petitions.models import Petition

    from ..factories import make_id_number

    # given
    id_number = make_id_number()
    in_handling = _earlier_of(world, id_number)
    concluded = _earlier_of(world, id_number)
    overdue = _earlier_of(world, id_number)
    Petition.objects.filter(pk=concluded.pk).update(status="concluded", conclusion="rechecked", due_on=None)
    # accepted (issue #7 point 9: a petition only registered is not "being handled")
    Petition.objects.filter(pk__in=[in_handling.pk, overdue.pk]).update(status="accepted")
    Petition.objects.filter(pk=overdue.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    client.force_login(world.intake_a)
    # when
    results = client.get(reverse("petitions:repeat_candidates"), {"id_number": id_number}).json()["results"]
    # then
    standing = {r["number"]: (r["standing"], r["standing_note"]) for r in results}
    assert standing == {
        in_handling.number: ("in_handling", "正在办理中（第十九条第三款）"),
        concluded.number: ("concluded", "已终结，同一事实和理由不再受理"),
        overdue.number: ("", ""),
    }


def test_register_page_marks_the_concluded_earlier_petition_then_refuse_repeat(client, world):
    """The clerk sees the mark, links the earlier petition, and 不再受理 is then offered and works."""
    from django.utils import timezone

    from xinfang.petitions.models import Petition

    from ..factories import leaf_category, make_id_number

    id_number = make_id_number()
    earlier = _earlier_of(world, id_number)
    Petition.objects.filter(pk=earlier.pk).update(status="concluded", conclusion="rechecked", due_on=None)
    data = {
        "p-TOTAL_FORMS": "5", "p-INITIAL_FORMS": "0", "p-MIN_NUM_FORMS": "0", "p-MAX_NUM_FORMS": "5",
        "p-0-name": "王五", "p-0-id_number": id_number, "p-0-phone": "13900001111",
        "p-0-address": "幸福路2号", "channel": "visit", "purpose": "request",
        "received_on": timezone.localdate().isoformat(), "headcount": "1", "title": "小区供水长期不正常",
        "content": "同一事实和理由再次反映，请求解决供水问题。",
        "category": str(leaf_category().pk), "locality": str(world.a.township.pk), "subject_name": "",
    }  # fmt: skip
    client.force_login(world.intake_a)
    page = client.post(reverse("petitions:register"), data).content.decode()
    assert "已终结，同一事实和理由不再受理" in page
    response = client.post(reverse("petitions:register"), {**data, "repeat_choice": earlier.number})
    assert response.status_code == 302
    latest = Petition.objects.latest("registered_at")
    assert latest.repeat_of == earlier
    page = _page(client, world.intake_a, latest)
    assert 'id="action-refuse_repeat"' in page
    client.post(reverse("workflow:act", args=[latest.number, "refuse_repeat"]), {"version": latest.version})
    latest.refresh_from_db()
    assert latest.status == "declined"
