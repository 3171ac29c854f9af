"""No action form of the staff action panel loses what was typed (issue #7 point 31), and the panel's
wording (point 33).

Every action of ``ACTION_FIELDS`` is brought to a state where a member of staff may take it, then
submitted (1) with every field typed but a stale version, and (2) for each required field, with that
one field left empty: the page comes back with that action's form open, every other typed value in
it, and the reason shown.  Before the fix the view redirected and the page showed the form collapsed
and empty.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from xinfang.organisations.models import Organisation
from xinfang.petitions.models import Petition
from xinfang.workflow import appeals, services
from xinfang.workflow.actions import ACTION_FIELDS, ACTION_REDIRECTS, ActionForm
from xinfang.workflow.engine import allowed_actions

from ..procedure import (
    new_registration,
    to_accepted,
    to_replied,
    to_reviewed,
    to_under_recheck,
    to_under_review,
)

# --- bringing a petition to where each action is offered -----------------------------------------


def _registered(world) -> str:  # noqa: ANN001
    return new_registration(world).petition.number


def _report(world) -> str:  # noqa: ANN001
    return new_registration(world, purpose="report").petition.number


def _repeat(world) -> str:  # noqa: ANN001
    earlier = _registered(world)
    return new_registration(world, repeat_of_number=earlier).petition.number


def _assigned(world) -> str:  # noqa: ANN001
    number = _registered(world)
    services.assign(user=world.intake_a, number=number, unit=world.a.department)
    return number


def _returned(world) -> str:  # noqa: ANN001
    number = _assigned(world)
    services.return_petition(user=world.handler_a, number=number, reasons="不属于本单位职责")
    return number


def _overruled(world) -> str:  # noqa: ANN001
    number = _returned(world)
    services.overrule_return(user=world.intake_a, number=number, comment="属于该单位职责")
    return number


def _disputed(world) -> str:  # noqa: ANN001
    number = _overruled(world)
    services.ACTION_SERVICES["dispute_jurisdiction"](user=world.handler_a, number=number, reasons="仍有异议")
    return number


def _accepted(world) -> str:  # noqa: ANN001
    number = _registered(world)
    to_accepted(world, number)
    return number


def _extension_pending(world) -> str:  # noqa: ANN001
    number = _accepted(world)
    services.request_extension(user=world.handler_a, number=number, days=10, reasons="需鉴定")
    return number


def _supervised(world) -> str:  # noqa: ANN001
    """Accepted by county A's department, supervised by county A's office (the supervision app's
    actions of the panel)."""
    from xinfang.supervision.services import supervise

    number = _accepted(world)
    supervise(user=world.supervisor_a, number=number, kind="formal", requirements="请于期限内反馈")
    return number


def _supervision_answered(world) -> str:  # noqa: ANN001
    from xinfang.supervision.services import answer_supervision

    number = _supervised(world)
    answer_supervision(user=world.handler_a, number=number, text="正在办理")
    return number


def _at(step):  # noqa: ANN001, ANN202
    def build(world) -> str:  # noqa: ANN001
        number = _registered(world)
        step(world, number)
        return number

    return build


def _hearing_open(world) -> str:  # noqa: ANN001
    number = _at(to_under_recheck)(world)
    appeals.start_hearing(user=world.city_supervisor, number=number)
    return number


STATES = {
    "forward": _registered, "assign": _registered, "accept": _registered, "decline": _registered,
    "redirect": _registered, "withdraw": _registered, "report_urgent": _registered, "recuse": _registered,
    "assign_handler": _registered,
    "merge": _registered, "refuse_repeat": _repeat, "name_subject": _report,
    "unit_accept": _assigned, "return": _assigned, "overrule_return": _returned,
    "dispute_jurisdiction": _overruled, "decide_jurisdiction": _disputed,
    "request_extension": _accepted, "reply": _accepted,
    "approve_extension": _extension_pending, "reject_extension": _extension_pending,
    "approve_completion": _at(to_replied), "reject_completion": _at(to_replied), "evaluate": _at(to_replied),
    "request_review": _at(to_replied), "conclude": _at(to_replied), "record_agreement": _at(to_replied),
    "review": _at(to_under_review), "request_recheck": _at(to_reviewed),
    "start_hearing": _at(to_under_recheck), "recheck": _at(to_under_recheck), "end_hearing": _hearing_open,
    "supervise": _accepted, "answer_supervision": _supervised, "lift_supervision": _supervised,
    "accept_supervision_answer": _supervision_answered, "return_supervision_answer": _supervision_answered,
}  # fmt: skip
STAFF = ("intake_a", "handler_a", "supervisor_a", "leader_a", "city_supervisor")


def test_every_action_of_the_panel_is_covered_here():
    """A new action must get a state here, so that its form is checked too."""
    assert set(ACTION_FIELDS) <= set(STATES)


def _typed(world, petition: Petition) -> dict[str, str]:  # noqa: ANN001
    """A distinct value for every field an action form may have (the first choice of each select of
    organisations, as the form offers them for this petition)."""
    form = ActionForm(petition=petition)
    choices = {
        name: str(field.queryset.order_by("pk").values_list("pk", flat=True).first())
        for name, field in form.fields.items()
        if hasattr(field, "queryset")
    }
    return {
        **choices, "subject_name": "被反映人：某局某科", "subject_person": "某某某",
        "report_due_on": (timezone.localdate() + dt.timedelta(days=20)).isoformat(),
        "reasons": "理由：甲乙丙丁", "channel": "向人民法院提起诉讼", "days": "12", "outcome": "support",
        "facts": "查明事实：戊己庚", "basis": "法律依据：辛壬癸", "opinion": "处理意见：子丑寅",
        "comment": "内部意见：卯辰巳", "office_rating": "satisfied", "unit_rating": "dissatisfied",
        "appeal_outcome": "uphold", "conclusion": "agreement", "into": _registered(world),
        "staff": "handler_a", "handler": "intake_a",
        "supervision_kind": "formal", "supervision_requirements": "督办要求：午未申",
        "supervision_respond_by": (timezone.localdate() + dt.timedelta(days=9)).isoformat(),
        "supervision_feedback": "督办反馈：酉戌亥",
        "parties": "协议各方：甲与乙", "terms": "协议内容：补发工资",
    }  # fmt: skip


def _set_up(world, action: str):  # noqa: ANN001, ANN202
    """The petition, a member of staff offered ``action`` on it, and the typed values."""
    number = STATES[action](world)
    petition = Petition.objects.get(number=number)
    user = next(
        (u for u in (getattr(world, name) for name in STAFF)
         if action in {t.action for t in allowed_actions(petition, u)}),
        None,
    )  # fmt: skip
    assert user is not None, f"nobody is offered {action}"
    return petition, user, _typed(world, petition)


def _panel(page: str, action: str) -> tuple[str, str]:
    """The <details> opening tag and body of ``action``'s form on the page."""
    match = re.search(rf'(<details[^>]*id="action-{re.escape(action)}"[^>]*>)(.*?)</details>', page, re.S)
    assert match, f"no form for {action}"
    return match.group(1), html.unescape(match.group(2))


def _assert_kept(body: str, name: str, value: str) -> None:
    selected = re.search(rf'<option value="{re.escape(value)}" selected>', body)
    typed = re.search(rf'name="{name}"[^>]*value="{re.escape(value)}"', body) or re.search(
        rf'name="{name}"[^>]*>\s*{re.escape(value)}\s*</textarea>', body
    )
    assert selected or typed, f"{name}={value!r} lost"


def _post(client, user, petition: Petition, action: str, data: dict[str, str]):  # noqa: ANN001, ANN202
    client.force_login(user)
    return client.post(reverse("workflow:act", args=[petition.number, action]), data)


@pytest.mark.parametrize("action", sorted(ACTION_FIELDS))
def test_a_stale_submission_of_any_action_comes_back_open_with_everything_typed(client, world, action):
    """Someone else acted first (stale version): the page says so and the form is as it was sent."""
    if action in ACTION_REDIRECTS:
        pytest.skip(f"{action} is taken by issuing its document (tests/documents/test_views.py)")
    # given
    petition, user, typed = _set_up(world, action)
    data = {"version": petition.version + 7, **{f: typed[f] for f in ACTION_FIELDS[action] if f in typed}}
    # when
    response = _post(client, user, petition, action, data)
    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert "已被他人更新" in page
    opening, body = _panel(page, action)
    assert " open" in opening
    for name in ACTION_FIELDS[action]:
        if name in typed:
            _assert_kept(body, name, typed[name])
    # the hidden version is the current one, so sending it again works
    assert f'name="version" value="{petition.version}"' in page
    petition.refresh_from_db()
    assert petition.version == data["version"] - 7  # nothing changed


# The fields each action cannot do without (the service refuses the action without them).
REQUIRED = {
    "forward": ("unit",), "assign": ("unit",), "decline": ("reasons",), "redirect": ("channel",),
    "return": ("reasons",), "overrule_return": ("comment",), "request_extension": ("days", "reasons"),
    "reject_extension": ("reasons",), "reply": ("outcome", "facts", "basis", "opinion"),
    "reject_completion": ("reasons",), "evaluate": ("office_rating", "unit_rating"),
    "request_review": ("reasons",), "review": ("appeal_outcome", "facts", "basis", "opinion"),
    "request_recheck": ("reasons",), "recheck": ("appeal_outcome", "facts", "basis", "opinion"),
    "conclude": ("conclusion",), "withdraw": ("reasons",), "merge": ("into",), "report_urgent": ("reasons",),
    "recuse": ("reasons",), "dispute_jurisdiction": ("reasons",), "decide_jurisdiction": ("unit",),
    "name_subject": ("subject_organisation",),
    "supervise": ("supervision_kind", "supervision_requirements"),
    "answer_supervision": ("supervision_feedback",), "return_supervision_answer": ("reasons",),
    "lift_supervision": ("reasons",), "record_agreement": ("parties", "terms"),
}  # fmt: skip
CASES = [(a, f) for a, fields in sorted(REQUIRED.items()) for f in fields]


@pytest.mark.parametrize(("action", "missing"), CASES)
def test_a_missing_required_field_keeps_every_other_typed_value(client, world, action, missing):
    """Issue #7 point 31: e.g. a reply without 处理结果 used to come back collapsed, with 查明事实,
    法律政策依据 and 处理意见 empty."""
    if action in ACTION_REDIRECTS:
        pytest.skip(f"{action} is taken by issuing its document (tests/documents/test_views.py)")
    if action not in ACTION_FIELDS:
        pytest.skip(f"{action} is not an action of the panel")
    # given
    petition, user, typed = _set_up(world, action)
    data = {
        "version": petition.version,
        **{f: typed[f] for f in ACTION_FIELDS[action] if f != missing and f in typed},
    }
    # when
    response = _post(client, user, petition, action, data)
    # then: refused, the form open, every other value back, the reason next to the empty field
    assert response.status_code == 200
    opening, body = _panel(response.content.decode(), action)
    assert " open" in opening
    for name in ACTION_FIELDS[action]:
        if name != missing and name in typed:
            _assert_kept(body, name, typed[name])
    assert re.search(rf'class="field has-error">\s*<label[^>]*for="id_{missing}"', body), "no error shown"
    petition.refresh_from_db()
    assert petition.version == data["version"]


def test_a_gone_form_shows_the_names_of_what_was_chosen(client, world):
    """The typed values of a form that cannot come back name the organisation chosen, not its key."""
    petition, user, typed = _set_up(world, "forward")
    version = petition.version
    services.accept(user=world.supervisor_a, number=petition.number)
    data = {"version": version, "unit": typed["unit"], "comment": typed["comment"]}
    page = html.unescape(_post(client, user, petition, "forward", data).content.decode())
    lost = page.split('id="action-lost"')[1].split("</div>")[0]
    unit = Organisation.objects.get(pk=typed["unit"])
    assert unit.name in lost and typed["comment"] in lost


def test_a_form_whose_action_is_gone_shows_what_was_typed(client, world):
    """The petition moved on meanwhile (another clerk disposed of it): the action is no longer offered,
    so its form cannot come back — what was typed is shown to copy instead of being dropped."""
    petition, user, typed = _set_up(world, "decline")
    version = petition.version
    services.accept(user=world.supervisor_a, number=petition.number)
    response = _post(client, user, petition, "decline", {"version": version, "reasons": typed["reasons"]})
    page = html.unescape(response.content.decode())
    assert 'id="action-lost"' in page and typed["reasons"] in page
    assert 'id="action-decline"' not in page


# --- 33. wording -----------------------------------------------------------------------------------


def test_the_panel_says_confirm_once_and_cites_each_source_rightly(client, world):
    """Issue #7 point 33: the button of 确认受理 read "确认确认受理"; the evaluation cited
    "《信访工作条例》国信发〔2022〕11号" (a 国家信访局 document as if it were the 条例) and withdrawal
    "《信访工作条例》依信访人申请" (no article at all)."""
    assigned = Petition.objects.get(number=_assigned(world))
    client.force_login(world.handler_a)
    page = client.get(reverse("petitions:detail", args=[assigned.number])).content.decode()
    assert "确认确认受理" not in page
    assert re.search(r">\s*确认受理\s*</button>", page)
    replied = Petition.objects.get(number=_at(to_replied)(world))
    registered = Petition.objects.get(number=_registered(world))
    client.force_login(world.intake_a)
    pages = [
        client.get(reverse("petitions:detail", args=[p.number])).content.decode()
        for p in (replied, registered)
    ]
    evaluate = pages[0].split('id="action-evaluate"')[1].split("</summary>")[0]
    assert "《信访工作条例》国信发" not in evaluate
    assert "《信访工作条例》第二十一条第二款" in evaluate
    assert "《信访事项办理群众满意度评价工作办法》（国信发〔2022〕11号）" in evaluate
    withdraw = pages[1].split('id="action-withdraw"')[1].split("</summary>")[0]
    assert "《信访工作条例》" not in withdraw and "依信访人申请" in withdraw
    forward = pages[1].split('id="action-forward"')[1].split("</summary>")[0]
    assert "《信访工作条例》第二十二条" in forward
    assert re.search(r">\s*确认转送\s*</button>", pages[1])


def test_the_calendar_year_form_keeps_what_was_typed(client, world):
    """The system administrator's "mark a year as entered" form: an invalid year used to redirect to
    the calendar and drop the note that was typed with it."""
    client.force_login(world.sysadmin)
    response = client.post(
        reverse("workflow:year_entered"), {"year": "1999", "entered": "1", "note": "国办发明电〔2025〕7号"}
    )
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "年份无效" in page
    assert 'value="国办发明电〔2025〕7号"' in page and 'value="1999"' in page
