"""Benchmark: the workbench (工作台) of a county office at N petitions (issue #8 §5).

    .venv/bin/python bench/workbench_bench.py                    # 1,000,000 petitions, seeded once, kept
    .venv/bin/python bench/workbench_bench.py --petitions 100000 --db xinfang_bench_wb100k
    .venv/bin/python bench/workbench_bench.py --explain          # EXPLAIN ANALYZE of every count query
    .venv/bin/python bench/workbench_bench.py --drop             # drop the database afterwards

It seeds ``xinfang_bench_workbench`` on 127.0.0.1:5432 with the demo tree, accounts and N
petitions (once: a database that already holds N petitions is reused, and only migrated), then
makes the morning realistic with set-based SQL (``enrich``): named handlers (承办人) inside every
handling body for most open petitions, pending extension requests, and supervision notices from
the county and city offices when the supervision tables exist.  The seed predates
``Petition.handler``, so without this the handler's sections would be empty.

It then times, for a county intake clerk, a county unit handler, the unit's leader and a city
supervisor: ``workbench.sections.section_counts(user)`` (the SQL of all section counts) and the
whole workbench page over HTTP (Django's test client: middleware, session, template), warm, many
repetitions, and prints p50 / p95 / max with the machine's load average.  The target: first paint
with all section counts p95 ≤ 150 ms.  ``urging_bench.py`` reuses the same database.
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
DEFAULT_DB = "xinfang_bench_workbench"
TARGET_P95_MS = 150.0

# Shares of open petitions that have a named handler, by state: a unit names one soon after it
# accepts; before acceptance (forwarded/assigned) or while the office disposes (registered) fewer.
HANDLER_SHARE = {"accepted": 85, "assigned": 40, "forwarded": 40, "registered": 25}  # per cent
HANDLERS_PER_BODY = 3


def keys_file(db: str) -> Path:
    """The keys of a kept database, so its encrypted data stay readable on the next run."""
    return ROOT / "var" / f"bench-{db.removeprefix('xinfang_bench_').replace('_', '-')}.env"


def bench_env(db: str) -> dict[str, str]:
    return {
        "DATABASE_URL": f"{SERVER}/{db}",
        "XINFANG_ENV_FILE": str(keys_file(db)),
        "DEBUG": "1",  # the demo accounts are the users measured; this database is a benchmark's own
        "ALLOWED_HOSTS": "testserver",
        "PYTHONWARNINGS": "ignore",
        # The test client logs in without a second factor; the gate is still run on every request.
        "XINFANG_2FA_ENFORCED": "0",
        "XINFANG_PASSWORD_CHANGE_ENFORCED": "0",
    }


def prepare(db: str, petitions: int) -> dict[str, str]:
    """Create and seed ``db`` unless it already holds ``petitions`` petitions; migrate it either
    way (the other apps' new tables and indexes arrive as migrations)."""
    keys = keys_file(db)
    keys.parent.mkdir(exist_ok=True)
    if not keys.exists():
        keys.write_text(
            f"SECRET_KEY={secrets.token_urlsafe(50)}\nXINFANG_FIELD_KEYS={Fernet.generate_key().decode()}\n"
            f"XINFANG_BLIND_INDEX_KEY={secrets.token_urlsafe(32)}\n"
        )
    env = bench_env(db)
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
    run_env = {**os.environ, **env}
    xinfang = [sys.executable, "-m", "xinfang.cli"]
    started = time.perf_counter()
    subprocess.run([*xinfang, "migrate", "--noinput", "-v0"], env=run_env, cwd=ROOT, check=True)
    print(f"== {db}: migrated in {time.perf_counter() - started:.1f} s", flush=True)
    if present < petitions:
        print(f"== seeding {db} to {petitions:,} petitions (has {present:,})", flush=True)
        subprocess.run([*xinfang, "createcachetable"], env=run_env, cwd=ROOT, check=True)
        subprocess.run([*xinfang, "seed", "--demo", "--petitions", str(petitions)], env=run_env, cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return env


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
    import django

    django.setup()


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


# --- the realistic morning: set-based, idempotent -------------------------------------------------


def _table_exists(cursor, name: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    return cursor.fetchone()[0]


def _bulk_users(specs: list[tuple[str, int, str, str]]) -> None:
    """Create staff accounts (username, organisation id, role, full name) that do not exist yet:
    unusable passwords, roles set directly (a benchmark database, never a real one)."""
    from django.contrib.auth.hashers import make_password

    from xinfang.organisations.models import User

    have = set(User.objects.filter(username__in=[s[0] for s in specs]).values_list("username", flat=True))
    new = [s for s in specs if s[0] not in have]
    if not new:
        return
    unusable = make_password(None)
    users = User.objects.bulk_create(
        [
            User(
                username=u, organisation_id=org, full_name=name, password=unusable, email=f"{u}@bench.invalid"
            )
            for u, org, _, name in new
        ]
    )
    Through = User.roles.through
    Through.objects.bulk_create(
        [Through(user_id=user.pk, role_id=role) for user, (_, _, role, _) in zip(users, new, strict=True)]
    )


def enrich() -> dict[str, int]:
    """Handlers, unit leaders, pending extensions and supervision notices, in SQL.  Runs every
    time; each step only fills what is missing, so a kept database is enriched once."""
    from django.db import connection, transaction

    from xinfang.organisations.models import Organisation, User

    counts: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cur:
        # The handling bodies: the unit of an open assignment, else the registering office.
        cur.execute(
            """
            SELECT DISTINCT coalesce(a.unit_id, p.office_id)
            FROM petitions_petition p
            LEFT JOIN workflow_assignment a ON a.petition_id = p.id AND a.ended_at IS NULL
            WHERE p.status IN ('registered', 'forwarded', 'assigned', 'accepted')
            """
        )
        bodies = sorted(r[0] for r in cur.fetchall())
        offices = list(Organisation.objects.filter(kind="petition_office").values_list("pk", flat=True))
        specs = []
        for org in bodies:
            specs += [
                (f"bench_h{org}_{i}", org, "handler", f"承办人{org}-{i}") for i in range(HANDLERS_PER_BODY)
            ]
            specs.append((f"bench_l{org}", org, "leader", f"领导{org}"))
        specs += [(f"bench_s{org}", org, "supervisor", f"督办员{org}") for org in offices]
        _bulk_users(specs)
        # An address each, so the urge pass's e-mail digests are built too (databases enriched
        # before the addresses were added get them here).
        cur.execute(
            "UPDATE organisations_user SET email = username || '@bench.invalid'"
            " WHERE username LIKE 'bench\\_%%' AND email = ''"
        )
        counts["bodies"] = len(bodies)

        # Each body's handler pool: the bench handlers plus any real handler account there (the
        # demo ``handler`` of county 1's 人社局 gets its share like the others).
        cur.execute(
            """
            CREATE TEMP TABLE bench_pool ON COMMIT DROP AS
            SELECT u.organisation_id AS org_id, u.id AS user_id,
                   row_number() OVER (PARTITION BY u.organisation_id ORDER BY u.id) - 1 AS slot,
                   count(*) OVER (PARTITION BY u.organisation_id) AS size
            FROM organisations_user u
            JOIN organisations_user_roles r ON r.user_id = u.id AND r.role_id = 'handler'
            WHERE u.is_active
            """
        )
        cur.execute("CREATE INDEX ON bench_pool (org_id, slot)")
        cur.execute(
            "SELECT EXISTS (SELECT 1 FROM petitions_petition p JOIN organisations_user u"
            " ON u.id = p.handler_id WHERE u.username LIKE 'bench_h%')"
        )
        handled_before = cur.fetchone()[0]  # a kept database keeps the handlers it was given
        share = " ".join(f"WHEN '{s}' THEN {pct}" for s, pct in HANDLER_SHARE.items())
        cur.execute(
            f"""
            UPDATE petitions_petition p SET handler_id = pool.user_id
            FROM (
                SELECT p.id, coalesce(a.unit_id, p.office_id) AS body
                FROM petitions_petition p
                LEFT JOIN workflow_assignment a ON a.petition_id = p.id AND a.ended_at IS NULL
                WHERE NOT %s AND p.handler_id IS NULL
                  AND p.status IN ('registered', 'forwarded', 'assigned', 'accepted')
                  AND mod(p.id * 7919, 100) < CASE p.status {share} ELSE 0 END
            ) pick
            JOIN bench_pool pool ON pool.org_id = pick.body
            WHERE p.id = pick.id AND pool.slot = mod(pick.id, pool.size)
            """,  # noqa: S608 - constants only
            [handled_before],
        )
        counts["handlers set"] = cur.rowcount

        # Pending extension requests (延期) for about 3 % of accepted petitions: the leaders' 待审批.
        cur.execute(
            """
            INSERT INTO workflow_extensionrequest
                (petition_id, organisation_id, days, reason, requested_by_id, requested_at, decision,
                 decision_note, old_due_on)
            SELECT p.id, coalesce(a.unit_id, p.office_id), 30, '情况复杂，需进一步调查核实（基准测试数据）',
                   coalesce(p.handler_id, pool.user_id), now() - interval '1 day', 'pending', '', p.due_on
            FROM petitions_petition p
            LEFT JOIN workflow_assignment a ON a.petition_id = p.id AND a.ended_at IS NULL
            JOIN bench_pool pool ON pool.org_id = coalesce(a.unit_id, p.office_id) AND pool.slot = 0
            WHERE p.status = 'accepted' AND (p.id * 104729) % 100 < 3
              AND NOT EXISTS (SELECT 1 FROM workflow_extensionrequest e WHERE e.petition_id = p.id)
            """
        )
        counts["extension requests"] = cur.rowcount

        if _table_exists(cur, "supervision_supervisionnotice"):
            counts["supervision notices"] = _notices(cur, User)
    if any(counts.get(k) for k in ("handlers set", "extension requests", "supervision notices")):
        # As autovacuum would soon: without statistics on the new rows the planner guesses
        # (a table of "2" notices) and reads the whole petition table; and the UPDATE of the
        # handlers cleared the visibility map of the pages it touched, which turns the index-only
        # scans of the counts back into heap visits (twice the time of a vacuumed table).
        with connection.cursor() as cur:
            for table in ("petitions_petition", "workflow_extensionrequest", "organisations_user",
                          "organisations_user_roles", "supervision_supervisionnotice"):  # fmt: skip
                if _table_exists(cur, table):
                    cur.execute(f"VACUUM (ANALYZE) {table}")
    return counts


def _notices(cur, User) -> int:
    """Supervision notices on about 1 % of the open petitions handled by a unit: from the
    registering office, and for one in four from the office of the city above; a few listed
    (挂牌, with a named leader), some answered and waiting for the issuer's review."""
    from xinfang.organisations.models import Organisation

    cur.execute("SELECT 1 FROM supervision_supervisionnotice LIMIT 1")
    if cur.fetchone():
        return 0
    # The office one level up: the petition office of the government above the office's own.
    offices = list(Organisation.objects.filter(kind="petition_office").select_related("parent"))
    by_government = {o.parent_id: o.pk for o in offices}
    above = {
        o.pk: by_government[o.parent.parent_id]
        for o in offices
        if o.parent is not None and o.parent.parent_id in by_government
    }
    cur.execute("CREATE TEMP TABLE bench_above (office_id int, above_id int) ON COMMIT DROP")
    cur.executemany("INSERT INTO bench_above VALUES (%s, %s)", list(above.items()))
    leaders = dict(User.objects.filter(username__startswith="bench_l").values_list("organisation_id", "pk"))
    supervisors = dict(
        User.objects.filter(username__startswith="bench_s").values_list("organisation_id", "pk")
    )
    fallback_leader = next(iter(leaders.values()))
    cur.execute(
        "CREATE TEMP TABLE bench_people (org_id int, supervisor_id int, leader_id int) ON COMMIT DROP"
    )
    cur.executemany(
        "INSERT INTO bench_people VALUES (%s, %s, %s)",
        [(org, sup, leaders.get(org, fallback_leader)) for org, sup in supervisors.items()],
    )
    cur.execute(
        """
        INSERT INTO supervision_supervisionnotice
            (petition_id, kind, office_id, issued_by_id, issued_at, unit_id, requirements, respond_by,
             leader_id, status, escalation_level, published, lift_reason)
        SELECT p.id,
               CASE WHEN p.id % 10 = 0 THEN 'listed' WHEN p.id % 3 = 0 THEN 'urge' ELSE 'formal' END,
               issuer.org_id, issuer.supervisor_id, now() - interval '3 days', a.unit_id,
               '请于期限内报送办理进展（基准测试数据）', current_date + ((p.id % 15) - 3)::int,
               CASE WHEN p.id % 10 = 0 THEN issuer.leader_id END,
               CASE WHEN p.id % 5 = 0 THEN 'answered' ELSE 'open' END, 0, false, ''
        FROM petitions_petition p
        JOIN workflow_assignment a ON a.petition_id = p.id AND a.ended_at IS NULL
        LEFT JOIN bench_above up ON up.office_id = p.office_id
        JOIN bench_people issuer
          ON issuer.org_id = CASE WHEN p.id % 4 = 0 AND up.above_id IS NOT NULL THEN up.above_id
                                  ELSE p.office_id END
        WHERE p.status IN ('forwarded', 'assigned', 'accepted') AND (p.id * 6151) % 100 < 1
        """
    )
    return cur.rowcount


# --- measuring ------------------------------------------------------------------------------------


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    fn()  # warm the caches, as a working server would have them
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, max(0, round(len(samples) * 0.95) - 1))]
    return statistics.median(samples), p95, samples[-1]


def accounts() -> list[tuple[str, object]]:
    """The accounts measured: county intake, county unit handler, that unit's leader, a city
    supervisor (and the county office's supervisor and the county government's leader)."""
    from xinfang.organisations.models import User

    handler = User.objects.select_related("organisation").get(username="handler")
    names = [
        ("county intake (intake)", "intake"),
        ("county unit handler (handler)", "handler"),
        ("county unit leader", f"bench_l{handler.organisation_id}"),
        ("county supervisor (supervisor)", "supervisor"),
        ("county leader (leader)", "leader"),
        ("city supervisor (city_supervisor)", "city_supervisor"),
    ]
    found = []
    for label, username in names:
        user = User.objects.filter(username=username).first()
        if user is not None:
            found.append((label, user))
    return found


class QueryCounter:
    """Counts the SQL statements and their database time (``connection.execute_wrapper``): the
    test client's request_started signal empties ``connection.queries``, so that cannot be used."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.sql: list[tuple[float, str, object]] = []  # (ms, SQL, parameters)

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds = time.perf_counter() - started
            self.seconds += seconds
            self.count += 1
            self.sql.append((seconds * 1000, sql, params))

    def slowest(self, n: int) -> list[tuple[float, str, object]]:
        return sorted(self.sql, key=lambda row: -row[0])[:n]


def counted(fn: Callable[[], object]) -> QueryCounter:
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        fn()
    return counter


def per_section(user) -> str:
    """Each section's capped count timed on its own (the sections module's own pieces)."""
    from xinfang.core.pagination import capped_count
    from xinfang.workbench import sections as wb

    user = fresh(user)
    parts = []
    for section in wb.sections_for(user):
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            capped_count(section.queryset(user), wb.SECTION_COUNT_CAP)  # --cap changes it
            samples.append((time.perf_counter() - started) * 1000)
        parts.append(f"{section.key} {statistics.median(samples):.0f}")
    return ", ".join(parts)


def fresh(user):
    """A new instance per run, as each request loads the user afresh (no cached role_codes)."""
    return type(user).objects.select_related("organisation").get(pk=user.pk)


def measure(repeat: int, explain: int, url: str, only: str = "", statements: bool = False) -> int:
    from django.db import connection
    from django.test import Client

    from xinfang.petitions.models import Petition

    try:
        from xinfang.workbench.sections import section_counts
    except ImportError:
        section_counts = None
        print("!! xinfang.workbench.sections.section_counts does not exist yet: HTTP only")

    machine = f"PostgreSQL {connection.pg_version // 10000}, {os.cpu_count()} cores"
    print(f"\n== {Petition.objects.count():,} petitions; {load()}; {machine}; {repeat} runs after a warm-up")
    print(f"{'account / operation':<58} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
    worst = 0.0
    for label, user in accounts():
        if only and only not in label:
            continue
        print(f"-- {label}: {user.organisation}  ({load()})")
        if section_counts is not None:
            counts = section_counts(fresh(user))
            ctx = counted(lambda u=user: section_counts(fresh(u)))
            shown = ", ".join(f"{getattr(s, 'key', s)}={n}" for s, n in counts)
            print(f"   sections: {shown}")
            p50, p95, top = timed(lambda u=user: section_counts(fresh(u)), repeat)
            print(f"   {'section_counts(user)':<55} {p50:>8.1f} {p95:>8.1f} {top:>8.1f} {ctx.count:>8}")
            print(f"   {'  of which database time (one run)':<55} {ctx.seconds * 1000:>8.1f}")
            print("   per section (median of 5, ms): " + per_section(user))
            if explain:
                explain_queries([(sql, params) for _ms, sql, params in ctx.slowest(explain)])
        client = Client()
        client.force_login(user)
        response = client.get(url)
        if response.status_code != 200:
            print(f"   GET {url} -> {response.status_code} {response.get('Location', '')}")
            continue
        ctx = counted(lambda c=client: c.get(url))
        p50, p95, top = timed(lambda c=client: c.get(url), repeat)
        worst = max(worst, p95)
        print(
            f"   {'GET ' + url + ' (whole request, rendered)':<55} "
            f"{p50:>8.1f} {p95:>8.1f} {top:>8.1f} {ctx.count:>8}"
        )
        print(f"   {'  of which database time (one run)':<55} {ctx.seconds * 1000:>8.1f}")
        if statements:
            for ms, sql, _params in ctx.sql:
                print(f"     {ms:7.1f} ms  {' '.join(sql.split())[:150]}")
        if explain:
            explain_queries([(sql, params) for _ms, sql, params in ctx.slowest(explain)])
    verdict = "met" if worst <= TARGET_P95_MS else "NOT MET"
    print(f"\nworst page p95 {worst:.1f} ms: target p95 <= {TARGET_P95_MS:.0f} ms {verdict}  ({load()})")
    return 0 if worst <= TARGET_P95_MS else 1


def explain_queries(queries: list[tuple[str, object]]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest captured SELECTs."""
    from django.db import connection

    with connection.cursor() as cur:
        for sql, params in queries:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join(r[0] for r in cur.fetchall())
            print(f"\n   {sql}\n   {params}\n{plan}\n")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--petitions", type=int, default=1_000_000)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--repeat", type=int, default=40, help="runs of each operation")
    parser.add_argument("--url", default="/staff/workbench/", help="the workbench page")
    parser.add_argument(
        "--explain", type=int, default=0, metavar="N", help="EXPLAIN ANALYZE the N slowest count queries"
    )
    parser.add_argument("--only", default="", help="measure only accounts whose label contains this")
    parser.add_argument(
        "--cap", type=int, default=0, help="try another cap for the section counts (default: the code's)"
    )
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    parser.add_argument(
        "--statements", action="store_true", help="list every statement of one page request with its time"
    )
    args = parser.parse_args()
    env = prepare(args.db, args.petitions)
    setup_django(env)
    try:
        started = time.perf_counter()
        counts = enrich()
        print(f"== enriched in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{k} {v:,}" for k, v in counts.items()))  # fmt: skip
        if args.cap:
            # The constant is read at call time in both modules (imported by name in selectors).
            from xinfang.workbench import sections, selectors

            sections.SECTION_COUNT_CAP = selectors.SECTION_COUNT_CAP = args.cap
            print(f"== section counts capped at {args.cap} for this run")
        return measure(args.repeat, args.explain, args.url, args.only, args.statements)
    finally:
        if args.drop:
            drop(args.db)


def drop(db: str) -> None:
    """Drop the benchmark database and forget its keys."""
    from django.db import connection

    connection.close()
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    keys_file(db).unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
