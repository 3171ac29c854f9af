"""Intake: registering petitions, numbering, repeat detection and revealing personal data.

Every function here is what the staff UI, the portal and the API call; none of them duplicates a rule.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import chain_at_end, record_event
from xinfang.core import crypto
from xinfang.organisations.choices import Level, OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation

from . import attachments as att
from .access import PetitionNotFound, access_petition
from .choices import COLLECTIVE_HEADCOUNT, MAX_REPRESENTATIVES, Channel, EventKind, InvolvementReason, Purpose
from .drafts import PetitionDraft, PetitionerDraft
from .models import (
    Attachment,
    Category,
    Involvement,
    NumberSequence,
    Petition,
    Petitioner,
    PetitionEvent,
    id_tail_of,
    petitioner_name_hash,
)
from .validators import check_id_number, check_phone, mask_id_number, mask_phone

# 条例 Art. 22: the petition office disposes of a petition within 15 days of receipt.  The real
# deadline (rule profile, legal calendar) comes from workflow.deadlines via workflow.services.register;
# this plain count is only the fallback of intake used on its own.
ACCEPTANCE_PERIOD_DAYS = 15
QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed by citizens
QUERY_CODE_LENGTH = 12


# --- numbers and codes -----------------------------------------------------------------------


def office_code(office: Organisation) -> str:
    """The code printed in an office's petition numbers.

    Its own code if it has one.  Otherwise the area's petition office (the first one without a
    code of its own) prints the area's administrative code, ``XF-330102-…``, and any other
    registering organisation of the area the area's code and its id, ``XF-330102-17-…``, so two
    organisations never share a prefix (and their numbers never collide).
    """
    if office.code:
        return office.code
    area_code = next((a.code for a in reversed(list(office.ancestors())) if a.code and a.pk != office.pk), "")
    if not area_code:
        return str(office.pk)
    first_office = (
        Organisation.objects.filter(
            parent_id=office.parent_id, kind=OrganisationKind.PETITION_OFFICE, code=""
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if office.kind == OrganisationKind.PETITION_OFFICE and first_office == office.pk:
        return area_code
    return f"{area_code}-{office.pk}"


def next_number(office: Organisation, year: int) -> str:
    """Issue the next petition number of ``office`` in ``year``: ``XF-<office code>-<year>-<seq:06d>``.

    Must run inside the transaction that stores the petition: the UPDATE takes the row lock
    (PostgreSQL) or the write lock (SQLite), concurrent registrations queue behind it, and a rollback
    returns the number, so numbers are unique and gap-free.  The lock is held until the commit:
    take the number as late as possible (``register_petition`` takes it as its last write).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number() must run inside the registering transaction")
    return f"{number_prefix(office, year)}{take_seq(office.pk, year):06d}"


def number_prefix(office: Organisation, year: int) -> str:
    """``XF-<office code>-<year>-``: read before the registering transaction, outside any lock."""
    return f"XF-{office_code(office)}-{year}-"


def take_seq(office_id: int, year: int) -> int:
    """The next sequence number of the office and year: one ``UPDATE … RETURNING`` (the row lock,
    held until the commit), or the year's first row.  Inside the registering transaction only."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("next_number() must run inside the registering transaction")
    table = connection.ops.quote_name(NumberSequence._meta.db_table)
    # The model's own table name, no input; RETURNING: PostgreSQL, and SQLite since 3.35.
    sql = f'UPDATE {table} SET "last" = "last" + 1 WHERE "office_id" = %s AND "year" = %s RETURNING "last"'  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [office_id, year])
        row = cursor.fetchone()
        if row is not None:
            return row[0]
        try:
            with transaction.atomic():  # savepoint: a racing first insert of the year must not abort us
                NumberSequence.objects.create(office_id=office_id, year=year, last=1)
            return 1
        except IntegrityError:
            cursor.execute(sql, [office_id, year])
            return cursor.fetchone()[0]


def provisional_number() -> str:
    """A unique stand-in for ``Petition.number`` (unique, not null) until the real number is taken
    as the transaction's last step; it never commits (docs/architecture.md, "Numbering")."""
    return f"~{uuid.uuid4().hex}"


def new_query_code() -> str:
    """A 12-character random code (~59 bits): shown once, stored only as a keyed hash."""
    raw = "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_query_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_query_code(code: str) -> str:
    return crypto.secret_hash("query-code:" + normalise_query_code(code))


# --- routing helpers ---------------------------------------------------------------------------


def find_petition_office(locality: Organisation) -> Organisation | None:
    """The petition office responsible for an area: the nearest one at or above it (属地管理).

    Townships and villages have no petition office of their own here, so their matters go to the
    county's; a deployment for one county therefore needs exactly one office.
    """
    line = list(locality.ancestors().values_list("pk", flat=True))
    offices = {
        o.parent_id: o
        for o in Organisation.objects.filter(
            parent_id__in=line, kind=OrganisationKind.PETITION_OFFICE, is_active=True
        )
    }
    for area_id in reversed(line):
        if area_id in offices:
            return offices[area_id]
    return None


def localities() -> Any:
    """Areas a matter can arise in (governments of every level)."""
    return Organisation.objects.filter(kind=OrganisationKind.GOVERNMENT, is_active=True).exclude(
        level=Level.NATIONAL
    )


# --- validation -------------------------------------------------------------------------------


@dataclass
class CleanPetitioner:
    name: str
    id_number: str | None
    phone: str | None
    address: str
    is_representative: bool


def clean_draft(
    draft: PetitionDraft,
    *,
    attachment_limit: int = att.MAX_ATTACHMENTS,
    historical: bool = False,
    references: References | None = None,
) -> list[CleanPetitioner]:
    """Check a draft completely; raise one ValidationError keyed by field with every problem found.

    ``historical`` is the import of an office's past petitions (``xinfang.imports``): it lifts only
    the five-year limit on the received date, which catches a clerk's typing slip but would refuse
    a migration's history.  The staff form, the portal and the API never pass it.  ``references``
    (``References.load()``) lets a caller that checks many drafts read the categories, areas and
    organisations once instead of once per draft; the rules are the same."""
    return _check_draft(
        draft, attachment_limit=attachment_limit, historical=historical, references=references
    ).petitioners


@dataclass
class References:
    """What a check reads from the database, loaded once: active categories and the areas a matter
    can arise in, by id, and the ids of all organisations (the history import checks 100,000 drafts)."""

    categories: dict[int, Category]
    localities: dict[int, Organisation]
    organisation_ids: set[int]

    @classmethod
    def load(cls) -> References:
        return cls(
            categories={c.pk: c for c in Category.objects.filter(is_active=True)},
            localities={o.pk: o for o in localities()},
            organisation_ids=set(Organisation.objects.values_list("pk", flat=True)),
        )


@dataclass
class CheckedDraft:
    """A draft that passed every check, with the category and area it names (read by the check,
    so registration sets them on the new petition without reading them again)."""

    petitioners: list[CleanPetitioner]
    category: Category | None
    locality: Organisation | None


def _check_draft(
    draft: PetitionDraft,
    *,
    attachment_limit: int,
    historical: bool = False,
    references: References | None = None,
) -> CheckedDraft:
    errors: dict[str, list[ValidationError]] = {}

    def add(key: str, error: ValidationError | str) -> None:
        errors.setdefault(key, []).append(
            error if isinstance(error, ValidationError) else ValidationError(error)
        )

    if draft.channel not in Channel.values:
        add("channel", _("请选择信访形式。"))
    if draft.purpose not in Purpose.values:
        add("purpose", _("请选择信访目的。"))
    if not draft.title.strip():
        add("title", _("请填写标题。"))
    elif len(draft.title.strip()) > 200:
        add("title", _("标题不能超过200字。"))
    if len(draft.content.strip()) < 10:
        add("content", _("请填写信访内容（至少10个字），说明诉求、事实和理由。"))
    category = locality = None
    if references is not None:
        category = references.categories.get(draft.category_id or 0)
        locality = references.localities.get(draft.locality_id or 0)
    elif draft.category_id:
        category = Category.objects.filter(pk=draft.category_id, is_active=True).first()
    if category is None:
        add("category", _("请选择问题分类。"))
    if references is None and draft.locality_id:
        locality = localities().filter(pk=draft.locality_id).first()
    if locality is None:
        add("locality", _("请选择问题属地。"))
    if draft.subject_organisation_id and not (
        draft.subject_organisation_id in references.organisation_ids
        if references is not None
        else Organisation.objects.filter(pk=draft.subject_organisation_id).exists()
    ):
        add("subject_organisation", _("被反映单位不存在。"))
    elif draft.subject_organisation_id and draft.no_subject_organisation:
        add("subject_organisation", _("已选择被检举控告单位，就不能同时确认未指向具体单位。"))
    if len(draft.subject_person.strip()) > 200:
        add("subject_person", _("被检举控告人不能超过200字。"))
    today = timezone.localdate()
    if draft.received_on > today:
        add("received_on", _("收到日期不能晚于今天。"))
    elif not historical and draft.received_on < today - dt.timedelta(days=365 * 5):
        add("received_on", _("收到日期过早，请核对。"))
    if draft.headcount < 1:
        add("headcount", _("人数至少为1。"))
    elif draft.headcount > 10000:
        add("headcount", _("人数过大，请核对。"))
    cleaned = _clean_petitioners(draft, add)
    try:
        att.check_attachments(draft.attachments, limit=attachment_limit)
    except ValidationError as exc:
        add("attachments", exc)
    if errors:
        raise ValidationError(errors)
    return CheckedDraft(petitioners=cleaned, category=category, locality=locality)


def _clean_petitioners(draft: PetitionDraft, add: Any) -> list[CleanPetitioner]:
    people = [p for p in draft.petitioners if p.name.strip() or p.id_number.strip() or p.phone.strip()]
    if not people:
        add("petitioners", _("请至少填写一位信访人。"))
        return []
    if draft.headcount >= COLLECTIVE_HEADCOUNT and len(people) > MAX_REPRESENTATIVES:
        add("petitioners", _("集体访最多推选5名代表。"))
    if draft.headcount < len(people):
        add("headcount", _("人数不能少于所填信访人数。"))
    cleaned = []
    for i, person in enumerate(people):
        prefix = f"petitioners.{i}."
        name = person.name.strip()
        if not name:
            add(prefix + "name", _("请填写信访人姓名。"))
        elif len(name) > 50:
            add(prefix + "name", _("姓名不能超过50字。"))
        id_number = phone = None
        if person.id_number.strip():
            try:
                id_number = check_id_number(person.id_number)
            except ValidationError as exc:
                add(prefix + "id_number", exc)
        if person.phone.strip():
            try:
                phone = check_phone(person.phone)
            except ValidationError as exc:
                add(prefix + "phone", exc)
        if len(person.address) > 200:
            add(prefix + "address", _("住址不能超过200字。"))
        cleaned.append(
            CleanPetitioner(name, id_number, phone, person.address.strip(), person.is_representative or i > 0)
        )
    return cleaned


# --- repeat detection -------------------------------------------------------------------------


def find_possible_repeats(
    user: Any, petitioners: list[PetitionerDraft], *, limit: int = 20
) -> list[Petition]:
    """The newest ``limit`` of ``possible_repeats`` (the API's registration answer, the registration
    page before the clerk decides)."""
    return list(possible_repeats(user, petitioners)[:limit])


def possible_repeats(user: Any, petitioners: list[PetitionerDraft]) -> QuerySet[Petition]:
    """Earlier petitions, within the user's scope, from the same person: by ID number, else by
    name + phone, newest first — all of them, for the caller to page (issue #7 point 15: a clerk
    must see every earlier petition, not the newest twenty).  Uses the blind-index columns only —
    nothing is decrypted to search."""
    condition = Q()
    for person in petitioners:
        try:
            id_number = check_id_number(person.id_number) if person.id_number.strip() else None
        except ValidationError:
            id_number = None
        if id_number:
            condition |= Q(petitioners__id_number_hash=crypto.blind_index(id_number, purpose="id"))
        # Name + phone too, even with an ID number: earlier petitions may have been recorded
        # from a phone call, without one.
        try:
            phone = check_phone(person.phone) if person.phone.strip() else None
        except ValidationError:
            phone = None
        if phone and person.name.strip():
            condition |= Q(
                petitioners__phone_hash=crypto.blind_index(phone, purpose="phone"),
                petitioners__name=person.name.strip(),
            )
    return _petitions_matching(user, condition)


def person_history(user: Any, petition: Petition) -> QuerySet[Petition]:
    """Every other petition, within the user's scope, of the people of ``petition`` — by the stored
    keyed hashes, as ``possible_repeats`` finds them at intake — newest first, for the petition
    page to list in pages (issue #7 point 15)."""
    condition = Q()
    for person in petition.petitioners.all():
        if person.id_number_hash:
            condition |= Q(petitioners__id_number_hash=person.id_number_hash)
        if person.phone_hash and person.name:
            condition |= Q(petitioners__phone_hash=person.phone_hash, petitioners__name=person.name)
    return _petitions_matching(user, condition).exclude(pk=petition.pk)


def _petitions_matching(user: Any, condition: Q) -> QuerySet[Petition]:
    if not condition:
        return Petition.objects.none()
    # Ordered by the registration time with the id as tie-breaker, so pages never overlap.
    return (
        Petition.objects.restrict(user)
        .filter(condition)
        .distinct()
        .select_related("office", "category")
        .order_by("-registered_at", "-pk")
    )


# --- registration -----------------------------------------------------------------------------


@dataclass
class Registration:
    petition: Petition
    query_code: str
    event: PetitionEvent | None = None  # the ``registered`` timeline event


def register_petition(
    *,
    draft: PetitionDraft,
    office: Organisation,
    actor: Any = None,
    public: bool = False,
    attachment_limit: int = att.MAX_ATTACHMENTS,
    due_on: dt.date | None = None,
    before_numbering: Callable[[Petition], None] | None = None,
    keep_written: bool = False,
) -> Registration:
    """Register a petition (登记) with its petitioners and attachments, all or nothing.

    With ``keep_written`` the returned petition carries the rows just written as if prefetched
    (no reload for a caller that shows them at once; ``forget_written`` drops them).

    ``actor`` is the intake clerk (None for a portal submission, then ``public`` is True).  Returns
    the petition and its query code, which exists in clear only in this return value.  ``due_on``
    is the petition office's disposal deadline; callers get it from the deadline engine through
    ``workflow.services.register`` (without it: receipt + 15 calendar days, for intake-only use).

    The number is taken last (docs/architecture.md, "Numbering"): everything is checked, encrypted
    and written first under a provisional number, ``before_numbering(petition)`` writes what the
    caller adds that needs no number, and then one ``UPDATE … RETURNING`` of the office's sequence
    and one of the petition set the real number.  The office's row lock is held from there to the
    commit only.  The returned petition carries its petitioners, events and attachments as
    written (no reload) and its audit event is chained at the end of the caller's transaction.
    """
    checked = _check_draft(draft, attachment_limit=attachment_limit)
    if actor is not None:
        _check_may_register(actor, office)
    repeat_of = None
    if draft.repeat_of_number:
        try:
            repeat_of = access_petition(actor, draft.repeat_of_number)
        except PetitionNotFound:
            raise ValidationError({"repeat_of": [_("所选的原信访件不存在或无权查看。")]}) from None
    query_code = new_query_code()
    now = timezone.now()
    year = timezone.localdate(now).year
    prefix = number_prefix(office, year)  # the office code's reads, outside the transaction
    stored: list[str] = []
    try:
        with transaction.atomic(), chain_at_end():
            petition = _create_petition(
                draft, office=office, actor=actor, repeat_of=repeat_of, query_code=query_code,
                due_on=due_on, now=now, checked=checked,
            )  # fmt: skip
            petitioners = _create_petitioners(petition, checked.petitioners)
            attachments = _store_attachments(petition, draft.attachments, actor=actor, stored=stored)
            Involvement.objects.create(
                petition=petition,
                organisation=office,
                organisation_path=office.path,
                reason=InvolvementReason.OFFICE,
            )
            events = _record_registration(petition, actor=actor, public=public, repeat_of=repeat_of)
            if before_numbering is not None:
                before_numbering(petition)
            # The last write: from here to the commit, this office's registrations wait.
            petition.number = f"{prefix}{take_seq(office.pk, year):06d}"
            Petition.objects.filter(pk=petition.pk).update(number=petition.number)
    except BaseException:
        att.delete_stored(stored)
        raise
    # What the response shows, as written: no reload (the repeat's and the office's objects are set).
    if keep_written:
        _remember(petition, petitioners=petitioners, events=events, attachments=attachments)
    petition.open_assignments = []
    return Registration(petition=petition, query_code=query_code, event=events[0])


def _remember(petition: Petition, **written: list[Any]) -> None:
    """Set each reverse relation's rows as if prefetched (as Django's prefetch does it): ``.all()``
    gives them without a query, anything else (``.filter()``) still asks the database."""
    petition._prefetched_objects_cache = {}
    for name, rows in written.items():
        queryset = getattr(petition, name).all()
        queryset._result_cache = rows
        queryset._prefetch_done = True
        petition._prefetched_objects_cache[name] = queryset


def forget_written(petition: Petition) -> None:
    """Drop the rows ``_remember`` set, so that later reads of the petition's relations (a count, a
    new attachment, another event) ask the database again."""
    petition._prefetched_objects_cache = {}


def _check_may_register(actor: Any, office: Organisation) -> None:
    if not actor.has_role(RoleCode.INTAKE) or actor.organisation_id != office.pk:
        raise PermissionError(_("只有本机构的登记员可以登记信访事项。"))


def _create_petition(
    draft: PetitionDraft,
    *,
    office: Organisation,
    actor: Any,
    repeat_of: Petition | None,
    query_code: str,
    due_on: dt.date | None,
    now: dt.datetime,
    checked: CheckedDraft,
) -> Petition:
    # Only a clerk names the accused organisation and person, or states that there is none (issue #7
    # point 1); a portal citizen names them in free text (subject_name), which the clerk then confirms.
    staff = actor is not None
    subject_org = draft.subject_organisation_id if staff else None
    petition = Petition(
        number=provisional_number(),
        office=office,
        query_code_hash=hash_query_code(query_code),
        channel=draft.channel,
        purpose=draft.purpose,
        title=draft.title.strip(),
        content=draft.content.strip(),
        category=checked.category,
        locality=checked.locality,
        subject_name=draft.subject_name.strip()[:200],
        subject_organisation_id=subject_org,
        subject_person=draft.subject_person.strip() if staff else "",
        subject_confirmed=staff and bool(subject_org or draft.no_subject_organisation),
        received_on=draft.received_on,
        registered_at=now,
        registered_by=actor,
        headcount=draft.headcount,
        is_collective=draft.headcount >= COLLECTIVE_HEADCOUNT,
        repeat_of=repeat_of,
        is_repeat=repeat_of is not None,
        # Reports against officials are confidential from the first moment (条例 Art. 30 ¶3).
        is_confidential=draft.purpose == Purpose.REPORT,
        due_on=due_on or draft.received_on + dt.timedelta(days=ACCEPTANCE_PERIOD_DAYS),
    )
    petition.save(force_insert=True)
    return petition


def _create_petitioners(petition: Petition, cleaned: list[CleanPetitioner]) -> list[Petitioner]:
    return Petitioner.objects.bulk_create(petitioner_rows(petition, cleaned))


def petitioner_rows(petition: Petition, cleaned: list[CleanPetitioner]) -> list[Petitioner]:
    """The petitioners of ``petition``, not yet saved: personal data encrypted by the fields, blind
    indexes, masks and look-up columns computed here, for registration and the history import
    (which saves a whole batch's rows in one INSERT)."""
    rows = []
    for position, person in enumerate(cleaned):
        rows.append(
            Petitioner(
                petition=petition,
                position=position,
                is_representative=person.is_representative,
                name=person.name,
                name_hash=petitioner_name_hash(person.name),
                id_number_tail=id_tail_of(person.id_number) if person.id_number else "",
                id_number=person.id_number,
                id_number_hash=crypto.blind_index(person.id_number, purpose="id")
                if person.id_number
                else None,
                id_number_mask=mask_id_number(person.id_number) if person.id_number else "",
                phone=person.phone,
                phone_hash=crypto.blind_index(person.phone, purpose="phone") if person.phone else None,
                phone_mask=mask_phone(person.phone) if person.phone else "",
                address=person.address,
            )
        )
    return rows


def _store_attachments(
    petition: Petition, uploads: list, *, actor: Any, stored: list[str]
) -> list[Attachment]:
    """Write each upload and its row; ``stored`` grows file by file, so that the caller can remove
    every file already written if a later one (or anything after) fails."""
    rows = []
    for upload in uploads:
        kind = att.check_attachment(upload)
        attachment = Attachment(
            petition=petition,
            original_name=(upload.name or "")[:200],
            content_type=kind.content_type,
            size=upload.size,
            sha256=att.sha256_of(upload),
            uploaded_by=actor,
        )
        # Encrypted at rest (issue #7 point 24): scans of ID cards must not lie on disk in clear.
        attachment.file.save(upload.name or "attachment", att.encrypted_content(upload), save=False)
        stored.append(attachment.file.name)
        attachment.save(force_insert=True)
        rows.append(attachment)
    return rows


def _record_registration(
    petition: Petition, *, actor: Any, public: bool, repeat_of: Petition | None
) -> list[PetitionEvent]:
    """The timeline events (one INSERT) and the audit event (chained at the end of the transaction,
    under the petition's real number: ``audit.services.chain_at_end``)."""
    events = [
        PetitionEvent(
            petition=petition,
            at=petition.registered_at,
            kind=EventKind.REGISTERED,
            actor=actor,
            organisation=petition.office,
            is_public=True,
            public_note=_("{office}已登记您的信访事项。").format(office=petition.office.name),
            data={"channel": petition.channel, "portal": public},
        )
    ]
    if repeat_of is not None:
        events.append(
            PetitionEvent(
                petition=petition,
                kind=EventKind.REPEAT_LINKED,
                actor=actor,
                organisation=petition.office,
                data={"repeat_of": repeat_of.number},
            )
        )
    PetitionEvent.objects.bulk_create(events)
    record_event(
        actor=actor,
        action="petition.register",
        obj=petition,
        data={
            "channel": petition.channel,
            "portal": public,
            "repeat_of": repeat_of.number if repeat_of else None,
        },
    )
    return events


# --- attachments after registration ----------------------------------------------------------


def add_attachments(*, user: Any, number: str, uploads: list) -> list[Attachment]:
    """Attach more scans or evidence to a petition the user may change (intake clerks and
    handlers), all or nothing: the limit counts what is already attached, and files written
    before a failure are removed again."""
    petition = access_petition(user, number, "change")
    if not user.has_role(RoleCode.INTAKE, RoleCode.HANDLER):
        raise PermissionError(_("只有登记员或承办人可以添加附件。"))
    already = petition.attachments.count()
    if not uploads:
        raise ValidationError({"attachments": [_("请选择要上传的附件。")]})
    if already + len(uploads) > att.MAX_ATTACHMENTS:
        raise ValidationError({"attachments": [
            _("每件信访事项最多 {n} 个附件，已有 {m} 个。").format(n=att.MAX_ATTACHMENTS, m=already)
        ]})  # fmt: skip
    try:
        att.check_attachments(uploads)
    except ValidationError as exc:
        raise ValidationError({"attachments": exc.messages}) from None
    stored: list[str] = []
    try:
        with transaction.atomic():
            _store_attachments(petition, uploads, actor=user, stored=stored)
            record_event(
                actor=user, action="petition.attachments_add", obj=petition, data={"files": len(uploads)}
            )
    except BaseException:
        att.delete_stored(stored)
        raise
    return list(petition.attachments.order_by("-id")[: len(uploads)])[::-1]


# --- personal data ----------------------------------------------------------------------------


def reveal_personal_data(*, user: Any, number: str) -> list[dict[str, str]]:
    """The petitioners' full ID and phone numbers and addresses, for a user who may see petition
    ``number``.

    Every call writes an audit event (PIPL Art. 51; domain.md §4.3: log every reveal), a refused
    one too (``petition.reveal_denied``, issue #7 point 23): the scope check is made here, not
    before, so that a missing and a forbidden petition are both recorded — with the number asked
    for and no object, so the row says nothing of whether the petition exists — and both raise
    the same PetitionNotFound.
    """
    try:
        petition = access_petition(user, number)
    except PetitionNotFound:
        # 等保 asks for failed attempts to be audited as well as successful ones.
        record_event(actor=user, action="petition.reveal_denied", data={"number": number[:64]})
        raise
    people = list(petition.petitioners.all())
    record_event(
        actor=user, action="petition.reveal_personal_data", obj=petition, data={"petitioners": len(people)}
    )
    return [
        {"name": p.name, "id_number": p.id_number or "", "phone": p.phone or "", "address": p.address or ""}
        for p in people
    ]


# --- the category tree ------------------------------------------------------------------------


def save_category(
    *,
    actor: Any,
    name: str,
    code: str,
    parent: Category | None = None,
    sort_order: int = 0,
    is_active: bool = True,
    category: Category | None = None,
) -> Category:
    """Create a category (``category=None``) or change one; the tree is two levels deep.

    Categories in use are never deleted: a retired one is switched off (``is_active``), so old
    petitions keep their classification and new ones cannot choose it.
    """
    target = category or Category()
    before = {f: getattr(target, f) for f in ("name", "code", "parent_id", "sort_order", "is_active")}
    target.name, target.code, target.parent = name.strip(), code.strip(), parent
    target.sort_order, target.is_active = sort_order, is_active
    errors: dict[str, list[str]] = {}
    if parent is not None and (parent.parent_id is not None or parent.pk == target.pk):
        errors["parent"] = [_("问题分类最多两级：上级必须是一级分类。")]
    if parent is not None and target.pk and target.children.exists():
        errors["parent"] = [_("该分类下还有子分类，不能再挂到其他分类之下。")]
    try:
        target.full_clean()
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        target.save()
        record_event(
            actor=actor,
            action="category.change" if category else "category.create",
            obj=target,
            data={"before": before if category else None, "parent": parent.pk if parent else None},
        )
    return target


def record_view(*, user: Any, petition: Petition, via: str) -> None:
    """Audit that ``user`` was shown ``petition`` with its personal data (names, masked numbers):
    the staff page (``via="web"``) and the API's detail (``via="api"``) alike (issue #7 point 23)."""
    record_event(actor=user, action="petition.view", obj=petition, data={"via": via})
