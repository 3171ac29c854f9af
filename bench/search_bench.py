"""Benchmark: full-text search latency on PostgreSQL at a million petitions (issue #12 §1).

    .venv/bin/python bench/search_bench.py --db xinfang_search_bench --env-file var/bench-page.env
    .venv/bin/python bench/search_bench.py --seed 1000000        # seed its own database first

The database is either one seeded by ``xinfang seed --demo`` (``--seed N`` does that into ``--db``;
the seed indexes the petitions at its end) or a copy of another benchmark's petitions, in which
case the missing index rows are written first by ``xinfang search_reindex`` in ``--workers``
processes, each over a range of ids.  Then each search is run as the work queue runs it
(restrict → text search → relevance order → first page of 30 + the count capped at 1,000, as the
queue caps a search's count) and
the median and 95th percentile of ``--repeat`` runs are printed, for a county clerk and a city
supervisor: a rare word, a common word, a phrase, two words.  Goal: p95 ≤ 50 ms for a county.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="xinfang_search_bench")
    parser.add_argument("--env-file", default=str(ROOT / "var" / "bench-search.env"))
    parser.add_argument("--seed", type=int, default=0, help="create the database and seed N petitions")
    parser.add_argument("--workers", type=int, default=2, help="processes for the missing index rows")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--petitions", type=int, default=1_000_000, help="the seeded ones: words are picked among them only"
    )
    args = parser.parse_args()
    env = {
        "DATABASE_URL": f"{SERVER}/{args.db}",
        "XINFANG_ENV_FILE": args.env_file,
        "DEBUG": "1",
        "PYTHONWARNINGS": "ignore",
        "DJANGO_SETTINGS_MODULE": "xinfang.settings",
    }
    if args.seed:
        seed(args, env)
    os.environ.update(env)
    index_missing(args, env)
    return measure(args.repeat, args.petitions)


def seed(args: argparse.Namespace, env: dict[str, str]) -> None:
    import secrets

    from cryptography.fernet import Fernet

    path = Path(args.env_file)
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(
            f"SECRET_KEY={secrets.token_urlsafe(50)}\nXINFANG_FIELD_KEYS={Fernet.generate_key().decode()}\n"
            f"XINFANG_BLIND_INDEX_KEY={secrets.token_urlsafe(32)}\n"
        )
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{args.db}"')
    run_env = {**os.environ, **env}
    xinfang = [sys.executable, "-m", "xinfang.cli"]
    subprocess.run([*xinfang, "migrate", "--noinput", "-v0"], env=run_env, cwd=ROOT, check=True)
    subprocess.run([*xinfang, "createcachetable"], env=run_env, cwd=ROOT, check=True)
    subprocess.run([*xinfang, "seed", "--demo", "--no-stats", "--petitions", str(args.seed)], env=run_env,
                   cwd=ROOT, check=True)  # fmt: skip


def index_missing(args: argparse.Namespace, env: dict[str, str]) -> None:
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        lo, hi, total = conn.execute("SELECT min(id), max(id), count(*) FROM petitions_petition").fetchone()
        indexed = conn.execute("SELECT count(*) FROM search_petitiontext").fetchone()[0]
    if not total or indexed >= total:
        print(f"index complete: {indexed:,} of {total:,} petitions")
        return
    print(f"== indexing {total - indexed:,} petitions in {args.workers} processes", flush=True)
    started = time.perf_counter()
    step = (hi - lo + args.workers) // args.workers
    procs = []
    for i in range(args.workers):
        after, until = lo - 1 + i * step, min(hi, lo - 1 + (i + 1) * step)
        cmd = [sys.executable, "-m", "xinfang.cli", "search_reindex", "--batch", "2000",
               "--after-id", str(after), "--until-id", str(until)]  # fmt: skip
        log = open(f"/tmp/search_reindex_{i}.log", "w")  # noqa: SIM115 - closed with the process
        procs.append(subprocess.Popen(cmd, env={**os.environ, **env}, cwd=ROOT, stdout=log, stderr=log))
    for proc in procs:
        if proc.wait() != 0:
            raise SystemExit("search_reindex failed: see /tmp/search_reindex_*.log")
    seconds = time.perf_counter() - started
    print(f"indexed in {seconds:.0f} s ({(total - indexed) / seconds:.0f} petitions/s)")
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE search_petitiontext")


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    result = fn()  # warm the caches, as a working server would have them
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)], result


def measure(repeat: int, seeded: int) -> int:
    import django

    django.setup()
    from django.db import connection

    from xinfang.core.pagination import SEARCH_COUNT_CAP, CappedPaginator
    from xinfang.organisations.models import User
    from xinfang.petitions.filtersets import PetitionFilter
    from xinfang.petitions.models import Petition

    def user_with(role: str, level: str) -> User:
        return (
            User.objects.filter(
                roles__code=role, organisation__kind="petition_office", organisation__level=level
            )
            .order_by("pk")
            .first()
        )

    county = User.objects.filter(username="intake").first() or user_with("intake", "county")
    city = User.objects.filter(username="city_supervisor").first() or user_with("supervisor", "city")
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM petitions_petition")
        total = cur.fetchone()[0]
    in_county = Petition.objects.restrict(county).count()
    in_city = Petition.objects.restrict(city).count()
    # A rare word: a word of a sample petition's title or content that few documents hold.
    # Words come from the seeded petitions only: http_bench's W1 registers thousands of copies of a
    # few letters, whose words are not rare.
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM petitions_petition ORDER BY id OFFSET %s LIMIT 1", [seeded - 1])
        last_seeded = (cur.fetchone() or [2**62])[0]
    rare = pick_rare(county, last_seeded)
    sample = Petition.objects.restrict(county).filter(pk__lte=last_seeded).order_by("-id").first()
    phrase = '"' + "".join(ch for ch in sample.content[10:40] if "\u4e00" <= ch <= "\u9fff")[:6] + '"'

    def page(user: User, q: str) -> Callable[[], object]:
        def run() -> object:
            qs = PetitionFilter(q=q, actor=user).apply(Petition.objects.restrict(user))
            paged = CappedPaginator(
                qs.select_related("category", "locality", "office", "handler"), 30, cap=SEARCH_COUNT_CAP
            ).get_page(1)
            return len(list(paged)), paged.paginator.count

        return run

    cases = [
        (f"county, rare word ({rare})", page(county, rare)),
        ("county, common word (工资)", page(county, "工资")),
        (f"county, phrase ({phrase})", page(county, phrase)),
        ("county, two words (拖欠 工资)", page(county, "拖欠 工资")),
        (f"city, rare word ({rare})", page(city, rare)),
        ("city, common word (工资)", page(city, "工资")),
        (f"city, phrase ({phrase})", page(city, phrase)),
        ("city, two words (拖欠 工资)", page(city, "拖欠 工资")),
    ]
    print(
        f"\n{total:,} petitions; county scope {in_county:,}, city scope {in_city:,}; load {os.getloadavg()}"
    )
    print(f"{'search (first page of 30 + capped count)':<52}{'p50 ms':>9}{'p95 ms':>9}  hits")
    worst = 0.0
    for label, fn in cases:
        p50, p95, result = timed(fn, repeat)
        print(f"{label:<52}{p50:9.1f}{p95:9.1f}  {result[1]}", flush=True)
        if label.startswith("county"):
            worst = max(worst, p95)
    print(f"\nworst county p95: {worst:.1f} ms (goal ≤ 50 ms)")
    return 0


def pick_rare(user: object, last_seeded: int) -> str:
    from django.db import connection

    from xinfang.petitions.models import Petition
    from xinfang.search import query, segment

    best, best_n = "工资", 10**9
    seeded = Petition.objects.restrict(user).filter(pk__lte=last_seeded)
    for content in seeded.order_by("-id").values_list("content", flat=True)[:20]:
        for word in segment.query_words(content)[:40]:
            if segment.is_weak(word) or not word.isalnum() or len(word) < 3:
                continue
            expr = query.tsquery_expression(query.parse(word))
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM search_petitiontext "
                    "WHERE document @@ to_tsquery('simple', %s) LIMIT 1000) t",
                    [expr],
                )
                n = cur.fetchone()[0]
            if 0 < n < best_n:
                best, best_n = word, n
    return best


if __name__ == "__main__":
    sys.exit(main())
