"""Benchmark: the daily urging pass (系统催办) over every open petition at N petitions (issue #8 §5).

    .venv/bin/python bench/urging_bench.py                         # 1,000,000 petitions, today 2026-12-10
    .venv/bin/python bench/urging_bench.py --today 2026-12-14 --repeat 5
    .venv/bin/python bench/urging_bench.py --explain 100 --repeat 1  # plans of statements over 100 ms

It reuses the database of ``workbench_bench.py`` (``xinfang_bench_workbench``, seeded once, kept,
migrated and enriched with handlers and unit leaders the same way), then times
``supervision.tasks.urge_pass(today=…)``:

1. on ``--today``, a working day on which many staff deadlines fall due (the default, 2026-12-10,
   has about a quarter of the open staff deadlines overdue or due within three working days on
   the seeded data: the script prints the shares);
2. on the next working day, with the first day's reminders in place (most "before"/"due"
   reminders exist; the overdue ones are raised again, once per working day);
3. on that day once more (a second run the same day, e.g. on another worker: inserts nothing).

Each round runs inside one transaction that is rolled back at the end, so every round starts
from the same data and the kept database is left as it was.  Database time is the time spent in
``cursor.execute`` (measured with ``connection.execute_wrapper``); the target is ≤ 10 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time

from workbench_bench import DEFAULT_DB, QueryCounter, drop, enrich, load, prepare, setup_django

TARGET_SECONDS = 10.0


class Rollback(Exception):
    """Raised to roll the round back."""


def shares(today: dt.date) -> str:
    """The open staff deadlines and how many of them the pass on ``today`` concerns."""
    from django.db.models import Count, Q

    from xinfang.petitions.choices import STAFF_DEADLINE_STATUSES
    from xinfang.petitions.models import Petition
    from xinfang.workflow.calendar import add_working_days

    horizon = add_working_days(today, 3)
    open_ = Petition.objects.filter(status__in=STAFF_DEADLINE_STATUSES, due_on__isnull=False)
    row = open_.aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(due_on__lt=today)),
        due=Count("pk", filter=Q(due_on=today)),
        soon=Count("pk", filter=Q(due_on__gt=today, due_on__lte=horizon)),
        handled=Count("pk", filter=Q(handler__isnull=False)),
    )
    total = row["total"] or 1
    return (
        f"{row['total']:,} open staff deadlines ({row['handled']:,} with a named handler); on {today}: "
        f"overdue {row['overdue']:,} ({row['overdue'] / total:.0%}), due today {row['due']:,}, "
        f"due within 3 working days {row['soon']:,} ({row['soon'] / total:.0%})"
    )


def one_pass(label: str, today: dt.date, counter_sink: list[QueryCounter]) -> tuple[float, float, dict]:
    from django.db import connection

    from xinfang.supervision.tasks import urge_pass

    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        result = urge_pass(today=today)
    wall = time.perf_counter() - started
    counter_sink.append(counter)
    written = ", ".join(f"{k} {v:,}" for k, v in result.items() if v)
    print(f"   {label:<34} {today}  wall {wall:6.2f} s  database {counter.seconds:6.2f} s  "
          f"{counter.count:>3} statements  [{written}]  ({load()})", flush=True)  # fmt: skip
    return wall, counter.seconds, result


def auto_explain(min_ms: int) -> list[str]:
    """Plans of the pass's own statements as it runs them: ``auto_explain`` (a contrib module of
    PostgreSQL, loaded into this session only) sends each plan slower than ``min_ms`` back to the
    client as a NOTICE, which is collected here and printed after the pass."""
    from django.db import connection

    notices: list[str] = []
    with connection.cursor() as cur:
        cur.execute("LOAD 'auto_explain'")
        for name, value in (("log_min_duration", f"{min_ms}ms"), ("log_analyze", "on"),
                            ("log_buffers", "on"), ("log_nested_statements", "on"),
                            ("log_level", "notice")):  # fmt: skip
            cur.execute(f"SET LOCAL auto_explain.{name} = '{value}'")
    connection.connection.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
    return notices


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--petitions", type=int, default=1_000_000)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--today", default="2026-12-10", help="the first day of the pass (ISO date)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (each rolled back)")
    parser.add_argument(
        "--explain",
        type=int,
        default=0,
        metavar="MS",
        help="print the plan of every statement slower than MS",
    )
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    args = parser.parse_args()
    env = prepare(args.db, args.petitions)
    setup_django(env)
    try:
        return measure(args)
    finally:
        if args.drop:
            drop(args.db)


def measure(args: argparse.Namespace) -> int:
    from django.db import connection, transaction

    from xinfang.workflow.calendar import add_working_days, is_working_day

    counts = enrich()
    if any(counts.get(k) for k in ("handlers set", "extension requests", "supervision notices")):
        print("== enriched: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    first = dt.date.fromisoformat(args.today)
    if not is_working_day(first):
        print(f"!! {first} is not a working day: the pass would raise nothing")
        return 2
    second = add_working_days(first, 1)
    print(f"\n== {shares(first)}")
    cores = os.cpu_count()
    print(f"== PostgreSQL {connection.pg_version // 10000}, {cores} cores; {args.repeat} rounds, rolled back")
    rows: dict[str, list[float]] = {"first": [], "next": [], "again": []}
    counters: list[QueryCounter] = []
    for round_ in range(1, args.repeat + 1):
        print(f"-- round {round_}")
        try:
            with transaction.atomic():
                notices = auto_explain(args.explain) if args.explain and round_ == args.repeat else None
                rows["first"].append(one_pass("first day (many due)", first, counters)[1])
                if notices is not None:
                    print("\n".join(notices))
                    notices.clear()
                rows["next"].append(one_pass("next working day", second, counters)[1])
                rows["again"].append(one_pass("next day, second run", second, counters)[1])
                if notices is not None:
                    print("\n".join(notices))
                raise Rollback
        except Rollback:
            pass
    print(f"\n{'pass':<26} {'database s (median)':>20} {'max':>8}")
    worst = 0.0
    for key, label in (("first", "first day"), ("next", "next working day"), ("again", "second run")):
        worst = max(worst, max(rows[key]))
        print(f"{label:<26} {statistics.median(rows[key]):>20.2f} {max(rows[key]):>8.2f}")
    verdict = "met" if worst <= TARGET_SECONDS else "NOT MET"
    print(f"\nworst database time {worst:.2f} s: target <= {TARGET_SECONDS:.0f} s {verdict}  ({load()})")
    return 0 if worst <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
