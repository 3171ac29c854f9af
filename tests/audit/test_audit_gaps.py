"""What the audit log missed (issue #7, point 23), each now written:

* the API's reads of a petition (``GET /api/v1/petitions/{number}`` and the detail an action
  answers with) write ``petition.view`` as the staff page does;
* a refused reveal of personal data writes ``petition.reveal_denied`` whether the petition does not
  exist or is out of scope — and the caller gets the same 404 either way;
* the audit administrator's own searches and exports of the log are audited, with their filters.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from xinfang.api.services import obtain_token
from xinfang.audit.models import AuditEvent
from xinfang.workflow import services

from ..factories import PASSWORD, register


@pytest.fixture
def petition(world):
    return register(world.a.office, world.intake_a, world.a.township).petition


def bearer(user) -> dict[str, str]:
    token = obtain_token(username=user.username, password=PASSWORD, ip="127.0.0.9").token
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def views_of(petition) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="petition.view", object_id=str(petition.pk)).order_by("seq"))


# --- the API reads --------------------------------------------------------------------------------


def test_api_read_of_a_petition_is_audited(client, world, petition):
    response = client.get(f"/api/v1/petitions/{petition.number}", **bearer(world.intake_a))
    assert response.status_code == 200
    [event] = views_of(petition)
    assert event.actor_name == "intake_a"
    assert event.object_repr == petition.number
    assert event.data == {"via": "api"}


def test_api_read_out_of_scope_writes_no_view(client, world, petition):
    """A 404 shows nothing, so there is no view to record."""
    response = client.get(f"/api/v1/petitions/{petition.number}", **bearer(world.intake_b))
    assert response.status_code == 404
    assert views_of(petition) == []


def test_the_detail_an_api_action_answers_with_is_audited(client, world, petition):
    url = f"/api/v1/petitions/{petition.number}/actions/forward"
    body = f'{{"unit": {world.a.department.pk}}}'
    response = client.post(url, body, content_type="application/json", **bearer(world.intake_a))
    assert response.status_code == 200, response.content
    assert [e.data for e in views_of(petition)] == [{"via": "api"}]
    assert AuditEvent.objects.filter(action="petition.forward", object_id=str(petition.pk)).exists()


def test_the_staff_page_view_says_it_came_from_the_web(client, world, petition):
    client.force_login(world.intake_a)
    assert client.get(reverse("petitions:detail", args=[petition.number])).status_code == 200
    assert [e.data for e in views_of(petition)] == [{"via": "web"}]


# --- refused reveals ----------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["intake_b", "handler_b"])
def test_a_refused_reveal_on_the_staff_page_is_audited(client, world, petition, username):
    """Before: the page's own scope check answered 404 first and the service never ran."""
    client.force_login(getattr(world, username))
    response = client.post(reverse("petitions:reveal", args=[petition.number]))
    assert response.status_code == 404
    denied = AuditEvent.objects.get(action="petition.reveal_denied")
    assert denied.actor_name == username
    assert denied.data == {"number": petition.number}
    assert (denied.object_type, denied.object_id, denied.object_repr) == ("", "", "")
    assert not AuditEvent.objects.filter(action="petition.reveal_personal_data").exists()


def test_a_reveal_of_a_missing_petition_looks_the_same(client, world, petition):
    """The caller cannot tell a missing petition from a forbidden one — not by the answer, not by
    what is recorded about the attempt."""
    client.force_login(world.intake_b)
    forbidden = client.post(reverse("petitions:reveal", args=[petition.number]))
    missing_number = petition.number[:-6] + "999999"
    missing = client.post(reverse("petitions:reveal", args=[missing_number]))
    assert (forbidden.status_code, missing.status_code) == (404, 404)
    assert [t.name for t in forbidden.templates] == [t.name for t in missing.templates]
    rows = AuditEvent.objects.filter(action="petition.reveal_denied").order_by("seq")
    assert [(r.data, r.object_id) for r in rows] == [
        ({"number": petition.number}, ""),
        ({"number": missing_number}, ""),
    ]


def test_an_allowed_reveal_still_shows_and_audits(client, world, petition):
    client.force_login(world.intake_a)
    response = client.post(reverse("petitions:reveal", args=[petition.number]))
    assert response.status_code == 200
    assert (
        AuditEvent.objects.filter(action="petition.reveal_personal_data", actor_name="intake_a").count() == 1
    )
    assert not AuditEvent.objects.filter(action="petition.reveal_denied").exists()


# --- the auditor's own searches -------------------------------------------------------------------


def test_each_search_of_the_log_is_audited_with_its_filters(client, world):
    client.force_login(world.auditor)
    url = reverse("audit:log")
    assert client.get(url).status_code == 200
    query = {
        "action": "petition.view",
        "actor": "intake_a",
        "object": "XF-1",
        "date_from": "2026-01-01",
        "page": "2",
    }
    assert client.get(url, query).status_code == 200
    searches = list(AuditEvent.objects.filter(action="audit.search").order_by("seq"))
    assert [e.actor_name for e in searches] == ["auditor", "auditor"]
    assert searches[0].data == {"filters": {}, "page": 1}
    assert searches[1].data == {
        "filters": {
            "action": "petition.view",
            "actor": "intake_a",
            "object": "XF-1",
            "date_from": "2026-01-01",
        },
        "page": 2,
    }


def test_an_export_of_the_log_is_audited(client, world):
    client.force_login(world.auditor)
    response = client.get(reverse("audit:log"), {"format": "csv", "actor": "intake_a"})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    export = AuditEvent.objects.get(action="audit.export")
    assert export.data == {"filters": {"actor": "intake_a"}}


@pytest.mark.parametrize("username", ["intake_a", "sysadmin", "secadmin"])
def test_only_the_auditor_reads_the_log_and_others_leave_no_search(client, world, username):
    client.force_login(getattr(world, username))
    assert client.get(reverse("audit:log")).status_code == 403
    assert not AuditEvent.objects.filter(action="audit.search").exists()


def test_services_forward_still_audits_once(world, petition):
    """The engine's own event is unchanged (one per action)."""
    services.forward(user=world.intake_a, number=petition.number, unit=world.a.department)
    assert AuditEvent.objects.filter(action="petition.forward").count() == 1
