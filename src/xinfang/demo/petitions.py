"""Bulk generation of demo and benchmark petitions (``xinfang seed --petitions N``).

Rows are stored exactly as ``petitions.services.register_petition`` stores them — numbers from the
office's NumberSequence, the query-code hash, encrypted ID and phone numbers with their blind
indexes and masks, the office Involvement row, the registration event — but a million at a time.
The work is split in three so that it can be spread over the cores:

1. **plan** (``plan.py``, this thread, sequential, cheap): where and when each petition arises,
   which office registers it, its number, and which earlier petition it repeats.  Everything that
   depends on earlier petitions is decided here.
2. **render** (``render.py``, worker processes, independent per chunk): the petitioners, the words,
   the hashes, the Fernet encryption (most of the CPU time) and the COPY text.
3. **write** (this module and ``pgload.py``, a writer thread): ``COPY … FROM STDIN`` on
   PostgreSQL, ``bulk_create`` elsewhere, all in one transaction, so an interrupted run leaves
   nothing behind and the numbers stay gap-free.

Only the plan draws from the ``--seed`` generator, and it hands each chunk and each matter a seed of
its own, so the data depend on the seed and not on the number of workers.  docs/performance.md
has the measurements.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import queue
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import islice

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from xinfang.audit.services import record_event
from xinfang.core.partitions import ensure_months
from xinfang.organisations.models import Organisation, User
from xinfang.petitions.models import Category, NumberSequence, Petition, PetitionEvent
from xinfang.workflow.models import DecisionLetter

from .drive import DRIVE_UNIT, can_drive, demo_actors, replay
from .pgload import copy_columns, copy_writer, drop_secondary, restore_secondary
from .plan import SPAN_DAYS, LocalityInfo, Planner, localities_of, office_infos_of
from .render import TABLES, RenderContext, Rendered, init_worker, render_chunk, render_in_worker
from .stories import StoryTeller
from .storyrows import OrgInfo, org_infos, story_notes
from .tree import DemoTree

# The small demo replays this many of county 1's stories through the services (drive.py); a bigger
# load writes every story in bulk.
DRIVE_SAMPLE = 150
DRIVE_MAX_COUNT = 20_000
SEED_USER = "demo-seed"  # signs the bulk decision letters of units without a demo handler


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
    driven: int = 0  # petitions whose story the services replayed (drive.py)
    driven_actions: int = 0
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # replayed actions refused
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
    drive: int | None = None,
) -> SeedResult:
    """Top the demo tree up to ``target`` petitions (registered by its offices); never remove any.

    ``method`` is "copy" (PostgreSQL COPY), "orm" (bulk_create) or "auto" (COPY on PostgreSQL).
    ``workers`` processes render the chunks (None: one per core when there is enough work, 0: render
    in this process).  ``defer_indexes`` (PostgreSQL; None: for big loads) builds the secondary
    indexes and foreign keys after the load (see drop_secondary).  Deterministic for a given
    ``seed``, ``target`` and number of demo petitions already present.

    Each petition gets a story (stories.py): its state, due date, assignment, decision letter and
    timeline events are written with it.  ``drive`` petitions of county 1 at most (None: DRIVE_SAMPLE
    for a small demo with its accounts and freezegun, else 0) are instead replayed through the
    workflow services after the load (drive.py).
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

    office_infos = office_infos_of(offices)
    localities = localities_of(tree, office_infos)
    categories = dict(Category.objects.filter(is_active=True, parent__isnull=False).values_list("code", "id"))
    actors = demo_actors(tree) if drive != 0 and can_drive() else None
    if drive is None:
        drive = DRIVE_SAMPLE if actors is not None and count <= DRIVE_MAX_COUNT else 0
    if actors is None:
        drive = 0
    organisations = _story_organisations(offices, localities)
    drive_unit = tree.county_1.departments.get(DRIVE_UNIT)
    teller = StoryTeller(
        rng=random.Random(f"xinfang-demo-stories:{seed}:{existing}"),
        today=today,
        organisations=organisations,
        drive_office_id=tree.county_1.office.pk if tree.county_1.office else None,
        drive_unit_ids=frozenset({drive_unit.pk} if drive_unit else ()),
        drive_limit=drive,
    )
    ctx = RenderContext(
        offices=office_infos,
        localities={loc.id: loc for loc in localities},
        today=today,
        copy=method == "copy",
        orgs=_org_infos(organisations),
        notes=story_notes(),
    )
    if ctx.copy:
        ctx = replace(ctx, copy_suffixes=tuple(copy_columns(model, fields)[1] for model, fields in TABLES))
    if defer_indexes is None:
        # Worth it for a big load into a table that is small next to it (a fresh benchmark
        # database); a top-up of a big table would rebuild large indexes for little gain.
        defer_indexes = count >= 50_000 and count >= Petition.objects.count()
    defer_indexes = defer_indexes and connection.vendor == "postgresql"
    result.deferred_indexes = defer_indexes
    # The timeline's monthly partitions for the whole span (PostgreSQL; no-op on SQLite), so the
    # stories' dated events go to their months, not to the DEFAULT partition.
    ensure_months(today - dt.timedelta(days=SPAN_DAYS + 31), today, (PetitionEvent._meta.db_table,))
    with transaction.atomic():
        sequences = _lock_sequences(list(office_infos), today)
        # At most one bulk decision letter per petition; ids a run leaves unused are a harmless gap.
        teller.letter_ids = iter(take_ids(count, DecisionLetter))
        before = dict(sequences)
        deferred = None
        if defer_indexes:
            with _clock(result, "drop"):
                deferred = drop_secondary()
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
            ids=iter(take_ids(count)),
            teller=teller,
        )
        teller.sample_over(count * planner.share_of(teller.drive_office_id, teller.drive_unit_ids))
        driven: list[tuple[int, str, tuple]] = []

        def written(rendered: Rendered) -> None:
            result.created += rendered.petitions
            result.petitioners += rendered.petitioners
            result.events += rendered.events
            if not result.sample[0]:
                result.sample = rendered.sample
            if progress:
                progress(result.created, count, time.perf_counter() - started)

        writer = _Writer(
            copy_writer() if ctx.copy else _orm_chunk, written, result, depth=max(2, 2 * workers)
        )
        pool = None
        if workers:
            pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=init_worker,
                initargs=(ctx,),
            )
            # With fork the workers are forked on the first submit: do it now, while this is the
            # only thread (a fork copies no other thread, nor anything they hold locked).
            pool.submit(int).result()
        if ctx.copy:
            writer.start()  # COPY streams from a thread while this one plans
        try:
            plan = iter(planner)
            while True:
                with _clock(result, "plan"):
                    chunk = [tuple(p) for p in islice(plan, batch_size)]
                    chunk_seed = rng.getrandbits(63)
                    driven += [(p[0], p[1], p[-1][3]) for p in chunk if p[-1][4]]
                if not chunk:
                    break
                if pool is not None:
                    writer.put(pool.submit(render_in_worker, chunk, chunk_seed))
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
                restore_secondary(deferred)
        if driven and actors is not None:
            drive_started = time.perf_counter()  # freezegun stops the clocks while it runs
            replayed = replay(driven, actors)
            result.phases["drive"] = time.perf_counter() - drive_started
            result.driven, result.driven_actions, result.refused = (
                replayed.petitions,
                replayed.actions,
                replayed.refused,
            )
        _save_sequences(sequences, before)
        record_event(
            actor=None,
            action="demo.seed",
            data={"petitions": result.created, "seed": seed, "target": target, "method": method},
        )
        commit_started = time.perf_counter()  # the deferred foreign-key checks run at commit
    result.phases["commit"] = time.perf_counter() - commit_started
    if connection.vendor == "postgresql":
        # Fresh statistics, so the first queries after a big load get sensible plans; and, outside
        # a transaction, VACUUM too: it sets the visibility map, without which PostgreSQL will not
        # use index-only scans (the staff scope is one) until autovacuum gets round to it.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with _clock(result, "analyze"), connection.cursor() as cursor:
            for model, _fields in TABLES:
                cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")
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


def take_ids(n: int, model: type[Model] = Petition) -> list[int]:
    """``n`` new ids of ``model``, taken before the rows are written: children and repeats refer to
    them (and evaluations to their decision letter)."""
    table = model._meta.db_table
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


def _orm_chunk(rendered: Rendered) -> None:
    """Write one rendered chunk with bulk_create (personal data is encrypted by the model field)."""
    for (model, _fields), rows in zip(TABLES, rendered.tables, strict=True):
        model.objects.bulk_create([model(**row) for row in rows], batch_size=2000)  # type: ignore[attr-defined]


def _story_organisations(
    offices: list[Organisation], localities: list[LocalityInfo]
) -> dict[int, Organisation]:
    """Every office and department a story may name, by id (their paths select the rule profile)."""
    ids = {o.pk for o in offices} | {d for loc in localities for d, _name in loc.departments.values()}
    return {o.pk: o for o in Organisation.objects.filter(pk__in=ids)}


def _org_infos(organisations: dict[int, Organisation]) -> dict[int, OrgInfo]:
    """Rows and notes need each organisation's name, path, review notice and the user who signs its
    decision letters: a handler of the unit (a supervisor of an office) when the demo has one, else
    the seed's own inactive user (no password, no role: it cannot sign in)."""
    from xinfang.organisations.choices import RoleCode

    issuers: dict[int, int] = {}
    signers = (
        User.objects.filter(
            organisation__in=list(organisations.values()),
            roles__code__in=[RoleCode.HANDLER, RoleCode.SUPERVISOR],
            is_active=True,
        )
        .order_by("-pk")
        .values_list("organisation_id", "pk")
    )
    for org_id, user_id in signers:
        issuers[org_id] = user_id
    fallback = User.objects.filter(username=SEED_USER).values_list("pk", flat=True).first()
    if fallback is None:
        user = User(username=SEED_USER, full_name="演示数据", is_active=False)
        user.set_unusable_password()
        user.save()
        fallback = user.pk
    return org_infos(list(organisations.values()), issuers, fallback)
