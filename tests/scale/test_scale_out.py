"""The scale-out layout survives kill -9 (issue #12 §4).

Two gunicorn instances on one loopback address (SO_REUSEPORT), two ``xinfang worker`` clusters on
the ORM broker, Redis for the cache, a PostgreSQL database of the test's own
(tests/scale/cluster.py).  Threads of this process act as the 12345 platform: registrations through
``POST /api/v1/petitions``, each with its own ``Idempotency-Key`` and retried with the same key on
a connection error or a 5xx (the contract of docs/api.md), and reads of the list and of single
petitions.  Each registration queues the petitioner's "registered" SMS through the outbox, which
the workers send through a counting provider.  Midway one web instance (master and workers) and
one worker cluster (with its task processes) are killed with SIGKILL.  The web instance kills
itself from inside (``cluster.dying_application``) right after committing a registration and
before answering it, so that the hardest case — committed, answer lost — happens in every run
(with whatever its other worker was doing at that moment); the worker cluster is killed from
outside at that moment.

Then: every acknowledged registration exists exactly once (by its key and by its number), the
numbers are gap-free, every SMS left exactly once, every task was done and acknowledged, the
surviving web still answers.  Only a message whose provider call itself was cut by the kill may
leave twice (the provider took it, the worker died before marking it sent): that window is
inherent in any sender without a provider-side dedupe key, it is reported, and nothing else may
duplicate (docs/deployment.md, "Scale-out on one address, and what survives kill -9").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import random
import re
import shutil
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from ..factories import make_id_number
from . import cluster as cl

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
LAYOUT_MARKS = [
    pytest.mark.scale,
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: several processes share one database"),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server (the cache)"),
]


def needs_layout(test: Any) -> Any:
    """The layout's test: marked ``scale`` and skipped without PostgreSQL or redis-server."""
    for mark in LAYOUT_MARKS:
        test = mark(test)
    return test


URL = "/api/v1/petitions"
# Each half of the run (before and after the kill) lasts at least PHASE_SECONDS and until the
# platform has PHASE_REGISTRATIONS more acknowledged registrations (a loaded machine is slower),
# at most PHASE_LIMIT seconds.
PHASE_SECONDS = 8.0
PHASE_REGISTRATIONS = 25
PHASE_LIMIT = 40.0
REGISTRARS = 6
READERS = 2
NUMBER = re.compile(r"XF-[0-9A-Za-z]+-\d{4}-(\d{6})")
RETRYABLE = (OSError, http.client.HTTPException)  # refused, reset, cut off mid-answer, timeout


@dataclass
class Tally:
    """What the clients saw; shared by the threads, every change under ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> number
    replayed: int = 0
    connection_errors: int = 0
    server_errors: list[tuple[int, str]] = field(default_factory=list)
    unexpected: list[tuple[str, int, str]] = field(default_factory=list)
    reads: Counter = field(default_factory=Counter)

    def add(self, **what: Any) -> None:
        with self.lock:
            for name, value in what.items():
                current = getattr(self, name)
                if isinstance(current, list):
                    current.append(value)
                else:
                    setattr(self, name, current + value)


class Platform:
    """One keep-alive HTTP client of the platform; reconnects when the server closed or died."""

    def __init__(self, port: int, token: str, tally: Tally) -> None:
        self.port, self.token, self.tally = port, token, tally
        self.conn: http.client.HTTPConnection | None = None

    def _call(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, str, Any]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        self.conn.request(
            method, path, body=body, headers={"Authorization": f"Bearer {self.token}", **headers}
        )
        response = self.conn.getresponse()
        text = response.read().decode()
        if response.will_close:
            self.close()
        return response.status, text, response

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(
        self, method: str, path: str, payload: Any = None, *, key: str | None = None
    ) -> tuple[int, Any, Any]:
        """The platform's retry policy: the same request (same key) again on a connection error or
        a 5xx, with a short growing pause, for about 30 s; then status 0 (counted as a failure)."""
        body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        for attempt in range(40):
            try:
                status, text, response = self._call(method, path, body, headers)
            except RETRYABLE:
                self.close()
                self.tally.add(connection_errors=1)
                time.sleep(min(0.05 * (attempt + 1), 1.0))
                continue
            if status >= 500:
                self.tally.add(server_errors=(status, text[:300]))
                time.sleep(min(0.05 * (attempt + 1), 1.0))
                continue
            return status, (json.loads(text) if text else None), response
        return 0, None, None


def registration(site: dict[str, Any], key: str, phone: str) -> dict[str, Any]:
    """The body the platform sends: the key in the title (to find the petition), its own phone."""
    return {
        "channel": "hotline",
        "purpose": "complaint",
        "title": f"规模测试{key}",
        "content": "小区门口的路灯坏了三个月，晚上出行很不安全，多次向物业反映未果，请求尽快修复。",
        "category": site["category"],
        "locality": site["locality"],
        "received_on": dt.date.today().isoformat(),
        "petitioners": [
            {"name": "李四", "id_number": make_id_number(), "phone": phone, "address": "城关镇和平路2号"}
        ],
    }


def acknowledge(tally: Tally, key: str, status: int, body: Any, response: Any) -> None:
    if status != 201:
        tally.add(unexpected=(key, status, json.dumps(body, ensure_ascii=False)[:300]))
        return
    with tally.lock:
        tally.acknowledged[key] = body["number"]
        tally.replayed += response.getheader("Idempotent-Replayed") == "true"


def registrar(platform: Platform, site: dict[str, Any], n: int, stop: threading.Event) -> None:
    i = 0
    while not stop.is_set():
        i += 1
        key = f"scale-{n}-{i}-{random.getrandbits(40):010x}"
        payload = registration(site, key, f"139{n:02d}{i:06d}")
        acknowledge(platform.tally, key, *platform.request("POST", URL, payload, key=key))


def lose_an_answer(port: int, site: dict[str, Any], tally: Tally) -> str:
    """Registrations marked to kill the instance that commits them, one connection each, until one
    reaches web-a (the instance running ``cluster.dying_application``): it commits, and web-a dies
    with all its processes before answering.  The platform retries that one with the same key, and
    the survivor must answer with the stored response.  (Those reaching web-b are ordinary.)
    Returns the key whose first answer was lost."""
    platform = Platform(port, site["token"], tally)
    for n in range(40):
        key = f"scale-lost-{n}-{random.getrandbits(40):010x}"
        payload = registration(site, key, f"13899{n:06d}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {
            "Authorization": f"Bearer {site['token']}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            cl.DIE_HEADER: "1",
        }
        try:
            conn.request("POST", URL, body=json.dumps(payload, ensure_ascii=False).encode(), headers=headers)
            response = conn.getresponse()
            status, body = response.status, json.loads(response.read() or b"null")
        except RETRYABLE:
            tally.add(connection_errors=1)
            status, body, response = platform.request("POST", URL, payload, key=key)
            assert (status, response.getheader("Idempotent-Replayed")) == (201, "true"), (status, body)
            acknowledge(tally, key, status, body, response)
            return key
        finally:
            conn.close()
        acknowledge(tally, key, status, body, response)
    raise AssertionError("no marked registration reached web-a")


def reader(platform: Platform, stop: threading.Event) -> None:
    while not stop.is_set():
        status, body, _ = platform.request("GET", f"{URL}?limit=20")
        platform.tally.add(reads=Counter({f"list {status}": 1}))
        numbers = [row["number"] for row in (body or {}).get("results", [])]
        if numbers:
            status, _, _ = platform.request("GET", f"{URL}/{random.choice(numbers)}")
            platform.tally.add(reads=Counter({f"detail {status}": 1}))


def warm_up(port: int, token: str, clients: int = 8, timeout: float = 60) -> None:
    """Until ``clients`` concurrent reads all succeed twice in a row: every gunicorn worker has
    imported the application (gunicorn says "Booting worker" before that, and does not preload)."""
    deadline = time.monotonic() + timeout
    in_a_row = 0
    while in_a_row < 2:
        assert time.monotonic() < deadline, "the web processes did not warm up"
        statuses: list[int] = []

        def probe(statuses: list[int] = statuses) -> None:
            with contextlib.suppress(*RETRYABLE):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", f"{URL}?limit=1", headers={"Authorization": f"Bearer {token}"})
                statuses.append(conn.getresponse().status)
                conn.close()

        probes = [threading.Thread(target=probe) for _ in range(clients)]
        for thread in probes:
            thread.start()
        for thread in probes:
            thread.join()
        in_a_row = in_a_row + 1 if statuses == [200] * clients else 0


def phase(tally: Tally, registrations: int) -> None:
    """Wait PHASE_SECONDS and until ``registrations`` are acknowledged (at most PHASE_LIMIT s)."""
    started = time.monotonic()
    while time.monotonic() - started < PHASE_LIMIT:
        if time.monotonic() - started >= PHASE_SECONDS and len(tally.acknowledged) >= registrations:
            return
        time.sleep(0.1)


def served(log: Path, request: str) -> int:
    """How many times gunicorn's access log (format in xinfang.gunicorn_conf) shows ``request``."""
    return log.read_text(errors="replace").count(f'"{request}"')


def query(server: cl.Server, database: str, sql: str, params: list[Any] | None = None) -> list[tuple]:
    with server.connect(database) as conn:
        return conn.execute(sql, params or []).fetchall()


def sends_by_number(sms_log: Path) -> dict[str, list[int]]:
    """Petition number -> the process groups that handed its SMS to the provider, one per send."""
    sends: dict[str, list[int]] = {}
    for line in cl.sms_sent(sms_log):
        match = NUMBER.search(line["text"])
        assert match, line
        sends.setdefault(match.group(0), []).append(line["pgid"])
    return sends


class Stopwatch:
    """Seconds per stage of the test, printed at the end (pytest -s)."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.laps: list[str] = []

    def lap(self, what: str) -> None:
        now = time.monotonic()
        self.laps.append(f"{what} {now - self.last:.1f} s")
        self.last = now


@pytest.fixture
def run_dir() -> Any:
    path = cl.ROOT / "var" / "scale" / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{random.getrandbits(24):06x}"
    path.mkdir(parents=True)
    return path


@needs_layout
def test_registrations_and_jobs_survive_kill_9_of_one_web_and_one_worker(run_dir: Path) -> None:
    server = cl.Server.from_settings()
    sms_log = run_dir / "sms.jsonl"
    database = ""
    layout: cl.Cluster | None = None
    with contextlib.ExitStack() as stack:
        redis_url = stack.enter_context(cl.redis_server(run_dir))
        env = cl.cluster_env(
            database_url="", cache_url=f"{redis_url}/0", sms_log=sms_log, media=run_dir / "media"
        )
        clock = Stopwatch()
        try:
            template = cl.template_database(server, env, run_dir / "migrate.log")
            database = cl.clone_database(server, template)
            clock.lap("database")
            env["DATABASE_URL"] = server.url(database)
            layout = cl.Cluster(logs=run_dir, env=env, port=cl.free_port())
            # given the layout: two web instances on one address, two workers (the first one the
            # scheduler), all up, and the platform's account (made while they start)
            for name in ("web-a", "web-b"):
                # web-a runs Xinfang's application inside cluster.dying_application (unchanged
                # for every request but the one marked to kill it)
                layout.start_web(name, app="tests.scale.cluster:dying_application" if name == "web-a" else "")
            layout.start_worker("worker-a", scheduler=True)
            layout.start_worker("worker-b", scheduler=False)
            site = json.loads(layout.run("setup").strip().splitlines()[-1])
            layout.wait_ready()
            warm_up(layout.port, site["token"])
            clock.lap("start")
            _run_and_check(server, database, layout, site, sms_log, clock)
        except BaseException:
            if layout is not None:
                print(layout.output())  # noqa: T201 (shown by pytest on failure)
            raise
        finally:
            if layout is not None:
                layout.stop()
            if database:
                server.drop(database)
    shutil.rmtree(run_dir, ignore_errors=True)  # kept only when the test failed


def _run_and_check(
    server: cl.Server,
    database: str,
    layout: cl.Cluster,
    site: dict[str, Any],
    sms_log: Path,
    clock: Stopwatch,
) -> None:
    tally = Tally()
    stop = threading.Event()
    platforms = [Platform(layout.port, site["token"], tally) for _ in range(REGISTRARS + READERS)]
    threads = [
        threading.Thread(target=registrar, args=(platforms[n], site, n, stop), daemon=True)
        for n in range(REGISTRARS)
    ] + [threading.Thread(target=reader, args=(p, stop), daemon=True) for p in platforms[REGISTRARS:]]
    # when the platform registers and reads, and midway one web instance and one worker die by
    # SIGKILL, whole process groups
    started = time.monotonic()
    for thread in threads:
        thread.start()
    phase(tally, PHASE_REGISTRATIONS)
    before_kill = len(tally.acknowledged)
    killed_worker = layout.processes["worker-b"].pid  # its process group id
    # web-a dies by SIGKILL of its process group from inside, right after committing a
    # registration it never answers (and with whatever its other worker was doing)
    lost = lose_an_answer(layout.port, site, tally)
    layout.wait_dead("web-a")
    layout.kill("worker-b")
    phase(tally, before_kill + PHASE_REGISTRATIONS)
    stop.set()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive(), "a client thread is stuck"
    after_kill = len(tally.acknowledged) - before_kill
    clock.lap("workload")
    summary = (
        f"acknowledged {len(tally.acknowledged)} ({before_kill} before the kill, {after_kill} after), "
        f"replayed {tally.replayed}, connection errors {tally.connection_errors}, "
        f"5xx {len(tally.server_errors)}, reads {dict(tally.reads)}, {time.monotonic() - started:.1f} s"
    )
    print(summary)  # noqa: T201 (pytest -s shows the figures)

    # then the clients got an answer to everything, never a refusal, and both halves of the run did work
    assert not tally.unexpected, tally.unexpected[:5]
    assert not tally.server_errors, tally.server_errors[:5]
    # the registration whose answer died with web-a was answered on retry from the stored response
    assert lost in tally.acknowledged and tally.replayed >= 1, summary
    assert before_kill >= PHASE_REGISTRATIONS and after_kill >= PHASE_REGISTRATIONS, summary
    assert set(tally.reads) <= {"list 200", "detail 200"}, tally.reads
    # both web instances served registrations (the kernel spread the connections over the two
    # sockets of one address), the killed one is gone and the survivor still answers
    logs = {name: process.log for name, process in layout.processes.items()}  # type: ignore[attr-defined]
    assert served(logs["web-a"], f"POST {URL}") > 0 and served(logs["web-b"], f"POST {URL}") > 0
    assert layout.processes["web-a"].poll() is not None
    assert layout.processes["web-b"].poll() is None
    status, body, _ = Platform(layout.port, site["token"], tally).request("GET", f"{URL}?limit=1")
    assert status == 200 and body["count"] >= len(tally.acknowledged)

    # every acknowledged registration exists exactly once, under the number it was acknowledged
    # with, and its key once; nothing was registered that was not acknowledged
    rows = query(
        server, database, "SELECT title, number FROM petitions_petition WHERE title LIKE '规模测试%%'"
    )
    by_key: dict[str, list[str]] = {}
    for title, number in rows:
        by_key.setdefault(title.removeprefix("规模测试"), []).append(number)
    duplicates = {k: v for k, v in by_key.items() if len(v) > 1}
    assert not duplicates, duplicates
    assert {k: v[0] for k, v in by_key.items()} == tally.acknowledged
    keys = query(
        server,
        database,
        "SELECT key, count(*) FROM api_idempotencykey WHERE key LIKE 'scale-%%' GROUP BY key",
    )
    assert dict(keys) == dict.fromkeys(tally.acknowledged, 1)
    # the office's numbers are gap-free: 1 … N, and its sequence stands at N
    numbers = [number for _title, number in rows]
    seqs = sorted(int(NUMBER.search(n).group(1)) for n in numbers)
    assert seqs == list(range(1, len(seqs) + 1)), "gaps or repeats in the numbering"
    (last,) = query(
        server, database, "SELECT last FROM petitions_numbersequence WHERE office_id = %s", [site["office"]]
    )[0]
    assert last == len(seqs)

    # every SMS is sent: the killed cluster's tasks are handed out again after their lease (6 s
    # here); a message it had claimed from the outbox stays leased for the lease's five minutes,
    # so once nothing else moves the test stands in for that wait and the every-minute job sends it
    outbox = (
        "SELECT p.number, m.status, m.attempts FROM notifications_outboxmessage m"
        " JOIN petitions_petition p ON p.id = m.petition_id"
        " WHERE m.template_code = 'registered' AND p.title LIKE '规模测试%%'"
    )
    pending_tasks = "SELECT count(*) FROM django_q_ormq"

    def settled() -> bool:
        states = Counter(status for _n, status, _a in query(server, database, outbox))
        return states["pending"] == 0 and query(server, database, pending_tasks)[0][0] == 0

    cl.wait_until(settled, 40, "the outbox and the task queue to settle")
    orphans = {n for n, status, _a in query(server, database, outbox) if status == "sending"}
    if orphans:
        query(
            server,
            database,
            "UPDATE notifications_outboxmessage SET next_attempt_at = now() WHERE status = 'sending'"
            " RETURNING id",
        )
        layout.run("enqueue", "xinfang.notifications.tasks.deliver_pending")
    cl.wait_until(
        lambda: {s for _n, s, _a in query(server, database, outbox)} == {"sent"}, 30, "every SMS sent"
    )
    messages = query(server, database, outbox)
    assert sorted(n for n, _s, _a in messages) == sorted(numbers), "one 'registered' SMS per petition"
    sends = sends_by_number(sms_log)
    assert set(sends) == set(numbers)
    twice = {n: groups for n, groups in sends.items() if len(groups) > 1}
    # only a message whose provider call the kill cut (sent by the killed cluster, never marked
    # sent, then sent again once its lease ran out) may have left twice
    assert all(
        n in orphans and groups[0] == killed_worker and len(groups) == 2 for n, groups in twice.items()
    ), twice
    # the killed worker really was sending when it died, and the survivor took over
    senders = Counter(g for groups in sends.values() for g in groups)
    assert senders[killed_worker] > 0 and senders[layout.processes["worker-a"].pid] > 0, senders
    # no process shared a database connection with another (see tests/worker/test_pool.py)
    for name, log in logs.items():
        text = log.read_text(errors="replace")
        assert "INTRANS" not in text and "Failed to pull task" not in text, name
    # every task the workers ran succeeded, and nothing is left in the queue
    failed = query(server, database, "SELECT func, result FROM django_q_task WHERE NOT success")
    assert not failed, failed[:5]
    assert query(server, database, pending_tasks)[0][0] == 0
    clock.lap("checks")
    print(  # noqa: T201
        f"stages: {', '.join(clock.laps)}; SMS: {len(messages)} sent, "
        f"{len(orphans)} left leased by the killed worker, "
        f"{len(twice)} sent twice (provider call cut by the kill); senders {dict(senders)}"
    )


@needs_layout
def test_a_killed_workers_task_comes_back_on_the_orm_broker_and_is_lost_on_redis(run_dir: Path) -> None:
    """Why the scale-out layout keeps the ORM broker (docs/deployment.md): django-q2's ORM broker
    hands a dead cluster's task out again once its lease ends; its Redis broker (BLPOP, no
    acknowledgement) never does.  If a django-q2 upgrade changes either, this test says so."""
    server = cl.Server.from_settings()
    database = ""
    layout: cl.Cluster | None = None
    with cl.redis_server(run_dir) as redis_url:
        env = cl.cluster_env(
            database_url="",
            cache_url=f"{redis_url}/0",
            sms_log=run_dir / "sms.jsonl",
            media=run_dir / "media",
        )
        brokers = {"orm": {}, "redis": {"XINFANG_TASK_REDIS_URL": f"{redis_url}/1"}}
        markers = {broker: str(run_dir / broker) for broker in brokers}
        try:
            database = cl.clone_database(server, cl.template_database(server, env, run_dir / "migrate.log"))
            env["DATABASE_URL"] = server.url(database)
            layout = cl.Cluster(logs=run_dir, env=env, port=0)
            # given one worker (one task process) per broker
            for broker, extra in brokers.items():
                layout.start_worker(f"worker-{broker}", scheduler=False, XINFANG_WORKERS="1", **extra)
            layout.wait_ready()
            # when each worker is killed as soon as it runs its task (which waits to be released)
            # and a new worker starts on the same broker
            for broker, extra in brokers.items():
                layout.run("enqueue", "tests.scale.cluster.hold", markers[broker], **extra)
                started = lambda m=markers[broker]: cl.runs(m, "started")  # noqa: E731
                cl.wait_until(started, 60, f"the {broker} task to start")
                layout.kill(f"worker-{broker}")
                layout.start_worker(f"worker-{broker}-new", scheduler=False, XINFANG_WORKERS="1", **extra)
            for marker in markers.values():
                Path(marker + ".release").touch()
            layout.wait_ready()
            # then the ORM broker's task runs again, once, after its lease (6 s here) …
            cl.wait_until(lambda: cl.runs(markers["orm"], "done"), 40, "the ORM broker's task to run again")
            time.sleep(3)  # a second copy would have run by now
            assert (cl.runs(markers["orm"], "started"), cl.runs(markers["orm"], "done")) == (2, 1)
            # … and the Redis broker's task, given at least as long, is gone
            assert (cl.runs(markers["redis"], "started"), cl.runs(markers["redis"], "done")) == (1, 0)
        except BaseException:
            if layout is not None:
                print(layout.output())  # noqa: T201 (shown by pytest on failure)
            raise
        finally:
            if layout is not None:
                layout.stop()
            if database:
                server.drop(database)
    shutil.rmtree(run_dir, ignore_errors=True)


def test_platform_retries_on_a_dead_connection() -> None:
    """The client's retry policy itself: a connection refused, then an answer, is one request."""
    port = cl.free_port()
    tally = Tally()
    answers: list[int] = []

    def serve() -> None:
        time.sleep(0.3)  # the first attempts are refused
        with socket.create_server(("127.0.0.1", port)) as listener:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
                answers.append(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    status, body, _ = Platform(port, "t", tally).request("GET", "/x")
    thread.join(5)
    assert (status, body, answers) == (200, {}, [1])
    assert tally.connection_errors >= 1
