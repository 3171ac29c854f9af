"""Try the read replica on one machine: a PostgreSQL primary and a streaming standby on loopback.

    .venv/bin/python bench/replica_setup.py                       # empty database ``xinfang``
    .venv/bin/python bench/replica_setup.py --migrate             # and run ``xinfang migrate`` on it
    .venv/bin/python bench/replica_setup.py --copy-from postgres://postgres@127.0.0.1:5432/xinfang

It runs the commands of docs/deployment.md ("Read replica") in a temporary directory owned by the
``postgres`` OS user (initdb, ``pg_basebackup -R``, two ``pg_ctl start``; the same code as
tests/scale/test_replica.py, ``tests/scale/replication.py``), waits until the standby streams,
prints the ``DATABASE_URL`` and ``DATABASE_REPLICA_URL`` to start Xinfang with, and keeps both
servers up until Ctrl-C, then stops them and removes the directory.  Needs the PostgreSQL server
package (``/usr/lib/postgresql/<major>/bin``); as root it runs the servers as ``postgres``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.scale.replication import ReplicatedPair, missing_reason  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dbname", default="xinfang")
    parser.add_argument("--migrate", action="store_true", help="run `xinfang migrate` on the new primary")
    parser.add_argument("--copy-from", metavar="URL", help="pg_dump this database into the new primary")
    args = parser.parse_args()
    if reason := missing_reason():
        print(f"cannot set up the clusters: {reason}", file=sys.stderr)
        return 2
    pair = ReplicatedPair()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        started = time.monotonic()
        pair.start()
        pair.psql(pair.primary_port, f"CREATE DATABASE {args.dbname}")
        primary, standby = pair.url("primary", args.dbname), pair.url("standby", args.dbname)
        if args.copy_from:
            dump = subprocess.Popen(
                [str(pair.bin_dir / "pg_dump"), "-Fc", args.copy_from], stdout=subprocess.PIPE
            )  # noqa: S603
            subprocess.run(
                [str(pair.bin_dir / "pg_restore"), "--no-owner", "-d", primary], stdin=dump.stdout, check=True
            )  # noqa: S603
            dump.stdout.close()
            dump.wait()
        if args.migrate:
            env = {**os.environ, "DATABASE_URL": primary}
            subprocess.run([str(ROOT / ".venv/bin/xinfang"), "migrate", "-v0"], env=env, check=True)  # noqa: S603
        pair.wait_replayed()
        lag = pair.psql(pair.standby_port, "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()")
        print(f"primary and standby streaming after {time.monotonic() - started:.1f} s (standby: {lag})")
        print(f"  DATABASE_URL={primary}")
        print(f"  DATABASE_REPLICA_URL={standby}")
        print(f"  data directories under {pair.root}; Ctrl-C stops both and removes them")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        pair.stop()


if __name__ == "__main__":
    sys.exit(main())
