"""The demo's reception days: two published schedules on the first working day of each month,
bookings on the county's next session, one outreach visit; a rerun adds nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from xinfang.demo.reception_data import seed as seed_reception
from xinfang.demo.tree import load_tree
from xinfang.reception.models import OutreachVisit, ReceptionBooking, ReceptionSchedule, ReceptionSession

pytestmark = pytest.mark.django_db


def test_demo_reception_days(db, monkeypatch):
    # only this area of the ledgers (the others have their own tests, and are slower)
    from xinfang.demo import ledgers

    monkeypatch.setattr(ledgers, "AREAS", (("reception", seed_reception),))
    with override_settings(DEBUG=True, XINFANG_PORTAL_SUBMIT_RATE="1000/3600"):
        call_command("seed", "--demo", "--petitions", "30", "--no-stats", stdout=io.StringIO())
        schedules = list(
            ReceptionSchedule.objects.select_related("organisation").order_by("organisation__path")
        )
        assert [s.title for s in schedules] == ["市领导接访日", "青山县领导接待日"]
        assert all(s.published and s.rule == "first_working_day" for s in schedules)
        county = schedules[1]
        assert [r.leader.full_name for r in county.rota.order_by("position")] == ["王建国", "张立新"]
        assert ReceptionSession.objects.filter(schedule=county).count() >= 3
        assert ReceptionBooking.objects.filter(session__schedule=county).count() == 3
        assert OutreachVisit.objects.get().petitions.count() == 2
        # a rerun adds nothing
        assert seed_reception(load_tree()) == 0
