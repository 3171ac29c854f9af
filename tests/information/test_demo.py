"""The demo's information reports: county 1's office sends three to its city, through the services;
a rerun adds nothing."""

from __future__ import annotations

import pytest

from xinfang.demo import information_data
from xinfang.demo.accounts import ensure_accounts
from xinfang.demo.tree import ensure_tree
from xinfang.information import services
from xinfang.information.models import InformationReport
from xinfang.organisations.models import User

pytestmark = pytest.mark.django_db


def test_demo_reports_and_rerun():
    tree, _made = ensure_tree()
    ensure_accounts(tree)
    assert information_data.seed(tree) == 3
    assert information_data.seed(tree) == 0
    reports = {r.kind: r for r in InformationReport.objects.all()}
    assert reports["digest"].use == "used" and reports["digest"].feedback
    assert reports["urgent"].status == "sent" and reports["urgent"].read_at is None
    leader = User.objects.get(username="leader")
    assert reports["bulletin"].status == "submitted" and reports["bulletin"].approver == leader
    assert list(services.awaiting_signature(leader)) == [reports["bulletin"]]
    city = User.objects.get(username="city_supervisor")
    assert set(services.inbox(city)) == {reports["digest"], reports["urgent"]}
    assert sorted(r.sequence for r in services.inbox(city)) == [1, 2]
