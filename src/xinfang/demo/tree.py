"""The demo organisation tree: one province, two cities, three counties each, their townships and
departments.

The tree is fixed (it does not depend on ``--seed``), so every run and every machine has the same
organisations, and building it again finds each one by parent and name instead of duplicating it.
Organisations are created through ``organisations.services.create_organisation``: about 150 rows,
so the service's per-row path computation and audit event cost nothing worth optimising.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.models import Organisation
from xinfang.organisations.services import create_organisation

PROVINCE_NAME = "西地省"
PROVINCE_CODE = "990000"  # 99: no real province uses it, so demo codes never collide with real ones


@dataclass(frozen=True)
class CountySpec:
    name: str
    code: str
    townships: tuple[str, ...]  # 3–6 each
    departments: int  # 8–12 in all, the petition office and the three fixed bodies included


@dataclass(frozen=True)
class CitySpec:
    name: str
    code: str
    area_code: str  # telephone area code, for landline numbers of its petitioners
    departments: int
    counties: tuple[CountySpec, ...]


CITIES: tuple[CitySpec, ...] = (
    CitySpec(
        "东岭市",
        "990100",
        "0991",
        12,
        (
            CountySpec("青山县", "990121", ("城关镇", "柳林镇", "石桥乡", "白马乡", "龙泉镇"), 11),
            CountySpec("川东区", "990102", ("东街街道", "西街街道", "新华街道", "滨江街道"), 9),
            CountySpec("白河县", "990122", ("白河镇", "杨柳乡", "高坪乡", "红岩镇", "三合乡", "双溪镇"), 10),
        ),
    ),
    CitySpec(
        "南川市",
        "990200",
        "0992",
        10,
        (
            CountySpec("石门县", "990221", ("石门镇", "黄土乡", "马坪镇", "青龙乡"), 12),
            CountySpec("临江区", "990202", ("临江街道", "江北街道", "沙坪街道"), 8),
            CountySpec("柳溪县", "990222", ("柳溪镇", "桃源乡", "新民乡", "长岭镇", "枫林乡"), 10),
        ),
    ),
)

# Ordinary departments in the order each area has them: an area with room for n of them gets the
# first n, so every area has the ones the commonest petition topics name (texts.Topic.department).
DEPARTMENTS = (
    "人社局", "住建局", "自然资源局", "农业农村局", "民政局", "退役军人事务局", "卫健局", "教育局",
    "生态环境局", "水利局", "交通运输局", "市场监管局",
)  # fmt: skip
# The bodies every county and city has besides its ordinary departments: (suffix, kind).
FIXED_BODIES = (
    ("信访局", OrganisationKind.PETITION_OFFICE),
    ("委政法委", OrganisationKind.POLITICAL_LEGAL),
    ("纪委监委", OrganisationKind.DISCIPLINE),
    ("人民法院", OrganisationKind.COURT),
)


@dataclass
class Area:
    """A level of government in the demo tree, with its petition office and departments."""

    government: Organisation
    office: Organisation | None = None
    departments: dict[str, Organisation] = field(default_factory=dict)  # short name → organisation
    townships: list[Organisation] = field(default_factory=list)
    area_code: str = ""


@dataclass
class DemoTree:
    """The demo tree, as loaded from the database."""

    province: Area
    cities: list[Area]
    counties: list[Area]  # in CITIES order: the first three belong to the first city

    @property
    def county_1(self) -> Area:
        """The county where most demo accounts work (青山县)."""
        return self.counties[0]

    @property
    def other_city_county(self) -> Area:
        """A county of the second city (石门县): its staff must not see county 1's petitions."""
        return self.counties[len(CITIES[0].counties)]

    def offices(self) -> list[Organisation]:
        """Every petition office of the tree, province first."""
        areas = [self.province, *self.cities, *self.counties]
        return [a.office for a in areas if a.office is not None]


class _Builder:
    """Get-or-create of organisations, counting what it had to create."""

    def __init__(self) -> None:
        self.created = 0

    def ensure(
        self, *, name: str, kind: str, level: str, parent: Organisation | None, code: str = ""
    ) -> Organisation:
        existing = Organisation.objects.filter(parent=parent, name=name).first()
        if existing is not None:
            return existing
        self.created += 1
        return create_organisation(name=name, kind=kind, level=level, parent=parent, code=code)

    def area_bodies(self, gov: Organisation, short: str, level: str, departments: int) -> None:
        """The petition office, political-legal committee, discipline commission, court and the
        first ``departments - 4`` ordinary departments of an area."""
        for suffix, kind in FIXED_BODIES:
            name = f"{short}{suffix}"
            if level == Level.CITY and kind == OrganisationKind.COURT:
                name = f"{short}中级人民法院"
            self.ensure(name=name, kind=kind, level=level, parent=gov)
        for dept in DEPARTMENTS[: departments - len(FIXED_BODIES)]:
            self.ensure(name=f"{short}{dept}", kind=OrganisationKind.DEPARTMENT, level=level, parent=gov)


def ensure_tree() -> tuple[DemoTree, int]:
    """Create whatever part of the demo tree is missing; return the tree and how many were created.

    Departments carry no code of their own: a petition office's numbers then print its area's
    administrative code (``services.office_code``), e.g. ``XF-990121-2026-000001``.
    """
    b = _Builder()
    gov = OrganisationKind.GOVERNMENT
    province = b.ensure(name=PROVINCE_NAME, kind=gov, level=Level.PROVINCE, parent=None, code=PROVINCE_CODE)
    b.ensure(
        name=f"{PROVINCE_NAME}信访局",
        kind=OrganisationKind.PETITION_OFFICE,
        level=Level.PROVINCE,
        parent=province,
    )
    for city_spec in CITIES:
        city = b.ensure(name=city_spec.name, kind=gov, level=Level.CITY, parent=province, code=city_spec.code)
        b.area_bodies(city, city_spec.name, Level.CITY, city_spec.departments)
        for spec in city_spec.counties:
            county = b.ensure(name=spec.name, kind=gov, level=Level.COUNTY, parent=city, code=spec.code)
            b.area_bodies(county, spec.name, Level.COUNTY, spec.departments)
            for i, town in enumerate(spec.townships):
                # 9-digit township codes: the county's code and a serial (GB/T 10114 style).
                code = f"{spec.code}{(1 if town.endswith('街道') else 100) + i:03d}"
                b.ensure(name=town, kind=gov, level=Level.TOWNSHIP, parent=county, code=code)
    return load_tree(), b.created


class TreeMissing(LookupError):
    """The demo tree has not been built (run ``xinfang seed --demo``)."""


def load_tree() -> DemoTree:
    """Read the demo tree with one query over the province's subtree."""
    province = Organisation.objects.filter(parent=None, name=PROVINCE_NAME, code=PROVINCE_CODE).first()
    if province is None:
        raise TreeMissing(PROVINCE_NAME)
    nodes = list(Organisation.objects.subtree(province).filter(is_active=True).order_by("path"))
    areas: dict[int, Area] = {province.pk: Area(government=province)}
    for org in nodes:  # ordered by path: a parent always comes before its children
        if org.pk == province.pk:
            continue
        if org.kind == OrganisationKind.GOVERNMENT and org.level in {Level.CITY, Level.COUNTY}:
            areas[org.pk] = Area(government=org)
        parent = areas.get(org.parent_id)
        if parent is None:
            continue
        if org.kind == OrganisationKind.GOVERNMENT and org.level == Level.TOWNSHIP:
            parent.townships.append(org)
        elif org.kind == OrganisationKind.PETITION_OFFICE:
            parent.office = org
        elif org.kind == OrganisationKind.DEPARTMENT:
            parent.departments[org.name.removeprefix(parent.government.name)] = org
    by_code = {a.government.code: a for a in areas.values()}
    cities, counties = [], []
    for city_spec in CITIES:  # keep the order of CITIES, whatever the ids are
        if city_spec.code in by_code:
            by_code[city_spec.code].area_code = city_spec.area_code
            cities.append(by_code[city_spec.code])
        for spec in city_spec.counties:
            if spec.code in by_code:
                by_code[spec.code].area_code = city_spec.area_code
                counties.append(by_code[spec.code])
    if len(counties) != sum(len(c.counties) for c in CITIES):
        raise TreeMissing("counties")
    return DemoTree(province=areas[province.pk], cities=cities, counties=counties)
