"""Bulk generation of demo and benchmark petitions (``xinfang seed --petitions N``).

Rows are stored exactly as ``petitions.services.register_petition`` stores them — numbers from the
office's NumberSequence, the query-code hash, encrypted ID and phone numbers with their blind
indexes and masks, the office Involvement row, the registration event — but a million at a time.
The work is split in three so that it can be spread over the cores:

1. **plan** (this process, sequential, cheap): where and when each petition arises, which office
   registers it, its number, its petitioners, and which earlier petition it repeats.  Everything
   that depends on earlier petitions is decided here.
2. **render** (worker processes, independent per chunk): the words, the hashes, the Fernet
   encryption (three values per petitioner: most of the CPU time) and the COPY text.
3. **write** (this process): ``COPY … FROM STDIN`` on PostgreSQL, ``bulk_create`` elsewhere, all in
   one transaction, so an interrupted run leaves nothing behind and numbers stay gap-free.

Only the plan draws from the ``--seed`` generator, and it hands each chunk a seed of its own, so
the data depend on the seed and not on the number of workers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import multiprocessing
import queue
import random
import threading
import time
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core import crypto
from xinfang.organisations.choices import Level, RoleCode
from xinfang.organisations.models import Organisation, User
from xinfang.petitions.choices import (
    COLLECTIVE_HEADCOUNT,
    MAX_REPRESENTATIVES,
    Channel,
    EventKind,
    InvolvementReason,
    Purpose,
    Status,
)
from xinfang.petitions.models import (
    Category,
    Involvement,
    NumberSequence,
    Petition,
    Petitioner,
    PetitionEvent,
)
from xinfang.petitions.services import (
    ACCEPTANCE_PERIOD_DAYS,
    QUERY_CODE_ALPHABET,
    QUERY_CODE_LENGTH,
    find_petition_office,
    office_code,
)
from xinfang.petitions.validators import mask_id_number, mask_phone

from . import texts
from .people import make_person
from .tree import Area, DemoTree

SPAN_DAYS = 730  # received dates spread over the last two years
REPEAT_SHARE = 0.20  # the brief asks for 15–25 %; national figures are in that range too
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
_WEEKDAY_LOAD = (1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.35)  # offices receive far fewer visits at weekends

# Fields of each table in the order the renderer produces them.  Any other field of the model must
# have a default (see _copy_columns), so fields added later do not break seeding.
PETITION_FIELDS = (
    "id", "number", "office_id", "query_code_hash", "channel", "purpose", "status", "title", "content",
    "category_id", "locality_id", "subject_name", "subject_organisation_id", "received_on",
    "registered_at", "registered_by_id", "headcount", "is_collective", "repeat_of_id", "is_repeat",
    "is_confidential", "due_on", "version", "updated_at",
)  # fmt: skip
PETITIONER_FIELDS = (
    "petition_id", "position", "is_representative", "name", "id_number", "id_number_hash",
    "id_number_mask", "phone", "phone_hash", "phone_mask", "address",
)  # fmt: skip
INVOLVEMENT_FIELDS = ("petition_id", "organisation_id", "organisation_path", "reason", "created_at")
EVENT_FIELDS = (
    "petition_id", "at", "kind", "actor_id", "organisation_id", "is_public", "public_note", "comment", "data",
)  # fmt: skip
TABLES: tuple[tuple[type[models.Model], tuple[str, ...]], ...] = (
    (Petition, PETITION_FIELDS),
    (Petitioner, PETITIONER_FIELDS),
    (Involvement, INVOLVEMENT_FIELDS),
    (PetitionEvent, EVENT_FIELDS),
)


# --- the context every chunk is rendered with --------------------------------------------------


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


@dataclass(frozen=True)
class RenderContext:
    """Everything a worker process needs, handed over once when it starts."""

    offices: dict[int, OfficeInfo]
    localities: dict[int, LocalityInfo]
    today: dt.date
    copy: bool  # True: encrypt and return COPY text; False: return field dicts for bulk_create
    copy_suffixes: tuple[str, ...] = ("", "", "", "")  # per table: values of the columns left to defaults


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


class Rendered(NamedTuple):
    """One chunk, ready to write: per table either COPY text or a list of field dicts."""

    tables: tuple[Any, Any, Any, Any]
    petitions: int
    petitioners: int
    events: int
    sample: tuple[str, str]  # (number, query code) of the chunk's first petition, for the demo


# --- render (runs in worker processes) ---------------------------------------------------------

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _esc(value: str) -> str:
    """A value in PostgreSQL's COPY text format."""
    # str.translate walks a CJK string character by character in Python-level lookups; three
    # substring tests in C are far cheaper, and only the content's line break usually needs escaping.
    if "\\" in value or "\t" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value.replace("\n", "\\n")


# Choice values as plain str, read a million times in the loop below.
_ONLINE = Channel.ONLINE.value
_REPORT = Purpose.REPORT.value
_STATUS = Status.REGISTERED.value
_REASON = InvolvementReason.OFFICE.value
_EV_REGISTERED = EventKind.REGISTERED.value
_EV_REPEAT = EventKind.REPEAT_LINKED.value


def _opt(value: object) -> str:
    return "\\N" if value is None else str(value)


def render_chunk(ctx: RenderContext, chunk: list[tuple], chunk_seed: int) -> Rendered:
    """Words, hashes, ciphertexts and rows for one chunk of planned petitions (as plain tuples).

    Pure computation on its arguments (no database access), so it can run in another process.
    """
    codes = random.Random(chunk_seed)
    words = random.Random()
    petitions: list[Any] = []
    petitioners: list[Any] = []
    involvements: list[Any] = []
    events: list[Any] = []
    sample = ("", "")
    copy = ctx.copy
    # bulk_create encrypts through the model field; COPY gets the ciphertext from here.
    encrypt = crypto.encrypt if copy else str
    suffix_p, suffix_pp, suffix_i, suffix_e = ctx.copy_suffixes
    due_delta = dt.timedelta(days=ACCEPTANCE_PERIOD_DAYS)
    notes = {o.id: _esc(o.public_note) for o in ctx.offices.values()}
    registered_data = {c: _esc(json.dumps({"channel": c, "portal": c == _ONLINE})) for c in Channel.values}
    for p in map(PlannedPetition._make, chunk):
        office = ctx.offices[p.office_id]
        loc = ctx.localities[p.locality_id]
        collective = p.headcount >= COLLECTIVE_HEADCOUNT
        # Seeded per matter: a repeat petition has its original's people and retells its story.
        words.seed(p.matter_seed)
        persons = [
            make_person(
                words, region=loc.region, area_code=loc.area_code, place=loc.address_prefix, today=ctx.today
            )
            for _i in range(p.people)
        ]
        title, content, subject = texts.render(
            texts.TOPICS[p.topic], words, loc.place, collective=collective, name=persons[0].name,
            headcount=p.headcount,
        )  # fmt: skip
        if p.repeat_of_id is not None:
            title = ("再次反映：" + title)[:200]
            prefix = texts.repeat_prefix(
                collective=collective, date=p.repeat_of_date, number=p.repeat_of_number
            )
            content = prefix + content
        subject_name = p.subject_name or subject
        raw_code = "".join(codes.choices(QUERY_CODE_ALPHABET, k=QUERY_CODE_LENGTH))
        query_code = f"{raw_code[:4]}-{raw_code[4:8]}-{raw_code[8:]}"
        if not sample[0]:
            sample = (p.number, query_code)
        # = services.hash_query_code(query_code): the raw code is already in normalised form.
        qhash = crypto.secret_hash("query-code:" + raw_code)
        portal = p.channel == _ONLINE
        clerk = None if portal else office.clerk_id
        received_on = dt.date.fromordinal(p.received_on)
        due_on = received_on + due_delta
        # Reports against officials are confidential from the first moment (条例 Art. 30 ¶3).
        confidential = p.purpose == _REPORT
        at = p.registered_at
        repeat = p.repeat_of_id is not None
        if copy:
            petitions.append(
                f"{p.id}\t{p.number}\t{p.office_id}\t{qhash}\t{p.channel}\t{p.purpose}\t"
                f"{_STATUS}\t{_esc(title)}\t{_esc(content)}\t{p.category_id}\t"
                f"{p.locality_id}\t{_esc(subject_name)}\t{_opt(p.subject_organisation_id)}\t"
                f"{received_on.isoformat()}\t{at}\t{_opt(clerk)}\t{p.headcount}\t{'tf'[not collective]}\t"
                f"{_opt(p.repeat_of_id)}\t{'tf'[not repeat]}\t{'tf'[not confidential]}\t"
                f"{due_on.isoformat()}\t1\t{at}{suffix_p}\n"
            )
        else:
            registered_at = dt.datetime.fromisoformat(at)
            values = (
                p.id, p.number, p.office_id, qhash, p.channel, p.purpose, _STATUS, title, content,
                p.category_id, p.locality_id, subject_name, p.subject_organisation_id, received_on,
                registered_at, clerk, p.headcount, collective, p.repeat_of_id, repeat, confidential, due_on,
                1, registered_at,
            )  # fmt: skip
            petitions.append(dict(zip(PETITION_FIELDS, values, strict=True)))

        for position, person in enumerate(persons):
            id_number, phone, address = person.id_number, person.phone, person.address
            row = (
                p.id,
                position,
                collective or position > 0,  # as services._clean_petitioners marks them
                person.name,
                encrypt(id_number) if id_number else None,
                crypto.blind_index(id_number, purpose="id") if id_number else None,
                mask_id_number(id_number) if id_number else "",
                encrypt(phone) if phone else None,
                crypto.blind_index(phone, purpose="phone") if phone else None,
                mask_phone(phone) if phone else "",
                encrypt(address) if address else "",
            )
            if copy:
                petitioners.append(
                    f"{p.id}\t{position}\t{'tf'[not row[2]]}\t{_esc(person.name)}\t{_opt(row[4])}\t"
                    f"{_opt(row[5])}\t{row[6]}\t{_opt(row[7])}\t{_opt(row[8])}\t{row[9]}\t{row[10]}{suffix_pp}\n"
                )
            else:
                petitioners.append(dict(zip(PETITIONER_FIELDS, row, strict=True)))

        data = {"channel": p.channel, "portal": portal}
        if copy:
            involvements.append(f"{p.id}\t{p.office_id}\t{office.path}\t{_REASON}\t{at}{suffix_i}\n")
            events.append(
                f"{p.id}\t{at}\t{_EV_REGISTERED}\t{_opt(clerk)}\t{p.office_id}\tt\t"
                f"{notes[p.office_id]}\t\t{registered_data[p.channel]}{suffix_e}\n"
            )
            if repeat:
                data = {"repeat_of": p.repeat_of_number}
                events.append(
                    f"{p.id}\t{at}\t{_EV_REPEAT}\t{_opt(clerk)}\t{p.office_id}\tf\t\t\t"
                    f"{_esc(json.dumps(data))}{suffix_e}\n"
                )
        else:
            registered_at = dt.datetime.fromisoformat(at)
            involvements.append(
                {
                    "petition_id": p.id,
                    "organisation_id": p.office_id,
                    "organisation_path": office.path,
                    "reason": InvolvementReason.OFFICE,
                    "created_at": registered_at,
                }
            )
            event = {"petition_id": p.id, "at": registered_at, "actor_id": clerk}
            event["organisation_id"] = p.office_id
            events.append(
                dict(
                    event,
                    kind=EventKind.REGISTERED,
                    is_public=True,
                    public_note=office.public_note,
                    data=data,
                )
            )
            if repeat:
                events.append(
                    dict(event, kind=EventKind.REPEAT_LINKED, data={"repeat_of": p.repeat_of_number})
                )
    counts = (len(chunk), len(petitioners), len(events))
    if copy:
        tables: tuple[Any, Any, Any, Any] = tuple(  # type: ignore[assignment]
            "".join(rows).encode() for rows in (petitions, petitioners, involvements, events)
        )
    else:
        tables = (petitions, petitioners, involvements, events)
    return Rendered(tables, *counts, sample)


_worker_ctx: RenderContext | None = None


def _init_worker(ctx: RenderContext) -> None:
    # The forked worker also inherits this process's database connection object; render_chunk
    # never touches the database, so the parent's transaction on that socket is left alone.
    global _worker_ctx
    _worker_ctx = ctx


def _render_in_worker(chunk: list[tuple], chunk_seed: int) -> Rendered:
    assert _worker_ctx is not None
    return render_chunk(_worker_ctx, chunk, chunk_seed)


# --- plan (this process) -----------------------------------------------------------------------


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
    ) -> None:
        self.rng = rng
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

    def daily_counts(self) -> list[tuple[dt.date, int]]:
        """How many petitions arrive each day of the span: fewer at weekends, a slow upward trend,
        and exactly ``count`` in all (largest-remainder rounding)."""
        first = self.today - dt.timedelta(days=SPAN_DAYS)
        days = [first + dt.timedelta(days=i) for i in range(SPAN_DAYS)]  # ends yesterday
        weights = [_WEEKDAY_LOAD[d.weekday()] * (0.8 + 0.4 * i / SPAN_DAYS) for i, d in enumerate(days)]
        total = sum(weights)
        exact = [self.count * w / total for w in weights]
        counts = [int(x) for x in exact]
        by_remainder = sorted(range(len(days)), key=lambda i: exact[i] - counts[i], reverse=True)
        for i in by_remainder[: self.count - sum(counts)]:
            counts[i] += 1
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
                yield p
            # Only matters from earlier days may be repeated: a repeat comes after its original.
            for p in today_matters:
                if len(matters) < memory:
                    matters.append(p)
                else:
                    matters[next_slot] = p
                    next_slot = (next_slot + 1) % memory

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


# --- write (this process) ----------------------------------------------------------------------


@dataclass
class SeedResult:
    """What ``seed_petitions`` did."""

    target: int
    existing: int
    created: int = 0
    petitioners: int = 0
    events: int = 0
    seconds: float = 0.0
    method: str = ""
    workers: int = 0
    deferred_indexes: bool = False
    sample: tuple[str, str] = ("", "")
    # Seconds per phase: where a benchmark's time goes.  plan/queue run in this thread (queue:
    # blocked because the writer is behind), wait/write in the writer (wait: for the workers).
    phases: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @property
    def rate(self) -> float:
        """Petitions per second."""
        return self.created / self.seconds if self.seconds else 0.0


Progress = Callable[[int, int, float], None]  # (done, total, seconds so far)


def seed_petitions(
    tree: DemoTree,
    *,
    target: int,
    seed: int = 1,
    batch_size: int = 10_000,
    workers: int | None = None,
    method: str = "auto",
    progress: Progress | None = None,
    today: dt.date | None = None,
    defer_indexes: bool | None = None,
) -> SeedResult:
    """Top the demo tree up to ``target`` petitions (registered by its offices); never remove any.

    ``method`` is "copy" (PostgreSQL COPY), "orm" (bulk_create) or "auto" (COPY on PostgreSQL).
    ``workers`` processes render the chunks (None: one per core when there is enough work, 0: render
    in this process).  ``defer_indexes`` (PostgreSQL; None: for big loads) builds the secondary
    indexes and foreign keys after the load (see _drop_secondary).  Deterministic for a given
    ``seed``, ``target`` and number of demo petitions already present.
    """
    started = time.perf_counter()
    offices = tree.offices()
    existing = Petition.objects.filter(office__in=offices).count()
    result = SeedResult(target=target, existing=existing)
    count = target - existing
    if count <= 0:
        return result
    if method == "auto":
        method = "copy" if connection.vendor == "postgresql" else "orm"
    if method == "copy" and connection.vendor != "postgresql":
        raise ValueError("COPY needs PostgreSQL")
    if workers is None:
        workers = min(2, multiprocessing.cpu_count()) if count >= 20_000 else 0
    if "fork" not in multiprocessing.get_all_start_methods():
        workers = 0  # the context is handed over by fork; elsewhere render in-process
    result.method, result.workers = method, workers
    today = today or timezone.localdate()
    # One seed per run and top-up: a second top-up continues the data instead of repeating it.
    rng = random.Random(f"xinfang-demo:{seed}:{existing}")

    office_infos = _office_infos(offices)
    localities = _localities(tree, office_infos)
    categories = dict(Category.objects.filter(is_active=True, parent__isnull=False).values_list("code", "id"))
    ctx = RenderContext(
        offices=office_infos,
        localities={loc.id: loc for loc in localities},
        today=today,
        copy=method == "copy",
    )
    if ctx.copy:
        ctx = replace(ctx, copy_suffixes=tuple(_copy_columns(model, fields)[1] for model, fields in TABLES))
    if defer_indexes is None:
        # Worth it for a big load into a table that is small next to it (a fresh benchmark
        # database); a top-up of a big table would rebuild large indexes for little gain.
        defer_indexes = count >= 50_000 and count >= Petition.objects.count()
    defer_indexes = defer_indexes and connection.vendor == "postgresql"
    result.deferred_indexes = defer_indexes
    with transaction.atomic():
        sequences = _lock_sequences(list(office_infos), today)
        before = dict(sequences)
        deferred = None
        if defer_indexes:
            with _clock(result, "drop"):
                deferred = _drop_secondary()
        planner = Planner(
            rng=rng,
            count=count,
            today=today,
            localities=localities,
            offices=office_infos,
            categories=categories,
            sequences=sequences,
            # All ids up front: children and repeats refer to them, and the writer thread then
            # has the connection to itself while this thread plans.
            ids=iter(_take_ids(count)),
        )

        def written(rendered: Rendered) -> None:
            result.created += rendered.petitions
            result.petitioners += rendered.petitioners
            result.events += rendered.events
            if not result.sample[0]:
                result.sample = rendered.sample
            if progress:
                progress(result.created, count, time.perf_counter() - started)

        writer = _Writer(
            _copy_writer() if ctx.copy else _orm_chunk, written, result, depth=max(2, 2 * workers)
        )
        pool = None
        if workers:
            pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_init_worker,
                initargs=(ctx,),
            )
        if ctx.copy:
            writer.start()  # COPY streams from a thread while this one plans
        try:
            plan = iter(planner)
            while True:
                with _clock(result, "plan"):
                    chunk = [tuple(p) for p in islice(plan, batch_size)]
                    chunk_seed = rng.getrandbits(63)
                if not chunk:
                    break
                if pool is not None:
                    writer.put(pool.submit(_render_in_worker, chunk, chunk_seed))
                else:
                    with _clock(result, "render"):
                        rendered = render_chunk(ctx, chunk, chunk_seed)
                    writer.put(rendered)
                if not ctx.copy:
                    writer.drain()  # bulk_create uses Django's connection: this thread only
            writer.close()
        finally:
            writer.stop()
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        if deferred is not None:
            with _clock(result, "indexes"):
                _restore_secondary(deferred)
        _save_sequences(sequences, before)
        record_event(
            actor=None,
            action="demo.seed",
            data={"petitions": result.created, "seed": seed, "target": target, "method": method},
        )
        commit_started = time.perf_counter()  # the deferred foreign-key checks run at commit
    result.phases["commit"] = time.perf_counter() - commit_started
    if connection.vendor == "postgresql":
        # Fresh statistics, so the first queries after a big load get sensible plans.
        with _clock(result, "analyze"), connection.cursor() as cursor:
            for model, _fields in TABLES:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    result.seconds = time.perf_counter() - started
    return result


class _Writer(threading.Thread):
    """Writes rendered chunks in order, from a bounded queue of chunks or of futures of chunks.

    With COPY it runs as a thread: psycopg releases the GIL while PostgreSQL ingests, so planning,
    pickling and the worker processes go on meanwhile.  The bound keeps memory flat: the planner
    waits when the database is behind.  With bulk_create, ``drain()`` writes in the calling thread.
    """

    def __init__(
        self,
        write: Callable[[Rendered], None],
        written: Callable[[Rendered], None],
        result: SeedResult,
        depth: int,
    ) -> None:
        super().__init__(name="seed-writer", daemon=True)
        self.write, self.written, self.result = write, written, result
        self.items: queue.Queue[Future[Rendered] | Rendered | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None

    def put(self, item: Future[Rendered] | Rendered | None) -> None:
        with _clock(self.result, "queue"):
            while True:
                self._raise()
                try:
                    self.items.put(item, timeout=0.2)
                    return
                except queue.Full:
                    if not self.is_alive() and self.items.full():
                        self.drain()  # not started (bulk_create): make room here

    def drain(self) -> None:
        """Write everything queued, in the calling thread."""
        while True:
            try:
                item = self.items.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                self._handle(item)

    def close(self) -> None:
        """Finish writing and re-raise the writer's error, if any."""
        if self.is_alive():
            self.put(None)
            self.join()
        else:
            self.drain()
        self._raise()

    def stop(self) -> None:
        """After an error in the planning thread: let the writer thread end."""
        if self.is_alive():
            self.error = self.error or RuntimeError("stopped")
            with contextlib.suppress(queue.Full):
                self.items.put_nowait(None)
            self.join()

    def run(self) -> None:
        while True:
            item = self.items.get()
            if item is None or self.error is not None:
                return
            try:
                self._handle(item)
            except BaseException as exc:  # handed to the planning thread, which re-raises it
                self.error = exc
                return

    def _handle(self, item: Future[Rendered] | Rendered) -> None:
        with _clock(self.result, "wait"):
            rendered = item.result() if isinstance(item, Future) else item
        with _clock(self.result, "write"):
            self.write(rendered)
        self.written(rendered)

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error


@contextmanager
def _clock(result: SeedResult, phase: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        result.phases[phase] += time.perf_counter() - started


def _office_infos(offices: list[Organisation]) -> dict[int, OfficeInfo]:
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


def _localities(tree: DemoTree, offices: dict[int, OfficeInfo]) -> list[LocalityInfo]:
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


def _lock_sequences(office_ids: list[int], today: dt.date) -> dict[tuple[int, int], int]:
    """Take the row locks on the offices' number sequences for every year of the span, creating
    the rows that are missing, and return their current values.

    Held until the seed commits: a clerk registering meanwhile waits (the same lock next_number
    takes), so the seeded numbers and theirs never collide and stay gap-free.
    """
    years = range((today - dt.timedelta(days=SPAN_DAYS)).year, today.year + 1)
    have = set(NumberSequence.objects.filter(office_id__in=office_ids).values_list("office_id", "year"))
    NumberSequence.objects.bulk_create(
        [NumberSequence(office_id=o, year=y, last=0) for o in office_ids for y in years if (o, y) not in have]
    )
    rows = NumberSequence.objects.select_for_update().filter(office_id__in=office_ids, year__in=years)
    return {(s.office_id, s.year): s.last for s in rows}


def _save_sequences(sequences: dict[tuple[int, int], int], before: dict[tuple[int, int], int]) -> None:
    for (office_id, year), last in sequences.items():
        if last != before.get((office_id, year)):
            NumberSequence.objects.filter(office_id=office_id, year=year).update(last=last)
    # Rows created only to be locked and never used: leave the table as next_number would.
    NumberSequence.objects.filter(office_id__in={o for o, _y in sequences}, last=0).delete()


def _numbers_by_office(
    sequences: dict[tuple[int, int], int], before: dict[tuple[int, int], int], offices: dict[int, OfficeInfo]
) -> dict[str, int]:
    out: dict[str, int] = {}
    for (office_id, year), last in sequences.items():
        issued = last - before.get((office_id, year), 0)
        if issued:
            name = offices[office_id].name
            out[name] = out.get(name, 0) + issued
    return out


@dataclass
class _Deferred:
    """Secondary indexes and foreign keys taken off the seeded tables for the load."""

    indexes: list[tuple[str, str]] = field(default_factory=list)  # (name, CREATE INDEX …)
    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)  # (table, name, definition)


def _drop_secondary() -> _Deferred:
    """Drop the plain indexes and the foreign keys of the four seeded tables, remembering their
    exact definitions (pg_get_indexdef, pg_get_constraintdef).

    A bulk load then only appends to the heap and the primary and unique indexes; afterwards each
    index is built from sorted data and each foreign key is checked by one join, instead of a
    B-tree insertion per index and a trigger per key for every row: what pg_restore does, and
    about twice as fast for a million petitions.  Transactional DDL: a failed seed rolls the drops
    back.  The price is an exclusive lock on these tables until the seed commits.
    """
    deferred = _Deferred()
    with connection.cursor() as cursor:
        # Altering a table with pending deferred-constraint checks is refused (rows written earlier
        # in this transaction, such as new NumberSequence rows): run those checks now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for model, _fields in TABLES:
            table = model._meta.db_table
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
                " WHERE i.indrelid = %s::regclass"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
                " ORDER BY 1",
                [table],
            )
            deferred.indexes += cursor.fetchall()
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE contype = 'f' AND conrelid = %s::regclass ORDER BY 1",
                [table],
            )
            deferred.foreign_keys += [(table, name, definition) for name, definition in cursor.fetchall()]
        quote = connection.ops.quote_name
        for table, name, _definition in deferred.foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _definition in deferred.indexes:
            cursor.execute(f"DROP INDEX {name}")  # regclass text: already quoted where needed
    return deferred


def _restore_secondary(deferred: _Deferred) -> None:
    """Build the dropped indexes and add the foreign keys back, validated over all rows."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # More sort memory for the index builds, for this transaction only.
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in deferred.indexes:
            cursor.execute(definition)
        for table, name, definition in deferred.foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to how Django declares them all


def _take_ids(n: int) -> list[int]:
    """``n`` new petition ids, taken before the rows are written: children and repeats refer to them."""
    table = Petition._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the transaction holds the database's write lock, so max(id) cannot move under us;
        # sqlite_sequence remembers the ids of deleted rows, which must not be handed out again.
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        top = cursor.fetchone()[0]
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")
            if cursor.fetchone():
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                top = max(top, row[0] if row else 0)
    return list(range(top + 1, top + 1 + n))


def _copy_columns(model: type[models.Model], supplied: tuple[str, ...]) -> tuple[list[str], str]:
    """The COPY column list for ``model``: the supplied fields, then every other column with the
    value it would get from its default (fields other engineers add must have one)."""
    meta = model._meta
    columns = [meta.get_field(name).column for name in supplied]
    suffix = []
    for f in meta.concrete_fields:
        if f.attname in supplied or f.primary_key:
            continue  # a primary key not supplied comes from its identity sequence
        if isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add):
            value: Any = timezone.now()
        elif f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        else:
            raise ValueError(f"{meta.label}.{f.name} has no default: xinfang.demo.petitions must fill it")
        columns.append(f.column)
        suffix.append("\t" + _copy_literal(value))
    return columns, "".join(suffix)


def _copy_literal(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return _esc(json.dumps(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return _esc(str(value))


def _copy_writer() -> Callable[[Rendered], None]:
    """A function that sends one rendered chunk with COPY, table by table (parents first only for
    readability: the foreign keys are deferred to commit).  It may run in another thread: it uses
    this thread's psycopg connection, and with it this thread's open transaction."""
    quote = connection.ops.quote_name
    statements = []
    for model, fields in TABLES:
        columns = ", ".join(quote(c) for c in _copy_columns(model, fields)[0])
        statements.append(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN")
    raw = connection.connection

    def write(rendered: Rendered) -> None:
        with raw.cursor() as cursor:
            for statement, data in zip(statements, rendered.tables, strict=True):
                if data:
                    with cursor.copy(statement) as copy:
                        copy.write(data)

    return write


def _orm_chunk(rendered: Rendered) -> None:
    """Write one rendered chunk with bulk_create (personal data is encrypted by the model field)."""
    for (model, _fields), rows in zip(TABLES, rendered.tables, strict=True):
        model.objects.bulk_create([model(**row) for row in rows], batch_size=2000)  # type: ignore[attr-defined]
