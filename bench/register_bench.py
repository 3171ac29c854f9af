"""Benchmark W1: registrations through the API at ONE office, over HTTP against gunicorn.

    .venv/bin/python bench/register_bench.py                       # 4 workers, 16 clients, 20 s
    .venv/bin/python bench/register_bench.py --workers 3 --clients 24 --seconds 30
    .venv/bin/python bench/register_bench.py --drop                # drop the database afterwards

It prepares ``xinfang_bench_register`` on 127.0.0.1:5432 (migrated once and kept: one county, its
petition office, a system account with the intake role — the 12345 platform's shape — and an API
token), starts ``gunicorn xinfang.wsgi`` with N sync workers on a free loopback port, and fires
``POST /api/v1/petitions`` (each with its own ``Idempotency-Key``, a valid ID number and a phone:
encryption, blind indexes, repeat look-up, the petitioner's SMS in the outbox, audit, numbering)
from K client threads on keep-alive connections for T seconds, all at the one office.

It prints: registrations per second, p50/p95/p99 latency, errors; the SQL statements of one
registration (counted in-process with CaptureQueriesContext, the same request through Django's
test client); how often backends were waiting on a lock (pg_stat_activity sampled every 20 ms:
the office's number row and the audit chain head are the two shared rows a registration writes);
whether the numbers issued are exactly 1..N; and how busy the machine was (/proc/stat).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv this runs in
SERVER = "postgres://postgres@127.0.0.1:5432"
KEYS_FILE = ROOT / "var" / "bench-register.env"
TOKEN_FILE = ROOT / "var" / "bench-register.token"

SETUP = r"""
import json
from xinfang.api.services import issue_token
from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.models import Organisation, User
from xinfang.organisations.services import create_organisation, create_staff
from xinfang.petitions.models import Category

def org(name, kind, level, parent, code=""):
    found = Organisation.objects.filter(name=name).first()
    return found or create_organisation(name=name, kind=kind, level=level, parent=parent, code=code)

G, P = OrganisationKind.GOVERNMENT, OrganisationKind.PETITION_OFFICE
province = org("基准省", G, Level.PROVINCE, None, "980000")
city = org("基准市", G, Level.CITY, province, "980100")
county = org("基准县人民政府", G, Level.COUNTY, city, "980101")
office = org("基准县信访局", P, Level.COUNTY, county)
town = org("基准县城关镇", G, Level.TOWNSHIP, county, "980101001")
user = User.objects.filter(username="bench_12345").first() or create_staff(
    username="bench_12345", password="bench-Pw-12345-x", organisation=office, roles=["intake"],
    full_name="12345平台", is_system_account=True, bootstrap=True,
)
token = issue_token(user=user, name="bench", actor=None).token
category = Category.objects.filter(parent__isnull=False).order_by("code").first()
out = {"token": token, "locality": town.pk, "category": category.pk, "office": office.pk}
print("SETUP" + json.dumps(out))
"""

# One registration counted in-process: the same JSON through Django's test client.
COUNT = r"""
import json, sys
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
setup = json.loads(sys.stdin.read())
client = Client()
body = json.dumps(setup["body"])
headers = {"HTTP_AUTHORIZATION": "Bearer " + setup["token"], "HTTP_IDEMPOTENCY_KEY": setup["key"]}
with CaptureQueriesContext(connection) as ctx:
    r = client.post("/api/v1/petitions", body, content_type="application/json", **headers)
assert r.status_code == 201, (r.status_code, r.content)
real = [q["sql"] for q in ctx.captured_queries if not q["sql"].split()[0] in ("SAVEPOINT", "RELEASE")]
print("QUERIES" + json.dumps(real))
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="xinfang_bench_register")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--clients", type=int, default=16, help="concurrent client threads")
    parser.add_argument("--seconds", type=float, default=20)
    # Each worker's first registration loads the segmenter's dictionary (seconds): not measured.
    parser.add_argument("--warmup", type=float, default=40)
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of one registration")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    args = parser.parse_args()
    env = prepare(args.db)
    setup = _django(env, SETUP, marker="SETUP")
    try:
        one = {**setup, "body": _body(setup), "key": uuid.uuid4().hex}
        queries = _django(env, COUNT, marker="QUERIES", stdin=json.dumps(one))
        port = _free_port()
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "xinfang.wsgi", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
             "--timeout", "120", "--access-logfile", "/dev/null", "--error-logfile", "-",
             "--log-level", "warning"],
            env={**os.environ, **env}, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
        try:
            _wait_ready(port)
            before = _numbers(args.db, setup["office"])
            result = load(port, setup, args)
            after = _numbers(args.db, setup["office"])
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        report(args, result, queries, before, after)
    finally:
        if args.drop:
            with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
            KEYS_FILE.unlink(missing_ok=True)
    return 0


def prepare(db: str) -> dict[str, str]:
    """Create and migrate the database once; keys kept beside it so its data stay readable."""
    KEYS_FILE.parent.mkdir(exist_ok=True)
    if not KEYS_FILE.exists():
        KEYS_FILE.write_text(
            f"SECRET_KEY={secrets.token_urlsafe(50)}\nXINFANG_FIELD_KEYS={Fernet.generate_key().decode()}\n"
            f"XINFANG_BLIND_INDEX_KEY={secrets.token_urlsafe(32)}\nXINFANG_AUDIT_KEY={secrets.token_urlsafe(32)}\n"
        )
    env = {
        "DATABASE_URL": f"{SERVER}/{db}",
        "XINFANG_ENV_FILE": str(KEYS_FILE),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "PYTHONWARNINGS": "ignore",
        "XINFANG_TASK_SYNC": "0",
        "SECURE_SSL_REDIRECT": "0",  # loopback HTTP: TLS ends at the front server in production
    }
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone():
            admin.execute(f'CREATE DATABASE "{db}"')
    migrate = [str(BIN / "xinfang"), "migrate", "-v", "0"]
    subprocess.run(migrate, env={**os.environ, **env}, cwd=ROOT, check=True)
    return env


def _django(env: dict[str, str], code: str, *, marker: str, stdin: str = "") -> dict | list:
    out = subprocess.run(
        [str(BIN / "xinfang"), "shell", "-c", code],
        env={**os.environ, **env}, cwd=ROOT, input=stdin, capture_output=True, text=True,
    )  # fmt: skip
    for line in out.stdout.splitlines():
        if line.startswith(marker):
            return json.loads(line[len(marker) :])
    raise SystemExit(f"{marker} failed:\n{out.stdout}\n{out.stderr}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 240  # a loaded machine takes long to import Django
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/petitions")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


_serial = itertools.count(1)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_number() -> str:
    """A valid 18-digit ID number (GB 11643 check digit), a new one per registration."""
    n = next(_serial)
    first17 = f"980101{19600101 + (n // 1000) % 400 * 100 + 1:08d}"[:14] + f"{n % 1000:03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]
    return first17 + check


def _body(setup: dict) -> dict:
    return {
        "channel": "letter",
        "purpose": "complaint",
        "title": "小区物业违规收费",
        "content": "我所在小区物业公司自去年起按每平方米加收公共能耗费，"
        "未经业主大会表决，请求依法查处并退还。",
        "category": setup["category"],
        "locality": setup["locality"],
        "received_on": time.strftime("%Y-%m-%d"),
        "petitioners": [
            {"name": "王五", "id_number": _id_number(), "phone": f"138{next(_serial) % 10**8:08d}",
             "address": "城关镇人民路8号"}
        ],
    }  # fmt: skip


def _cpu() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def load(port: int, setup: dict, args: argparse.Namespace) -> dict:
    stop = threading.Event()
    measuring = threading.Event()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    headers = {"Authorization": "Bearer " + setup["token"], "Content-Type": "application/json"}

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while not stop.is_set():
            body = json.dumps(_body(setup), ensure_ascii=False).encode()
            started = time.perf_counter()
            try:
                sent = {**headers, "Idempotency-Key": uuid.uuid4().hex}
                conn.request("POST", "/api/v1/petitions", body, sent)
                response = conn.getresponse()
                data = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status, data = 0, str(exc).encode()
            took = time.perf_counter() - started
            if measuring.is_set() and not stop.is_set():
                with lock:
                    if status == 201:
                        latencies.append(took)
                    else:
                        errors.append(f"{status} {data[:200]!r}")
        conn.close()

    waits: list[int] = []

    def sampler() -> None:
        with psycopg.connect(f"{SERVER}/{args.db}", autocommit=True) as conn:
            while not stop.is_set():
                if measuring.is_set():
                    row = conn.execute(
                        "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'),"
                        " count(*) FILTER (WHERE state <> 'idle')"
                        " FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    ).fetchone()
                    waits.append(row[0])
                time.sleep(0.02)

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    threads.append(threading.Thread(target=sampler))
    for t in threads:
        t.start()
    time.sleep(args.warmup)
    cpu0 = _cpu()
    t0 = time.perf_counter()
    measuring.set()
    time.sleep(args.seconds)
    with lock:
        elapsed = time.perf_counter() - t0
        done, failed = len(latencies), len(errors)
    cpu1 = _cpu()
    stop.set()
    for t in threads:
        t.join(timeout=60)
    busy = (cpu1[0] - cpu0[0]) / max(1, cpu1[1] - cpu0[1])
    return {
        "elapsed": elapsed, "done": done, "failed": failed, "latencies": sorted(latencies[:done]),
        "errors": errors[:5], "busy": busy, "waits": waits,
    }  # fmt: skip


def _numbers(db: str, office: int) -> tuple[int, int, int]:
    """(petitions of the office, the sequence's last number, the highest seq in the numbers)."""
    with psycopg.connect(f"{SERVER}/{db}") as conn:
        count = conn.execute(
            "SELECT count(*) FROM petitions_petition WHERE office_id = %s", [office]
        ).fetchone()[0]
        last = conn.execute(
            "SELECT coalesce(sum(last), 0) FROM petitions_numbersequence WHERE office_id = %s", [office]
        ).fetchone()[0]
        distinct = conn.execute(
            "SELECT count(DISTINCT number) FROM petitions_petition WHERE office_id = %s", [office]
        ).fetchone()[0]
    return count, last, distinct


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def report(args: argparse.Namespace, r: dict, queries: list[str], before: tuple, after: tuple) -> None:
    lat = r["latencies"]
    waits = r["waits"] or [0]
    print(f"W1 registration through the API, one office: gunicorn -w {args.workers}, {args.clients} clients, "
          f"{args.seconds:.0f} s, {os.cpu_count()} CPUs")  # fmt: skip
    print(f"  registrations/s   {r['done'] / r['elapsed']:8.1f}   (goal ≥ 600; django-helpdesk 45.9)")
    p50, p95, p99 = _pct(lat, 50), _pct(lat, 95), _pct(lat, 99)
    print(f"  p50 / p95 / p99   {p50:6.1f} / {p95:6.1f} / {p99:6.1f} ms  (goal p95 ≤ 50)")
    if lat:
        print(f"  mean              {statistics.fmean(lat) * 1000:6.1f} ms")
    print(f"  errors            {r['failed']}  {r['errors'][:3]}")
    print(f"  SQL per registration  {len(queries)} (without savepoints; goal ≤ 12)")
    print(f"  backends waiting on a lock: mean {statistics.fmean(waits):.2f}, "
          f"samples with any {sum(1 for w in waits if w) / len(waits):.0%}")  # fmt: skip
    print(f"  machine busy      {r['busy']:.0%}")
    count, last, distinct = after
    gapfree = count == last == distinct
    print(f"  numbering         {count} petitions, sequence at {last}, {distinct} distinct numbers: "
          f"{'gap-free' if gapfree else 'NOT gap-free'} (+{count - before[0]} in this run)")  # fmt: skip
    if args.show_queries:
        for i, sql in enumerate(queries, 1):
            print(f"  {i:2d} {sql[:160]}")


if __name__ == "__main__":
    sys.exit(main())
