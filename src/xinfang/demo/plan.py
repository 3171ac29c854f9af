"""Planning demo petitions: where and when each arises, its office, number and petitioners' matter.

Runs in the seeding process, petition by petition in the order of receipt, because numbers and
repeats depend on the petitions before.  Everything expensive (words, hashes, encryption) is left
to ``render``, which can run in other processes: a plan holds only ints and strings.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.utils.translation import gettext as _

from xinfang.organisations.choices import Level, RoleCode
from xinfang.organisations.models import Organisation, User
from xinfang.petitions.choices import COLLECTIVE_HEADCOUNT, MAX_REPRESENTATIVES, Channel, Purpose
from xinfang.petitions.services import find_petition_office, office_code

from . import texts
from .stories import StoryTeller
from .tree import Area, DemoTree

SPAN_DAYS = 730  # received dates spread over the last two years
REPEAT_SHARE = 0.20  # the issue asks for 15–25 % repeat petitions
COLLECTIVE_SHARE = 0.05
REPEAT_MEMORY_DAYS = 150  # a repeat refers to a matter first raised at most about this long ago

# Channel mix of new petitions (weights); online and visits dominate current statistics.
CHANNEL_WEIGHTS = {
    Channel.LETTER: 18,
    Channel.VISIT: 22,
    Channel.PHONE: 8,
    Channel.ONLINE: 30,
    Channel.MAILBOX: 5,
    Channel.HOTLINE: 12,
    Channel.VIDEO: 3,
    Channel.REFERRAL: 2,
}
_DELAYED_CHANNELS = {Channel.LETTER, Channel.MAILBOX, Channel.REFERRAL}  # registered days after receipt
# A hotspot for the statistics (issue #9 §4): this quarter, complaints about property management
# rise sharply in the second county (a new estate handed over with defects, say).
HOTSPOT_TOPIC = "property_management"
HOTSPOT_COUNTY = 1  # index among the counties, in the order of the tree
HOTSPOT_SHARE = 0.3  # of the county's new petitions this quarter, on top of the usual mix
_WEEKDAY_LOAD = (1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.35)  # offices receive far fewer visits at weekends


@dataclass(frozen=True)
class OfficeInfo:
    """What rendering needs to know about a petition office."""

    id: int
    name: str
    path: str
    code: str  # the code printed in its numbers (services.office_code)
    public_note: str  # the registration event's note, as services._record_registration words it
    clerk_id: int | None  # an intake clerk of the office, shown as the registering user


@dataclass(frozen=True)
class LocalityInfo:
    """What planning and rendering need to know about an area where matters arise."""

    id: int
    level: str
    office_id: int
    place: texts.Place
    region: str  # 6-digit county code: the birthplace part of the petitioners' ID numbers
    area_code: str  # telephone area code
    address_prefix: str  # e.g. 东岭市青山县柳林镇
    departments: dict[str, tuple[int, str]]  # short name → (id, full name), of the area's level


class PlannedPetition(NamedTuple):
    """Everything about one petition that depends on the petitions before it.

    Only ints and strings: chunks of these are pickled to the worker processes, and aware datetimes
    would cost more to pickle than the rest of the plan together.
    """

    id: int
    number: str
    office_id: int
    locality_id: int
    category_id: int
    topic: int  # index into texts.TOPICS
    channel: str
    purpose: str
    received_on: int  # date.toordinal()
    registered_at: str  # ISO 8601 with the UTC offset
    headcount: int
    people: int  # petitioners (representatives of a collective petition)
    subject_organisation_id: int | None
    subject_name: str
    repeat_of_id: int | None
    repeat_of_number: str
    repeat_of_date: str  # e.g. 2025年3月4日
    matter_seed: int  # seeds the people and the words; a repeat shares its original's
    story: tuple = ()  # stories.Story as a plain tuple: what happened after registration


def office_infos_of(offices: list[Organisation]) -> dict[int, OfficeInfo]:
    """What planning and rendering need of each petition office, read once (two queries)."""
    clerks = dict(
        User.objects.filter(organisation__in=offices, roles__code=RoleCode.INTAKE, is_active=True)
        .order_by("pk")
        .values_list("organisation_id", "pk")
    )
    return {
        o.pk: OfficeInfo(
            id=o.pk,
            name=o.name,
            path=o.path,
            code=office_code(o),
            public_note=_("{office}已登记您的信访事项。").format(office=o.name),
            clerk_id=clerks.get(o.pk),
        )
        for o in offices
    }


def localities_of(tree: DemoTree, offices: dict[int, OfficeInfo]) -> list[LocalityInfo]:
    """Townships, counties and cities of the tree, each with the office responsible for it."""
    out = []

    def add(
        org: Organisation, *, area: Area, city: Area, full: str, county: str, town: str, region: str
    ) -> None:
        office = find_petition_office(org)  # the real routing rule (属地管理), once per locality
        if office is None or office.pk not in offices:
            return
        out.append(
            LocalityInfo(
                id=org.pk,
                level=org.level,
                office_id=office.pk,
                place=texts.Place(full=full, county=county, town=town),
                region=region,
                area_code=city.area_code,
                address_prefix=full if area is city else city.government.name + full,
                departments={short: (d.pk, d.name) for short, d in area.departments.items()},
            )
        )

    for city in tree.cities:
        counties = [c for c in tree.counties if c.government.parent_id == city.government.pk]
        if not counties:
            continue
        name = city.government.name
        add(city.government, area=city, city=city, full=name, county=name, town="城区",
            region=counties[0].government.code)  # fmt: skip
        for county in counties:
            name = county.government.name
            seat = county.townships[0].name if county.townships else "城关镇"
            add(county.government, area=county, city=city, full=name, county=name, town=seat,
                region=county.government.code)  # fmt: skip
            for town in county.townships:
                add(town, area=county, city=city, full=name + town.name, county=name, town=town.name,
                    region=county.government.code)  # fmt: skip
    return out


class Planner:
    """Decides, petition by petition in the order of receipt, everything that depends on the past:
    numbers (gap-free per office and year) and repeats (of an earlier matter of the same people)."""

    def __init__(
        self,
        *,
        rng: random.Random,
        count: int,
        today: dt.date,
        localities: list[LocalityInfo],
        offices: dict[int, OfficeInfo],
        categories: dict[str, int],
        sequences: dict[tuple[int, int], int],
        ids: Iterator[int],
        teller: StoryTeller | None = None,
    ) -> None:
        self.rng = rng
        self.teller = teller
        self.localities = {loc.id: loc for loc in localities}
        self.count = count
        self.today = today
        self.offices = offices
        self.sequences = sequences  # (office id, year) → last number issued; updated as we go
        self.ids = ids
        self.tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        # Weighted choices become uniform picks from an expanded table: one random() per draw
        # instead of rng.choices() bookkeeping, a million times over.
        self.locality_table = [loc for loc in localities for _i in range(_locality_weight(loc))]
        self.topic_table = [i for i, t in enumerate(texts.TOPICS) for _i in range(t.weight)]
        self.channel_table = [str(c) for c, w in CHANNEL_WEIGHTS.items() for _i in range(w)]
        self.purpose_tables = [[str(p) for p, w in t.purposes for _i in range(w)] for t in texts.TOPICS]
        fallback = categories.get("9901") or next(iter(categories.values()))
        self.topic_category = [
            categories.get(texts.category_code(*t.category), fallback) for t in texts.TOPICS
        ]
        self._offsets: dict[int, str] = {}
        counties = list(dict.fromkeys(loc.place.county for loc in localities if loc.level == Level.COUNTY))
        self.hotspot_county = counties[HOTSPOT_COUNTY] if len(counties) > HOTSPOT_COUNTY else None
        self.hotspot_topic = next(i for i, t in enumerate(texts.TOPICS) if t.key == HOTSPOT_TOPIC)
        quarter_month = 3 * ((today.month - 1) // 3) + 1
        self.hotspot_from = dt.date(today.year, quarter_month, 1)

    def daily_counts(self) -> list[tuple[dt.date, int]]:
        """How many petitions arrive each day of the span: fewer at weekends, a slow upward trend,
        and exactly ``count`` in all.

        Rounded on the running total, so that a small count (fewer petitions than days) is still
        spread over the whole span instead of landing on the heaviest days.
        """
        first = self.today - dt.timedelta(days=SPAN_DAYS)
        days = [first + dt.timedelta(days=i) for i in range(SPAN_DAYS)]  # ends yesterday
        weights = [_WEEKDAY_LOAD[d.weekday()] * (0.8 + 0.4 * i / SPAN_DAYS) for i, d in enumerate(days)]
        total = sum(weights)
        counts, running, issued = [], 0.0, 0
        for w in weights:
            running += w
            upto = round(self.count * running / total)
            counts.append(upto - issued)
            issued = upto
        counts[-1] += self.count - issued  # float rounding at the very end
        return list(zip(days, counts, strict=True))

    def __iter__(self) -> Iterator[PlannedPetition]:
        rng = self.rng
        yesterday = self.today - dt.timedelta(days=1)
        memory = max(50, self.count * REPEAT_MEMORY_DAYS // SPAN_DAYS)
        matters: list[PlannedPetition] = []  # a ring buffer of recent first petitions
        next_slot = 0
        for day, n in self.daily_counts():
            today_matters = []
            for _i in range(n):
                if matters and rng.random() < REPEAT_SHARE:
                    p = self._repeat(day, yesterday, matters[int(rng.random() * len(matters))])
                else:
                    p = self._new(day, yesterday)
                    today_matters.append(p)
                yield self._with_story(p)
            # Only matters from earlier days may be repeated: a repeat comes after its original.
            for p in today_matters:
                if len(matters) < memory:
                    matters.append(p)
                else:
                    matters[next_slot] = p
                    next_slot = (next_slot + 1) % memory

    def share_of(self, office_id: int | None, unit_ids: frozenset[int]) -> float:
        """The expected share of new petitions registered by ``office_id`` whose topic's department
        is one of ``unit_ids`` or missing: those whose story the services can replay."""
        if office_id is None:
            return 0.0
        from .stories import UNROUTED_SHARE

        topics = [texts.TOPICS[i].department for i in self.topic_table]
        hits = 0.0
        for loc in self.locality_table:
            if loc.office_id == office_id:
                for name in topics:
                    dept = loc.departments.get(name)
                    hits += 1 if dept is None or dept[0] in unit_ids else UNROUTED_SHARE
        return hits / (len(self.locality_table) * len(topics))

    def _with_story(self, p: PlannedPetition) -> PlannedPetition:
        """The petition with its story (stories.py): the department answering for its topic in its
        area is the unit the office may send it to."""
        if self.teller is None:
            return p
        dept = self.localities[p.locality_id].departments.get(texts.TOPICS[p.topic].department)
        story = self.teller.tell(
            office_id=p.office_id,
            unit_id=dept[0] if dept else None,
            received_on=dt.date.fromordinal(p.received_on),
            registered_at=p.registered_at,
            purpose=p.purpose,
            subject_organisation_id=p.subject_organisation_id,
        )
        return p._replace(story=tuple(story))

    def _registered(self, day: dt.date, yesterday: dt.date, channel: str) -> tuple[int, str]:
        """The year and moment of registration: office hours, letters a few days after receipt."""
        rng = self.rng
        reg_day = day
        if channel in _DELAYED_CHANNELS:
            reg_day = min(day + dt.timedelta(days=int(rng.random() * 4)), yesterday)
        if channel == Channel.ONLINE:
            seconds = int(rng.random() * 86400)
        else:
            seconds = 8 * 3600 + 1800 + int(rng.random() * 9 * 3600)
        ordinal = reg_day.toordinal()
        offset = self._offsets.get(ordinal)
        if offset is None:  # the zone's offset that day, looked up once per day
            noon = dt.datetime(reg_day.year, reg_day.month, reg_day.day, 12, tzinfo=self.tz)
            offset = self._offsets[ordinal] = noon.isoformat()[-6:]
        clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        return reg_day.year, f"{reg_day.isoformat()} {clock}{offset}"

    def _number(self, office_id: int, year: int) -> str:
        key = (office_id, year)
        seq = self.sequences.get(key, 0) + 1
        self.sequences[key] = seq
        return f"XF-{self.offices[office_id].code}-{year}-{seq:06d}"

    def _new(self, day: dt.date, yesterday: dt.date) -> PlannedPetition:
        rng = self.rng
        loc = self.locality_table[int(rng.random() * len(self.locality_table))]
        topic_index = self.topic_table[int(rng.random() * len(self.topic_table))]
        if (
            day >= self.hotspot_from
            and loc.place.county == self.hotspot_county
            and rng.random() < HOTSPOT_SHARE
        ):
            topic_index = self.hotspot_topic
        purposes = self.purpose_tables[topic_index]
        purpose = purposes[int(rng.random() * len(purposes))]
        if rng.random() < COLLECTIVE_SHARE:
            headcount = min(300, COLLECTIVE_HEADCOUNT + int(rng.expovariate(1 / 15)))
            people = 1 + int(rng.random() * MAX_REPRESENTATIVES)
            # Collective petitions come in person (走访), now and then as a joint letter.
            channel = Channel.VISIT.value if rng.random() < 0.85 else Channel.LETTER.value
        else:
            headcount = 1 if rng.random() < 0.9 else 2 + int(rng.random() * 3)
            people = 1
            channel = self.channel_table[int(rng.random() * len(self.channel_table))]
        subject_id, subject_name = None, ""
        dept = loc.departments.get(texts.TOPICS[topic_index].department)
        if dept and purpose in (Purpose.COMPLAINT, Purpose.REPORT) and rng.random() < 0.35:
            subject_id, subject_name = dept
        year, at = self._registered(day, yesterday, channel)
        return PlannedPetition(
            id=next(self.ids),
            number=self._number(loc.office_id, year),
            office_id=loc.office_id,
            locality_id=loc.id,
            category_id=self.topic_category[topic_index],
            topic=topic_index,
            channel=channel,
            purpose=purpose,
            received_on=day.toordinal(),
            registered_at=at,
            headcount=headcount,
            people=people,
            subject_organisation_id=subject_id,
            subject_name=subject_name,
            repeat_of_id=None,
            repeat_of_number="",
            repeat_of_date="",
            matter_seed=rng.getrandbits(48),
        )

    def _repeat(self, day: dt.date, yesterday: dt.date, first: PlannedPetition) -> PlannedPetition:
        """The same people about the same matter again: same locality, office, category and story."""
        rng = self.rng
        if first.headcount >= COLLECTIVE_HEADCOUNT or rng.random() < 0.35:
            channel = Channel.VISIT.value  # people not satisfied by letter often come in person
        else:
            channel = self.channel_table[int(rng.random() * len(self.channel_table))]
        year, at = self._registered(day, yesterday, channel)
        original = dt.date.fromordinal(first.received_on)
        return first._replace(
            id=next(self.ids),
            number=self._number(first.office_id, year),
            channel=channel,
            received_on=day.toordinal(),
            registered_at=at,
            repeat_of_id=first.id,
            repeat_of_number=first.number,
            repeat_of_date=f"{original.year}年{original.month}月{original.day}日",
        )


def _locality_weight(loc: LocalityInfo) -> int:
    # Most matters arise in townships; county- and city-wide ones (a county's own projects,
    # city management) are fewer per area.
    return {Level.TOWNSHIP: 5, Level.COUNTY: 3, Level.CITY: 2}.get(loc.level, 1)  # type: ignore[call-overload]
