"""``/api/v1/duty``: the rota and the duty log — allowed, refused (403), out of scope (404), bad input
(422 with Chinese fields), audited, idempotent creations, a fixed number of queries per list."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xinfang.audit.models import AuditEvent
from xinfang.leadership import services
from xinfang.leadership.models import DutyLogEntry, DutyShift

from .conftest import days
from .test_api import api

pytestmark = pytest.mark.django_db

SHIFTS = "/api/v1/duty/shifts"
LOG = "/api/v1/duty/log"


def _shift_body(world, **over):
    return {"organisation": world.a.office.pk, "date": str(days(1)), "kind": "day",
            "leader": world.leader_a.username, "staff_on_duty": "陈静、赵敏", "phone": "0571-1234567",
            **over}  # fmt: skip


def test_rota_and_log_lifecycle(client, world, petition):
    sup = api(client, world.supervisor_a)
    created = sup.post(SHIFTS, _shift_body(world), HTTP_IDEMPOTENCY_KEY="s-1")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["leader"]["id"] == world.leader_a.pk and data["entries"] == 0 and data["kind_label"] == "白班"
    replay = sup.post(SHIFTS, _shift_body(world), HTTP_IDEMPOTENCY_KEY="s-1")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert DutyShift.objects.count() == 1
    assert AuditEvent.objects.filter(action="leadership.shift_saved", object_id=str(data["id"])).exists()
    # the same organisation, day and kind again: 422 on date
    clash = sup.post(SHIFTS, _shift_body(world))
    assert clash.status_code == 422 and clash.json()["error"]["fields"]["date"] == [
        "该单位当天已有此班次的值班安排。"
    ]
    # change it: 200
    changed = sup.post(SHIFTS, _shift_body(world, id=data["id"], staff_on_duty="李娜"))
    assert changed.status_code == 200 and changed.json()["staff_on_duty"] == "李娜"
    # an entry on the shift, naming a petition in scope
    entry = {"shift": data["id"], "at": f"{days(1)}T09:30:00", "happened": "群众来访反映欠薪",
             "petitions": [petition.number], "action_taken": "登记并转人社局",
             "handed_over_to": "夜班"}  # fmt: skip
    logged = api(client, world.intake_a).post(LOG, entry, HTTP_IDEMPOTENCY_KEY="l-1")
    assert logged.status_code == 201, logged.content
    assert (
        logged.json()["petitions"] == [petition.number]
        and logged.json()["recorded_by"]["id"] == world.intake_a.pk
    )
    assert AuditEvent.objects.filter(action="leadership.duty_logged").count() == 1
    month = days(1).strftime("%Y-%m")
    rota = api(client, world.intake_a).get(SHIFTS, {"month": month}).json()
    assert rota["count"] == 1 and rota["results"][0]["entries"] == 1 and rota["month"] == month
    log = api(client, world.leader_a).get(LOG, {"month": month}).json()
    assert log["count"] == 1 and log["results"][0]["happened"] == "群众来访反映欠薪"
    assert api(client, world.leader_a).get(LOG, {"shift": data["id"]}).json()["count"] == 1


def test_refusals(client, world, petition):
    shift = services.save_shift(actor=world.supervisor_a, organisation=world.a.office, date=days(1),
                                kind="day", leader=world.leader_a)  # fmt: skip
    # not casework: 403 on reads; a handler may read but not plan: 403
    assert api(client, world.auditor).get(SHIFTS).status_code == 403
    refused = api(client, world.handler_a).post(SHIFTS, _shift_body(world, kind="night"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    # another county: sees nothing, its shift is 404 to log on, to change and to filter by
    other = api(client, world.intake_b)
    assert other.get(SHIFTS, {"month": days(1).strftime("%Y-%m")}).json()["count"] == 0
    assert (
        other.post(LOG, {"shift": shift.pk, "at": f"{days(1)}T10:00:00", "happened": "x"}).status_code == 404
    )
    assert other.get(LOG, {"shift": shift.pk}).status_code == 404
    assert (
        other.post(SHIFTS, _shift_body(world, id=shift.pk, organisation=world.b.office.pk)).status_code == 404
    )
    # an organisation out of scope, a leader of another area: 422 with the field, in Chinese
    sup = api(client, world.supervisor_a)
    bad_org = sup.post(SHIFTS, _shift_body(world, organisation=world.b.office.pk))
    assert bad_org.status_code == 422 and bad_org.json()["error"]["fields"]["organisation"] == [
        "请选择本辖区内的单位。"
    ]
    bad_leader = sup.post(SHIFTS, _shift_body(world, leader=world.handler_b.pk, kind="night"))
    assert bad_leader.json()["error"]["fields"]["leader"] == ["带班领导须为本辖区的领导。"]
    assert sup.post(SHIFTS, _shift_body(world, kind="morning")).status_code == 422
    assert sup.get(SHIFTS, {"month": "2026-13"}).json()["error"]["fields"]["month"] == [
        "月份格式应为 YYYY-MM。"
    ]
    # the log: blank text, a petition out of scope, unknown keys
    entry = {"shift": shift.pk, "at": f"{days(1)}T10:00:00", "happened": " "}
    blank = sup.post(LOG, entry)
    assert blank.status_code == 422 and blank.json()["error"]["fields"]["happened"] == ["请填写值班情况。"]
    stranger = sup.post(LOG, {**entry, "happened": "来访", "petitions": ["XF-NOPE"]})
    assert stranger.json()["error"]["fields"]["petitions"] == ["有信访编号不存在或不在您的工作范围内。"]
    assert sup.post(LOG, {**entry, "happened": "来访", "extra": 1}).status_code == 422
    assert sup.post(LOG, {**entry, "happened": "来访", "at": "0001-01-01T00:00:00"}).status_code == 422
    assert DutyLogEntry.objects.count() == 0


def test_lists_take_a_fixed_number_of_queries(client, world, petition):
    caller = api(client, world.supervisor_a)
    month = days(1).strftime("%Y-%m")

    def queries(path):
        with CaptureQueriesContext(connection) as ctx:
            assert caller.get(path, {"month": month}).status_code == 200
        return len(ctx)

    def add(kind):
        shift = services.save_shift(actor=world.supervisor_a, organisation=world.a.office, date=days(1),
                                    kind=kind, leader=world.leader_a)  # fmt: skip
        services.log_duty(actor=world.supervisor_a, shift=shift, at=shift_time(), happened="来访",
                          petitions=[petition])  # fmt: skip

    add("day")
    queries(SHIFTS)  # the first request of a token warms what later ones reuse
    one = (queries(SHIFTS), queries(LOG))
    add("night")
    add("holiday")
    assert (queries(SHIFTS), queries(LOG)) == one


def shift_time():
    import datetime as dt

    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(days(1), dt.time(9, 0)))
