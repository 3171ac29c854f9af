"""The scale-out layout on loopback, for tests/scale/test_scale_out.py (issue #12 §4).

Two gunicorn instances bound to the SAME address and port with ``--reuse-port`` (SO_REUSEPORT: the
kernel spreads new connections over both listening sockets, so clients see one address and no
proxy is needed), two ``xinfang worker`` clusters on the ORM broker, a throw-away Redis for the
cache, and a PostgreSQL database of its own.  Every process is the leader of its own process group,
so ``kill -9`` of the group takes a gunicorn master with its workers, or a django-q2 cluster with its
task processes, as the OOM killer or a power cut would.

The database is created per run from a migrated template (``xinfang_scale_tpl_<fingerprint>``),
because migrating from scratch takes about a minute: the template is rebuilt only when a migration
file changes.  The servers run the production settings (``xinfang.settings``) with the suite's keys.

This module is also run as a program inside the cluster's environment:
``python -m tests.scale.cluster setup`` (the office, the 12345 platform's system account and its
token, printed as JSON) and ``python -m tests.scale.cluster enqueue <dotted.path>`` (queue a task
on the broker, as the scheduler does).  ``CountingSmsBackend`` is the SMS "provider" the workers
use: one line per send, so the test counts how often each message left the system.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "xinfang"
TEMPLATE_PREFIX = "xinfang_scale_tpl_"
# django-q2 logs "Q Cluster <name> [xinfang] running." once its processes are up (in the site's
# language: zh-hans by default).
WORKER_RUNNING = re.compile(r"\[[^\]]*xinfang[^\]]*\] (running\.|正在运行)")
GUNICORN_BOOTED = re.compile(r"Booting worker with pid")


# --- the SMS "provider" (runs inside the worker processes) ---------------------------------------


class CountingSmsBackend:
    """An SMS gateway that writes one JSON line per message it is given to the file named by
    ``XINFANG_TEST_SMS_LOG``: the phone, the text and the process group of the sender (the worker
    cluster), appended with O_APPEND so that concurrent senders never interleave."""

    demo = False

    def send(self, phone: str, text: str) -> str:
        line = json.dumps({"phone": phone, "text": text, "pgid": os.getpgid(0), "pid": os.getpid()})
        fd = os.open(os.environ["XINFANG_TEST_SMS_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
        return f"count-{uuid.uuid4().hex[:12]}"


def hold(marker: str) -> str:
    """A task for the broker test: notes its start (``<marker>.started``), waits until the test
    creates ``<marker>.release`` (at most a minute), notes that it was done (``<marker>.done``);
    one line per run, with the process id."""
    with open(marker + ".started", "a") as f:
        f.write(f"{os.getpid()}\n")
    deadline = time.monotonic() + 60
    while not Path(marker + ".release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    with open(marker + ".done", "a") as f:
        f.write(f"{os.getpid()}\n")
    return "done"


def runs(marker: str, what: str) -> int:
    path = Path(f"{marker}.{what}")
    return len(path.read_text().split()) if path.exists() else 0


DIE_HEADER = "X-Test-Die-After-Commit"
_application: Any = None


def dying_application(environ: dict[str, Any], start_response: Any) -> Any:
    """Xinfang's WSGI application, unchanged, except that a request carrying ``DIE_HEADER: 1``
    SIGKILLs this gunicorn instance (its whole process group, master and workers) once the
    application has answered it — its transaction committed — and before a byte of the answer
    leaves: the case a retry must get the stored answer for, made certain instead of left to
    the timing of an outside kill."""
    global _application
    if _application is None:
        from xinfang.wsgi import application

        _application = application
    if environ.get("HTTP_" + DIE_HEADER.upper().replace("-", "_")) != "1":
        return _application(environ, start_response)
    result = _application(environ, lambda status, headers, exc_info=None: lambda data: None)
    try:
        for _chunk in result:
            pass
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()  # Django's request_finished: the transaction is long committed by now
    os.killpg(os.getpgid(0), signal.SIGKILL)
    raise AssertionError("unreachable")


def sms_sent(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


# --- PostgreSQL ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str

    @classmethod
    def from_settings(cls) -> Server:
        from django.conf import settings

        db = settings.DATABASES["default"]
        return cls(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432), db["USER"], db.get("PASSWORD") or "")

    def url(self, name: str) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgres://{auth}@{self.host}:{self.port}/{name}"

    def connect(self, name: str = "postgres") -> Any:
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=name,
            autocommit=True,
        )

    def exists(self, name: str) -> bool:
        with self.connect() as conn:
            return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None

    def drop(self, name: str) -> None:
        from psycopg import sql

        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def migrations_fingerprint() -> str:
    """What the schema depends on: every migration file of Xinfang and the versions of the
    libraries whose migrations it runs (Django, django-q2, django-otp …)."""
    from importlib import metadata

    digest = hashlib.sha256()
    for path in sorted(SRC.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(SRC)).encode())
        digest.update(path.read_bytes())
    for dist in ("django", "django-q2", "django-otp"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            digest.update(f"{dist}={metadata.version(dist)}".encode())
    return digest.hexdigest()[:12]


def template_database(server: Server, env: dict[str, str], log: Path) -> str:
    """The migrated template for this schema, made (about a minute) if it is not there yet.  It is
    built under a temporary name and renamed when complete, so a build killed halfway is never
    used; templates of older schemas are dropped."""
    from psycopg import sql

    name = TEMPLATE_PREFIX + migrations_fingerprint()
    if server.exists(name):
        return name
    building = f"{name}_b{os.getpid()}"
    with server.connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
    try:
        with log.open("wb") as out:
            subprocess.run(  # noqa: S603 (our own interpreter and arguments)
                [sys.executable, "-m", "xinfang.cli", "migrate", "--noinput"],
                # One-off build: commits need not wait for the disk (about a third faster).
                env={**env, "DATABASE_URL": server.url(building) + "?options=-c%20synchronous_commit%3Doff"},
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=300,
            )
        with server.connect() as conn:
            conn.execute(
                sql.SQL("ALTER DATABASE {} RENAME TO {}").format(*map(sql.Identifier, (building, name)))
            )
    except BaseException:
        server.drop(building)
        if server.exists(name):  # a run in parallel finished the same template first
            return name
        raise
    with server.connect() as conn:
        old = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
            [TEMPLATE_PREFIX + "%", name],
        ).fetchall()
    for (stale,) in old:
        with contextlib.suppress(Exception):  # another run may be copying it right now
            server.drop(stale)
    return name


def clone_database(server: Server, template: str) -> str:
    """A fresh database copied from ``template`` (a file copy: under a second).  Databases left by
    a run of this host that was killed before its clean-up (its process is gone) are dropped."""
    from psycopg import sql

    with server.connect() as conn:
        leftovers = r"SELECT datname FROM pg_database WHERE datname ~ '^xinfang_scale_\d+_'"
        names = conn.execute(leftovers).fetchall()
    for (old,) in names:
        pid = int(old.split("_")[2])
        if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            with contextlib.suppress(Exception):
                server.drop(old)
    name = f"xinfang_scale_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    for attempt in range(20):
        try:
            with server.connect() as conn:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                )
            return name
        except Exception as exc:  # "source database is being accessed by other users": a parallel copy
            if "being accessed" not in str(exc) or attempt == 19:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


# --- processes -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(
    condition: Callable[[], object], timeout: float, what: str, process: subprocess.Popen | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {process.returncode}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class Cluster:
    """The processes of one layout; ``stop()`` ends every one of them, whatever happened."""

    logs: Path
    env: dict[str, str]
    port: int
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def _start(self, name: str, argv: list[str], **extra_env: str) -> subprocess.Popen:
        log = self.logs / f"{name}.log"
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            argv,
            env={**self.env, **extra_env},
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 takes it whole
        )
        process.log = log  # type: ignore[attr-defined]
        self.processes[name] = process
        return process

    def start_web(
        self, name: str, workers: int = 2, app: str = "xinfang.wsgi:application"
    ) -> subprocess.Popen:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        return self._start(
            name,
            # --no-control-socket: two masters on one host would share gunicorn's default control
            # socket path (~/.gunicorn/gunicorn.ctl), and the first to stop removes the other's.
            [
                gunicorn,
                *("-c", "python:xinfang.gunicorn_conf", "--reuse-port", "--no-control-socket"),
                app or "xinfang.wsgi:application",
            ],
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            GUNICORN_ACCESS_LOG="-",
            GUNICORN_WORKERS=str(workers),
            GUNICORN_MAX_REQUESTS="0",
        )

    def start_worker(self, name: str, *, scheduler: bool, **extra_env: str) -> subprocess.Popen:
        return self._start(
            name,
            [sys.executable, "-m", "xinfang.cli", "worker"],
            XINFANG_WORKER_SCHEDULER="1" if scheduler else "0",
            **extra_env,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        for name, process in self.processes.items():
            log: Path = process.log  # type: ignore[attr-defined]
            if name.startswith("web"):
                wait_until(
                    lambda log=log: len(GUNICORN_BOOTED.findall(log.read_text(errors="replace"))) >= 2,
                    timeout,
                    f"{name} to boot ({log})",
                    process,
                )
            else:
                wait_until(
                    lambda log=log: WORKER_RUNNING.search(log.read_text(errors="replace")),
                    timeout,
                    f"{name} to run ({log})",
                    process,
                )
        if any(name.startswith("web") for name in self.processes):
            wait_until(lambda: reachable(self.port), timeout, "the web address")

    def wait_dead(self, name: str) -> None:
        process = self.processes[name]
        process.wait(10)
        wait_until(lambda: not group_alive(process.pid), 10, f"{name}'s process group to die")

    def kill(self, name: str) -> None:
        """kill -9 of the whole process group (a gunicorn master and its workers; a cluster and its
        task processes)."""
        process = self.processes[name]
        kill_group(process)
        process.wait(10)
        wait_until(lambda: not group_alive(process.pid), 10, f"{name}'s process group to die")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                kill_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
        for process in self.processes.values():
            kill_group(process)  # whatever is left of any group, the children of a dead master too
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)

    def output(self, tail: int = 6000) -> str:
        return "\n".join(
            f"--- {p.log}\n{p.log.read_text(errors='replace')[-tail:]}"  # type: ignore[attr-defined]
            for p in self.processes.values()
        )

    def run(self, *args: str, timeout: float = 120, **extra_env: str) -> str:
        """``python -m tests.scale.cluster <args>`` in the cluster's environment; its stdout."""
        done = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "tests.scale.cluster", *args],
            env={**self.env, **extra_env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise AssertionError(f"cluster {args}: {done.returncode}\n{done.stdout}\n{done.stderr}")
        return done.stdout


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A throw-away Redis on a free loopback port, nothing saved to disk; its URL."""
    port = free_port()
    args = [
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
    ]
    server = subprocess.Popen(  # noqa: S603 (a fixed program and arguments)
        [shutil.which("redis-server") or "redis-server", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: reachable(port), 10, "redis-server", server)
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait(10)


def cluster_env(*, database_url: str, cache_url: str, sms_log: Path, media: Path) -> dict[str, str]:
    """The production settings with this suite's keys (inherited from the test process, where
    test_settings generated them), the cluster's database, Redis cache and test SMS provider."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "XINFANG_TASK", "XINFANG_WORK", "GUNICORN_", "DB_", "CACHE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="xinfang.settings",
        XINFANG_ENV_FILE="/nonexistent",
        DATABASE_URL=database_url,
        CACHE_URL=cache_url,
        DB_POOL_MAX_SIZE="2",  # Django's psycopg pool, as in production (deployment.md)
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",  # plain http on loopback
        SECURE_HSTS_SECONDS="0",
        SECURE_COOKIES="0",
        MEDIA_ROOT=str(media),
        XINFANG_SMS_BACKEND="tests.scale.cluster.CountingSmsBackend",
        XINFANG_TEST_SMS_LOG=str(sms_log),
        # ORM broker (no XINFANG_TASK_REDIS_URL): a task whose worker died is handed out again once
        # its lease runs out; here after 6 s instead of 12 minutes, so the test sees it.
        XINFANG_TASK_TIMEOUT="5",
        XINFANG_TASK_RETRY="6",
        XINFANG_TASK_POLL_SECONDS="0.2",
        XINFANG_WORKERS="2",
        PYTHONPATH=os.pathsep.join(
            [str(ROOT / "src"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
        PYTHONUNBUFFERED="1",
    )
    return env


# --- run inside the cluster's environment ----------------------------------------------------------


def _setup() -> dict[str, Any]:
    """The county, its petition office, a township and the 12345 platform's system account (role
    intake at the office) with a token issued from the command line, as an operator would."""
    from xinfang.api.services import issue_token
    from xinfang.organisations.choices import Level, OrganisationKind
    from xinfang.organisations.services import create_organisation, create_staff
    from xinfang.petitions.models import Category

    gov = create_organisation(
        name="规模县人民政府", kind=OrganisationKind.GOVERNMENT, level=Level.COUNTY, code="980101"
    )
    office = create_organisation(
        name="规模县信访局", kind=OrganisationKind.PETITION_OFFICE, level=Level.COUNTY, parent=gov
    )
    town = create_organisation(
        name="规模县城关镇",
        kind=OrganisationKind.GOVERNMENT,
        level=Level.TOWNSHIP,
        parent=gov,
        code="980101001",
    )
    platform = create_staff(
        username="platform12345",
        password=uuid.uuid4().hex + "Aa1!",
        organisation=office,
        roles=["intake"],
        full_name="12345平台",
        is_system_account=True,
        bootstrap=True,
    )
    token = issue_token(user=platform, name="12345", actor=None).token
    category = Category.objects.filter(parent__isnull=False).order_by("code").first()
    return {"token": token, "office": office.pk, "locality": town.pk, "category": category.pk}


def _enqueue(func: str, *args: str) -> str:
    from django_q.tasks import async_task

    return async_task(func, *args)


def main(argv: list[str]) -> None:
    import django

    django.setup()
    if argv[:1] == ["setup"]:
        print(json.dumps(_setup()))
    elif argv[:1] == ["enqueue"] and len(argv) >= 2:
        print(_enqueue(argv[1], *argv[2:]))
    else:
        raise SystemExit("usage: python -m tests.scale.cluster setup | enqueue <dotted.path> [args]")


if __name__ == "__main__":
    main(sys.argv[1:])
