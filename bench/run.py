"""``make bench``: every benchmark in turn, each printing its own figures.

Benchmarks are never part of ``make test``; results worth keeping go into docs/performance.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    ["seed_million.py"],  # 1,000,000 petitions into a fresh database, timed, then dropped
    ["queue_bench.py", "--drop"],  # lists and look-ups at 1,000,000 petitions
    ["workbench_bench.py"],  # the workbench's section counts and page at 1,000,000 (database kept)
    ["urging_bench.py", "--drop"],  # the daily urge pass on the same database, then dropped
    ["stats_bench.py"],  # a city's statistics page at 1,000,000, from the counts and from the facts (kept)
    ["stats_keepup.py", "--both", "--drop"],  # the roll-up under registration, same database, then dropped
    ["http_bench.py"],  # issue #12 §3: W1-W5 and the petition page over HTTP (gunicorn + locust), kept
]


def main() -> int:
    status = 0
    for argv in BENCHMARKS:
        print(f"\n##### bench/{' '.join(argv)}", flush=True)
        status |= subprocess.run([sys.executable, str(HERE / argv[0]), *argv[1:]]).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
