"""Importing an office's past petitions (issue #12 §2; docs/import.md).

Two phases over one file:

1. **Check** every row without writing anything: parse the cells, resolve the coded columns against
   tables loaded once (categories, localities, organisations), then hand the row as a
   ``PetitionDraft`` to ``petitions.services.clean_draft(historical=True)`` — the very validation of
   registration, which lifts only the five-year limit on the received date.  Every problem becomes a
   rejected row (row number, column, Chinese reason); a row whose source id was imported before is
   skipped, not rejected.
2. **Write** the good rows oldest first, in batches, each batch one transaction: petitions, their
   petitioners (``petitions.services.petitioner_rows``: encryption, blind indexes and masks as at
   intake), the office's involvement, the responsible unit's assignment, the timeline, the
   decision letter, the ``ImportedRecord`` key and one audit event per batch (listing its
   petitions), then the bulk hook ``signals.petitions_imported`` for the apps that index or count
   petitions (search, statistics).  If a batch fails, its rows are written again one by one, each in its own
   transaction, and the failing one is rejected: nothing is ever half-imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core import crypto, partitions
from xinfang.core.statistics import analyze
from xinfang.organisations.choices import OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation
from xinfang.petitions import services as intake
from xinfang.petitions.choices import (
    COLLECTIVE_HEADCOUNT,
    Conclusion,
    EventKind,
    InvolvementReason,
    Purpose,
    Status,
)
from xinfang.petitions.drafts import PetitionDraft, PetitionerDraft
from xinfang.petitions.models import (
    Category,
    Involvement,
    NumberSequence,
    Petition,
    Petitioner,
    PetitionEvent,
)
from xinfang.workflow.deadlines import due_date
from xinfang.workflow.models import Assignment, AssignmentKind, DecisionLetter, ReplyOutcome, Step

from . import columns as cols
from .models import ImportedRecord, ImportRun, RunStatus
from .reader import MAX_ROWS, read_rows
from .signals import petitions_imported

BATCH_SIZE = 500
ANALYZE_AFTER = 10_000  # rows imported after which the petition tables are analysed (core.statistics)
MAX_ERRORS = 5000  # rejected rows kept on the run; the counts stay exact beyond it
IMPORT_NOTE = "历史导入"

# clean_draft's error keys → the file's column keys.
_FIELD_COLUMN = {
    "channel": "channel",
    "purpose": "purpose",
    "title": "title",
    "content": "content",
    "category": "category",
    "locality": "locality",
    "subject_organisation": "subject_organisation",
    "received_on": "received_on",
    "headcount": "headcount",
    "petitioners": "name",
    "petitioners.0.name": "name",
    "petitioners.0.id_number": "id_number",
    "petitioners.0.phone": "phone",
    "petitioners.0.address": "address",
}


class ImportRefused(Exception):
    """The whole file is refused (wrong format, missing required columns, too many rows)."""


@dataclass
class RowError:
    row: int
    column: str
    message: str
    source_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message, "source_id": self.source_id}


@dataclass
class Planned:
    """One checked row, ready to write."""

    row: int
    source_id: str
    number: str  # the kept number, or "" for a new one
    original_number: str
    draft: PetitionDraft
    cleaned: list[intake.CleanPetitioner]
    registered_on: dt.date
    status: str
    unit: Organisation | None
    closed_on: dt.date | None
    due_on: dt.date | None
    reply: str
    outcome: str
    conclusion: str
    note: str
    id_hashes: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    total: int = 0
    imported: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    petitions: list[int] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({e.row for e in self.errors})


# --- who may import --------------------------------------------------------------------------


def may_import(user: Any) -> bool:
    """Intake clerks (登记员) of a petition office import its history: the role that registers
    petitions, in the office the petitions belong to.  Administrators see no petitions, so they
    cannot import them either (三员分立)."""
    org = getattr(user, "organisation", None)
    return bool(
        getattr(user, "is_authenticated", False)
        and user.has_role(RoleCode.INTAKE)
        and org is not None
        and org.kind == OrganisationKind.PETITION_OFFICE
    )


def default_actor(office: Organisation) -> Any:
    """The office's first active intake clerk: the CLI's actor when ``--user`` is not given (a
    decision letter names the staff member who issued it)."""
    from xinfang.organisations.models import User

    return (
        User.objects.filter(organisation=office, is_active=True, roles__code=RoleCode.INTAKE)
        .order_by("pk")
        .first()
    )


# --- parsing cells ---------------------------------------------------------------------------

_DATE_RES = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: Any) -> dt.date | None:
    """A date from a cell: an Excel date, ``2009-03-16``, ``2009/3/16``, ``2009年3月16日`` or
    ``20090316``; None for an empty cell; ValueError otherwise."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    for pattern in _DATE_RES:
        match = pattern.match(text)
        if match:
            return dt.date(*(int(g) for g in match.groups()))
    raise ValueError(text)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an ID or phone number Excel stored as a number
    return str(value).strip()


class Lookups:
    """The coded columns' tables, loaded once per run (no query per row)."""

    def __init__(self, office: Organisation) -> None:
        self.office = office
        self.area = office.parent or office
        self.references = intake.References.load()  # clean_draft's look-ups, once per run
        leaves = Category.objects.filter(is_active=True, children__isnull=True).values_list(
            "pk", "code", "name"
        )
        self.categories: dict[str, int] = {}
        for pk, code, name in leaves:
            self.categories[code] = pk
            self.categories.setdefault(name, pk)
        self.localities: dict[str, int] = {}
        for pk, code, name in intake.localities().values_list("pk", "code", "name"):
            if code:
                self.localities[code] = pk
            self.localities.setdefault(name, pk)
        self.organisations: dict[str, Organisation] = {}
        for org in Organisation.objects.filter(is_active=True).order_by("depth", "pk"):
            if org.code:
                self.organisations[org.code] = org
            self.organisations.setdefault(org.name, org)
        self.channels = cols.channel_values()
        self.purposes = cols.purpose_values()
        self.statuses = cols.status_values()
        self.outcomes = cols.outcome_values()
        self.conclusions = cols.conclusion_values()
        code = intake.office_code(office)
        self.number_re = re.compile(rf"^XF-{re.escape(code)}-(\d{{4}})-(\d{{6}})$")


# --- phase 1: check --------------------------------------------------------------------------


def check_rows(
    office: Organisation,
    source: str,
    header: list[str],
    rows: Iterable[list[Any]],
    *,
    progress: Callable[[int], None] | None = None,
    run_id: int | None = None,
) -> tuple[list[Planned], Outcome]:
    """Check every row; return the rows to write (oldest first) and the outcome so far.  Rows this
    same run already wrote (``run_id``: a run resumed after its worker was killed) count as
    imported, rows of earlier runs as skipped."""
    positions, missing = cols.header_map(header)
    if missing:
        raise ImportRefused(_("缺少必填列：{columns}。").format(columns="、".join(missing)))
    lookups = Lookups(office)
    outcome = Outcome()
    planned: list[Planned] = []
    seen_sources: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    for index, cells in enumerate(rows, start=2):  # row 1 is the header
        if outcome.total >= MAX_ROWS:
            raise ImportRefused(_("一个文件最多{n}行，请分成几个文件导入。").format(n=MAX_ROWS))
        outcome.total += 1
        values = {key: cells[pos] if pos < len(cells) else None for key, pos in positions.items()}
        plan, errors = _check_row(index, values, lookups, seen_sources, seen_numbers)
        if errors:
            outcome.errors.extend(errors)
        elif plan is not None:
            planned.append(plan)
        if progress and outcome.total % 2000 == 0:
            progress(outcome.total)
    # Already imported (the same office, source and source id): skipped, not rejected.
    done = _already_imported(office, source, [p.source_id for p in planned])
    outcome.imported = sum(1 for p in planned if run_id is not None and done.get(p.source_id) == run_id)
    outcome.skipped = sum(1 for p in planned if p.source_id in done) - outcome.imported
    planned = [p for p in planned if p.source_id not in done]
    taken = _numbers_taken([p.number for p in planned if p.number])
    if taken:
        for p in planned:
            if p.number in taken:
                outcome.errors.append(
                    RowError(p.row, cols.BY_KEY["number"].header, _("信访件编号已被使用。"), p.source_id)
                )
        planned = [p for p in planned if p.number not in taken]
    outcome.errors.sort(key=lambda e: e.row)
    planned.sort(key=lambda p: (p.draft.received_on, p.registered_on, p.row))
    return planned, outcome


def _already_imported(office: Organisation, source: str, ids: list[str]) -> dict[str, int | None]:
    """Source id → the run that imported it, for the ids already imported."""
    done: dict[str, int | None] = {}
    for i in range(0, len(ids), 1000):
        done.update(
            ImportedRecord.objects.filter(
                office=office, source=source, source_id__in=ids[i : i + 1000]
            ).values_list("source_id", "run_id")
        )
    return done


def _numbers_taken(numbers: list[str]) -> set[str]:
    taken: set[str] = set()
    for i in range(0, len(numbers), 1000):
        taken.update(
            Petition.objects.filter(number__in=numbers[i : i + 1000]).values_list("number", flat=True)
        )
    return taken


def _check_row(
    row: int,
    values: dict[str, Any],
    lookups: Lookups,
    seen_sources: dict[str, int],
    seen_numbers: dict[str, int],
) -> tuple[Planned | None, list[RowError]]:
    errors: list[RowError] = []
    source_id = _text(values.get("source_id"))[:100]

    def add(key: str, message: str) -> None:
        errors.append(RowError(row, cols.BY_KEY[key].header, message, source_id))

    if not source_id:
        add("source_id", _("请填写来源编号。"))
    elif source_id in seen_sources:
        add("source_id", _("来源编号与第{row}行重复。").format(row=seen_sources[source_id]))
    else:
        seen_sources[source_id] = row

    dates: dict[str, dt.date | None] = {}
    for key in ("received_on", "registered_on", "closed_on", "due_on"):
        try:
            dates[key] = parse_date(values.get(key))
        except ValueError:
            dates[key] = None
            add(key, _("日期格式不正确，请填写如2009-03-16。"))
    received_on = dates["received_on"]
    if received_on is None and not any(e.column == cols.BY_KEY["received_on"].header for e in errors):
        add("received_on", _("请填写收到日期。"))
    today = timezone.localdate()

    def coded(key: str, table: dict[str, Any], message: str, *, required: bool = False) -> Any:
        text = _text(values.get(key))
        if not text:
            if required:
                add(key, _("请填写{column}。").format(column=cols.BY_KEY[key].header))
            return None
        found = table.get(text)
        if found is None:
            add(key, message.format(value=text[:50]))
        return found

    channel = coded("channel", lookups.channels, _("信访形式“{value}”不在可选值中。"), required=True)
    purpose = coded("purpose", lookups.purposes, _("信访目的“{value}”不在可选值中。")) or Purpose.COMPLAINT
    status = coded(
        "status",
        lookups.statuses,
        _("状态“{value}”不能导入，可导入的状态见模板的“可选值”表。"),
        required=True,
    )
    category_id = coded(
        "category", lookups.categories, _("问题类别“{value}”不存在或不是末级分类。"), required=True
    )
    locality_id = coded("locality", lookups.localities, _("问题属地“{value}”不存在。"), required=True)
    subject = coded("subject_organisation", lookups.organisations, _("被反映单位“{value}”不存在。"))
    unit = coded("unit", lookups.organisations, _("责任单位“{value}”不存在。"))
    outcome = coded("outcome", lookups.outcomes, _("答复结果“{value}”不在可选值中。")) or ReplyOutcome.EXPLAIN
    conclusion = coded("conclusion", lookups.conclusions, _("终结理由“{value}”不在可选值中。"))

    headcount = 1
    head_text = _text(values.get("headcount"))
    if head_text:
        try:
            headcount = int(float(head_text))
        except ValueError:
            add("headcount", _("人数应为整数。"))

    number = original = _text(values.get("number"))[:100]
    if number:
        match = lookups.number_re.match(number)
        if match is None or int(match.group(1)) > today.year:
            number = ""  # another system's number: kept on the ImportedRecord, a new one is issued
        elif number in seen_numbers:
            add("number", _("信访件编号与第{row}行重复。").format(row=seen_numbers[number]))
        else:
            seen_numbers[number] = row
            original = ""

    if status and unit is None and status in cols.NEEDS_UNIT:
        add("unit", _("该状态须填写责任单位。"))
    if status == Status.REGISTERED:
        unit = None  # still at the office: no unit has it yet
    if unit is not None and (unit.pk == lookups.office.pk or not unit.is_within(lookups.area)):
        add("unit", _("责任单位应为本级政府所属单位。"))
    elif unit is not None and purpose == Purpose.REPORT and subject is not None and unit.is_within(subject):
        # As workflow.services._check_unit: never to the accused organisation (条例 Art. 30 ¶3).
        add("unit", _("检举控告不得转送、交办给被检举控告的单位或其下属单位。"))
    closed_on = dates["closed_on"]
    bad_closed_on = any(e.column == cols.BY_KEY["closed_on"].header for e in errors)
    if status in cols.NEEDS_CLOSED_ON and closed_on is None and not bad_closed_on:
        add("closed_on", _("该状态须填写办结日期。"))
    if closed_on is not None:
        if closed_on > today:
            add("closed_on", _("办结日期不能晚于今天。"))
        elif received_on is not None and closed_on < received_on:
            add("closed_on", _("办结日期不能早于收到日期。"))
    registered_on = dates["registered_on"] or received_on
    if registered_on is not None and received_on is not None:
        if registered_on < received_on:
            add("registered_on", _("登记日期不能早于收到日期。"))
        elif registered_on > today:
            add("registered_on", _("登记日期不能晚于今天。"))
    reply = _text(values.get("reply"))
    if status == Status.REPLIED and not reply:
        add("reply", _("已答复的件须填写答复意见。"))

    person = PetitionerDraft(
        name=_text(values.get("name")),
        id_number=_text(values.get("id_number")),
        phone=_text(values.get("phone")),
        address=_text(values.get("address")),
    )
    draft = PetitionDraft(
        channel=channel or "",
        purpose=purpose,
        title=_text(values.get("title")),
        content=_text(values.get("content")),
        category_id=category_id,
        locality_id=locality_id,
        received_on=received_on or today,
        petitioners=[person],
        headcount=headcount,
        subject_name=_text(values.get("subject_name"))[:200],
        subject_organisation_id=subject.pk if subject is not None else None,
    )
    cleaned: list[intake.CleanPetitioner] = []
    try:
        cleaned = intake.clean_draft(draft, historical=True, references=lookups.references)
    except ValidationError as exc:
        reported = {e.column for e in errors}
        for key, messages in exc.message_dict.items():
            column = cols.BY_KEY[_FIELD_COLUMN.get(key, "content")].header
            if column in reported:
                continue  # already said, in the file's own words (e.g. an unknown category)
            for message in messages:
                errors.append(RowError(row, column, message, source_id))
    if errors:
        return None, errors
    return (
        Planned(
            row=row,
            source_id=source_id,
            number=number,
            original_number=original,
            draft=draft,
            cleaned=cleaned,
            registered_on=registered_on or draft.received_on,
            status=status,
            unit=unit,
            closed_on=closed_on,
            due_on=dates["due_on"],
            reply=reply,
            outcome=outcome,
            conclusion=conclusion or "",
            note=_text(values.get("note"))[:2000],
            id_hashes=[crypto.blind_index(p.id_number, purpose="id") for p in cleaned if p.id_number],
        ),
        [],
    )


# --- phase 2: write --------------------------------------------------------------------------


class _Writer:
    """Writes checked rows; remembers, for repeat links, the newest petition of each person."""

    def __init__(self, run: ImportRun, actor: Any, planned: list[Planned]) -> None:
        self.run = run
        self.office = run.office
        self.actor = actor
        self.due_cache: dict[tuple[str, dt.date, int], dt.date] = {}
        self.order = 0
        self.code = intake.office_code(self.office)
        # Earlier petitions of the same people (same ID-number hash), registered by this office
        # before this run: one query per thousand people, not one per row.
        # Entries: (received on, order, the petition or its id, its number); order breaks ties.
        self.by_person: dict[str, list[tuple[dt.date, int, Any, str]]] = defaultdict(list)
        hashes = sorted({h for p in planned for h in p.id_hashes})
        for i in range(0, len(hashes), 1000):
            for id_hash, received, pk, number in Petitioner.objects.filter(
                id_number_hash__in=hashes[i : i + 1000], petition__office=self.office
            ).values_list("id_number_hash", "petition__received_on", "petition_id", "petition__number"):
                self.by_person[id_hash].append((received, pk, pk, number))

    def due(self, step: str, start: dt.date, org: Organisation) -> dt.date:
        key = (step, start, org.pk)
        if key not in self.due_cache:
            self.due_cache[key] = due_date(step, start, org).due_on
        return self.due_cache[key]

    def raise_sequences(self, planned: list[Planned]) -> None:
        """Every year's sequence at least at the highest number kept from the file, so the numbers
        issued after it (new registrations, rows without a number) never repeat one."""
        highest: dict[int, int] = {}
        for p in planned:
            if p.number:
                year, seq = int(p.number.split("-")[-2]), int(p.number.split("-")[-1])
                highest[year] = max(highest.get(year, 0), seq)
        for year, seq in sorted(highest.items()):
            if not NumberSequence.objects.filter(office=self.office, year=year).exists():
                NumberSequence.objects.create(office=self.office, year=year, last=0)
            NumberSequence.objects.filter(office=self.office, year=year, last__lt=seq).update(last=seq)

    def take_numbers(self, plans: list[Planned]) -> dict[int, list[str]]:
        """The new numbers of the rows without a kept one, per received year: one ``UPDATE`` of the
        office's sequence per year and batch (``last = last + n``), inside the batch's transaction —
        the same row and rule as ``petitions.services.next_number``, so a rollback returns them all
        and the sequence stays gap-free; a clerk registering meanwhile waits for this batch only."""
        wanted: dict[int, int] = defaultdict(int)
        for plan in plans:
            if not plan.number:
                wanted[plan.draft.received_on.year] += 1
        numbers: dict[int, list[str]] = {}
        for year, count in sorted(wanted.items()):
            sequence = NumberSequence.objects.filter(office=self.office, year=year)
            if not sequence.update(last=F("last") + count):
                try:
                    with transaction.atomic():  # savepoint: a clerk's first number of the year may race us
                        NumberSequence.objects.create(office=self.office, year=year, last=count)
                except IntegrityError:
                    sequence.update(last=F("last") + count)
            last = sequence.values_list("last", flat=True).get()
            numbers[year] = [f"XF-{self.code}-{year}-{seq:06d}" for seq in range(last - count + 1, last + 1)]
        return numbers

    def repeat_of(self, plan: Planned) -> tuple[Any, str] | None:
        """The newest earlier petition of the same person: its id (or, written in this same batch,
        the petition itself) and number."""
        earlier = [
            entry
            for h in plan.id_hashes
            for entry in self.by_person.get(h, [])
            if entry[0] <= plan.draft.received_on
        ]
        if not earlier:
            return None
        _received, _order, ref, number = max(earlier, key=lambda e: (e[0], e[1]))
        return ref, number

    def write(self, plans: list[Planned]) -> list[Petition]:
        """Write ``plans`` inside the caller's transaction."""
        office, actor = self.office, self.actor
        now = timezone.now()
        built: list[tuple[Planned, Petition, tuple[int, str] | None]] = []
        numbers = self.take_numbers(plans)
        for plan in plans:
            draft = plan.draft
            repeat = self.repeat_of(plan)
            registered_at = timezone.make_aware(dt.datetime.combine(plan.registered_on, dt.time(9, 0)))
            petition = Petition(
                number=plan.number or numbers[draft.received_on.year].pop(0),
                office=office,
                query_code_hash=intake.hash_query_code(intake.new_query_code()),
                channel=draft.channel,
                purpose=draft.purpose,
                status=plan.status,
                title=draft.title.strip(),
                content=draft.content.strip(),
                category_id=draft.category_id,
                locality_id=draft.locality_id,
                subject_name=draft.subject_name.strip(),
                subject_organisation_id=draft.subject_organisation_id,
                subject_confirmed=bool(draft.subject_organisation_id),
                received_on=draft.received_on,
                registered_at=registered_at,
                registered_by=actor,
                headcount=draft.headcount,
                is_collective=draft.headcount >= COLLECTIVE_HEADCOUNT,
                repeat_of_id=repeat[0] if repeat and isinstance(repeat[0], int) else None,
                is_repeat=repeat is not None,
                is_confidential=draft.purpose == Purpose.REPORT,
                due_on=self._due_on(plan),
            )
            if plan.status == Status.CONCLUDED:
                petition.conclusion = plan.conclusion or Conclusion.REVIEW_LAPSED
                petition.concluded_on = plan.closed_on
            built.append((plan, petition, repeat))
            self.order += 1
            for h in plan.id_hashes:
                self.by_person[h].append((petition.received_on, self.order, petition, petition.number))
        Petition.objects.bulk_create([b[1] for b in built])
        # Repeats of a petition written in this batch: its id exists only now.
        linked = []
        for _plan, petition, repeat in built:
            if repeat and isinstance(repeat[0], Petition):
                petition.repeat_of_id = repeat[0].pk
                linked.append(petition)
        if linked:
            Petition.objects.bulk_update(linked, ["repeat_of"])
        involvements, assignments, events, letters, records = [], [], [], [], []
        people: list[Petitioner] = []
        for plan, petition, repeat in built:
            people.extend(intake.petitioner_rows(petition, plan.cleaned))
            involvements.append(
                Involvement(
                    petition=petition,
                    organisation=office,
                    organisation_path=office.path,
                    reason=InvolvementReason.OFFICE,
                )
            )
            at = petition.registered_at
            data = {
                "imported": True,
                "source": self.run.source,
                "source_id": plan.source_id,
                "run": self.run.pk,
            }
            if plan.original_number:
                data["original_number"] = plan.original_number
            registered = PetitionEvent(
                petition=petition,
                at=at,
                kind=EventKind.REGISTERED,
                actor=actor,
                organisation=office,
                is_public=True,
                public_note=_("{office}已登记您的信访事项。").format(office=office.name),
                comment=IMPORT_NOTE,
                data=data,
            )
            events.append(registered)
            if repeat is not None:
                events.append(
                    PetitionEvent(
                        petition=petition,
                        at=at,
                        kind=EventKind.REPEAT_LINKED,
                        actor=actor,
                        organisation=office,
                        comment=IMPORT_NOTE,
                        data={"repeat_of": repeat[1]},
                    )  # fmt: skip
                )
            events.extend(self._procedure(plan, petition, involvements, assignments, letters, now))
            records.append(
                ImportedRecord(
                    office=office,
                    source=self.run.source,
                    source_id=plan.source_id,
                    petition=petition,
                    run_id=self.run.pk,
                    original_number=plan.original_number,
                )  # fmt: skip
            )
        Petitioner.objects.bulk_create(people)
        Involvement.objects.bulk_create(involvements)
        Assignment.objects.bulk_create(assignments)
        PetitionEvent.objects.bulk_create(events)
        DecisionLetter.objects.bulk_create(letters)
        ImportedRecord.objects.bulk_create(records)
        petitions = [b[1] for b in built]
        # One audit event for the batch, naming its petitions: who brought which petition in, from
        # which run and source id, without an audit row (and a chain link) per petition.
        record_event(
            actor=actor,
            action="petition.import",
            data={
                "run": self.run.pk,
                "source": self.run.source,
                "petitions": [[p.pk, p.number, plan.source_id] for plan, p, _r in built],
            },
        )
        days = {timezone.localdate()}
        for plan, petition, _repeat in built:
            days.update((petition.received_on, plan.registered_on, plan.closed_on))
        petitions_imported.send(
            sender=ImportRun, run=self.run, petition_ids=[p.pk for p in petitions], days=days
        )
        return petitions

    def _due_on(self, plan: Planned) -> dt.date | None:
        """The running deadline of an open state (the file's 办理期限, else counted as the procedure
        would have); the petitioner's review window for a reply; none for a final state."""
        if plan.status in cols.NEEDS_CLOSED_ON and plan.status != Status.REPLIED:
            return None
        if plan.status == Status.REPLIED:
            return self.due(Step.REVIEW_REQUEST, plan.closed_on, plan.unit or self.office)
        if plan.due_on is not None:
            return plan.due_on
        if plan.status == Status.REGISTERED:
            return self.due(Step.DISPOSAL, plan.draft.received_on, self.office)
        if plan.status == Status.ACCEPTED:
            return self.due(Step.HANDLING, plan.registered_on, plan.unit or self.office)
        return self.due(Step.UNIT_ACCEPTANCE, plan.registered_on, plan.unit)

    def _procedure(
        self,
        plan: Planned,
        petition: Petition,
        involvements: list[Involvement],
        assignments: list[Assignment],
        letters: list[DecisionLetter],
        now: dt.datetime,
    ) -> list[PetitionEvent]:
        """What the state needs beyond registration: the unit's assignment and involvement, the
        timeline event of the last step, the decision letter."""
        office, actor = self.office, self.actor
        events: list[PetitionEvent] = []
        unit = plan.unit
        at = petition.registered_at
        if unit is not None:
            kind = AssignmentKind.ASSIGN if plan.status == Status.ASSIGNED else AssignmentKind.FORWARD
            # A finished case's assignment is closed: no open assignment without a running procedure.
            ended = plan.status in cols.NEEDS_CLOSED_ON and plan.status != Status.REPLIED
            assignments.append(
                Assignment(
                    petition=petition,
                    unit=unit,
                    kind=kind,
                    report_required=kind == AssignmentKind.ASSIGN,
                    assigned_by=actor,
                    assigned_at=at,
                    ended_at=now if ended else None,
                    end_reason="imported" if ended else "",
                )  # fmt: skip
            )
            involvements.append(
                Involvement(
                    petition=petition,
                    organisation=unit,
                    organisation_path=unit.path,
                    reason=InvolvementReason.UNIT,
                )
            )
            events.append(
                PetitionEvent(
                    petition=petition,
                    at=at,
                    kind=EventKind.ASSIGNED if kind == AssignmentKind.ASSIGN else EventKind.FORWARDED,
                    actor=actor,
                    organisation=office,
                    is_public=True,
                    comment=IMPORT_NOTE,
                    public_note=_("您的信访事项已转送{unit}办理。").format(unit=unit.name),
                    data={"unit": unit.pk},
                )  # fmt: skip
            )
        closed_at = (
            timezone.make_aware(dt.datetime.combine(plan.closed_on, dt.time(17, 0)))
            if plan.closed_on
            else None
        )
        body = unit or office
        final_kind = {
            Status.ACCEPTED: EventKind.ACCEPTED,
            Status.REPLIED: EventKind.REPLIED,
            Status.DECLINED: EventKind.DECLINED,
            Status.REDIRECTED: EventKind.REDIRECTED,
            Status.CONCLUDED: EventKind.CONCLUDED,
            Status.WITHDRAWN: EventKind.WITHDRAWN,
        }.get(plan.status)
        if final_kind is not None:
            events.append(
                PetitionEvent(
                    petition=petition,
                    at=closed_at or at,
                    kind=final_kind,
                    actor=actor,
                    organisation=body,
                    is_public=True,
                    comment="；".join(filter(None, [IMPORT_NOTE, plan.note])),
                    data={"imported": True},
                )  # fmt: skip
            )
        if plan.reply and plan.status in (Status.REPLIED, Status.CONCLUDED):
            letters.append(
                DecisionLetter(
                    petition=petition,
                    organisation=body,
                    outcome=plan.outcome,
                    request_summary=petition.title,
                    facts="",
                    basis="",
                    opinion=plan.reply,
                    review_notice="",
                    issued_at=closed_at or at,
                    issued_by=actor,
                    served_on=plan.closed_on,
                )  # fmt: skip
            )
        return events


# --- a whole run -----------------------------------------------------------------------------


def execute(
    run: ImportRun,
    data: bytes,
    *,
    actor: Any,
    progress: Callable[[ImportRun], None] | None = None,
) -> Outcome:
    """Check and (unless the run is a dry run) import ``data``; keep counts, progress and rejected
    rows on ``run``.  Raises ``ImportRefused`` for a file refused as a whole (also saved on ``run``)."""
    now = timezone.now()
    ImportRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=now, heartbeat_at=now)
    run.status, run.started_at = RunStatus.RUNNING, now

    def checked(n: int) -> None:
        run.processed = 0
        run.total = max(run.total, n)
        ImportRun.objects.filter(pk=run.pk).update(total=run.total, heartbeat_at=timezone.now())
        if progress:
            progress(run)

    try:
        header, rows = read_rows(data, run.file_format)
        planned, outcome = check_rows(
            run.office, run.source, header, rows, progress=checked, run_id=None if run.dry_run else run.pk
        )
    except (ImportRefused, ValidationError) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        _finish(run, RunStatus.FAILED, failure=message)
        raise ImportRefused(message) from None
    run.total = outcome.total
    run.rejected = outcome.rejected
    run.skipped = outcome.skipped
    run.imported = outcome.imported
    run.processed = outcome.rejected + outcome.skipped + outcome.imported
    run.errors = [e.as_dict() for e in outcome.errors[:MAX_ERRORS]]
    _save_progress(run)
    if progress:
        progress(run)
    if run.dry_run:
        run.imported = 0
        _finish(run, RunStatus.CHECKED)
        return outcome
    writer = _Writer(run, actor, planned)
    if planned:
        # The timeline is partitioned by month on PostgreSQL: create the history's months first, so
        # its events go to their months rather than pile up in the DEFAULT partition.
        first = min(p.draft.received_on for p in planned)
        last = max(max(p.registered_on, p.closed_on or p.registered_on) for p in planned)
        partitions.ensure_months(first, last, tables=("petitions_petitionevent",))
        with transaction.atomic():
            writer.raise_sequences(planned)
    for i in range(0, len(planned), BATCH_SIZE):
        batch = planned[i : i + BATCH_SIZE]
        written, failed = _write_batch(writer, batch)
        outcome.imported += len(written)
        outcome.petitions.extend(p.pk for p in written)
        outcome.errors.extend(failed)
        run.imported = outcome.imported
        run.rejected = outcome.rejected
        run.processed += len(batch)
        if failed:
            run.errors = [e.as_dict() for e in sorted(outcome.errors, key=lambda e: e.row)[:MAX_ERRORS]]
        _save_progress(run)
        if progress:
            progress(run)
    if outcome.imported >= ANALYZE_AFTER:  # an office's history: plan its lists from true figures
        analyze(Petition, Petitioner, PetitionEvent)
    _finish(run, RunStatus.DONE)
    return outcome


def _write_batch(writer: _Writer, batch: list[Planned]) -> tuple[list[Petition], list[RowError]]:
    """One transaction for the batch; if it fails, each row in its own, so that one bad row costs
    only itself and no row is ever half-written."""
    snapshot = {k: list(v) for k, v in writer.by_person.items()}
    try:
        with transaction.atomic():
            return writer.write(batch), []
    except Exception:  # noqa: BLE001 — any failure: find the row, reject only it
        writer.by_person = defaultdict(list, snapshot)
    written: list[Petition] = []
    failed: list[RowError] = []
    for plan in batch:
        try:
            with transaction.atomic():
                written.extend(writer.write([plan]))
        except Exception as exc:  # noqa: BLE001
            failed.append(
                RowError(
                    plan.row,
                    cols.BY_KEY["source_id"].header,
                    _("写入失败：{error}").format(error=str(exc)[:200]),
                    plan.source_id,
                )
            )
    return written, failed


def _save_progress(run: ImportRun) -> None:
    ImportRun.objects.filter(pk=run.pk).update(
        total=run.total,
        processed=run.processed,
        imported=run.imported,
        skipped=run.skipped,
        rejected=run.rejected,
        errors=run.errors,
        heartbeat_at=timezone.now(),
    )


def _finish(run: ImportRun, status: str, *, failure: str = "") -> None:
    """End the run: its counts, its audit event, and the uploaded file deleted (personal data)."""
    run.status, run.failure, run.finished_at = status, failure, timezone.now()
    if status == RunStatus.CHECKED:
        run.processed = run.total
    with transaction.atomic():
        ImportRun.objects.filter(pk=run.pk).update(
            status=status,
            failure=failure,
            finished_at=run.finished_at,
            processed=run.processed if status != RunStatus.DONE else F("total"),
        )
        record_event(
            actor=run.created_by,
            action="import.check" if status == RunStatus.CHECKED else "import.run",
            obj=run,
            data={
                "source": run.source,
                "run_status": status,
                "total": run.total,
                "imported": run.imported,
                "skipped": run.skipped,
                "rejected": run.rejected,
            },
        )
    if status != RunStatus.CHECKED:
        discard_file(run)
    if status == RunStatus.DONE:
        run.processed = run.total


def discard_file(run: ImportRun) -> None:
    """Delete the uploaded file: it holds personal data in clear once decrypted, and is not needed
    after the run (docs/import.md)."""
    if run.file:
        run.file.delete(save=False)
        ImportRun.objects.filter(pk=run.pk).update(file="")


# --- the staff page's side -------------------------------------------------------------------


def create_run(*, office: Organisation, actor: Any, upload: Any, source: str, dry_run: bool) -> ImportRun:
    """A run for an uploaded file, stored encrypted until the run ends."""
    from xinfang.core.files import encrypted_content

    from .reader import sniff_format

    head = upload.read(8)
    upload.seek(0)
    file_format = sniff_format(upload.name or "", head)
    run = ImportRun(
        office=office,
        source=(source or "").strip()[:50] or default_source(),
        file_name=(upload.name or "")[:200],
        file_format=file_format,
        created_by=actor,
        dry_run=dry_run,
        status=RunStatus.QUEUED,
    )
    run.file.save("upload", encrypted_content(upload), save=False)
    try:
        with transaction.atomic():
            run.save(force_insert=True)
            record_event(
                actor=actor,
                action="import.upload",
                obj=run,
                data={"source": run.source, "format": file_format},
            )
    except BaseException:
        run.file.delete(save=False)
        raise
    return run


def default_source() -> str:
    return "legacy"


def start_import(run: ImportRun) -> bool:
    """Queue the import of a checked run's file (the dry run became the real one)."""
    updated = (
        ImportRun.objects.filter(pk=run.pk, status=RunStatus.CHECKED)
        .exclude(file="")
        .update(status=RunStatus.QUEUED, dry_run=False, processed=0, started_at=None, finished_at=None)
    )
    return bool(updated)


def report_rows(run: ImportRun) -> list[list[Any]]:
    return [[e["row"], e.get("source_id", ""), e["column"], e["message"]] for e in run.errors]


REPORT_HEADER = ("行号", "来源编号", "列", "原因")


def report_csv(run: ImportRun) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REPORT_HEADER)
    writer.writerows(report_rows(run))
    return buffer.getvalue().encode("utf-8-sig")  # with a BOM: Excel on Windows opens it as UTF-8
