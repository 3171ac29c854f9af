"""Benchmark: does the statistics roll-up keep up with registration? (issue #9 §3: 600 petitions/s)

    .venv/bin/python bench/stats_keepup.py                        # 4 registering processes, 60 s
    .venv/bin/python bench/stats_keepup.py --processes 6 --seconds 60 --refresh-every 15
    .venv/bin/python bench/stats_keepup.py --without-stats        # the same with the marking receiver off

It reuses the database of ``stats_bench.py`` (``xinfang_bench_stats``: seeded once, kept; the
counts rebuilt there).  Each registering process is a petition office's intake clerk calling
``workflow.services.register`` in a loop — the function the staff page and the API call — for
one office of its own (numbers are issued per office under a row lock, so clerks of one office
queue on each other whatever the statistics do).  Meanwhile:

* a refresh process runs ``stats.rollup.refresh()`` every ``--refresh-every`` seconds (the worker
  runs it every minute) and records how long each took and how many days it recomputed;
* a monitor samples, every 0.2 s, the number of ``DirtyDay`` marks (the backlog) and the sessions
  waiting on a lock, with what they were running.

Inside each registering process the stats receiver (``stats.receivers.on_transition``: the days a
registration touches and their ``DirtyDay`` marks) is timed; ``--without-stats`` disconnects it,
so the two runs give the marking's cost on throughput.  The registrations are committed: the kept
database grows by what they registered (dated today).  At the end the backlog is refreshed until
empty and the last refresh is timed, and the counts of today are checked against the facts.

Registration through the services stops at about 10/s on this machine (the audit chain head row,
docs/performance.md), far below 600/s, so it cannot show whether the *roll-up* keeps up at 600/s.
``--feed RATE`` measures the roll-up alone: a feeder process writes, every second, ``RATE``
petitions dated today with their disposal deadline records and marks their days, in one
transaction, as a registration does for the facts the figures read (copies of seeded petitions,
``INSERT … SELECT``: no timeline, audit or petitioner rows, which no figure reads); the refresh
runs every ``--refresh-every`` seconds as the worker does (60).  It keeps up when every refresh
finishes before the next is due and the backlog stays at the days the feed touches.

    .venv/bin/python bench/stats_keepup.py --feed 600 --seconds 300 --refresh-every 60
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import statistics
import sys
import time
from typing import Any

from stats_bench import DEFAULT_DB
from workbench_bench import _bulk_users, drop, load, prepare, setup_django

TARGET_PER_SECOND = 600


def _offices(n: int) -> list[tuple[int, str, list[int]]]:
    """``n`` petition offices with an intake clerk each (created when missing) and the townships
    and villages of their government (the petitions' localities)."""
    from xinfang.organisations.models import Organisation

    offices = list(
        Organisation.objects.filter(kind="petition_office").select_related("parent").order_by("path")
    )
    # County offices first: most registrations happen there.
    offices.sort(key=lambda o: (o.path.count("/") * -1, o.path))
    chosen = offices[:n]
    _bulk_users([(f"bench_i{o.pk}", o.pk, "intake", f"登记员{o.pk}") for o in chosen])
    result = []
    for office in chosen:
        area = office.parent
        places = list(
            Organisation.objects.filter(
                path__startswith=area.path, level__in=("township", "village")
            ).values_list("pk", flat=True)[:50]
        ) or [area.pk]
        result.append((office.pk, f"bench_i{office.pk}", places))
    return result


def registrar(env: dict, office_id: int, username: str, places: list[int], until: float, stats_on: bool,
              out: Any) -> None:  # fmt: skip
    """One intake clerk registering petitions for its office until ``until`` (a time.time())."""
    setup_django(env)
    from django.db import connection

    from xinfang.organisations.models import Organisation, User
    from xinfang.petitions.drafts import PetitionDraft, PetitionerDraft
    from xinfang.petitions.models import Category
    from xinfang.stats import receivers
    from xinfang.workflow import services
    from xinfang.workflow.signals import transition_performed

    marking: list[float] = []
    transition_performed.disconnect(dispatch_uid="xinfang.stats.on_transition")
    if stats_on:

        def timed_marking(sender: Any, **kwargs: Any) -> None:
            started = time.perf_counter()
            receivers.on_transition(sender, **kwargs)
            marking.append(time.perf_counter() - started)

        transition_performed.connect(timed_marking, dispatch_uid="bench.timed_marking", weak=False)
    office = Organisation.objects.get(pk=office_id)
    clerk = User.objects.select_related("organisation").get(username=username)
    categories = list(Category.objects.filter(parent__isnull=False).values_list("pk", flat=True)[:40])
    today = dt.date.today()
    latencies: list[float] = []
    errors = 0
    i = 0
    while time.time() < until:
        i += 1
        draft = PetitionDraft(
            channel=("letter", "visit", "online", "phone")[i % 4],
            purpose=("complaint", "request", "suggestion")[i % 3],
            title="拖欠农民工工资（基准测试）",
            content="某建筑工地拖欠农民工工资，多次讨要未果，请求协调解决。（基准测试数据）",
            category_id=categories[i % len(categories)],
            locality_id=places[i % len(places)],
            received_on=today,
            petitioners=[
                PetitionerDraft(name=f"测试{office_id}-{i}", phone=f"139{office_id:04d}{i % 10000:04d}")
            ],
        )
        started = time.perf_counter()
        try:
            services.register(draft=draft, office=office, actor=clerk)
        except Exception as exc:  # noqa: BLE001 - counted and shown once; the bench goes on
            errors += 1
            if errors == 1:
                print(f"   !! {username}: {type(exc).__name__}: {exc}", flush=True)
            continue
        latencies.append(time.perf_counter() - started)
    connection.close()
    out.put({"latencies": latencies, "marking": marking, "errors": errors})


def refresher(env: dict, every: float, until: float, out: Any) -> None:
    setup_django(env)
    from xinfang.stats import rollup

    runs = []
    while time.time() < until:
        started = time.perf_counter()
        days = rollup.refresh()
        runs.append((time.time(), time.perf_counter() - started, days))
        time.sleep(max(0.0, every - (time.perf_counter() - started)))
    out.put({"refreshes": runs})


def feeder(env: dict, rate: int, start: float, until: float, out: Any) -> None:
    """``rate`` petitions a second, dated today, each with its disposal deadline record and the
    marks a registration makes (today and the deadline's due day), one transaction a second."""
    setup_django(env)
    from django.db import connection, transaction
    from django.utils import timezone

    from xinfang.petitions.models import Petition
    from xinfang.stats import rollup
    from xinfang.workflow.models import DeadlineKind, DeadlineRecord

    today = timezone.localdate()
    due = today + dt.timedelta(days=15)
    overrides = {
        "number": "'FEED-' || %(run)s || '-' || (row_number() OVER ())::text",
        "received_on": "%(today)s", "registered_at": "now()", "updated_at": "now()",
        "status": "'registered'", "conclusion": "''", "concluded_on": "NULL", "due_on": "%(due)s",
        "handler_id": "NULL", "repeat_of_id": "NULL", "is_repeat": "false", "version": "1",
    }  # fmt: skip
    columns = [f.column for f in Petition._meta.concrete_fields if not f.primary_key]
    select = ", ".join(overrides.get(c, f'"{c}"') for c in columns)
    table = Petition._meta.db_table
    sql = (
        f"INSERT INTO {table} ({', '.join(chr(34) + c + chr(34) for c in columns)}) "
        f"SELECT {select} FROM {table} WHERE id > %(after)s AND number NOT LIKE 'FEED-%%' "
        f"ORDER BY id LIMIT %(rate)s RETURNING id, office_id"
    )
    with connection.cursor() as cur:
        cur.execute(f"SELECT min(id), max(id) FROM {table}")
        low, high = cur.fetchone()
    paths = dict(
        Petition.office.field.related_model.objects.values_list("pk", "path")  # type: ignore[attr-defined]
    )
    batches, fed, lag = [], 0, 0.0
    time.sleep(max(0.0, start - time.time()))
    tick = start
    n = 0
    while tick < until:
        n += 1
        started = time.perf_counter()
        after = low + (n * 7919 * rate) % max(1, high - low - rate)
        with transaction.atomic(), connection.cursor() as cur:
            params = {"run": str(int(tick)), "today": today, "due": due, "after": after, "rate": rate}
            cur.execute(sql, params)
            rows = cur.fetchall()
            DeadlineRecord.objects.bulk_create(
                DeadlineRecord(
                    petition_id=pid,
                    kind=DeadlineKind.DISPOSAL,
                    organisation_id=office,
                    organisation_path=paths[office],
                    started_on=today,
                    due_on=due,
                )  # fmt: skip
                for pid, office in rows
            )
            rollup.mark_days([today, due])
        fed += len(rows)
        batches.append(time.perf_counter() - started)
        tick += 1.0
        pause = tick - time.time()
        if pause > 0:
            time.sleep(pause)
        else:
            lag = max(lag, -pause)
    connection.close()
    out.put({"fed": fed, "batches": batches, "lag": lag})


def feed_run(env: dict, rate: int, seconds: float, every: float) -> dict:
    from django.db import connection

    from xinfang.stats import rollup

    rollup.refresh()
    connection.close()
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    start = time.time() + 3
    until = start + seconds
    procs = [
        ctx.Process(target=feeder, args=(env, rate, start, until, out)),
        ctx.Process(target=refresher, args=(env, every, until, out)),
        ctx.Process(target=monitor, args=(env, until, out)),
    ]
    for p in procs:
        p.start()
    merged: dict[str, Any] = {"seconds": seconds}
    for _ in procs:
        merged.update(out.get())
    for p in procs:
        p.join()
    return merged


def feed_report(rate: int, every: float, r: dict) -> None:
    batches = sorted(r["batches"])
    seconds = r["seconds"]
    print(f"\n-- feed {rate}/s for {seconds:.0f} s: {r['fed']:,} petitions = {r['fed'] / seconds:.1f}/s; "
          f"feeder transaction p50 {statistics.median(batches) * 1000:.0f} ms, "
          f"max {batches[-1] * 1000:.0f} ms; fell behind by at most {r['lag']:.1f} s ({load()})")  # fmt: skip
    for at, took, days in r["refreshes"]:
        print(f"   refresh at +{at - r['refreshes'][0][0]:5.0f} s: {took * 1000:8.0f} ms, {days} days")
    durations = [d for _t, d, _n in r["refreshes"]]
    backlog = [b for _t, b, _w in r["samples"]]
    verdict = "keeps up" if max(durations) < every else "FALLS BEHIND"
    print(f"   refresh max {max(durations) * 1000:.0f} ms against {every:.0f} s between refreshes: "
          f"{verdict}; DirtyDay backlog max {max(backlog)} days")  # fmt: skip


def monitor(env: dict, until: float, out: Any) -> None:
    """Backlog of marks and lock waits, sampled every 0.2 s."""
    import psycopg

    url = env["DATABASE_URL"]
    samples = []
    waits: dict[str, int] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        while time.time() < until:
            backlog = conn.execute("SELECT count(DISTINCT day) FROM stats_dirtyday").fetchone()[0]
            rows = conn.execute(
                "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 90) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchall()
            for (query,) in rows:
                waits[query] = waits.get(query, 0) + 1
            samples.append((time.time(), backlog, len(rows)))
            time.sleep(0.2)
    out.put({"samples": samples, "waits": waits})


def run(env: dict, processes: int, seconds: float, every: float, stats_on: bool) -> dict:
    from django.db import connection

    from xinfang.stats import rollup

    offices = _offices(processes)
    rollup.refresh()  # start from a refreshed state: the backlog is this run's

    connection.close()
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    start = time.time() + 3  # the processes start Django first
    until = start + seconds
    procs = [ctx.Process(target=registrar, args=(env, o, u, p, until, stats_on, out)) for o, u, p in offices]
    procs.append(ctx.Process(target=monitor, args=(env, until, out)))
    if stats_on:
        procs.append(ctx.Process(target=refresher, args=(env, every, until, out)))
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    merged: dict[str, Any] = {"latencies": [], "marking": [], "errors": 0, "refreshes": [], "samples": []}
    waits: dict[str, int] = {}
    for r in results:
        for key in ("latencies", "marking", "refreshes", "samples"):
            merged[key] += r.get(key, [])
        merged["errors"] += r.get("errors", 0)
        for q, n in r.get("waits", {}).items():
            waits[q] = waits.get(q, 0) + n
    merged["waits"] = waits
    merged["seconds"] = seconds
    if not stats_on:  # nothing marked today's registrations: let the next refresh count them
        rollup.mark_days([dt.date.today()])
    return merged


def report(label: str, r: dict) -> None:
    lat = sorted(r["latencies"])
    n = len(lat)
    print(f"\n-- {label}: {n:,} registrations in {r['seconds']:.0f} s = {n / r['seconds']:.1f}/s "
          f"(target {TARGET_PER_SECOND}/s); errors {r['errors']}  ({load()})")  # fmt: skip
    if lat:
        p95 = lat[min(n - 1, round(n * 0.95) - 1)]
        print(f"   register latency p50 {statistics.median(lat) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
              f"max {lat[-1] * 1000:.1f} ms")  # fmt: skip
    if r["marking"]:
        mk = sorted(r["marking"])
        p95 = mk[min(len(mk) - 1, round(len(mk) * 0.95) - 1)]
        p50 = statistics.median(mk) * 1000
        print(f"   stats marking (receiver) p50 {p50:.2f} ms, p95 {p95 * 1000:.2f} ms, "
              f"max {mk[-1] * 1000:.1f} ms; {sum(mk):.1f} s of {sum(lat):.1f} s registering")  # fmt: skip
    if r["refreshes"]:
        durations = [d for _t, d, _n in r["refreshes"]]
        days = [n for _t, _d, n in r["refreshes"]]
        print(f"   refreshes {len(durations)}: duration p50 {statistics.median(durations) * 1000:.0f} ms, "
              f"max {max(durations) * 1000:.0f} ms; days recomputed per refresh max {max(days)}")  # fmt: skip
    backlog = [b for _t, b, _w in r["samples"]]
    waiting = [w for _t, _b, w in r["samples"]]
    if backlog:
        print(f"   DirtyDay backlog: max {max(backlog)}, last {backlog[-1]}; sessions waiting on a lock: "
              f"max {max(waiting)}, in {sum(1 for w in waiting if w)} of {len(waiting)} samples")  # fmt: skip
    for q, count in sorted(r["waits"].items(), key=lambda kv: -kv[1])[:5]:
        print(f"     lock wait x{count}: {q}")


def catch_up() -> None:
    """Refresh what is left and check today's counts against the facts."""
    from django.utils import timezone

    from xinfang.stats import figures, rollup
    from xinfang.stats.figures import Period, Slice

    started = time.perf_counter()
    days = rollup.refresh()
    print(
        f"   catch-up refresh after the run: {days} days in {(time.perf_counter() - started) * 1000:.0f} ms"
    )
    today = timezone.localdate()
    period = Period(today, today)
    rolled = figures.counts(["received", "persons"], period, Slice(), today=today)[None]
    facts = {
        n: figures.drill_total(n, figures.drill(n, period, Slice(), today=today))
        for n in ("received", "persons")
    }
    verdict = "agree" if dict(rolled) == facts else "DIFFER"
    print(f"   today's counts: roll-up {dict(rolled)}, facts {facts}: {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--petitions", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=4, help="registering processes (one office each)")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--refresh-every", type=float, default=15, help="seconds between refreshes")
    parser.add_argument("--without-stats", action="store_true", help="only the run without the receiver")
    parser.add_argument("--both", action="store_true", help="a run without the receiver, then one with it")
    parser.add_argument("--feed", type=int, default=0, metavar="RATE",
                        help="feed RATE petitions/s set-based (the roll-up alone)")  # fmt: skip
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    args = parser.parse_args()
    env = prepare(args.db, args.petitions)
    setup_django(env)
    try:
        keep_up(env, args)
    finally:
        if args.drop:
            drop(args.db)
    return 0


def keep_up(env: dict, args: argparse.Namespace) -> None:
    if args.feed:
        feed_report(args.feed, args.refresh_every, feed_run(env, args.feed, args.seconds, args.refresh_every))
        catch_up()
        return
    if args.without_stats or args.both:
        report(
            "without the stats receiver", run(env, args.processes, args.seconds, args.refresh_every, False)
        )
    if not args.without_stats:
        result = run(env, args.processes, args.seconds, args.refresh_every, True)
        report(f"with marking, refresh every {args.refresh_every:.0f} s", result)
        catch_up()


if __name__ == "__main__":
    sys.exit(main())
