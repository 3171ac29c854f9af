"""The demo's referrals from 省信访局 (demo/exchange_data.py): three received, one reported with its
issued report, the peer disabled; a rerun adds nothing."""

from __future__ import annotations

import pytest

from xinfang.demo import exchange_data
from xinfang.demo.accounts import ensure_accounts
from xinfang.demo.tree import ensure_tree
from xinfang.exchange.models import Delivery, Peer, Referral

pytestmark = pytest.mark.django_db


def test_demo_referrals_are_seeded_once():
    tree, _created = ensure_tree()
    ensure_accounts(tree)
    assert exchange_data.seed(tree) == 4
    referrals = Referral.objects.select_related("petition").order_by("pk")
    assert [r.upper_case_number for r in referrals][0] == "省信交〔2026〕101号"
    assert [r.status for r in referrals] == ["reported", "received", "received"]
    assert referrals[0].reports.get().document_number
    assert all(r.petition.office == tree.county_1.office for r in referrals)
    assert not Peer.objects.get(name="省信访局").is_enabled
    assert not Delivery.objects.exists()  # the peer points nowhere: nothing is sent
    assert exchange_data.seed(tree) == 0
    assert Referral.objects.count() == 3
