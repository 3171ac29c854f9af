"""``POST /api/v1/petitions/{number}/actions/{action}``: every transition, its refusals and their
status codes, optimistic locking with ``If-Match``, and that a refusal changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from freezegun import freeze_time

from xinfang.api.endpoints.actions import FIELDS, SERVICES
from xinfang.audit.models import AuditEvent
from xinfang.petitions.models import Petition, PetitionEvent
from xinfang.workflow import services
from xinfang.workflow.deadlines import due_date
from xinfang.workflow.models import Assignment, Step
from xinfang.workflow.transitions import TRANSITIONS

from ..factories import register


def action_url(number: str, action: str) -> str:
    return f"/api/v1/petitions/{number}/actions/{action}"


@pytest.fixture
def registration(world):
    return register(world.a.office, world.intake_a, world.a.township)


@pytest.fixture
def petition(registration) -> Petition:
    return registration.petition


def snapshot(petition: Petition) -> tuple:
    petition.refresh_from_db()
    audit = AuditEvent.objects.filter(action__startswith="petition.")  # not the token logins
    return (petition.status, petition.version, petition.due_on, PetitionEvent.objects.count(),
            Assignment.objects.count(), audit.count())  # fmt: skip


def forwarded(world, petition: Petition) -> Petition:
    services.forward(user=world.intake_a, number=petition.number, unit=world.a.department)
    petition.refresh_from_db()
    return petition


def returned(world, petition: Petition) -> Petition:
    services.assign(user=world.intake_a, number=petition.number, unit=world.a.department)
    services.return_petition(user=world.handler_a, number=petition.number, reasons="非本单位职责")
    petition.refresh_from_db()
    return petition


def accepted(world, petition: Petition) -> Petition:
    services.assign(user=world.intake_a, number=petition.number, unit=world.a.department)
    services.unit_accept(user=world.handler_a, number=petition.number)
    petition.refresh_from_db()
    return petition


def extension_pending(world, petition: Petition) -> Petition:
    accepted(world, petition)
    services.request_extension(user=world.handler_a, number=petition.number, days=10, reasons="需鉴定")
    petition.refresh_from_db()
    return petition


REPLY = {"outcome": "explain", "facts": "经查，已按标准发放。", "basis": "《社会保险法》第二条",
         "opinion": "向信访人解释说明有关政策。"}  # fmt: skip


def replied(world, petition: Petition) -> Petition:
    accepted(world, petition)
    services.reply(user=world.handler_a, number=petition.number, **REPLY)
    petition.refresh_from_db()
    return petition


def test_every_transition_is_reachable():
    # The supervision app's actions have endpoints of their own (/supervisions), not this one.
    from xinfang.supervision.transitions import ACTIONS as OWN_ENDPOINTS

    assert set(SERVICES) - set(OWN_ENDPOINTS) == set(FIELDS) == set(TRANSITIONS) - set(OWN_ENDPOINTS)


# --- each action, allowed -------------------------------------------------------------------------

ALLOWED = [
    # (action, who, preparation, body, status after)
    ("forward", "intake_a", None, {"unit": "dept", "comment": "请依法处理"}, "forwarded"),
    ("assign", "supervisor_a", None, {"unit": "dept", "report_due_on": "+30"}, "assigned"),
    ("accept", "intake_a", None, {"comment": "本机关职责"}, "accepted"),
    ("decline", "intake_a", None, {"reasons": "已经依法处理"}, "declined"),
    ("redirect", "supervisor_a", None, {"channel": "向甲县人民法院提起诉讼"}, "redirected"),
    ("unit_accept", "handler_a", forwarded, {}, "accepted"),
    ("return", "handler_a", forwarded, {"reasons": "该事项属自然资源部门职责"}, "returned"),
    ("overrule_return", "supervisor_a", returned, {"comment": "属你单位职责，请办理"}, "assigned"),
    ("request_extension", "handler_a", accepted, {"days": 15, "reasons": "需现场核查"}, "accepted"),
    ("approve_extension", "leader_a", extension_pending, {}, "accepted"),
    ("reject_extension", "leader_a", extension_pending, {"reasons": "理由不充分"}, "accepted"),
    ("reply", "handler_a", accepted, REPLY, "replied"),
    ("approve_completion", "supervisor_a", replied, {}, "replied"),
    ("reject_completion", "intake_a", replied, {"reasons": "事实未查清"}, "accepted"),
    # 承办人 (issue #8): the unit names who works the petition; the state does not change
    ("assign_handler", "handler_a", forwarded, {"staff": "handler_a"}, "forwarded"),
]


@pytest.mark.parametrize(("action", "who", "prepare", "body", "status"), ALLOWED, ids=[a[0] for a in ALLOWED])
def test_each_action_moves_the_petition_and_returns_the_detail(
    world, api, token_of, petition, action, who, prepare, body, status, no_document_approval
):
    # given
    if prepare is not None:
        prepare(world, petition)
    petition.refresh_from_db()
    version, events = petition.version, petition.events.count()
    body = dict(body)
    if body.get("unit") == "dept":
        body["unit"] = world.a.department.pk
    if body.get("report_due_on") == "+30":
        body["report_due_on"] = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    # when
    response = api.post(action_url(petition.number, action), body, token=token_of(getattr(world, who)))
    # then
    assert response.status_code == 200, response.json()
    detail = response.json()
    petition.refresh_from_db()
    assert petition.status == status == detail["status"]
    assert petition.version == version + 1 == detail["version"]
    assert response["ETag"] == petition.etag == f'"{petition.pk}-{version + 1}"'
    assert petition.events.count() == events + 1 == len(detail["events"])
    assert detail["events"][-1]["kind"] == TRANSITIONS[action].event
    assert AuditEvent.objects.filter(action=f"petition.{action}", object_repr=petition.number).exists()
    # the same body as GET /petitions/{number}, and the document whose issue took a reply
    document = detail.pop("document")
    if action == "reply":
        assert document["kind"] == "decision_letter" and document["status"] == "issued"
        assert document["reference"] and document["issued_by"] == getattr(world, who).username
    else:
        assert document is None
    again = api.get(f"/api/v1/petitions/{petition.number}", token=token_of(getattr(world, who)))
    assert again.json() == detail and again["ETag"] == response["ETag"]


def test_an_action_without_fields_needs_no_body(world, api, token_of, petition):
    response = api.post(action_url(petition.number, "accept"), b"", token=token_of(world.intake_a))
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "accepted"


def test_assign_stores_the_report_date_and_the_unit_by_code(world, api, token_of, petition):
    due = timezone.localdate() + dt.timedelta(days=20)
    response = api.post(
        action_url(petition.number, "assign"),
        {"unit": world.a.township.code, "report_due_on": due.isoformat()},
        token=token_of(world.intake_a),
    )
    assert response.status_code == 200, response.json()
    assignment = Assignment.objects.get(petition=petition, ended_at__isnull=True)
    assert assignment.unit == world.a.township and assignment.report_due_on == due
    petition.refresh_from_db()
    assert petition.due_on == due_date(Step.UNIT_ACCEPTANCE, timezone.localdate(), world.a.township).due_on


@pytest.mark.parametrize(("action", "body", "note"), [
    ("forward", {"unit": "dept"}, "您的信访事项已转送甲县人社局办理。"),
    ("decline", {"reasons": "已经依法处理"}, "不予受理。理由：已经依法处理"),
])  # fmt: skip
def test_the_portal_timeline_shows_the_public_note_not_the_comment(
    world, api, token_of, registration, petition, action, body, note
):
    if body.get("unit") == "dept":
        body = {**body, "unit": world.a.department.pk, "comment": "内部意见：请从速"}
    response = api.post(action_url(petition.number, action), body, token=token_of(world.intake_a))
    assert response.status_code == 200
    # when the petitioner tracks it
    tracked = api.get(f"/api/v1/portal/petitions/{petition.number}", code=registration.query_code)
    # then
    assert tracked.status_code == 200
    assert tracked.json()["events"][-1]["note"] == note
    assert "内部意见" not in tracked.content.decode()


# --- refusals: status codes and nothing changes -----------------------------------------------------


def test_wrong_state_is_409_and_nothing_changes(world, api, token_of, petition):
    services.decline(user=world.intake_a, number=petition.number, reasons="不属于信访事项")
    before = snapshot(petition)
    response = api.post(action_url(petition.number, "accept"), {}, token=token_of(world.intake_a))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "wrong_state" and "不能受理" in error["message"]
    assert "fields" not in error
    assert snapshot(petition) == before


def test_wrong_role_or_side_is_403_and_nothing_changes(world, api, token_of, petition):
    before = snapshot(petition)
    # the county leader sees the petition but is not the petition office
    response = api.post(action_url(petition.number, "accept"), {}, token=token_of(world.leader_a))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_allowed"
    assert snapshot(petition) == before
    # the office cannot take the unit's step
    forwarded(world, petition)
    before = snapshot(petition)
    response = api.post(action_url(petition.number, "unit_accept"), {}, token=token_of(world.intake_a))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_allowed"
    assert snapshot(petition) == before


@pytest.mark.parametrize("who", ["intake_b", "handler_b", "handler_a", "auditor"])
def test_out_of_scope_is_the_same_404_as_a_missing_number(world, api, token_of, petition, who):
    before = snapshot(petition)
    token = token_of(getattr(world, who))
    body = {"reasons": "不属于信访事项"}
    out_of_scope = api.post(action_url(petition.number, "decline"), body, token=token)
    missing = api.post(action_url("XF-990101-2000-999999", "decline"), body, token=token)
    assert out_of_scope.status_code == missing.status_code == 404
    assert (
        out_of_scope.json()
        == missing.json()
        == {"error": {"code": "not_found", "message": "信访事项不存在，或您无权查看。"}}
    )
    assert snapshot(petition) == before


def test_out_of_scope_is_404_even_with_a_bad_body(world, api, token_of, petition):
    """Scope is checked before the body: a stranger learns nothing from the validation."""
    response = api.post(action_url(petition.number, "forward"), {}, token=token_of(world.intake_b))
    assert response.status_code == 404


def test_unknown_action_is_404_and_anonymous_is_401(world, api, token_of, petition):
    response = api.post(action_url(petition.number, "close"), {}, token=token_of(world.intake_a))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_action"
    anonymous = api.post(action_url(petition.number, "accept"), {})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthorized"


# --- optimistic locking -----------------------------------------------------------------------------


def test_if_match_with_the_current_etag_succeeds_and_a_stale_one_is_412(world, api, token_of, petition):
    token = token_of(world.intake_a)
    etag = api.get(f"/api/v1/petitions/{petition.number}", token=token)["ETag"]
    body = {"unit": world.a.department.pk}
    # when the first writer acts with the ETag it read
    first = api.post(action_url(petition.number, "forward"), body, token=token, headers={"If-Match": etag})
    assert first.status_code == 200
    assert first["ETag"] != etag
    # then a second writer with the same, now stale, ETag is refused and nothing changes
    before = snapshot(petition)
    handler = token_of(world.handler_a)
    second = api.post(
        action_url(petition.number, "unit_accept"), {}, token=handler, headers={"If-Match": etag}
    )
    assert second.status_code == 412
    assert second.json()["error"]["code"] == "stale_version"
    assert snapshot(petition) == before
    # and with the new ETag it goes through
    third = api.post(
        action_url(petition.number, "unit_accept"), {}, token=handler, headers={"If-Match": first["ETag"]}
    )
    assert third.status_code == 200


@pytest.mark.parametrize("if_match", ['W/"{pk}-1"', '"{other}-1"', "1", '"{pk}-x"', ""])
def test_an_if_match_that_is_not_this_petitions_etag_is_412(world, api, token_of, petition, if_match):
    other = register(world.a.office, world.intake_a, world.a.township).petition
    before = snapshot(petition)
    header = if_match.format(pk=petition.pk, other=other.pk)
    token = token_of(world.intake_a)
    response = api.post(action_url(petition.number, "accept"), {}, token=token, headers={"If-Match": header})
    assert response.status_code == 412
    assert response.json()["error"]["code"] == "stale_version"
    assert snapshot(petition) == before


def test_if_match_star_and_no_header_skip_the_version_check(world, api, token_of, petition):
    response = api.post(
        action_url(petition.number, "accept"), {}, token=token_of(world.intake_a), headers={"If-Match": "*"}
    )
    assert response.status_code == 200


# --- refusals of the input --------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "body", "field"), [
    ("decline", {}, "reasons"),
    ("decline", {"reasons": "  "}, "reasons"),
    ("redirect", {"channel": ""}, "channel"),
    ("overrule_return", {}, "comment"),
])  # fmt: skip
def test_a_missing_reason_is_422_and_nothing_changes(world, api, token_of, petition, action, body, field):
    if action == "overrule_return":
        returned(world, petition)
    before = snapshot(petition)
    response = api.post(action_url(petition.number, action), body, token=token_of(world.supervisor_a))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "missing_reason"
    assert list(error["fields"]) == [field] and error["fields"][field][0].startswith("请填写")
    assert snapshot(petition) == before


def test_a_report_is_never_sent_to_the_accused_unit(world, api, token_of):
    report = register(world.a.office, world.intake_a, world.a.township, purpose="report",
                      subject_organisation_id=world.a.department.pk).petition  # fmt: skip
    before = snapshot(report)
    response = api.post(
        action_url(report.number, "forward"), {"unit": world.a.department.pk}, token=token_of(world.intake_a)
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "accused_unit"
    assert error["fields"] == {"unit": ["检举控告不得转送、交办给被检举控告的单位或其下属单位。"]}
    assert snapshot(report) == before


@pytest.mark.parametrize(("body", "code", "fields"), [
    ({}, "validation_error", {"unit": ["请选择责任单位。"]}),
    ({"unit": 999999}, "invalid_unit", {"unit": ["请选择有效的责任单位。"]}),
    ({"unit": "000000"}, "invalid_unit", {"unit": ["请选择有效的责任单位。"]}),
    ({"unit": "office"}, "invalid_unit", {"unit": ["请选择有效的责任单位。"]}),
    ({"unit": "dept", "reasons": "x"}, "validation_error", {"reasons": ["此操作不使用此项。"]}),
    ({"unit": "dept", "report_due_on": "today"}, "validation_error",
     {"report_due_on": ["此操作不使用此项。"]}),
    ({"unit": "dept", "colour": "red"}, "validation_error", {"colour": ["不支持此字段。"]}),
])  # fmt: skip
def test_forward_input_is_checked_and_nothing_changes(world, api, token_of, petition, body, code, fields):
    refs = {"dept": world.a.department.pk, "office": world.a.office.pk}
    body = {k: refs.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    if body.get("report_due_on") == "today":
        body["report_due_on"] = timezone.localdate().isoformat()
    before = snapshot(petition)
    response = api.post(action_url(petition.number, "forward"), body, token=token_of(world.intake_a))
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["fields"]) == (code, fields)
    assert snapshot(petition) == before


def test_assign_refuses_a_report_date_not_after_today(world, api, token_of, petition):
    before = snapshot(petition)
    body = {"unit": world.a.department.pk, "report_due_on": timezone.localdate().isoformat()}
    response = api.post(action_url(petition.number, "assign"), body, token=token_of(world.intake_a))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_date" and list(error["fields"]) == ["report_due_on"]
    assert snapshot(petition) == before


def test_an_objection_after_the_window_is_409(world, api, token_of, petition):
    forwarded(world, petition)
    assigned = Assignment.objects.get(petition=petition).assigned_at
    window = due_date(Step.OBJECTION, timezone.localtime(assigned).date(), world.a.department).due_on
    late = dt.datetime.combine(window + dt.timedelta(days=1), dt.time(10)).astimezone()
    before = snapshot(petition)
    with freeze_time(late):  # the token is obtained then too, or it would have expired
        token = token_of(world.handler_a)
        response = api.post(action_url(petition.number, "return"), {"reasons": "非本单位职责"}, token=token)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "out_of_window"
    assert snapshot(petition) == before


# --- handling: the new fields and their refusals --------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({**REPLY, "basis": " "}, 422, "missing_reason", "basis"),
        ({k: v for k, v in REPLY.items() if k != "outcome"}, 422, "missing_outcome", "outcome"),
        ({**REPLY, "outcome": "perhaps"}, 422, "validation_error", None),
    ],
)
def test_reply_refusals_name_the_field(world, api, token_of, petition, body, status, code, field):
    accepted(world, petition)
    before = snapshot(petition)
    response = api.post(action_url(petition.number, "reply"), body, token=token_of(world.handler_a))
    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code
    if field:
        assert field in response.json()["error"]["fields"]
    assert snapshot(petition) == before


def test_extension_refusals(world, api, token_of, petition):
    accepted(world, petition)
    handler, leader = token_of(world.handler_a), token_of(world.leader_a)
    url = action_url(petition.number, "request_extension")
    too_long = api.post(url, {"days": 365, "reasons": "需鉴定"}, token=handler)
    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "extension_too_long"
    assert "days" in too_long.json()["error"]["fields"]
    no_days = api.post(url, {"reasons": "需鉴定"}, token=handler)
    assert no_days.status_code == 422 and "days" in no_days.json()["error"]["fields"]
    nothing = api.post(action_url(petition.number, "approve_extension"), {}, token=leader)
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "no_pending_extension"
    assert api.post(url, {"days": 10, "reasons": "需鉴定"}, token=handler).status_code == 200
    again = api.post(url, {"days": 10, "reasons": "需鉴定"}, token=handler)
    assert again.status_code == 409 and again.json()["error"]["code"] == "extension_pending"


def test_assign_handler_names_a_person_of_the_unit_and_a_change_needs_a_reason(
    world, api, token_of, petition
):
    """承办人 (issue #8): only staff of the handling body may be named; changing one needs a reason;
    the office that forwarded the petition no longer names the unit's handler."""
    forwarded(world, petition)
    url = action_url(petition.number, "assign_handler")
    handler, intake = token_of(world.handler_a), token_of(world.intake_a)
    before = snapshot(petition)
    outsider = api.post(url, {"staff": "intake_a"}, token=handler)
    assert outsider.status_code == 422, outsider.json()
    assert (
        outsider.json()["error"]["code"] == "invalid_staff" and "staff" in outsider.json()["error"]["fields"]
    )
    missing = api.post(url, {}, token=handler)
    assert missing.status_code == 422 and "staff" in missing.json()["error"]["fields"]
    assert api.post(url, {"staff": "handler_a"}, token=intake).status_code == 403
    assert snapshot(petition) == before
    assert api.post(url, {"staff": "handler_a"}, token=handler).status_code == 200
    petition.refresh_from_db()
    assert petition.handler == world.handler_a
    from ..factories import make_staff

    make_staff("handler_a2", world.a.department, "handler")
    again = api.post(url, {"staff": "handler_a2"}, token=handler)
    assert again.status_code == 422 and again.json()["error"]["code"] == "missing_reason"
    assert "reasons" in again.json()["error"]["fields"]
    changed = api.post(url, {"staff": "handler_a2", "reasons": "原承办人休假"}, token=handler)
    assert changed.status_code == 200
    petition.refresh_from_db()
    assert petition.handler.username == "handler_a2"
