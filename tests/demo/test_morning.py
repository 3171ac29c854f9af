"""``make demo`` on every run (issue #8 §6, §7): routing rules, an open petition to try on the portal
with a code that works, and a working morning on each demo account's workbench."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import override_settings

from xinfang.petitions.choices import FINAL_STATUSES
from xinfang.petitions.models import Petition
from xinfang.petitions.services import hash_query_code
from xinfang.workflow.models import RoutingRule

pytestmark = pytest.mark.django_db

TRY = re.compile(r"petition (XF-[0-9-]+), query code ([A-Z0-9-]+)")


def seed() -> str:
    out = io.StringIO()
    with override_settings(DEBUG=True):
        call_command("seed", "--demo", "--petitions", "60", stdout=out)
    return out.getvalue()


@pytest.fixture
def first_run(db) -> str:
    return seed()


def _sample(output: str) -> tuple[str, str]:
    match = TRY.search(output)
    assert match, output
    return match.group(1), match.group(2)


def test_every_run_prints_an_open_petition_with_a_working_code(first_run):
    """The first run and a second run on the same database each print an open petition and a
    query code that opens it; the second run's code replaces the first."""
    number, code = _sample(first_run)
    petition = Petition.objects.get(number=number)
    assert petition.status not in FINAL_STATUSES
    assert petition.query_code_hash == hash_query_code(code)
    # when make demo runs again
    again = seed()
    number2, code2 = _sample(again)
    assert Petition.objects.get(number=number2).query_code_hash == hash_query_code(code2)
    assert "/staff/" in again


def test_routing_rules_seeded_once(first_run):
    """Each demo county has its routing rules (劳动和社会保障 → 人社局 …); a second run adds none."""
    from xinfang.demo.tree import load_tree

    tree = load_tree()
    county = tree.county_1
    rule = RoutingRule.objects.select_related("category", "unit").get(
        area=county.government, category__name="劳动和社会保障"
    )
    assert rule.unit == county.departments["人社局"]
    count = RoutingRule.objects.count()
    assert count >= 10 * len(tree.counties)
    assert "Routing rules (分办规则): 0 added." in seed()
    assert RoutingRule.objects.count() == count
