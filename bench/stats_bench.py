"""Benchmark: the statistics page of a city at N petitions, from the roll-up and from the facts
(issue #9 §3).

    .venv/bin/python bench/stats_bench.py                    # 1,000,000 petitions, seeded once, kept
    .venv/bin/python bench/stats_bench.py --rebuild          # time `xinfang rebuild_stats` again first
    .venv/bin/python bench/stats_bench.py --petitions 100000 --db xinfang_bench_stats100k
    .venv/bin/python bench/stats_bench.py --explain 3        # EXPLAIN ANALYZE of the 3 slowest reads
    .venv/bin/python bench/stats_bench.py --drop             # drop the database afterwards

It seeds ``xinfang_bench_stats`` on 127.0.0.1:5432 with the demo tree, accounts and N petitions
(once, as ``workbench_bench.py`` does; keys in ``var/bench-stats.env``), runs ``rollup.rebuild``
(``xinfang rebuild_stats``) when the counts are empty or with ``--rebuild`` and prints its time,
then times the statistics page's reads for each city and the province over a few periods:

* every metric summed for the period, its 环比 (``previous()``) and its 同比 (``year_before()``);
* every metric by month, by child area (the counties side by side) and by unit (organisation);
* every metric broken down by category, channel, purpose and locality.

When ``stats.tables`` (the statistics page's service) exists it is timed too.  The same reads are
then computed straight from the fact tables (one conditional-count GROUP BY per source, with the
same conditions as ``metrics.py``): the cost of the page without the roll-up, and a check that
the roll-up and the facts agree.  Target: the city's page p95 ≤ 200 ms at 1,000,000 petitions.
``stats_keepup.py`` reuses the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from workbench_bench import DEFAULT_DB as _WB_DB  # noqa: F401 - the conventions come from there
from workbench_bench import QueryCounter, drop, load, prepare, setup_django

DEFAULT_DB = "xinfang_bench_stats"
TARGET_P95_MS = 200.0
DIMENSIONS = ("category", "channel", "purpose", "locality")


# --- the page's reads ---------------------------------------------------------------------------


def page_reads(scope: str, period: Any, today: dt.date) -> list[tuple[str, Callable[[], Any]]]:
    """What the statistics page reads for ``scope`` and ``period``, as (label, call) pairs."""
    from xinfang.stats import figures
    from xinfang.stats.figures import Slice
    from xinfang.stats.metrics import METRICS

    names = list(METRICS)
    whole = Slice(scope=scope)

    def call(p: Any, where: Any, by: str = "") -> Callable[[], Any]:
        return lambda: figures.counts(names, p, where, by=by, today=today)

    reads = [
        ("totals", call(period, whole)),
        ("totals 环比", call(period.previous(), whole)),
        ("totals 同比", call(period.year_before(), whole)),
        ("by month", call(period, whole, "month")),
        ("by child", call(period, whole, "child")),
        ("by organisation", call(period, whole, "organisation")),
    ]
    reads += [(f"by {d}", call(period, Slice(scope=scope, dimension=d), "key")) for d in DIMENSIONS]
    return reads


def direct_counts(
    names: list[str], period: Any, scope: str, dimension: str, by: str, today: dt.date
) -> dict[Any, dict[str, int]]:
    """``figures.counts`` computed from the fact tables instead of the roll-up: per source one
    GROUP BY with a filtered COUNT (or SUM of headcounts) per metric — the naive page."""
    from django.db.models import Count, F, Q, Sum
    from django.db.models.functions import TruncMonth

    from xinfang.stats import figures
    from xinfang.stats.metrics import METRICS

    by_source: dict[Any, list[Any]] = defaultdict(list)
    for name in names:
        by_source[METRICS[name].source].append(METRICS[name])
    result: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for source, metrics in by_source.items():
        end = min(period.end, today - dt.timedelta(days=1)) if source.elapsed_only else period.end
        if end < period.start:
            continue
        q = source.on_days(period.start, end)
        if scope:
            q &= Q(**{f"{source.organisation}__path__startswith": scope})
        group: dict[str, Any] = {}
        if by == "month":
            group["g"] = TruncMonth(source.date)
        elif by == "key":
            field = dimension if dimension in ("channel", "purpose") else f"{dimension}_id"
            group["g"] = F(source.lookup(field))
        elif by in ("child", "organisation"):
            group["g"] = F(f"{source.organisation}__path")
        persons = source.lookup("headcount")
        aggregates = {
            m.name: Sum(persons, filter=m.where()) if m.persons else Count("pk", filter=m.where())
            for m in metrics
        }
        qs = source.model.objects.filter(q)
        rows = qs.values(**group).annotate(**aggregates).order_by() if group else [qs.aggregate(**aggregates)]
        for row in rows:
            key = row.get("g")
            if by == "child":
                key = figures._child_path(key, scope)
            elif by == "month" and isinstance(key, dt.datetime):
                key = key.date()
            elif by == "key":
                key = str(key)
            for m in metrics:
                if row[m.name]:
                    result[key][m.name] += row[m.name]
    return result


def direct_reads(scope: str, period: Any, today: dt.date) -> list[tuple[str, Callable[[], Any]]]:
    from xinfang.stats.metrics import METRICS

    names = list(METRICS)

    def call(p: Any, dimension: str = "", by: str = "") -> Callable[[], Any]:
        return lambda: direct_counts(names, p, scope, dimension, by, today)

    reads = [
        ("totals", call(period)),
        ("totals 环比", call(period.previous())),
        ("totals 同比", call(period.year_before())),
        ("by month", call(period, by="month")),
        ("by child", call(period, by="child")),
        ("by organisation", call(period, by="organisation")),
    ]
    reads += [(f"by {d}", call(period, d, "key")) for d in DIMENSIONS]
    return reads


def service_reads(
    org: Any, period: Any, today: dt.date, with_dashboard: bool = False
) -> list[tuple[str, Callable[[], Any]]]:
    """The statistics page's and the dashboard's own services, when they exist (other helpers'
    modules: measured as they are at the time of the run)."""
    reads: list[tuple[str, Callable[[], Any]]] = []
    try:
        from xinfang.stats import tables

        query = tables.Query(period=period, scope=org)
        reads.append(("tables.statistics_tables (page)", lambda: tables.statistics_tables(query)))
    except (ImportError, AttributeError, TypeError) as exc:
        print(f"   (stats.tables not measured: {exc})")
    if not with_dashboard:
        return reads
    try:
        from xinfang.stats import dashboard

        for view in ("leader", "supervisor", "office"):
            filters = dashboard.Filters.make(period, org, today=today)
            reads.append((f"dashboard.build ({view})", lambda f=filters, v=view: dashboard.build(f, v)))
    except (ImportError, AttributeError, TypeError) as exc:
        print(f"   (stats.dashboard not measured: {exc})")
    return reads


def http_pages(repeat: int, with_dashboard: bool = False) -> float:
    """The pages over HTTP (test client: middleware, session, template) for a city and a county
    user with their default filters (the current year)."""
    from django.test import Client

    from xinfang.organisations.models import User

    print(f"\n-- whole requests, default filters ({load()})")
    worst_city = 0.0
    for username in ("city_supervisor", "supervisor", "leader"):
        user = User.objects.select_related("organisation").filter(username=username).first()
        if user is None:
            continue
        client = Client()
        client.force_login(user)
        for url in ("/staff/stats/", "/staff/stats/dashboard/")[: 2 if with_dashboard else 1]:
            response = client.get(url)
            if response.status_code != 200:
                print(f"   {username} GET {url} -> {response.status_code}")
                continue
            samples = [run_all([(url, lambda c=client, u=url: c.get(u))]) for _ in range(repeat)]
            p50, p95, top = percentiles(samples)
            label = f"{username} ({user.organisation}) GET {url}"
            if username == "city_supervisor" and url == "/staff/stats/":
                worst_city = p95
            print(f"   {label:<49} {p50:>8.1f} {p95:>8.1f} {top:>8.1f}")
    return worst_city


def _plain(counts: dict[Any, dict[str, int]]) -> dict[Any, dict[str, int]]:
    return {k: {m: v for m, v in row.items() if v} for k, row in counts.items() if any(row.values())}


# --- measuring ------------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, max(0, round(len(samples) * 0.95) - 1))]
    return statistics.median(samples), p95, samples[-1]


def run_all(reads: list[tuple[str, Callable[[], Any]]]) -> float:
    started = time.perf_counter()
    for _label, fn in reads:
        fn()
    return (time.perf_counter() - started) * 1000


def scopes() -> list[tuple[str, Any]]:
    """The cities (the target), the province and one county, with the scope path a user of each
    sees (``figures.area_of``: the government of its petition office)."""
    from xinfang.organisations.choices import Level, OrganisationKind
    from xinfang.organisations.models import Organisation

    governments = Organisation.objects.filter(kind=OrganisationKind.GOVERNMENT)
    chosen = [("city", g) for g in governments.filter(level=Level.CITY).order_by("path")]
    chosen += [("province", g) for g in governments.filter(level=Level.PROVINCE).order_by("path")[:1]]
    chosen += [("county", g) for g in governments.filter(level=Level.COUNTY).order_by("path")[:1]]
    return chosen


def periods(today: dt.date) -> list[tuple[str, Any]]:
    from xinfang.stats.figures import Period

    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    quarter = (today.month - 1) // 3 + 1
    return [
        (f"year {today.year - 1}", Period.year(today.year - 1)),
        (f"year {today.year}", Period.year(today.year)),
        (f"Q{quarter} {today.year}", Period.quarter(today.year, quarter)),
        (f"month {last_month:%Y-%m}", Period.month(last_month.year, last_month.month)),
        ("last 30 days", Period(today - dt.timedelta(days=30), today - dt.timedelta(days=1))),
    ]


def time_rebuild() -> None:
    from django.db import connection

    from xinfang.stats import rollup
    from xinfang.stats.models import DailyCount, MonthlyCount

    print(f"== rebuild_stats ({load()})", flush=True)
    started = time.perf_counter()
    days = rollup.rebuild()
    seconds = time.perf_counter() - started
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) stats_dailycount")
        cur.execute("VACUUM (ANALYZE) stats_monthlycount")
    print(
        f"   {days:,} days in {seconds:.1f} s; {DailyCount.objects.count():,} daily rows, "
        f"{MonthlyCount.objects.count():,} monthly rows ({load()})",
        flush=True,
    )


class Rollback(Exception):
    """Raised to roll a sampling transaction back."""


def per_day_sample(n: int) -> None:
    """The per-day way of rebuilding (``compute_day`` then ``bulk_create``, as ``rebuild`` did
    before it became set-based, and as the refresh does for each marked day), timed on ``n`` days
    spread over the data inside a transaction that is rolled back, and extrapolated."""
    from django.db import transaction

    from xinfang.stats import rollup
    from xinfang.stats.models import DailyCount

    days = rollup.fact_days()
    step = max(1, len(days) // n)
    sample = days[::step][:n]
    compute = write = 0.0
    rows = 0
    try:
        with transaction.atomic():
            DailyCount.objects.all().delete()
            for day in sample:
                started = time.perf_counter()
                counts = rollup.compute_day(day)
                compute += time.perf_counter() - started
                started = time.perf_counter()
                DailyCount.objects.bulk_create(rollup._daily_rows(day, counts), batch_size=2000)
                write += time.perf_counter() - started
                rows += len(counts)
            raise Rollback
    except Rollback:
        pass
    k = len(sample)
    per_day = (compute + write) / k
    print(
        f"   per-day path on {k} of {len(days):,} days: compute_day {compute / k * 1000:.0f} ms"
        f" + bulk_create {write / k * 1000:.0f} ms per day ({rows / k:,.0f} rows);"
        f" all days ≈ {per_day * len(days) / 60:.1f} min ({load()})",
        flush=True,
    )


def measure(
    repeat: int,
    direct_repeat: int,
    explain: int,
    only: str,
    max_periods: int = 5,
    with_dashboard: bool = False,
) -> int:
    from django.db import connection
    from django.utils import timezone

    from xinfang.petitions.models import Petition

    today = timezone.localdate()
    print(
        f"\n== {Petition.objects.count():,} petitions; today {today}; {load()}; "
        f"PostgreSQL {connection.pg_version // 10000}; {repeat} runs after a warm-up "
        f"(from the facts: {direct_repeat})"
    )
    print(f"{'scope / period / read':<52} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
    worst_city = 0.0
    mismatches = 0
    for kind, org in scopes():
        if only and only not in kind:
            continue
        for plabel, period in periods(today)[:max_periods]:
            reads = page_reads(org.path, period, today)
            run_all(reads)  # warm
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                run_all(reads)
            samples = [run_all(reads) for _ in range(repeat)]
            p50, p95, top = percentiles(samples)
            if kind == "city":
                worst_city = max(worst_city, p95)
            print(f"-- {kind} {org.name}, {plabel} ({load()})")
            print(f"   {'page from the roll-up (' + str(len(reads)) + ' reads)':<49} "
                  f"{p50:>8.1f} {p95:>8.1f} {top:>8.1f} {counter.count:>8}")  # fmt: skip
            for label, fn in reads:
                one = [run_all([(label, fn)]) for _ in range(max(3, repeat // 4))]
                a, b, c = percentiles(one)
                print(f"     {label:<47} {a:>8.1f} {b:>8.1f} {c:>8.1f}")
            for label, fn in service_reads(org, period, today, with_dashboard):
                try:
                    run_all([(label, fn)])
                except Exception as exc:  # noqa: BLE001 - another helper's module, maybe mid-change
                    print(f"   {label}: {type(exc).__name__}: {exc}")
                    continue
                a, b, c = percentiles([run_all([(label, fn)]) for _ in range(max(5, repeat // 2))])
                if kind == "city" and label.startswith("tables."):
                    worst_city = max(worst_city, b)
                print(f"   {label:<49} {a:>8.1f} {b:>8.1f} {c:>8.1f}")
            if explain:
                explain_slowest(counter, explain)
            if direct_repeat:
                mismatches += compare_direct(org.path, period, today, reads, direct_repeat)
    if not only or only == "http":
        worst_city = max(worst_city, http_pages(max(5, repeat // 2), with_dashboard))
    verdict = "met" if worst_city <= TARGET_P95_MS else "NOT MET"
    print(f"\nworst city page p95 {worst_city:.1f} ms: target p95 <= {TARGET_P95_MS:.0f} ms {verdict}; "
          f"roll-up vs facts mismatches: {mismatches}  ({load()})")  # fmt: skip
    return 0 if worst_city <= TARGET_P95_MS and not mismatches else 1


def compare_direct(scope: str, period: Any, today: dt.date, reads: list, repeat: int) -> int:
    """Time the page computed from the facts and check each read against the roll-up's."""
    direct = direct_reads(scope, period, today)
    samples, results = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        results = [fn() for _label, fn in direct]
        samples.append((time.perf_counter() - started) * 1000)
    p50, p95, top = percentiles(samples)
    print(f"   {'page from the facts (direct GROUP BY)':<49} {p50:>8.1f} {p95:>8.1f} {top:>8.1f}")
    bad = 0
    for (label, rolled), facts in zip(reads, results, strict=True):
        a, b = _plain(rolled()), _plain(facts)
        if a != b:
            bad += 1
            diff = {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
            example = next(iter(diff.items()))
            print(f"   !! {label}: roll-up and facts differ in {len(diff)} groups, e.g. {example}")
    return bad


def explain_slowest(counter: QueryCounter, n: int) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        for _ms, sql, params in counter.slowest(n):
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join(r[0] for r in cur.fetchall())
            print(f"\n   {_ms:.1f} ms: {sql[:300]}\n{plan}\n")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--petitions", type=int, default=1_000_000)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--repeat", type=int, default=30, help="runs of the whole page per scope and period")
    parser.add_argument(
        "--direct-repeat", type=int, default=3, help="runs of the page from the facts (0: skip)"
    )
    parser.add_argument("--rebuild", action="store_true", help="time rebuild_stats even if counts exist")
    parser.add_argument("--per-day-sample", type=int, default=0, metavar="N",
                        help="time the per-day recomputation on N days and extrapolate")  # fmt: skip
    parser.add_argument("--periods", type=int, default=5, help="how many of the periods to measure")
    parser.add_argument("--dashboard", action="store_true", help="time dashboard.build too (slow: hotspots)")
    parser.add_argument("--only", default="", help="city, province or county")
    parser.add_argument(
        "--explain", type=int, default=0, metavar="N", help="EXPLAIN ANALYZE the N slowest reads"
    )
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    args = parser.parse_args()
    env = prepare(args.db, args.petitions)
    setup_django(env)
    try:
        from xinfang.stats.models import DailyCount

        if args.per_day_sample:
            per_day_sample(args.per_day_sample)
        if args.rebuild or not DailyCount.objects.exists():
            time_rebuild()
        return measure(args.repeat, args.direct_repeat, args.explain, args.only, args.periods, args.dashboard)
    finally:
        if args.drop:
            drop(args.db)


if __name__ == "__main__":
    sys.exit(main())
