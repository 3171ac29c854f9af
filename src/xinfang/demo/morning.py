"""What ``make demo`` adds after the bulk petitions, on every run: the routing rules of the demo
areas, a working morning for each demo account, and an open petition to try on the portal.

Everything here goes through the real services (routing rules through ``save_routing_rule``, the
query code through ``reissue_query_code``), so the rows, the audit events and the checks are the
ones staff would produce.  Each part is idempotent: a second run tops up what is missing and adds no
duplicates; only the portal sample's query code is new each time (a code is shown once; the seed
must print one that works).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Value, When

from xinfang.organisations.models import Organisation, User
from xinfang.petitions.choices import Purpose, Status
from xinfang.petitions.models import Category, Petition
from xinfang.petitions.query_codes import reissue_query_code
from xinfang.workflow.models import RoutingRule
from xinfang.workflow.routing import save_routing_rule

from .tree import Area, DemoTree

# 谁主管、谁负责: which department of an area answers for each class of matter (first-level
# class), and the entries that go elsewhere than their class.  政法 and 纪检监察 are absent on
# purpose: the routing proposal sends them to the political-legal and discipline channels itself.
CLASS_RULES: tuple[tuple[str, str], ...] = (
    ("城乡建设", "住建局"),
    ("劳动和社会保障", "人社局"),
    ("国土资源", "自然资源局"),
    ("农业农村", "农业农村局"),
    ("民政", "民政局"),
    ("卫生健康", "卫健局"),
    ("交通运输", "交通运输局"),
    ("生态环境", "生态环境局"),
    ("教育", "教育局"),
    ("商贸旅游", "市场监管局"),
)
ENTRY_RULES: tuple[tuple[str, str, str], ...] = (
    ("民政", "退役军人待遇", "退役军人事务局"),
    ("民政", "优抚安置", "退役军人事务局"),
    ("农业农村", "农村饮水", "水利局"),
    ("卫生健康", "食品药品安全", "市场监管局"),
    ("国土资源", "宅基地", "农业农村局"),
)

# The petition the seed prints for the portal: open, of county 1, in handling by the demo
# handler's unit if possible (the portal then shows the forward and the acceptance).
TRY_STATUSES = (Status.ACCEPTED, Status.FORWARDED, Status.ASSIGNED, Status.REGISTERED)


def routing_rule_specs(area: Area) -> list[tuple[Category, Organisation]]:
    """The (category, unit) rules for ``area``: one per class and the exceptions per entry, for
    the departments the area has (a small county lacks some)."""
    heads = {c.name: c for c in Category.objects.filter(parent__isnull=True)}
    children = Category.objects.filter(parent__isnull=False).select_related("parent")
    entries = {(c.parent.name, c.name): c for c in children}
    specs: list[tuple[Category, Organisation]] = []
    for head, department in CLASS_RULES:
        unit = area.departments.get(department)
        if unit is not None and head in heads:
            specs.append((heads[head], unit))
    for head, entry, department in ENTRY_RULES:
        unit = area.departments.get(department)
        if unit is not None and (head, entry) in entries:
            specs.append((entries[(head, entry)], unit))
    return specs


def ensure_routing_rules(tree: DemoTree, actor: User | None) -> int:
    """Routing rules for every city and county of the demo tree; returns how many were added.

    A rule already present for an area and category is left as it is (an administrator may have
    changed it since the last seed)."""
    added = 0
    for area in [*tree.cities, *tree.counties]:
        present = set(RoutingRule.objects.filter(area=area.government).values_list("category_id", flat=True))
        for category, unit in routing_rule_specs(area):
            if category.pk in present or not unit.is_active:
                continue
            save_routing_rule(actor=actor, area=area.government, category=category, unit=unit)
            added += 1
    return added


@dataclass(frozen=True)
class PortalSample:
    """An open petition and a query code that works now, for the newcomer to try on the portal."""

    number: str
    query_code: str
    status: str


def portal_sample(tree: DemoTree) -> PortalSample | None:
    """Pick an open petition of county 1 and give it a fresh query code, as the office's clerk
    does at the counter (``reissue_query_code``, audited); None without the demo clerk account.

    Reissuing is the only way to print a working code on a second run: codes are stored hashed."""
    office = tree.county_1.office
    clerk = User.objects.filter(username="intake", is_active=True, organisation=office).first()
    if office is None or clerk is None:
        return None
    preference = Case(
        *(When(status=status, then=Value(i)) for i, status in enumerate(TRY_STATUSES)),
        output_field=IntegerField(),
    )
    petition = (
        Petition.objects.filter(office=office, status__in=TRY_STATUSES)
        .exclude(purpose=Purpose.REPORT)  # a report's page says little to a newcomer
        .annotate(preference=preference)
        .order_by("preference", "-registered_at")
        .first()
    )
    if petition is None:
        return None
    code = reissue_query_code(user=clerk, number=petition.number, identity_checked=True)
    return PortalSample(petition.number, code, petition.get_status_display())
