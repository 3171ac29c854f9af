"""约谈 / 通报 / 改进工作建议: services (allowed and refused), staff pages and API."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from xinfang.api.services import obtain_token
from xinfang.audit.models import AuditEvent
from xinfang.notifications.models import Notification
from xinfang.petitions.choices import EventKind
from xinfang.petitions.models import PetitionEvent
from xinfang.supervision import accountability as services
from xinfang.supervision.models import Accountability, AccountabilityStatus

from ..api.conftest import ApiClient
from ..factories import PASSWORD, make_staff, register
from ..procedure import new_registration

pytestmark = pytest.mark.django_db

LATER = timezone.localdate() + dt.timedelta(days=10)


@pytest.fixture
def people(world):
    class People:
        dept_leader = make_staff("dept_leader", world.a.department, "leader")
        office_leader = make_staff("office_leader", world.a.office, "leader")
        b_leader = make_staff("b_leader", world.b.department, "leader")

    return People


@pytest.fixture
def petitions(world):
    return [new_registration(world).petition for _ in range(2)]


def issue(world, user=None, **overrides):
    values = {
        "user": user or world.supervisor_a,
        "kind": "recommendation",
        "unit": world.a.department,
        "title": "关于改进信访事项办理工作的建议",
        "content": "近三个月有五件信访事项超期办理，建议完善首办负责制。",
        "response_due_on": LATER,
    }
    values.update(overrides)
    return services.record_accountability(**values)


# --- services -------------------------------------------------------------------------------------


def test_supervisor_issues_with_petitions_events_notifications_and_audit(world, people, petitions):
    record = issue(world, petition_numbers=[p.number for p in petitions])
    assert record.office == world.a.office and record.status == AccountabilityStatus.OPEN
    assert set(record.petitions.values_list("number", flat=True)) == {p.number for p in petitions}
    events = PetitionEvent.objects.filter(kind=EventKind.ACCOUNTABILITY)
    assert events.count() == 2 and not events.filter(is_public=True).exists()
    assert events.first().data["accountability"] == record.pk
    # The unit's leaders are told, nobody else.
    told = set(Notification.objects.filter(kind="accountability").values_list("user__username", flat=True))
    assert told == {"dept_leader"}
    assert AuditEvent.objects.filter(
        action="supervision.accountability_recorded", object_id=str(record.pk)
    ).exists()


def test_city_office_may_address_a_county_body(world, people):
    record = issue(world, user=world.city_supervisor, kind="circular", response_due_on=None)
    assert record.office == world.city_supervisor.organisation and record.unit == world.a.department


@pytest.mark.parametrize("who", ["handler_a", "intake_a", "leader_a", "sysadmin"])
def test_only_petition_office_supervisors_and_leaders_issue(world, who):
    with pytest.raises(services.AccountabilityRefused):
        issue(world, user=getattr(world, who))
    assert not Accountability.objects.exists()


def test_unit_outside_the_scope_or_the_office_itself_refused(world):
    for unit in (world.b.department, world.a.office, world.city):
        with pytest.raises(ValidationError) as exc:
            issue(world, unit=unit)
        assert "unit" in exc.value.message_dict


def test_validation_errors(world):
    with pytest.raises(ValidationError) as exc:
        issue(world, title=" ", content="", response_due_on=None, kind="summons")
    assert set(exc.value.message_dict) == {"title", "content", "response_due_on"}
    with pytest.raises(ValidationError) as exc:
        issue(world, response_due_on=timezone.localdate())
    assert "response_due_on" in exc.value.message_dict


def test_petitions_out_of_scope_refused(world):
    other = new_registration(world).petition
    b_petition = register(world.b.office, world.intake_b, world.b.township).petition
    with pytest.raises(ValidationError) as exc:
        issue(world, petition_numbers=[other.number, b_petition.number, "XF-NOPE"])
    message = exc.value.message_dict["petitions"][0]
    assert b_petition.number in message and "XF-NOPE" in message and other.number not in message


def test_unit_leader_responds_then_issuer_closes(world, people):
    record = issue(world)
    for user in (world.handler_a, people.b_leader, world.supervisor_a, world.leader_a):
        with pytest.raises((services.AccountabilityRefused, Accountability.DoesNotExist)):
            services.respond_accountability(user=user, accountability_id=record.pk, response="已整改")
    with pytest.raises(ValidationError):
        services.respond_accountability(user=people.dept_leader, accountability_id=record.pk, response=" ")
    record = services.respond_accountability(
        user=people.dept_leader, accountability_id=record.pk, response="已整改"
    )
    assert record.status == AccountabilityStatus.ANSWERED and record.responded_by == people.dept_leader
    assert Notification.objects.filter(user=world.supervisor_a, kind="accountability").exists()
    with pytest.raises(services.AccountabilityRefused):
        services.respond_accountability(user=people.dept_leader, accountability_id=record.pk, response="再次")
    with pytest.raises(services.AccountabilityRefused):
        services.close_accountability(user=world.city_supervisor, accountability_id=record.pk)
    record = services.close_accountability(user=people.office_leader, accountability_id=record.pk)
    assert record.status == AccountabilityStatus.CLOSED
    assert AuditEvent.objects.filter(action="supervision.accountability_closed").count() == 1


def test_closing_unanswered_needs_a_note(world):
    record = issue(world)
    with pytest.raises(ValidationError):
        services.close_accountability(user=world.supervisor_a, accountability_id=record.pk)
    record = services.close_accountability(
        user=world.supervisor_a, accountability_id=record.pk, note="已当面约谈"
    )
    assert record.status == AccountabilityStatus.CLOSED


def test_who_reads(world, people):
    record = issue(world)
    assert services.visible_to(world.supervisor_a).filter(pk=record.pk).exists()  # issuer
    assert services.visible_to(world.handler_a).filter(pk=record.pk).exists()  # the unit's staff
    assert services.visible_to(world.city_supervisor).filter(pk=record.pk).exists()  # the office above
    assert not services.visible_to(world.handler_b).filter(pk=record.pk).exists()
    assert not services.visible_to(world.intake_b).filter(pk=record.pk).exists()
    assert not services.visible_to(world.sysadmin).exists()


# --- staff pages ----------------------------------------------------------------------------------


def test_form_keeps_everything_typed_on_error(client, world, petitions):
    client.force_login(world.supervisor_a)
    response = client.post(
        reverse("accountability:new"),
        {"kind": "summons", "unit": world.a.department.pk, "title": "约谈", "content": "工作不力",
         "response_due_on": "", "petitions": petitions[0].number},
    )  # fmt: skip
    assert response.status_code == 200
    page = response.content.decode()
    assert "约谈和改进工作建议须规定书面回复期限" in page
    assert petitions[0].number in page and "工作不力" in page
    assert not Accountability.objects.exists()


def test_pages_issue_list_export_respond_close(client, world, people, petitions):
    client.force_login(world.supervisor_a)
    assert client.get(reverse("accountability:new") + f"?petition={petitions[0].number}").status_code == 200
    response = client.post(
        reverse("accountability:new"),
        {"kind": "recommendation", "unit": world.a.department.pk, "title": "改进建议一",
         "content": "请完善制度", "response_due_on": LATER.isoformat(),
         "petitions": f"{petitions[0].number}，{petitions[1].number}"},
    )  # fmt: skip
    record = Accountability.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "accountability:detail", args=[record.pk]
    )
    assert record.petitions.count() == 2
    listing = client.get(reverse("accountability:list") + "?kind=recommendation&status=open")
    assert "改进建议一" in listing.content.decode()
    assert "改进建议一" not in client.get(reverse("accountability:list") + "?kind=summons").content.decode()
    export = client.get(reverse("accountability:list") + "?export=xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert [c.value for c in sheet[2]][1] == "改进建议一"
    assert AuditEvent.objects.filter(action="supervision.accountability_exported").exists()

    # The unit's leader sees the response form and answers.
    client.force_login(people.dept_leader)
    detail = client.get(reverse("accountability:detail", args=[record.pk])).content.decode()
    assert 'id="response-form"' in detail and 'id="close-form"' not in detail
    response = client.post(reverse("accountability:respond", args=[record.pk]), {"response": "已建立台账"})
    assert response.status_code == 302
    # Someone outside sees nothing at all.
    client.force_login(world.handler_b)
    assert client.get(reverse("accountability:detail", args=[record.pk])).status_code == 404
    # A handler of the unit may read it but not issue.
    client.force_login(world.handler_a)
    assert client.get(reverse("accountability:detail", args=[record.pk])).status_code == 200
    assert client.get(reverse("accountability:new")).status_code == 403
    # The issuer closes it.
    client.force_login(world.supervisor_a)
    detail = client.get(reverse("accountability:detail", args=[record.pk])).content.decode()
    assert "已建立台账" in detail and 'id="close-form"' in detail
    client.post(reverse("accountability:close", args=[record.pk]), {"note": ""})
    record.refresh_from_db()
    assert record.status == AccountabilityStatus.CLOSED


def test_government_leader_cannot_issue_on_the_page(client, world):
    client.force_login(world.leader_a)  # a leader, but of the government, not of the petition office
    assert client.get(reverse("accountability:new")).status_code == 403
    assert client.get(reverse("accountability:list")).status_code == 200


# --- API ------------------------------------------------------------------------------------------


@pytest.fixture
def api(client) -> ApiClient:
    return ApiClient(client)


def token(user) -> str:
    return obtain_token(username=user.username, password=PASSWORD, ip="127.0.0.9").token


def test_api_issue_list_respond(api, world, people, petitions):
    body = {"kind": "summons", "unit": world.a.department.pk, "title": "约谈通知", "content": "拖延办理",
            "response_due_on": LATER.isoformat(), "petitions": [petitions[0].number]}  # fmt: skip
    assert api.post("/api/v1/accountability", body, token=token(world.handler_a)).status_code == 403
    bad = api.post(
        "/api/v1/accountability", {**body, "unit": world.b.department.pk}, token=token(world.supervisor_a)
    )
    assert bad.status_code == 422 and "unit" in str(bad.json())
    created = api.post("/api/v1/accountability", body, token=token(world.supervisor_a))
    assert created.status_code == 201, created.content
    data = created.json()
    assert (
        data["kind"] == "summons" and data["petitions"] == [petitions[0].number] and data["status"] == "open"
    )

    listing = api.get("/api/v1/accountability", token=token(people.dept_leader), status="open").json()
    assert [r["id"] for r in listing["results"]] == [data["id"]]
    assert api.get("/api/v1/accountability", token=token(world.handler_b)).json()["results"] == []
    assert api.get(f"/api/v1/accountability/{data['id']}", token=token(world.handler_b)).status_code == 404

    path = f"/api/v1/accountability/{data['id']}/response"
    assert api.post(path, {"response": "已整改"}, token=token(world.handler_a)).status_code == 403
    assert api.post(path, {"response": "已整改"}, token=token(world.handler_b)).status_code == 404
    answered = api.post(path, {"response": "已整改"}, token=token(people.dept_leader))
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    assert api.post(path, {"response": "再次"}, token=token(people.dept_leader)).status_code == 403


def test_selectors_for_the_workbench(world, people):
    record = issue(world)
    assert list(services.to_answer(people.dept_leader)) == [record]
    assert not services.to_answer(world.handler_a).exists()  # not a leader
    assert not services.to_answer(people.b_leader).exists()
    assert not services.to_close(world.supervisor_a).exists()
    services.respond_accountability(user=people.dept_leader, accountability_id=record.pk, response="已整改")
    assert not services.to_answer(people.dept_leader).exists()
    assert list(services.to_close(world.supervisor_a)) == [record]
    assert not services.to_close(world.city_supervisor).exists()


def test_petition_page_links_to_the_form_for_office_supervisors_only(client, world, petitions):
    number = petitions[0].number
    client.force_login(world.supervisor_a)
    page = client.get(reverse("petitions:detail", args=[number])).content.decode()
    assert 'id="accountability-link"' in page and f"?petition={number}" in page
    client.force_login(world.intake_a)
    page = client.get(reverse("petitions:detail", args=[number])).content.decode()
    assert 'id="accountability-link"' not in page
