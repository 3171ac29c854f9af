"""Recall of the full-text search on real citizen messages nobody on the project wrote.

    .venv/bin/python bench/search_recall.py          # every message of ../shared/data/complaints/train.csv
    .venv/bin/python bench/search_recall.py --limit 200 --seed 7
    .venv/bin/python bench/search_recall.py --postgres     # on PostgreSQL (xinfang_bench_recall, dropped)

The messages (see ../shared/data/README.md) are public posts whose licence is unknown: they are
read from ``../shared/data/complaints/train.csv`` at run time and NEVER copied into the
repository; when the file is absent this script says so and exits 0.

It registers every message through the registration service (``workflow.services.register``)
into a fresh SQLite database under a temporary directory (or, with ``--postgres``, a fresh
PostgreSQL database, dropped afterwards), as two counties' offices, then for every
message picks a distinctive word (one that occurs in at most ``--max-df`` messages, two characters
or more, not a stop word) from a random part of the body, and one from the title, and checks that
the message is among the results of the queue's search for that word, as a clerk of the office
that registered it (the scope).  It also checks that the other county's clerk never sees it.
Prints recall for body words and title words (goal: ≥ 0.95, issue #12 §1).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import secrets
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "complaints" / "train.csv"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DB = "xinfang_bench_recall"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--file", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=0, help="only the first N messages")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--max-df", type=int, default=3, help="a distinctive word is in at most this many messages"
    )
    parser.add_argument("--postgres", action="store_true", help="measure on PostgreSQL instead of SQLite")
    args = parser.parse_args()
    if not args.file.exists():
        print(f"{args.file} is not there: nothing to measure (the data set is not part of the repository).")
        return 0
    tmp = tempfile.mkdtemp(prefix="xinfang-recall-")
    from cryptography.fernet import Fernet

    database = f"sqlite:///{tmp}/recall.sqlite3"
    if args.postgres:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{PG_DB}"')
        database = f"{PG_SERVER}/{PG_DB}"
    os.environ.update(
        {
            "DATABASE_URL": database,
            "XINFANG_ENV_FILE": "/dev/null",
            "DEBUG": "1",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "XINFANG_FIELD_KEYS": Fernet.generate_key().decode(),
            "XINFANG_BLIND_INDEX_KEY": secrets.token_urlsafe(32),
            "MEDIA_ROOT": f"{tmp}/media",
            "PYTHONWARNINGS": "ignore",
            "DJANGO_SETTINGS_MODULE": "xinfang.settings",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    try:
        return measure(args)
    finally:
        if args.postgres:
            from django.db import connections

            connections.close_all()
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')


def measure(args: argparse.Namespace) -> int:
    from xinfang.organisations.choices import Level, OrganisationKind
    from xinfang.organisations.services import create_organisation, create_staff
    from xinfang.petitions.drafts import PetitionDraft, PetitionerDraft
    from xinfang.petitions.filtersets import PetitionFilter, SearchRefused
    from xinfang.petitions.models import Category, Petition
    from xinfang.search import segment
    from xinfang.workflow import services

    rows = list(csv.DictReader(args.file.open(encoding="utf-8")))
    if args.limit:
        rows = rows[: args.limit]
    province = create_organisation(
        name="西地省", kind=OrganisationKind.GOVERNMENT, level=Level.PROVINCE, code="990000"
    )
    counties = []
    for i, name in enumerate(("甲县", "乙县")):
        gov = create_organisation(
            name=f"{name}人民政府", kind=OrganisationKind.GOVERNMENT, level=Level.COUNTY, parent=province,
            code=f"99010{i + 1}",
        )  # fmt: skip
        office = create_organisation(
            name=f"{name}信访局", kind=OrganisationKind.PETITION_OFFICE, level=Level.COUNTY, parent=gov
        )
        clerk = create_staff(
            username=f"clerk{i}", password=secrets.token_urlsafe(16), organisation=office, roles=["intake"],
            full_name=f"clerk{i}", bootstrap=True,
        )  # fmt: skip
        counties.append((gov, office, clerk))
    category = Category.objects.filter(parent__isnull=False).order_by("code").first()
    received = dt.date.today() - dt.timedelta(days=1)
    started = time.perf_counter()
    registered: list[tuple[int, int, str, str]] = []  # (petition id, county index, title, body)
    for n, row in enumerate(rows):
        county = n % 2
        gov, office, clerk = counties[county]
        title = " ".join(row["title"].split())[:200] or "无标题"
        body = " ".join(row["body"].replace("_x000D_", " ").split())
        if len(body) < 10:
            body = (body + " " + title).strip()
        if len(body) < 10:
            continue
        draft = PetitionDraft(
            channel="online", purpose="complaint", title=title, content=body, category_id=category.pk,
            locality_id=gov.pk, received_on=received,
            petitioners=[PetitionerDraft(name="测试", id_number="", phone="13800000000", address="")],
        )  # fmt: skip
        try:
            petition = services.register(draft=draft, office=office, actor=clerk).petition
        except Exception as exc:  # noqa: BLE001 - a message registration refuses is reported, not measured
            print(f"  skipped message {row['id']}: {exc}", file=sys.stderr)
            continue
        registered.append((petition.pk, county, title, body))
    seconds = time.perf_counter() - started
    print(f"registered {len(registered)} messages in {seconds:.1f} s ({len(registered) / seconds:.1f}/s)")

    # Document frequency of each word over the corpus (precise cut, the way a person picks words).
    def words(text: str) -> list[str]:
        return [
            w for w in segment.query_words(text) if len(w) >= 2 and not segment.is_weak(w) and w.isalnum()
        ]

    df: Counter[str] = Counter()
    for _pid, _c, title, body in registered:
        df.update(set(words(title)) | set(words(body)))
    rnd = random.Random(args.seed)
    clerks = [c[2] for c in counties]
    results = {"body": [0, 0], "title": [0, 0]}
    leaks, refused, misses = 0, 0, []
    timings = []
    for pid, county, title, body in registered:
        for part, text in (("body", body), ("title", title)):
            if part == "body" and len(text) > 40:
                start = rnd.randrange(0, len(text) - 20)  # a random part of the body
                text = text[start : start + 120]
            candidates = [w for w in words(text) if df[w] <= args.max_df]
            if not candidates:
                continue
            word = rnd.choice(candidates)
            results[part][1] += 1
            t0 = time.perf_counter()
            try:
                hits = set(
                    PetitionFilter(q=word)
                    .apply(Petition.objects.restrict(clerks[county]))
                    .values_list("pk", flat=True)
                )
            except SearchRefused:
                refused += 1
                continue
            timings.append((time.perf_counter() - t0) * 1000)
            if pid in hits:
                results[part][0] += 1
            else:
                misses.append((part, word))
            other = PetitionFilter(q=word).apply(Petition.objects.restrict(clerks[1 - county]))
            leaks += other.filter(pk=pid).exists()
    print("recall of a distinctive word (found within the registering office's scope):")
    for part, (hit, total) in results.items():
        print(f"  {part:5} {hit}/{total} = {hit / max(total, 1):.3f}")
    hit = sum(h for h, _t in results.values())
    total = sum(t for _h, t in results.values())
    print(f"  all   {hit}/{total} = {hit / max(total, 1):.3f}   (goal ≥ 0.95)")
    print(f"refused as too weak: {refused}; found by the other county's clerk (must be 0): {leaks}")
    timings.sort()
    if timings:
        from django.db import connection

        print(
            f"search time on {connection.vendor}: p50 {timings[len(timings) // 2]:.1f} ms, "
            f"p95 {timings[int(len(timings) * 0.95)]:.1f} ms"
        )
    if misses:
        print("some misses:", ", ".join(f"{p}:{w}" for p, w in misses[:20]))
    return 0 if hit / max(total, 1) >= 0.95 and not leaks else 1


if __name__ == "__main__":
    sys.exit(main())
