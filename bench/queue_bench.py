"""Benchmark: the lists and look-ups staff use every day, on a database of N petitions.

    .venv/bin/python bench/queue_bench.py                      # 1,000,000 petitions (seeded once, kept)
    .venv/bin/python bench/queue_bench.py --petitions 100000
    .venv/bin/python bench/queue_bench.py --drop               # drop the benchmark database afterwards

It seeds ``xinfang_bench_queue`` on 127.0.0.1:5432 with the demo tree, accounts and N petitions
(once: a database that already holds N petitions is reused), then times each operation through the
same code the pages and the API run (restrict → filter → order → first page + count) and prints
the median and 95th percentile of repeated runs.  The target: every list and look-up stays
interactive (well under a second) at a million petitions, for a county clerk and for a city.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"
KEYS_FILE = ROOT / "var" / "bench-queue.env"  # keys of the kept database: the data stay readable


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--petitions", type=int, default=1_000_000)
    parser.add_argument("--db", default="xinfang_bench_queue")
    parser.add_argument("--repeat", type=int, default=15, help="runs of each operation")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    args = parser.parse_args()
    env = prepare(args.db, args.petitions)
    os.environ.update(env)
    try:
        return measure(args.repeat, args.petitions)
    finally:
        if args.drop:
            with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
                # FORCE: this process's own Django connection to it is still open.
                admin.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
            KEYS_FILE.unlink(missing_ok=True)


def prepare(db: str, petitions: int, keys_file: Path = KEYS_FILE) -> dict[str, str]:
    """Create and seed the database unless it already holds ``petitions`` petitions; its keys are
    kept in ``keys_file`` (bench/page_bench.py keeps its own database with its own keys)."""
    keys_file.parent.mkdir(exist_ok=True)
    if not keys_file.exists():
        keys_file.write_text(
            f"SECRET_KEY={secrets.token_urlsafe(50)}\nXINFANG_FIELD_KEYS={Fernet.generate_key().decode()}\n"
            f"XINFANG_BLIND_INDEX_KEY={secrets.token_urlsafe(32)}\n"
        )
    env = {
        "DATABASE_URL": f"{SERVER}/{db}",
        "XINFANG_ENV_FILE": str(keys_file),
        "DEBUG": "1",  # the demo accounts are the users measured; this database is a benchmark's own
        "ALLOWED_HOSTS": "testserver",
        "PYTHONWARNINGS": "ignore",
        # The HTTP rows time the pages, not the second-factor gate: without these the test client
        # is sent to the enrolment page (a 302 in a few ms) instead of being shown the queue.
        "XINFANG_2FA_ENFORCED": "0",
        "XINFANG_PASSWORD_CHANGE_ENFORCED": "0",
    }
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{db}"')
    present = 0
    if exists:
        try:
            with psycopg.connect(f"{SERVER}/{db}") as conn:
                present = conn.execute("SELECT count(*) FROM petitions_petition").fetchone()[0]
        except psycopg.Error:
            present = 0
    if present < petitions:
        run_env = {**os.environ, **env}
        xinfang = [sys.executable, "-m", "xinfang.cli"]
        print(f"== seeding {db} to {petitions:,} petitions (has {present:,})", flush=True)
        started = time.perf_counter()
        subprocess.run([*xinfang, "migrate", "--noinput", "-v0"], env=run_env, cwd=ROOT, check=True)
        subprocess.run([*xinfang, "createcachetable"], env=run_env, cwd=ROOT, check=True)
        subprocess.run([*xinfang, "seed", "--demo", "--petitions", str(petitions)], env=run_env, cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        print(f"== seeded in {time.perf_counter() - started:.0f} s", flush=True)
    return env


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm the caches, as a working server would have them
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def measure(repeat: int, petitions: int) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
    django.setup()
    from django.db import connection
    from django.test import Client

    from xinfang.core.pagination import CappedPaginator
    from xinfang.organisations.models import Organisation, User
    from xinfang.organisations.services import create_staff
    from xinfang.petitions.drafts import PetitionerDraft
    from xinfang.petitions.filtersets import PetitionFilter
    from xinfang.petitions.models import Category, Petition, Petitioner
    from xinfang.petitions.services import find_possible_repeats

    county = User.objects.get(username="intake")
    city_org = Organisation.objects.filter(kind="petition_office", level="city").order_by("pk").first()
    city = User.objects.filter(username="bench_city").first() or create_staff(
        username="bench_city",
        password=secrets.token_urlsafe(16),
        organisation=city_org,
        roles=["supervisor"],
        bootstrap=True,  # the benchmark's own database: no four-eyes grant for its accounts
    )
    province_org = Organisation.objects.filter(level="province", kind="government").first()
    province = User.objects.filter(username="bench_province").first() or create_staff(
        username="bench_province",
        password=secrets.token_urlsafe(16),
        organisation=province_org,
        roles=["leader"],
        bootstrap=True,
    )
    sample = Petition.objects.restrict(county).order_by("-id").first()
    person = Petitioner.objects.filter(petition=sample).first()
    category = Category.objects.filter(parent__isnull=True).first()

    # The lists as the work queue and the API run them: first page of 30, count capped at 10,000.
    def page(user, flt: PetitionFilter) -> Callable[[], object]:
        def run() -> object:
            qs = flt.apply(Petition.objects.restrict(user)).select_related(
                "category", "locality", "office", "handler"
            )
            paged = CappedPaginator(qs.prefetch_related("petitioners"), 30).get_page(1)
            return list(paged), paged.paginator.count

        return run

    # "Assigned to me": the seed names no handlers, so one petition in 50 of the county's open work
    # is given to the county clerk (idempotent: the same rows each run).
    from django.db.models.functions import Mod
    from django.urls import reverse

    from xinfang.petitions.filtersets import OPEN_STATUS_VALUES

    handler = county
    Petition.objects.restrict(county).filter(status__in=OPEN_STATUS_VALUES, handler__isnull=True).alias(
        one_in_50=Mod("id", 50)
    ).filter(one_in_50=0).update(handler=handler)
    client = Client()
    client.force_login(county)
    queue_url = reverse("petitions:queue")

    def ok(response: object) -> object:
        # A redirect (login, second factor) would time the wrong thing in a few milliseconds.
        assert response.status_code == 200, (response.status_code, response.get("Location"))
        return response

    by_visit = PetitionFilter(status="registered", channel="visit")
    same_person = PetitionerDraft(
        name=person.name, id_number=person.id_number or "", phone=person.phone or ""
    )
    cases: list[tuple[str, Callable[[], object]]] = [
        ("county queue, first page + count", page(county, PetitionFilter())),
        ("county queue, status + channel", page(county, by_visit)),
        ("county queue, category (first level)", page(county, PetitionFilter(category=category.pk))),
        ("county queue, repeats only", page(county, PetitionFilter(is_repeat=True))),
        ("county queue, newest first", page(county, PetitionFilter(ordering="-registered_at"))),
        ("county queue, search by number", page(county, PetitionFilter(q=sample.number))),
        ("county queue, search title words", page(county, PetitionFilter(q="工资"))),
        ("county queue, open work (default)", page(county, PetitionFilter(open_only=True))),
        ("county queue, open, latest deadline",
         page(county, PetitionFilter(open_only=True, ordering="-due_on"))),
        ("county queue, overdue", page(county, PetitionFilter(open_only=True, overdue=True))),
        ("county queue, mine (handler)", page(handler, PetitionFilter(open_only=True, handler=handler.pk))),
        ("city queue, first page + count", page(city, PetitionFilter())),
        ("city queue, open work (default)", page(city, PetitionFilter(open_only=True))),
        ("city queue, overdue", page(city, PetitionFilter(open_only=True, overdue=True))),
        ("province queue, first page + count", page(province, PetitionFilter())),
        ("repeat detection (ID number)", lambda: find_possible_repeats(county, [same_person])),
        ("staff queue page (HTTP, rendered)", lambda: ok(client.get(queue_url))),
        ("staff queue, overdue (HTTP, rendered)", lambda: ok(client.get(queue_url, {"overdue": "on"}))),
        ("petition page (HTTP, rendered)", lambda: ok(client.get(f"/staff/petitions/{sample.number}/"))),
    ]  # fmt: skip
    total = Petition.objects.count()
    print(f"\n== {total:,} petitions; county scope {Petition.objects.restrict(county).count():,}, "
          f"city scope {Petition.objects.restrict(city).count():,}")  # fmt: skip
    print(f"{'operation':<40} {'median ms':>10} {'p95 ms':>10}")
    worst = 0.0
    for name, fn in cases:
        median, p95 = timed(fn, repeat)
        worst = max(worst, median)
        print(f"{name:<40} {median:>10.1f} {p95:>10.1f}", flush=True)
    print(f"\nPostgreSQL {connection.pg_version // 10000}, {os.cpu_count()} cores; {repeat} runs each, "
          f"after one warm-up run.")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
