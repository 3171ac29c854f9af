"""Benchmark: the peer's five workloads over HTTP against the production configuration (issue #12 §3).

    .venv/bin/python bench/http_bench.py                          # 1,000,000 petitions, 30 s × 3 each
    .venv/bin/python bench/http_bench.py --petitions 100000 --db xinfang_bench_http100k --seconds 10 --runs 1
    .venv/bin/python bench/http_bench.py --reuse-db xinfang_bench_stats10m --petitions 10000000
    .venv/bin/python bench/http_bench.py --only W1,page           # some workloads only

It prepares a PostgreSQL database seeded with N petitions (``workbench_bench.prepare``: created
and seeded once, kept, migrated on every run; ``--reuse-db`` names an existing bench database and
its keys file), gives the measured users API tokens and staff sessions, then starts **gunicorn with
the production configuration** (``python:xinfang.gunicorn_conf``; DEBUG off, static files collected
and served by WhiteNoise, Django's psycopg pool, Redis as the cache, nginx's TLS stood for by
``X-Forwarded-Proto: https`` from a trusted proxy) on a free loopback port, and drives it with
**locust headless** (``bench/locust/locustfile.py``), each workload ``--seconds`` × ``--runs``:

* W1  registration through the API (``POST /api/v1/petitions``: encryption, audit, repeat look-up,
      numbering), 4 and 16 users, all the county office's intake clerk;
* W2  the work queue: the staff queue's first page with counts (county intake clerk) and the API
      list (first page + capped count), with the server's own time from gunicorn's access log;
* W3  search: ``GET /api/v1/petitions?q=`` and the staff queue with ``q``, a rare and a common word;
* W4  the statistics page, city scope (a city supervisor);
* W5  the daily overdue / urging pass (``supervision.tasks.urge_pass``) over every open petition,
      in-process (a job, not a page), rolled back;
* the petition page (staff detail page of the county's richest petition): over HTTP, and its
      number of queries counted in-process for one request.

It prints one table next to the peer's figures (django-helpdesk 2.6.1 at 1,000,000 tickets on this
machine) and the goals, with the machine's CPU use during W1 and the load average, and writes the
figures to ``var/bench-http-<db>.json``.  Read workloads use one user by default (the issue's
latency figures are with one client); locust runs on the same two cores as the server.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from workbench_bench import ROOT, SERVER, drop, enrich, keys_file, load, prepare, setup_django

BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).resolve().parent / "locust" / "locustfile.py"
DEFAULT_DB = "xinfang_bench_http"
# The seed runs with DEBUG on and signs its audit rows with the development key; the server (DEBUG
# off) must be given a key, and this one keeps the bench database's audit chain verifiable.
AUDIT_KEY = "dev-only-insecure-audit-key"  # xinfang.audit.chain.DEV_KEY: a benchmark's own data

# The peer, django-helpdesk 2.6.1 on Django 5.2 / PostgreSQL 15 at 1,000,000 tickets, this machine.
PEER = {
    "W1": "45.9/s, p50 87 ms",
    "W2": "queue page 480 ms",
    "W3 rare": "7.35 s",
    "W3 common": "15.0 s",
    "W4": "a report page 78.5 s",
    "W5": "escalation ~25 min",
    "page": "—",
}
SEARCH_CANDIDATES_COMMON = ("工资", "补偿", "物业", "拖欠", "噪声", "养老")


@dataclass
class Row:
    """One line of the table: a workload and what it measured."""

    key: str
    label: str
    users: int | str = ""
    p50: float | None = None
    p95: float | None = None
    rps: float | None = None
    requests: int = 0
    failures: int = 0
    server_p50: float | None = None
    server_p95: float | None = None
    extra: str = ""
    goal: str = ""
    verdict: str = ""
    runs: list[dict] = field(default_factory=list)


# --- preparing: users, tokens, sessions, the words and the petition measured --------------------


def staff_fixtures(args: argparse.Namespace) -> dict:
    """API tokens and staff sessions of the measured users, the registration's category and
    locality, the rich petition and the search words.  In-process, against the bench database."""
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    from xinfang.api.services import _create_token
    from xinfang.organisations.models import User
    from xinfang.petitions.models import Petition

    users = {
        u.username: u for u in User.objects.filter(username__in=["intake", "supervisor", "city_supervisor"])
    }
    missing = {"intake", "supervisor", "city_supervisor"} - set(users)
    if missing:
        raise SystemExit(f"!! the demo accounts {sorted(missing)} are missing: seed with --demo (DEBUG=1)")
    out: dict = {"users": {}}
    for name, user in users.items():
        # A bench database's own users: the token is made directly (the operator's path,
        # ``xinfang issue_token``, is for system accounts only).
        token = _create_token(user=user, name="bench/http_bench.py", expires_at=None, created_by=None).token
        client = Client()
        client.force_login(user)
        out["users"][name] = {"token": token, "session": client.cookies["sessionid"].value}
    office = users["intake"].organisation
    common = (
        Petition.objects.filter(office=office, category__parent__isnull=False)
        .values("category", "locality")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    out["register"] = {
        "who": "intake",
        "category": common["category"],
        "locality": common["locality"],
        "today": timezone.localdate().isoformat(),
    }
    with connection.cursor() as cur:
        # Only the seeded petitions: W1 of earlier runs registered thousands of copies of one
        # letter, whose words are neither rare nor a petition page worth measuring.
        cur.execute("SELECT id FROM petitions_petition ORDER BY id OFFSET %s LIMIT 1", [args.petitions - 1])
        seeded = (cur.fetchone() or [2**62])[0]
        # The county's richest petition: most timeline events (the page shows them all).
        cur.execute(
            """
            SELECT p.number FROM petitions_petition p
            JOIN petitions_petitionevent e ON e.petition_id = p.id
            WHERE p.office_id = %s AND p.id IN (
                SELECT id FROM petitions_petition WHERE office_id = %s AND id <= %s
                ORDER BY id DESC LIMIT 20000)
            GROUP BY p.id, p.number ORDER BY count(*) DESC, p.id DESC LIMIT 1
            """,
            [office.pk, office.pk, seeded],
        )
        out["petition"] = cur.fetchone()[0]
        # The rare word: three characters from the text of recent petitions in scope (the seed's
        # names, places and companies), the one that matches fewest; the common word from a list.
        cur.execute(
            "SELECT content FROM petitions_petition WHERE office_id = %s AND id <= %s"
            " ORDER BY id DESC LIMIT 12",
            [office.pk, seeded],
        )
        rng = random.Random(12)
        candidates = []
        for (content,) in cur.fetchall():
            runs = re.findall(r"[\u4e00-\u9fff]{4,}", content)
            if runs:
                run = rng.choice(runs)
                start = rng.randrange(len(run) - 2)
                candidates.append(run[start : start + 3])
        words = {}
        for word in (*candidates, *SEARCH_CANDIDATES_COMMON):
            cur.execute(
                "SELECT count(*) FROM petitions_petition WHERE office_id = %s"
                " AND (title LIKE %s OR content LIKE %s)",
                [office.pk, f"%{word}%", f"%{word}%"],
            )
            words[word] = cur.fetchone()[0]
    out["words"] = {
        "rare": min(candidates, key=lambda w: (words[w], w)),
        "common": max(SEARCH_CANDIDATES_COMMON, key=lambda w: words[w]),
        "matches": words,
        "scope": Petition.objects.filter(office=office).count(),
    }
    return out


def reads(fx: dict) -> dict[str, dict[str, str]]:
    """The GET workloads: path, who asks, and the name locust reports them under."""
    from urllib.parse import quote

    rare, common = quote(fx["words"]["rare"]), quote(fx["words"]["common"])
    return {
        "queue": {"path": "/staff/", "who": "intake", "name": "W2 staff queue"},
        "api_list": {"path": "/api/v1/petitions", "who": "intake", "name": "W2 API list"},
        "api_q_rare": {"path": f"/api/v1/petitions?q={rare}", "who": "intake", "name": "W3 API q rare"},
        "api_q_common": {"path": f"/api/v1/petitions?q={common}", "who": "intake", "name": "W3 API q common"},
        "queue_q_rare": {"path": f"/staff/?q={rare}", "who": "intake", "name": "W3 queue q rare"},
        "queue_q_common": {"path": f"/staff/?q={common}", "who": "intake", "name": "W3 queue q common"},
        "stats": {"path": "/staff/stats/", "who": "city_supervisor", "name": "W4 statistics (city)"},
        "page": {"path": f"/staff/petitions/{fx['petition']}/", "who": "intake", "name": "petition page"},
    }


def page_queries(path: str) -> tuple[int, float]:
    """The petition page's number of queries and in-process time, for one warm request."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from xinfang.organisations.models import User

    client = Client()
    client.force_login(User.objects.get(username="intake"))
    assert client.get(path).status_code == 200, path
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        response = client.get(path)
        ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200
    return len(ctx.captured_queries), ms


def fresh_statistics() -> None:
    """ANALYZE what the seed, the roll-up and W1's earlier runs wrote but autovacuum has not
    analysed yet (this machine's PostgreSQL runs with autovacuum off): without statistics the
    planner, and ``search.query.is_common``, take a common word for a rare one."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM pg_stat_user_tables"
            " WHERE n_mod_since_analyze > 1000 + 0.1 * greatest(n_live_tup, 1)"
        )
        stale = cursor.fetchone()[0]
        if stale:
            started = time.perf_counter()
            cursor.execute("ANALYZE")
            print(f"== ANALYZE: {stale} tables without fresh statistics (autovacuum {autovacuum}), "
                  f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip


def ensure_stats() -> None:
    """The statistics page reads the roll-up's counts; a fresh seed has none yet."""
    from xinfang.stats import rollup
    from xinfang.stats.models import DailyCount

    if not DailyCount.objects.exists():
        started = time.perf_counter()
        print(f"== rebuild_stats ({load()})", flush=True)
        days = rollup.rebuild()
        print(f"   {days:,} days in {time.perf_counter() - started:.1f} s", flush=True)


def urging_pass() -> tuple[float, int, dict]:
    """W5: the daily urging pass over every open petition, as the scheduler runs it; rolled back."""
    from django.db import transaction

    from xinfang.petitions.models import Petition
    from xinfang.supervision.tasks import urge_pass
    from xinfang.workflow.calendar import is_working_day

    today = dt.date.today()
    while not is_working_day(today):
        today -= dt.timedelta(days=1)
    open_count = Petition.objects.filter(
        status__in=["registered", "forwarded", "assigned", "accepted"]
    ).count()

    class Rollback(Exception):
        pass

    result: dict = {}
    started = time.perf_counter()
    try:
        with transaction.atomic():
            result = urge_pass(today=today)
            seconds = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return seconds, open_count, result


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(db: str, args: argparse.Namespace, port: int, access_log: Path) -> dict[str, str]:
    """The production configuration: DEBUG off, pool, Redis cache, gunicorn from its config."""
    return {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "XINFANG_", "DB_", "GUNICORN_"))
        },
        "DATABASE_URL": f"{SERVER}/{db}",
        "XINFANG_ENV_FILE": str(keys_file(db)),
        "XINFANG_AUDIT_KEY": AUDIT_KEY,
        "XINFANG_VAR_DIR": str(ROOT / "var" / "bench-http"),  # its own collected static files
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "XINFANG_TRUSTED_PROXIES": "1",  # nginx in front: X-Forwarded-Proto: https
        "XINFANG_2FA_ENFORCED": "0",
        "XINFANG_PASSWORD_CHANGE_ENFORCED": "0",
        "DB_POOL_MAX_SIZE": str(args.pool_max),
        "DB_POOL_MIN_SIZE": "1",
        "CACHE_URL": args.cache_url,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(args.workers),
        "GUNICORN_ACCESS_LOG": str(access_log),
        "GUNICORN_LOG_LEVEL": "warning",
        "PYTHONWARNINGS": "ignore",
    }


def start_server(env: dict[str, str], port: int) -> subprocess.Popen:
    subprocess.run([str(BIN / "xinfang"), "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "python:xinfang.gunicorn_conf", "xinfang.wsgi:application"],
        env=env, cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        # As nginx would ask: plain HTTP with X-Forwarded-Proto (else the HTTPS redirect answers).
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/staff/login/", headers={"X-Forwarded-Proto": "https"})
            if conn.getresponse().status == 200:
                return server
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.5)
    stop_server(server)
    raise SystemExit("!! gunicorn did not answer the login page within 120 s")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


# --- locust ------------------------------------------------------------------------------------


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as fh:
        parts = [int(x) for x in fh.readline().split()[1:]]
    idle = parts[3] + parts[4]  # idle + iowait
    return sum(parts) - idle, sum(parts)


def server_times(access_log: Path, offset: int) -> list[float]:
    """The request times (ms, gunicorn's %(M)s) of the access-log lines written after ``offset``."""
    with open(access_log, "rb") as fh:
        fh.seek(offset)
        return [float(line.rsplit(None, 1)[-1]) for line in fh.read().decode().splitlines() if line.strip()]


def locust_run(
    user_class: str, users: int, seconds: int, host: str, config: Path, workload: str, access_log: Path
) -> dict:
    """One headless locust run; its aggregated figures, the server's times and the CPU use."""
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "run"
        env = {**os.environ, "XINFANG_BENCH_CONFIG": str(config), "XINFANG_BENCH_WORKLOAD": workload}
        offset = access_log.stat().st_size
        cpu_before = cpu_times()
        done = subprocess.run(
            [str(BIN / "locust"), "-f", str(LOCUSTFILE), user_class, "--headless", "-u", str(users),
             "-r", str(users), "-t", f"{seconds}s", "--host", host, "--csv", str(prefix),
             "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10", "--exit-code-on-error", "0"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"!! locust failed ({done.returncode}):\n{done.stderr[-3000:]}")
        cpu_after = cpu_times()
        with open(f"{prefix}_stats.csv", newline="") as fh:
            row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
        failures = []
        if Path(f"{prefix}_failures.csv").exists():
            with open(f"{prefix}_failures.csv", newline="") as fh:
                failures = [r.get("Error", "") for r in csv.DictReader(fh)][:3]
    server = server_times(access_log, offset)
    busy = (cpu_after[0] - cpu_before[0]) / max(1, cpu_after[1] - cpu_before[1])
    return {
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "p50": _float(row["50%"]),
        "p95": _float(row["95%"]),
        "rps": float(row["Requests/s"]),
        "server_p50": statistics.median(server) if server else None,
        "server_p95": statistics.quantiles(server, n=20)[-1] if len(server) > 1 else None,
        "cpu": busy,
        "load": os.getloadavg()[0],
        "errors": failures,
    }


def measure(row: Row, user_class: str, workload: str, args: argparse.Namespace, ctx: dict) -> Row:
    """``args.runs`` runs after a short warm-up; the row holds each figure's median over the runs."""
    if args.warmup:
        locust_run(
            user_class, row.users, args.warmup, ctx["host"], ctx["config"], workload, ctx["access_log"]
        )
    for i in range(args.runs):
        run = locust_run(
            user_class, row.users, args.seconds, ctx["host"], ctx["config"], workload, ctx["access_log"]
        )
        row.runs.append(run)
        print(
            f"   {row.label:<24} u={row.users:<3} run {i + 1}: {run['requests']:>7,} req "
            f"{run['failures']:>4} fail  p50 {_ms(run['p50']):>6}  p95 {_ms(run['p95']):>6} ms  "
            f"{run['rps']:>7.1f}/s  server p50/p95 {_ms(run['server_p50'])}/{_ms(run['server_p95'])}  "
            f"cpu {run['cpu']:.0%}  load {run['load']:.2f}"
            + (f"  errors: {run['errors']}" if run["errors"] else ""),
            flush=True,
        )  # fmt: skip
    med = lambda k: statistics.median([r[k] for r in row.runs if r[k] is not None] or [float("nan")])  # noqa: E731
    row.p50, row.p95, row.rps = med("p50"), med("p95"), med("rps")
    row.server_p50, row.server_p95 = med("server_p50"), med("server_p95")
    row.requests = sum(r["requests"] for r in row.runs)
    row.failures = sum(r["failures"] for r in row.runs)
    return row


def _float(text: str) -> float | None:
    """A locust CSV figure; ``N/A`` when a run made no request."""
    try:
        return float(text)
    except ValueError:
        return None


def _ms(value: float | None) -> str:
    return "—" if value is None or value != value else f"{value:.0f}"


# --- verdicts and the table --------------------------------------------------------------------


def judge(rows: list[Row]) -> None:
    for row in rows:
        misses = []
        if row.key == "W1":
            row.goal = "≥ 600/s, p95 ≤ 50 ms, no errors"
            if row.rps is not None and row.rps < 600:
                misses.append(f"{600 - row.rps:.0f}/s ({row.rps / 600:.2f}×)")
            if row.p95 is not None and row.p95 > 50:
                misses.append(f"p95 +{row.p95 - 50:.0f} ms")
            if row.failures:
                misses.append(f"{row.failures} errors")
        elif row.key == "W2":
            row.goal = "p95 ≤ 20 ms server, ≤ 50 ms HTTP"
            if row.server_p95 is not None and row.server_p95 > 20:
                misses.append(f"server p95 +{row.server_p95 - 20:.0f} ms")
            if row.p95 is not None and row.p95 > 50:
                misses.append(f"HTTP p95 +{row.p95 - 50:.0f} ms")
        elif row.key in ("W3", "W4", "page"):
            limit = {"W3": 50, "W4": 200, "page": 50}[row.key]
            row.goal = f"p95 ≤ {limit} ms" + (", ≤ 15 queries" if row.key == "page" else "")
            if row.p95 is not None and row.p95 > limit:
                misses.append(f"p95 +{row.p95 - limit:.0f} ms")
            if row.key == "page" and row.extra and int(row.extra.split()[0]) > 15:
                misses.append(f"{int(row.extra.split()[0]) - 15} queries")
        elif row.key == "W5":
            row.goal = "≤ 10 s"
            if row.p50 is not None and row.p50 > 10_000:
                misses.append(f"+{(row.p50 - 10_000) / 1000:.1f} s")
        if row.failures and row.key != "W1":
            misses.append(f"{row.failures} errors")
        if row.key != "W5" and not row.requests:
            misses = ["no request answered"]
        row.verdict = "met" if not misses else "NOT MET by " + ", ".join(misses)


def peer_for(row: Row) -> str:
    if row.key == "W3":
        return PEER["W3 rare" if "rare" in row.label else "W3 common"]
    return PEER.get(row.key, "")


def print_table(rows: list[Row], header: str) -> None:
    print(f"\n{header}")
    cols = ("workload", "users", "p50 ms", "p95 ms", "req/s", "server p50/p95", "goal", "peer", "verdict")
    print(" | ".join(cols))
    print(" | ".join("---" for _ in cols))
    for r in rows:
        if r.key == "W5":
            cells = (r.label, "job", f"{r.p50 / 1000:.2f} s", "", "", "", r.goal, peer_for(r), r.verdict)
        else:
            server = f"{_ms(r.server_p50)}/{_ms(r.server_p95)}"
            cells = (
                r.label + (f" ({r.extra})" if r.extra else ""), str(r.users), _ms(r.p50), _ms(r.p95),
                f"{r.rps:.1f}", server, r.goal, peer_for(r), r.verdict,
            )  # fmt: skip
        print(" | ".join(cells))


# --- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--petitions", type=int, default=1_000_000, help="petitions in the database")
    parser.add_argument("--db", default=DEFAULT_DB, help="bench database to create, seed and keep")
    parser.add_argument(
        "--reuse-db", default="", help="an existing bench database (and its var/bench-*.env keys)"
    )
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    parser.add_argument("--seconds", type=int, default=30, help="length of each run")
    parser.add_argument("--runs", type=int, default=3, help="runs per workload (figures are their medians)")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per workload, not counted")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn workers")
    parser.add_argument("--pool-max", type=int, default=2, help="DB_POOL_MAX_SIZE per process")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/11", help="CACHE_URL of the server")
    parser.add_argument("--register-users", default="4,16", help="W1's concurrent users, comma-separated")
    parser.add_argument("--read-users", type=int, default=1, help="concurrent users of the read workloads")
    parser.add_argument("--only", default="", help="comma-separated: W1,W2,W3,W4,W5,page")
    args = parser.parse_args()
    only = {w.strip() for w in args.only.split(",") if w.strip()} or {"W1", "W2", "W3", "W4", "W5", "page"}

    db = args.reuse_db or args.db
    if args.reuse_db and not keys_file(db).exists():
        raise SystemExit(
            f"!! {keys_file(db)} is missing: the database's data cannot be read without its keys"
        )
    started_at = dt.datetime.now(dt.UTC)
    env = {**prepare(db, args.petitions), "XINFANG_AUDIT_KEY": AUDIT_KEY}
    setup_django(env)
    from django.conf import settings
    from django.db import connection

    settings.DEBUG = False  # in-process: no query log growing through W5
    from xinfang.petitions.models import Petition

    total = Petition.objects.count()
    print(
        f"== {db}: {total:,} petitions; PostgreSQL {connection.pg_version // 10000}, "
        f"{os.cpu_count()} cores, {load()}"
    )
    if "W4" in only:
        ensure_stats()
    if "W5" in only:
        enrich()
    fresh_statistics()
    fx = staff_fixtures(args)
    fx["reads"] = reads(fx)
    words = fx["words"]
    print(
        f"== county scope {words['scope']:,} petitions; search words: rare {words['rare']} "
        f"({words['matches'][words['rare']]:,} title/content matches), common {words['common']} "
        f"({words['matches'][words['common']]:,}); petition page {fx['petition']}",
        flush=True,
    )
    rows: list[Row] = []
    page_extra = ""
    if "page" in only:
        queries, ms = page_queries(fx["reads"]["page"]["path"])
        page_extra = f"{queries} queries, {ms:.0f} ms in-process"
        print(f"== petition page: {page_extra}")
    connection.close()

    if only <= {"W5"}:  # no HTTP workload: no server
        return finish(args, db, env, rows, total, started_at, only)
    port = free_port()
    runtime = ROOT / "var" / "bench-http"
    runtime.mkdir(parents=True, exist_ok=True)
    access_log = runtime / "access.log"
    access_log.write_text("")
    config = runtime / "config.json"
    config.write_text(json.dumps(fx, ensure_ascii=False))
    config.chmod(0o600)
    server = start_server(server_env(db, args, port, access_log), port)
    ctx = {"host": f"http://127.0.0.1:{port}", "config": config, "access_log": access_log}
    print(
        f"== gunicorn {args.workers} sync workers on {ctx['host']}, pool ≤ {args.pool_max}/process, "
        f"cache {args.cache_url}; locust {args.seconds} s × {args.runs} per workload",
        flush=True,
    )
    try:
        if "W1" in only:
            for users in [int(u) for u in args.register_users.split(",") if u]:
                rows.append(measure(Row("W1", "W1 registration (API)", users), "Register", "", args, ctx))
        plan = [
            ("W2", "queue", "W2 staff queue"),
            ("W2", "api_list", "W2 API list"),
            ("W3", "api_q_rare", f"W3 API q rare ({words['rare']})"),
            ("W3", "api_q_common", f"W3 API q common ({words['common']})"),
            ("W3", "queue_q_rare", f"W3 queue q rare ({words['rare']})"),
            ("W3", "queue_q_common", f"W3 queue q common ({words['common']})"),
            ("W4", "stats", "W4 statistics page (city)"),
            ("page", "page", "petition page"),
        ]
        for key, workload, label in plan:
            if key in only:
                row = measure(Row(key, label, args.read_users), "Read", workload, args, ctx)
                if key == "page":
                    row.extra = page_extra
                rows.append(row)
    finally:
        stop_server(server)
        config.unlink(missing_ok=True)  # it holds live tokens and sessions
    return finish(args, db, env, rows, total, started_at, only)


def finish(
    args: argparse.Namespace,
    db: str,
    env: dict,
    rows: list[Row],
    total: int,
    started_at: dt.datetime,
    only: set[str],
) -> int:
    """W5 (in-process, after the server has stopped), the verdicts, the table and the JSON."""
    runtime = ROOT / "var" / "bench-http"
    if "W5" in only:
        setup_django(env)
        seconds, open_count, result = urging_pass()
        written = ", ".join(f"{k} {v:,}" for k, v in result.items() if v)
        print(f"== W5 urge pass over {open_count:,} open petitions: {seconds:.2f} s [{written}] ({load()})")
        rows.append(Row("W5", f"W5 daily urging pass ({open_count:,} open)", p50=seconds * 1000))

    judge(rows)
    w1 = [r for r in rows if r.key == "W1"]
    cpu = ", ".join(f"u={r.users}: {statistics.median(x['cpu'] for x in r.runs):.0%}" for r in w1)
    print_table(
        rows,
        f"== {total:,} petitions, {started_at:%Y-%m-%d %H:%M} UTC; gunicorn {args.workers} workers; "
        f"{args.seconds} s × {args.runs}; machine CPU during W1 {cpu or '—'}; {load()}",
    )
    out = ROOT / "var" / f"bench-http-{db}.json"
    out.write_text(json.dumps([r.__dict__ for r in rows], indent=1, ensure_ascii=False, default=str))
    print(f"\n(figures in {out})")
    if args.drop:
        drop(db)
        shutil.rmtree(runtime, ignore_errors=True)
    return 0 if all(r.verdict == "met" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
