"""Where a petition should go: the unit proposed to the petition office when it forwards or assigns.

The office decides; this only pre-selects a unit in the forward/assign forms and says why.  The order
follows the 条例:

1. the category's special channel (``Category.route_to``): 涉法涉诉 matters go to the political-legal
   organ (诉访分离, Arts. 20 ¶2, 22 ¶2, 28 ¶2) and accusations within 纪检监察 powers to the
   discipline-inspection organ (Art. 22 ¶2) — of the locality's own area, else of the nearest area
   above that has one;
2. the most specific routing rule (谁主管、谁负责, Art. 5(3)): the deepest area among the locality's
   ancestors, and inside one area an entry of the category tree before its first-level class;
3. the unit this category was most often routed to in this area over the last year;
4. nothing.

A proposal is never the office itself, an inactive unit, or — for a confidential report — the
accused organisation or anything inside it (Art. 30 ¶3; the same checks as ``services._check_unit``).
Ordinary proposals (2, 3) stay inside the office's own area (属地管理、分级负责), the units its forms
offer; a special-channel organ may sit one level up, and the forms then offer it too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.organisations.choices import OrganisationKind
from xinfang.organisations.models import Organisation
from xinfang.petitions.choices import Status
from xinfang.petitions.models import Category, Petition

from .models import Assignment, RoutingRule

# How far back the routing history counts (step 3).
HISTORY_DAYS = 365
# Assignments that ended this way were misrouted: the unit objected, or the office changed its mind.
MISROUTED = ("returned", "rerouted")


@dataclass(frozen=True)
class Proposal:
    """A unit to pre-select in the forward/assign forms, and why (shown next to it)."""

    unit: Organisation
    reason: str


def area_chain(organisation: Organisation) -> list[int]:
    """The ids of ``organisation`` and every organisation above it, root first (from the materialised
    path: no query)."""
    return [int(p) for p in organisation.path.strip("/").split("/") if p]


def routing_area(office: Organisation) -> Organisation:
    """The area an office routes within: its government (the office's parent), 属地管理."""
    return office.parent or office


def is_proposable(petition: Petition, unit: Organisation, returned: frozenset[int] = frozenset()) -> bool:
    """The unit may receive the petition: active, not the office itself, not a unit that sent this
    petition back (``returned``), and not (inside) the accused organisation of a confidential report."""
    if not unit.is_active or unit.pk == petition.office_id or unit.pk in returned:
        return False
    subject = petition.subject_organisation if petition.subject_organisation_id else None
    return not (petition.is_confidential and subject is not None and unit.is_within(subject))


def special_channel_label(route_to: str) -> str:
    """What the special channel is called in the warning and in the reason of a proposal."""
    if route_to == OrganisationKind.POLITICAL_LEGAL:
        return _("涉法涉诉事项导入政法机关（诉访分离）")
    return _("检举控告事项导入纪检监察机关")


def special_channel_warning(route_to: str) -> str:
    """The warning on the forward/assign forms of a category with a special channel."""
    if route_to == OrganisationKind.POLITICAL_LEGAL:
        return _(
            "涉法涉诉事项应导入政法机关依法处理（诉访分离，《信访工作条例》第二十二条第二款），不作为普通信访事项转送交办。"
        )
    return _(
        "属于纪检监察机关职权的检举控告事项，应转送纪检监察机关处理（《信访工作条例》第二十二条第二款）。"
    )


def channel_chain(petition: Petition) -> list[int]:
    """The areas whose special-channel organs the office may route to: the locality's area chain,
    cut to the office's own area and the levels above it (issue #7 point 4) — a matter that arose in
    another county does not open that county's organs to this office."""
    area = routing_area(petition.office)
    chain = area_chain(petition.locality)
    if petition.locality.is_within(area):
        return chain
    own = set(area_chain(area))
    return [pk for pk in chain if pk in own]


def _organ_of(chain: list[int]) -> Q:
    """An organ belongs to an area as its child, or as the child of the area's party committee
    (县委政法委 under 县委)."""
    return Q(parent_id__in=chain) | Q(parent__kind=OrganisationKind.PARTY, parent__parent_id__in=chain)


def special_channel_organs(petition: Petition) -> Any:
    """The organs of the category's special channel in the locality's area chain (within the
    office's reach, ``channel_chain``), nearest first; an empty queryset for an ordinary category."""
    route_to = petition.category.route_to
    if not route_to:
        return Organisation.objects.none()
    return (
        Organisation.objects.filter(kind=route_to, is_active=True)
        .filter(_organ_of(channel_chain(petition)))
        .order_by("-depth", "pk")
    )


# --- reports against the office or its government (issue #7 point 2) ---------------------------

UPWARD_KINDS = (OrganisationKind.PETITION_OFFICE, OrganisationKind.DISCIPLINE)


def accused(petition: Petition) -> Organisation | None:
    """The organisation a confidential report accuses, if named (Art. 30 ¶3)."""
    if not petition.is_confidential or petition.subject_organisation_id is None:
        return None
    return petition.subject_organisation


def implicates_office(petition: Petition) -> bool:
    """A confidential report against the registering office itself, its government or a body above
    it: the office is inside the accused and may only send the report up."""
    subject = accused(petition)
    return subject is not None and petition.office.is_within(subject)


def upward_organs(petition: Petition) -> Any:
    """Where a report that implicates its office goes: the petition office and the discipline organ
    (纪检监察机关) of the nearest level above the office's government that is not itself inside the
    accused — the city's for a report against the county government, the province's for one
    against the city.  Petition offices first; an empty queryset when no level has one."""
    subject = accused(petition)
    area = routing_area(petition.office)
    for level in reversed(list(area.ancestors().exclude(pk=area.pk))):
        if subject is not None and level.is_within(subject):
            continue
        organs = Organisation.objects.filter(_organ_of([level.pk]), kind__in=UPWARD_KINDS, is_active=True)
        if subject is not None:
            organs = organs.exclude(path__startswith=subject.path)
        if organs.exists():
            # petition offices before discipline organs, then the tree order
            return organs.order_by("-kind", "path")
    return Organisation.objects.none()


def allowed_units(petition: Petition) -> Any:
    """Every organisation the office may forward or assign ``petition`` to (issue #7 point 4), the
    one rule behind the forms, the services and the API:

    * its own government's area (属地管理、分级负责), other than petition offices;
    * the political-legal or discipline organs of the category's special channel, and for any
      report the discipline organs, of the locality's area chain within the office's reach
      (诉访分离, Art. 22 ¶2);
    * a unit above the area that a routing rule of the area names for this category (the rules
      are the system administrator's, so "the level above where the rules allow");
    * for a report that implicates the office, only ``upward_organs``.

    The accused organisation of a confidential report and its subtree are never allowed."""
    if implicates_office(petition):
        return upward_organs(petition)
    area = routing_area(petition.office)
    allowed = Q(path__startswith=area.path) & ~Q(kind=OrganisationKind.PETITION_OFFICE)
    kinds = {petition.category.route_to} - {""}
    if petition.purpose == "report":
        kinds.add(OrganisationKind.DISCIPLINE)
    if kinds:
        allowed |= Q(kind__in=kinds) & _organ_of(channel_chain(petition))
    category = petition.category
    rules = RoutingRule.objects.filter(
        area__path__startswith=area.path,
        area_id__in=area_chain(petition.locality),
        category_id__in=[c for c in (category.pk, category.parent_id) if c is not None],
    ).values("unit_id")
    allowed |= Q(pk__in=rules)
    units = Organisation.objects.filter(allowed, is_active=True)
    subject = accused(petition)
    if subject is not None:
        units = units.exclude(path__startswith=subject.path)
    return units.order_by("path")


def _special_channel(petition: Petition, returned: frozenset[int]) -> Proposal | None:
    for organ in special_channel_organs(petition):  # one query
        if is_proposable(petition, organ, returned):
            return Proposal(organ, special_channel_label(petition.category.route_to))
    return None


def _routing_rule(petition: Petition, area: Organisation, returned: frozenset[int]) -> Proposal | None:
    category = petition.category
    chain = area_chain(petition.locality)
    rules = list(
        RoutingRule.objects.filter(
            area_id__in=chain,
            category_id__in=[c for c in (category.pk, category.parent_id) if c is not None],
            unit__path__startswith=area.path,
        ).select_related("area", "category", "unit")
    )  # one query
    # The deepest area first; inside one area, the entry itself before its first-level class.
    rules.sort(key=lambda r: (-r.area.depth, r.category_id != category.pk))
    for rule in rules:
        if is_proposable(petition, rule.unit, returned):
            reason = _("分办规则：{area}·{category}").format(area=rule.area.name, category=rule.category.name)
            return Proposal(rule.unit, reason)
    return None


def _history(petition: Petition, area: Organisation, returned: frozenset[int]) -> Proposal | None:
    locality = petition.locality
    # The area the matter arose in: the locality itself, or the government a department belongs to.
    where = locality if locality.is_area or locality.parent_id is None else locality.parent
    since = timezone.now() - dt.timedelta(days=HISTORY_DAYS)
    qs = (
        Assignment.objects.filter(
            petition__category_id=petition.category_id,
            petition__locality__path__startswith=where.path,
            assigned_at__gte=since,
            unit__is_active=True,
            unit__path__startswith=area.path,
        )
        .exclude(end_reason__in=MISROUTED)
        .exclude(unit__kind=OrganisationKind.PETITION_OFFICE)
        .exclude(unit_id__in={petition.office_id, *returned})
        .exclude(petition_id=petition.pk)
    )
    subject = petition.subject_organisation if petition.subject_organisation_id else None
    if petition.is_confidential and subject is not None:
        qs = qs.exclude(unit__path__startswith=subject.path)
    top = qs.values("unit").annotate(n=Count("id")).order_by("-n", "unit")[:1]  # the one aggregate query
    if not top:
        return None
    row = top[0]
    unit = Organisation.objects.get(pk=row["unit"])
    reason = _("近一年本地同类事项最常转送交办至该单位（{n}次）").format(n=row["n"])
    return Proposal(unit, reason)


def propose_unit(petition: Petition) -> Proposal | None:
    """The unit to propose for forwarding or assigning ``petition``, with the reason; None when
    nothing fits.  Expects ``category``, ``locality``, ``office`` and ``subject_organisation``
    loaded (select_related), then runs at most four queries (five for a returned petition)."""
    if implicates_office(petition):  # issue #7 point 2: only up, the petition office first
        organ = upward_organs(petition).first()
        return Proposal(organ, _("检举控告涉及本机构或本级政府，应转送上一级处理")) if organ else None
    returned: frozenset[int] = frozenset()
    if petition.status == Status.RETURNED:
        # Disposing of a returned petition again means the office accepted the unit's objection
        # (Art. 23 ¶3): never propose the unit that sent it back.
        returned = frozenset(
            Assignment.objects.filter(petition=petition, end_reason="returned").values_list(
                "unit_id", flat=True
            )
        )
    proposal = _special_channel(petition, returned)
    if proposal is not None:
        return proposal
    area = routing_area(petition.office)
    return _routing_rule(petition, area, returned) or _history(petition, area, returned)


def accused_choices(office: Organisation) -> Any:
    """The organisations a clerk of ``office`` may name as the accused in the forms: its own
    government's area, the bodies above it and their direct subordinates (a county office's reports
    accuse county bodies, or the city's and its departments).  The API takes any organisation."""
    area = routing_area(office)
    chain = area_chain(area)
    return Organisation.objects.filter(
        Q(path__startswith=area.path) | Q(pk__in=chain) | Q(parent_id__in=chain), is_active=True
    ).order_by("path")


def unit_choices(petition: Petition) -> Any:
    """Units a petition office may route to, as its forms offer them: ``allowed_units``."""
    return allowed_units(petition)


# --- routing rules, kept by the system administrator -------------------------------------------


def check_routing_rule(*, area: Organisation, category: Category, unit: Organisation) -> None:
    """A rule routes from an area (a level of government) to an active unit that is not a petition
    office (offices route; they are not routed to).  The unit may sit above the area: a township's
    matters usually go to a department of the county."""
    errors: dict[str, list[str]] = {}
    if not area.is_area:
        errors["area"] = [_("属地应为一级政府（行政区域）。")]
    if not unit.is_active or unit.kind == OrganisationKind.PETITION_OFFICE:
        errors["unit"] = [_("责任单位应为启用的职能部门或机关，不能是信访工作机构。")]
    if errors:
        raise ValidationError(errors)


def save_routing_rule(
    *, actor: Any, area: Organisation, category: Category, unit: Organisation
) -> RoutingRule:
    """Add a routing rule, or change the unit of the rule for the same area and category; audited."""
    check_routing_rule(area=area, category=category, unit=unit)
    with transaction.atomic():
        rule = RoutingRule.objects.select_for_update().filter(area=area, category=category).first()
        before = rule.unit_id if rule else None
        try:
            if rule is None:
                rule = RoutingRule.objects.create(area=area, category=category, unit=unit)
            else:
                rule.unit = unit
                rule.save(update_fields=["unit"])
        except IntegrityError as exc:  # a concurrent add of the same area and category
            raise ValidationError(_("该属地和问题分类已有分办规则。"), code="duplicate") from exc
        record_event(
            actor=actor,
            action="workflow.routing_rule.change" if before else "workflow.routing_rule.create",
            obj=rule,
            data={"area": area.pk, "category": category.code, "unit": unit.pk, "before": before},
        )
    return rule


def delete_routing_rule(*, actor: Any, rule: RoutingRule) -> None:
    """Remove a routing rule; audited with what it said."""
    with transaction.atomic():
        record_event(
            actor=actor,
            action="workflow.routing_rule.delete",
            obj=rule,
            data={"area": rule.area_id, "category": rule.category_id, "unit": rule.unit_id},
        )
        rule.delete()
