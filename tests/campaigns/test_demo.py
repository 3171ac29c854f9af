"""The demo's campaigns records: seeded through the services, and a rerun adds nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from xinfang.audit.models import AuditEvent
from xinfang.campaigns.contracts import contracted_q
from xinfang.campaigns.models import BacklogRule, Campaign, CampaignCase, ReliefApplication
from xinfang.demo import campaigns_data
from xinfang.demo.tree import load_tree

pytestmark = pytest.mark.django_db


def test_demo_campaign_and_relief():
    with override_settings(DEBUG=True):
        call_command("seed", "--demo", "--petitions", "60", "--no-stats", stdout=io.StringIO())
    tree = load_tree()
    assert BacklogRule.objects.filter(organisation=tree.county_1.government).exists()
    assert BacklogRule.objects.filter(organisation=tree.cities[0].government).exists()
    campaign = Campaign.objects.get(name="百日攻坚")
    assert campaign.status == "running" and campaign.organisation == tree.county_1.government
    cases = CampaignCase.objects.filter(campaign=campaign)
    assert cases.count() > 0 and cases.filter(status="resolved").exists()
    assert cases.filter(category__isnull=False).count() == cases.count()
    assert cases.filter(contracted_q()).count() >= cases.count() // 2
    assert AuditEvent.objects.filter(action="campaigns.cases_added").exists()
    if ReliefApplication.objects.exists():  # the 60 seeded petitions may have none concluded
        assert ReliefApplication.objects.filter(status="paid").count() == 1
    assert campaigns_data.seed(tree) == 0
