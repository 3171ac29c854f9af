"""Rendering planned petitions into rows: the words, the hashes, the Fernet ciphertexts, and the
text of PostgreSQL's COPY (or field dicts for bulk_create).

Pure computation, no database access: chunks are rendered in worker processes, in parallel with
the planning and the database.  Encryption is most of the CPU time (about 20 µs per Fernet token,
two or three per petitioner): see docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import models

from xinfang.core import crypto
from xinfang.petitions.choices import (
    COLLECTIVE_HEADCOUNT,
    Channel,
    EventKind,
    InvolvementReason,
    Purpose,
)
from xinfang.petitions.models import (
    Involvement,
    Petition,
    Petitioner,
    PetitionEvent,
    id_tail_of,
    petitioner_name_hash,
)
from xinfang.petitions.services import QUERY_CODE_ALPHABET, QUERY_CODE_LENGTH
from xinfang.petitions.validators import mask_id_number, mask_phone
from xinfang.workflow.models import Assignment, DeadlineRecord, DecisionLetter, Evaluation

from . import texts
from .people import make_person
from .plan import LocalityInfo, OfficeInfo, PlannedPetition
from .stories import Story
from .storyrows import (
    ASSIGNMENT_FIELDS,
    EVALUATION_FIELDS,
    LETTER_FIELDS,
    RECORD_FIELDS,
    OrgInfo,
    copy_assignment,
    copy_event,
    copy_line,
    orm_row,
    registration_rows,
    story_rows,
)

# Fields of each table in the order the renderer produces them.  Any other field of the model must
# have a default (see copy_columns), so fields added later do not break seeding.
PETITION_FIELDS = (
    "id", "number", "office_id", "query_code_hash", "channel", "purpose", "status", "title", "content",
    "category_id", "locality_id", "subject_name", "subject_organisation_id", "received_on",
    "registered_at", "registered_by_id", "headcount", "is_collective", "repeat_of_id", "is_repeat",
    "is_confidential", "due_on", "version", "updated_at", "conclusion", "concluded_on",
)  # fmt: skip
PETITIONER_FIELDS = (
    "petition_id", "position", "is_representative", "name", "id_number", "id_number_hash",
    "id_number_mask", "phone", "phone_hash", "phone_mask", "address", "name_hash", "id_number_tail",
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
    (Assignment, ASSIGNMENT_FIELDS),
    (DecisionLetter, LETTER_FIELDS),
    (Evaluation, EVALUATION_FIELDS),
    (DeadlineRecord, RECORD_FIELDS),
)


@dataclass(frozen=True)
class RenderContext:
    """Everything a worker process needs, handed over once when it starts."""

    offices: dict[int, OfficeInfo]
    localities: dict[int, LocalityInfo]
    today: dt.date
    copy: bool  # True: encrypt and return COPY text; False: return field dicts for bulk_create
    copy_suffixes: tuple[str, ...] = ("",) * len(TABLES)  # per table: values of the columns left to defaults
    orgs: dict[int, OrgInfo] = field(default_factory=dict)  # offices and units the stories name
    notes: dict[str, str] = field(default_factory=dict)  # storyrows.story_notes(), translated


class Rendered(NamedTuple):
    """One chunk, ready to write: per table either COPY text or a list of field dicts."""

    tables: tuple[Any, ...]  # in the order of TABLES
    petitions: int
    petitioners: int
    events: int
    sample: tuple[str, str]  # (number, query code) of the chunk's first petition, for the demo


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def esc(value: str) -> str:
    """A value in PostgreSQL's COPY text format."""
    # str.translate walks a CJK string character by character in Python-level lookups; three
    # substring tests in C are far cheaper, and only the content's line break usually needs escaping.
    if "\\" in value or "\t" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value.replace("\n", "\\n")


# Choice values as plain str, read a million times in the loop below.
_ONLINE = Channel.ONLINE.value
_REPORT = Purpose.REPORT.value
_REASON = InvolvementReason.OFFICE.value
_EV_REGISTERED = EventKind.REGISTERED.value
_EV_REPEAT = EventKind.REPEAT_LINKED.value


def _opt(value: object) -> str:
    return "\\N" if value is None else str(value)


def _opt_date(value: dt.date | None) -> str:
    return "\\N" if value is None else value.isoformat()


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
    suffix_p, suffix_pp, suffix_i, suffix_e, suffix_a, suffix_l, suffix_v, suffix_r = ctx.copy_suffixes
    assignments: list[Any] = []
    letters: list[Any] = []
    evaluations: list[Any] = []
    records: list[Any] = []
    notes = {o.id: esc(o.public_note) for o in ctx.offices.values()}
    registered_data = {c: esc(json.dumps({"channel": c, "portal": c == _ONLINE})) for c in Channel.values}
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
        story = Story._make(p.story)
        due_on = dt.date.fromordinal(story.due_on) if story.due_on else None
        status, version, updated_at, conclusion, concluded_on = story.status, 1, p.registered_at, "", None
        rows = None
        if story.steps and not story.drive:  # a driven story is replayed by the services (drive.py)
            rows = story_rows(
                petition_id=p.id, office_id=p.office_id, title=title, registered_at=p.registered_at,
                clerk=office.clerk_id, steps=story.steps, orgs=ctx.orgs, notes=ctx.notes, seed=p.matter_seed,
                received_on=received_on, dues=story.dues, letter_id=story.letter_id,
            )  # fmt: skip
            version, updated_at = rows.version, rows.updated_at
            conclusion, concluded_on = rows.conclusion, rows.concluded_on
        # Reports against officials are confidential from the first moment (条例 Art. 30 ¶3).
        confidential = p.purpose == _REPORT
        at = p.registered_at
        repeat = p.repeat_of_id is not None
        if copy:
            petitions.append(
                f"{p.id}\t{p.number}\t{p.office_id}\t{qhash}\t{p.channel}\t{p.purpose}\t"
                f"{status}\t{esc(title)}\t{esc(content)}\t{p.category_id}\t"
                f"{p.locality_id}\t{esc(subject_name)}\t{_opt(p.subject_organisation_id)}\t"
                f"{received_on.isoformat()}\t{at}\t{_opt(clerk)}\t{p.headcount}\t{'tf'[not collective]}\t"
                f"{_opt(p.repeat_of_id)}\t{'tf'[not repeat]}\t{'tf'[not confidential]}\t"
                f"{_opt_date(due_on)}\t{version}\t{updated_at}\t{conclusion}\t{_opt_date(concluded_on)}{suffix_p}\n"
            )
        else:
            registered_at = dt.datetime.fromisoformat(at)
            values = (
                p.id, p.number, p.office_id, qhash, p.channel, p.purpose, status, title, content,
                p.category_id, p.locality_id, subject_name, p.subject_organisation_id, received_on,
                registered_at, clerk, p.headcount, collective, p.repeat_of_id, repeat, confidential, due_on,
                version, dt.datetime.fromisoformat(updated_at), conclusion, concluded_on,
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
                petitioner_name_hash(person.name),  # the look-up by name (issue #12 §1)
                id_tail_of(id_number) if id_number else "",
            )
            if copy:
                petitioners.append(
                    f"{p.id}\t{position}\t{'tf'[not row[2]]}\t{esc(person.name)}\t{_opt(row[4])}\t"
                    f"{_opt(row[5])}\t{row[6]}\t{_opt(row[7])}\t{_opt(row[8])}\t{row[9]}\t{row[10]}\t"
                    f"{_opt(row[11])}\t{row[12]}{suffix_pp}\n"
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
                    f"{esc(json.dumps(data))}{suffix_e}\n"
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
        if rows is None:  # still with the office, or replayed (the services go on from here)
            new_records = registration_rows(
                petition_id=p.id, received_on=received_on, registered_at=p.registered_at,
                due=story.dues[0], office_id=p.office_id, clerk=clerk, orgs=ctx.orgs,
            )  # fmt: skip
            if copy:
                records.extend(copy_line(values, suffix_r, esc) for values in new_records)
            else:
                records.extend(orm_row(RECORD_FIELDS, values) for values in new_records)
        if rows is not None:
            for out, fields, suffix, new, line in (
                (involvements, INVOLVEMENT_FIELDS, suffix_i, rows.involvements, copy_line),
                (events, EVENT_FIELDS, suffix_e, rows.events, copy_event),
                (assignments, ASSIGNMENT_FIELDS, suffix_a, rows.assignments, copy_assignment),
                (letters, LETTER_FIELDS, suffix_l, rows.letters, copy_line),
                (evaluations, EVALUATION_FIELDS, suffix_v, rows.evaluations, copy_line),
                (records, RECORD_FIELDS, suffix_r, rows.records, copy_line),
            ):
                if copy:
                    out.extend(line(values, suffix, esc) for values in new)
                else:
                    out.extend(orm_row(fields, values) for values in new)
    counts = (len(chunk), len(petitioners), len(events))
    all_rows = (petitions, petitioners, involvements, events, assignments, letters, evaluations, records)
    if copy:
        tables: tuple[Any, ...] = tuple("".join(lines).encode() for lines in all_rows)
    else:
        tables = all_rows
    return Rendered(tables, *counts, sample)


_worker_ctx: RenderContext | None = None


def init_worker(ctx: RenderContext) -> None:
    # The forked worker also inherits this process's database connection object; render_chunk
    # never touches the database, so the parent's transaction on that socket is left alone.
    global _worker_ctx
    _worker_ctx = ctx


def render_in_worker(chunk: list[tuple], chunk_seed: int) -> Rendered:
    assert _worker_ctx is not None
    return render_chunk(_worker_ctx, chunk, chunk_seed)
