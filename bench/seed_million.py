"""Benchmark: seed a million petitions into a fresh PostgreSQL database and time it.

    .venv/bin/python bench/seed_million.py                 # 1,000,000 petitions, then drop the database
    .venv/bin/python bench/seed_million.py --petitions 100000 --keep

It creates the database (default ``xinfang_bench_seed`` on 127.0.0.1:5432, user postgres), migrates
it, runs ``xinfang seed --demo --no-accounts --petitions N`` with production settings (DEBUG off,
fresh random keys), checks the result with SQL, prints the timing and drops the database.  The
target (issue: demo and benchmark data) is 1,000,000 petitions in under 10 minutes on 2 cores;
results are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 600


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--petitions", type=int, default=1_000_000)
    parser.add_argument("--db", default="xinfang_bench_seed", help="database to create (and drop)")
    parser.add_argument(
        "--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL (no database)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="more options for xinfang seed")
    args = parser.parse_args()

    admin_url = f"{args.server}/postgres"
    db_url = f"{args.server}/{args.db}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        version = admin.execute("SHOW server_version").fetchone()[0]
        admin.execute(f'DROP DATABASE IF EXISTS "{args.db}"')
        admin.execute(f'CREATE DATABASE "{args.db}"')
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DEBUG": "0",  # production settings: demo accounts are refused, hence --no-accounts
        "XINFANG_ENV_FILE": "/nonexistent",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "XINFANG_FIELD_KEYS": Fernet.generate_key().decode(),
        "XINFANG_BLIND_INDEX_KEY": secrets.token_urlsafe(32),
        "PYTHONWARNINGS": "ignore",
    }
    xinfang = [sys.executable, "-m", "xinfang.cli"]
    try:
        print(f"== {args.db}: migrate", flush=True)
        subprocess.run([*xinfang, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
        load_before = os.getloadavg()
        print(f"== seed {args.petitions:,} petitions (load average {load_before[0]:.2f})", flush=True)
        started = time.perf_counter()
        subprocess.run(
            [*xinfang, "seed", "--demo", "--no-accounts", "--petitions", str(args.petitions),
             "--seed", str(args.seed), *args.extra],
            env=env, cwd=ROOT, check=True,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        load_after = os.getloadavg()
        with psycopg.connect(db_url) as conn:
            report = check(conn, args.petitions)
        print("\n== result")
        print(f"  petitions           {report['petitions']:,}")
        print(f"  petitioners         {report['petitioners']:,}")
        print(f"  events              {report['events']:,}")
        print(f"  involvements        {report['involvements']:,}")
        print(f"  repeats             {report['repeats'] / report['petitions']:.1%}")
        print(f"  collective          {report['collective'] / report['petitions']:.1%}")
        gaps = report["gaps"]
        print(f"  numbering           {'gap-free' if gaps == 0 else str(gaps) + ' offices/years with gaps'}")
        print(f"  database size       {report['size'] / 2**30:.2f} GiB")
        print(f"  wall time           {seconds:.1f} s  ({args.petitions / seconds:,.0f} petitions/s)")
        print(f"  machine             {os.cpu_count()} cores, PostgreSQL {version}")
        print(f"  load average        {load_before[0]:.2f} before, {load_after[0]:.2f} after")
        ok = seconds < TARGET_SECONDS and report["petitions"] == args.petitions and report["gaps"] == 0
        print(f"  target < {TARGET_SECONDS} s       {'met' if ok else 'NOT MET'}")
        return 0 if ok else 1
    finally:
        if not args.keep:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{args.db}"')


def check(conn: psycopg.Connection, expected: int) -> dict[str, int]:
    """Counts, plus numbering: per office and year, the numbers must be exactly 1..last."""
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    return {
        "petitions": one("SELECT count(*) FROM petitions_petition"),
        "petitioners": one("SELECT count(*) FROM petitions_petitioner"),
        "events": one("SELECT count(*) FROM petitions_petitionevent"),
        "involvements": one("SELECT count(*) FROM petitions_involvement"),
        "repeats": one("SELECT count(*) FROM petitions_petition WHERE is_repeat"),
        "collective": one("SELECT count(*) FROM petitions_petition WHERE is_collective"),
        "gaps": one(
            """
            WITH issued AS (
                SELECT office_id, split_part(number, '-', 3)::int AS year,
                       count(*) AS n, max(split_part(number, '-', 4)::int) AS top
                FROM petitions_petition GROUP BY 1, 2
            )
            SELECT count(*) FROM issued i
            FULL JOIN petitions_numbersequence s ON s.office_id = i.office_id AND s.year = i.year
            WHERE i.n IS DISTINCT FROM s.last OR i.top IS DISTINCT FROM s.last
            """
        ),
        "size": one("SELECT pg_database_size(current_database())"),
    }


if __name__ == "__main__":
    sys.exit(main())
