"""``xinfang partitions``: the monthly partitions of the large tables on PostgreSQL
(core/partitions.py, docs/deployment.md "Partitioning and retention").

``--status`` (the default) lists each table's partitions, rows waiting in DEFAULT and retention;
``--ensure`` creates this month's and the next months' partitions (moving rows out of DEFAULT);
``--retention`` drops the months past retention (``--dry-run`` only lists them).  The daily job
``maintain_partitions`` does ``--ensure --retention``; a deployment whose application role owns no
table runs this command as the owner instead.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.core import partitions


class Command(BaseCommand):
    help = "查看、创建和按保存期限删除大表的月分区（仅 PostgreSQL）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--status", action="store_true", help="list partitions (default)")
        parser.add_argument("--ensure", action="store_true", help="create partitions ahead")
        parser.add_argument("--months-ahead", type=int, default=None)
        parser.add_argument("--retention", action="store_true", help="drop partitions past retention")
        parser.add_argument("--dry-run", action="store_true", help="with --retention: only list")

    def handle(self, *args: Any, **options: Any) -> None:
        if not partitions.enabled():
            self.stdout.write("SQLite：不分区，无需维护。")
            return
        try:
            if options["ensure"]:
                created = partitions.ensure_partitions(options["months_ahead"])
                self.stdout.write(f"新建分区 {len(created)} 个：{', '.join(created) or '—'}")
            if options["retention"]:
                dropped = partitions.apply_retention(dry_run=options["dry_run"])
                verb = "将删除" if options["dry_run"] else "已删除"
                self.stdout.write(
                    f"{verb}分区 {len(dropped)} 个：{', '.join(d.partition for d in dropped) or '—'}"
                )
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        if options["status"] or not (options["ensure"] or options["retention"]):
            for table in partitions.status():
                keep = f"{table.retention_months} 个月" if table.retention_months else "永久"
                monthly = [p for p in table.partitions if partitions.month_of(p)]
                span = f"{monthly[0]} … {monthly[-1]}" if monthly else "—"
                self.stdout.write(
                    f"{table.table}: {'已分区' if table.partitioned else '未分区'}，月分区 {len(monthly)} 个"
                    f"（{span}），默认分区 {table.default_rows} 行，保存期限 {keep}"
                )
