"""The demo's dispute ledger: county 1's disputes, this month's round with late units, last
quarter's briefing; a second run adds nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from xinfang.demo import screening_data
from xinfang.demo.accounts import ensure_accounts
from xinfang.demo.tree import ensure_tree
from xinfang.organisations.models import User
from xinfang.screening import panels
from xinfang.screening.models import Briefing, Dispute, RoundReturn, ScreeningRound

from ..factories import register

pytestmark = pytest.mark.django_db


def test_the_demo_ledger_round_and_briefing(db):
    tree, _created = ensure_tree()
    ensure_accounts(tree)
    intake = User.objects.get(username="intake")
    petition = register(tree.county_1.office, intake, tree.county_1.townships[0]).petition
    made = screening_data.seed(tree)
    assert made == len(screening_data.DISPUTES) + 2
    disputes = Dispute.objects.filter(organisation_path__startswith=tree.county_1.government.path)
    assert disputes.count() == 15
    assert len(set(disputes.values_list("kind", flat=True))) >= 8
    statuses = set(disputes.values_list("status", flat=True))
    assert {"screened", "in_resolution", "resolved", "handed_over"} <= statuses
    assert any(d.is_overdue() for d in disputes)
    rnd = ScreeningRound.objects.get()
    returns = RoundReturn.objects.filter(round=rnd)
    assert returns.filter(completed_at__isnull=False).exists()
    assert returns.filter(completed_at__isnull=True).exists()
    supervisor = User.objects.get(username="supervisor")
    keys = {p.key for p in panels.provider(supervisor, timezone.localdate())}
    assert "screening-late-units" in keys
    assert Briefing.objects.count() == 1
    assert list(disputes.get(status="turned_petition").petitions.all()) == [petition]
    assert screening_data.seed(tree) == 0
    assert Dispute.objects.count() == 15 and ScreeningRound.objects.count() == 1
