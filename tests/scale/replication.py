"""Two local PostgreSQL clusters with streaming replication, on loopback, for the replica tests
(tests/scale/test_replica.py) and for operators to try (bench/replica_setup.py).

Plain standard library, no Django: ``ReplicatedPair(...).start()`` runs, in a temporary
directory owned by the ``postgres`` OS user (through ``runuser`` when we are root),

    initdb -D primary -U postgres --auth=trust -E UTF8 --locale=C.UTF-8
    (postgresql.conf) listen_addresses=127.0.0.1, port=P, wal_level=replica, max_wal_senders
    (pg_hba.conf)     host replication all 127.0.0.1/32 trust
    pg_ctl -D primary -l primary.log -w start
    pg_basebackup -h 127.0.0.1 -p P -U postgres -D standby -R -X stream -c fast
    (standby postgresql.conf) port=S          # -R wrote primary_conninfo + standby.signal
    pg_ctl -D standby -l standby.log -w start

then waits until the primary's ``pg_stat_replication`` shows the standby ``streaming``.
``stop()`` stops both (``pg_ctl stop -m fast``) and removes the directory, whatever happened.
These are the commands docs/deployment.md ("Read replica") gives.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_USER = "postgres"
TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "psql")


def server_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<major>/bin holding initdb, pg_ctl and pg_basebackup."""
    found = sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for path in reversed(found):
        if all((path / tool).exists() for tool in TOOLS):
            return path
    return None


def missing_reason() -> str | None:
    """Why the clusters cannot be set up here, or None."""
    if server_bin_dir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) missing in /usr/lib/postgresql"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(PG_USER)
        except KeyError:
            return "running as root without a 'postgres' OS user to own the clusters"
        if shutil.which("runuser") is None:
            return "running as root without runuser"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ReplicatedPair:
    """A primary and a streaming standby on 127.0.0.1, trust authentication for ``postgres``."""

    primary_port: int = field(default_factory=free_port)
    standby_port: int = 0
    root: Path | None = None
    bin_dir: Path | None = None
    started: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.standby_port:
            port = free_port()
            while port == self.primary_port:
                port = free_port()
            self.standby_port = port
        self.bin_dir = self.bin_dir or server_bin_dir()

    # --- commands ---------------------------------------------------------------------------------

    def _run(self, *args: str, timeout: float = 60) -> str:
        """Run a server tool as the postgres OS user; return its stdout, raise with its output."""
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", PG_USER, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root)  # noqa: S603
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def psql(self, port: int, sql: str, dbname: str = "postgres") -> str:
        """One statement's result, unaligned and without headers."""
        out = self._run("psql", "-h", "127.0.0.1", "-p", str(port), "-U", PG_USER, "-d", dbname, "-XAtc", sql)
        return out.strip()

    @property
    def primary_dir(self) -> Path:
        assert self.root is not None
        return self.root / "primary"

    @property
    def standby_dir(self) -> Path:
        assert self.root is not None
        return self.root / "standby"

    def url(self, which: str, dbname: str) -> str:
        port = self.primary_port if which == "primary" else self.standby_port
        return f"postgres://{PG_USER}@127.0.0.1:{port}/{dbname}"

    # --- life -------------------------------------------------------------------------------------

    def start(self, timeout: float = 30) -> ReplicatedPair:
        if self.bin_dir is None:
            raise RuntimeError(missing_reason() or "no PostgreSQL server binaries")
        self.root = Path(tempfile.mkdtemp(prefix="xinfang-replica-"))
        if os.geteuid() == 0:
            owner = pwd.getpwnam(PG_USER)
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        os.chmod(self.root, 0o700)
        try:
            self._start_primary()
            self._start_standby()
            self.wait_streaming(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_primary(self) -> None:
        self._run("initdb", "-D", str(self.primary_dir), "-U", PG_USER, "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        conf = f"""
listen_addresses = '127.0.0.1'
port = {self.primary_port}
unix_socket_directories = '{self.root}'
wal_level = replica
max_wal_senders = 4
max_connections = 40
shared_buffers = 32MB
fsync = off
full_page_writes = off
wal_receiver_status_interval = 1s
"""
        self._append(self.primary_dir / "postgresql.conf", conf)
        self._append(self.primary_dir / "pg_hba.conf", "host replication all 127.0.0.1/32 trust\n")
        self._run("pg_ctl", "-D", str(self.primary_dir), "-l", str(self.root / "primary.log"), "-w", "start")
        self.started.append("primary")

    def _start_standby(self) -> None:
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", PG_USER,
                  "-D", str(self.standby_dir), "-R", "-X", "stream", "-c", "fast")  # fmt: skip
        self._append(self.standby_dir / "postgresql.conf", f"port = {self.standby_port}\nhot_standby = on\n")
        self.start_standby()

    def start_standby(self) -> None:
        self._run("pg_ctl", "-D", str(self.standby_dir), "-l", str(self.root / "standby.log"), "-w", "start")
        if "standby" not in self.started:
            self.started.append("standby")

    def stop_standby(self) -> None:
        self._run("pg_ctl", "-D", str(self.standby_dir), "-m", "fast", "-w", "stop")
        self.started.remove("standby")

    def wait_streaming(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            state = self.psql(self.primary_port, "SELECT string_agg(state, ',') FROM pg_stat_replication")
            if "streaming" in state:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"standby not streaming after {timeout} s (state: {state!r})")
            time.sleep(0.2)

    def wait_received(self, timeout: float = 20) -> None:
        """Until the standby has received (not necessarily replayed) all WAL written so far."""
        self._wait_standby("pg_last_wal_receive_lsn", timeout)

    def wait_replayed(self, timeout: float = 20) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        self._wait_standby("pg_last_wal_replay_lsn", timeout)

    def _wait_standby(self, function: str, timeout: float) -> None:
        target = self.psql(self.primary_port, "SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + timeout
        while True:
            caught_up = self.psql(self.standby_port, f"SELECT {function}() >= '{target}'::pg_lsn")
            if caught_up == "t":
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"standby's {function}() did not reach {target} in {timeout} s")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop whatever runs (standby first) and remove the directory; never raises."""
        for name in ("standby", "primary"):
            if name in self.started:
                # Teardown goes on whatever happens: the other cluster, the directory.
                with contextlib.suppress(Exception):
                    self._run("pg_ctl", "-D", str(self.root / name), "-m", "fast", "-w", "stop", timeout=30)
                self.started.remove(name)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> ReplicatedPair:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _append(path: Path, text: str) -> None:
        # The file belongs to postgres; root may still write it, and its owner does not change.
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
