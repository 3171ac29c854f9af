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


# --- the demo morning (issue #8 §6) --------------------------------------------------------------

# Sections each demo account must find non-empty after `make demo`, with the least count the
# morning guarantees (the bulk stories may add more).
EXPECTED = {
    "intake": {"dispose": 2},
    "handler": {"new": 3, "handling": 4, "supervision": 1, "due_soon": 2, "overdue": 2, "mine": 4},
    "supervisor": {"dispose": 2, "supervision_review": 1, "due_soon": 2, "overdue": 2, "listed": 1},
    "leader": {"approve": 1, "listed": 1},
    "city_supervisor": {"overdue": 2, "listed": 1},
    "city_leader": {"listed": 1},
}  # fmt: skip


def test_each_demo_account_has_a_working_morning(first_run):
    """After the seed every demo account's workbench shows its work: new assignments, the
    extension waiting for the leader, items due soon and overdue, the city's listed supervision
    and the county's supervision answered by the unit, plus unread notifications."""
    from xinfang.notifications.services import unread_count
    from xinfang.organisations.models import User
    from xinfang.supervision.models import SupervisionNotice
    from xinfang.workbench.sections import section_counts

    assert "Demo morning (workbench items added):" in first_run
    for username, expected in EXPECTED.items():
        user = User.objects.get(username=username)
        counts = {section.key: count for section, count in section_counts(user)}
        for key, least in expected.items():
            assert counts.get(key, 0) >= least, (username, key, counts)
        assert unread_count(user) >= 1, username
    # the listed supervision comes from the city, names the city leader and is published
    listed = SupervisionNotice.objects.get(kind="listed")
    assert listed.office.name.endswith("市信访局") and listed.leader.username == "city_leader"
    assert listed.published and listed.petition.office.name == "青山县信访局"


def test_second_run_keeps_the_morning_without_duplicates(first_run):
    """Running the seed again the same day adds no petition, notice, extension or note."""
    from xinfang.notifications.models import Notification
    from xinfang.supervision.models import SupervisionNotice
    from xinfang.workflow.models import ExtensionRequest

    def counts() -> list[int]:
        return [m.objects.count() for m in (Petition, SupervisionNotice, ExtensionRequest, Notification)]

    before = counts()
    out = seed()
    assert "Demo morning (workbench items added): nothing missing; 0 notes" in out
    assert counts() == before
