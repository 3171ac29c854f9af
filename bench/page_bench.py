"""Benchmark: the staff petition page (issue #12 §3) on a database of N petitions.

    .venv/bin/python bench/page_bench.py                       # 1,000,000 petitions (seeded once, kept)
    .venv/bin/python bench/page_bench.py --petitions 100000
    .venv/bin/python bench/page_bench.py --drop                # drop the benchmark database afterwards

It seeds ``xinfang_bench_page`` on 127.0.0.1:5432 with the demo tree, accounts, stories and N
petitions (once: a database that already holds N petitions is reused), then renders the petition
page through Django's test client in this process (as ``bench/queue_bench.py`` times the queue):
one warm-up request, then ``--repeat`` timed ones, printing the median, the 95th percentile and the
number of SQL queries of one render.  Three petitions are measured for each of the county clerk,
the unit handler and the county supervisor: a plain seeded one, and the demo's richest (the one
with the most timeline events in the clerk's scope: supervision, documents, leaders …).
The target: ≤ 50 ms and ≤ 15 queries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg
from queue_bench import prepare  # bench/ is on sys.path when a bench runs as a script

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"
KEYS_FILE = ROOT / "var" / "bench-page.env"  # keys of the kept database: the data stay readable


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--petitions", type=int, default=1_000_000)
    parser.add_argument("--db", default="xinfang_bench_page")
    parser.add_argument("--repeat", type=int, default=30, help="timed renders of each page")
    parser.add_argument("--seed-only", action="store_true", help="prepare the database and stop")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    args = parser.parse_args()
    env = prepare(args.db, args.petitions, KEYS_FILE)
    os.environ.update(env)
    try:
        return 0 if args.seed_only else measure(args.repeat)
    finally:
        if args.drop:
            with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
            KEYS_FILE.unlink(missing_ok=True)


def measure(repeat: int) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from xinfang.organisations.models import User
    from xinfang.petitions.models import Petition

    clerk = User.objects.get(username="intake")
    plain = Petition.objects.restrict(clerk).order_by("-id").first()
    rich = (
        Petition.objects.restrict(clerk)
        .filter(pk__lt=20_000)  # the demo's own stories come first; do not count a million rows
        .annotate(n=Count("events"))
        .order_by("-n", "pk")
        .first()
    )
    accounts = ["intake", "handler", "supervisor"]
    total = Petition.objects.count()
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(f"\n== {total:,} petitions; load average {' '.join(load)} at the start")
    print(f"{'page':<44} {'median ms':>10} {'p95 ms':>10} {'queries':>8}")
    for username in accounts:
        user = User.objects.get(username=username)
        client = Client()
        client.force_login(user)
        for label, petition in (("plain", plain), ("rich", rich)):
            if not Petition.objects.restrict(user).filter(pk=petition.pk).exists():
                continue
            url = f"/staff/petitions/{petition.number}/"
            response = client.get(url)  # warm-up
            assert response.status_code == 200, (response.status_code, response.get("Location"))
            queries: list[str] = []  # counted by a wrapper: the test client's request closes the connection

            def count(execute, sql, params, many, context, queries=queries):  # noqa: ANN001, ANN202
                queries.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                client.get(url)
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                client.get(url)
                samples.append((time.perf_counter() - started) * 1000)
            samples.sort()
            p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
            name = f"{username}, {label} ({petition.number})"
            print(f"{name:<44} {statistics.median(samples):>10.1f} {p95:>10.1f} {len(queries):>8}",
                  flush=True)  # fmt: skip
    print(f"\nPostgreSQL {connection.pg_version // 10000}, {os.cpu_count()} cores; {repeat} runs each, "
          f"after one warm-up request.")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
