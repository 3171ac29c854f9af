"""``xinfang rotate_keys``: re-encrypt every personal-data value and attachment under the first key
of XINFANG_FIELD_KEYS (docs/security.md §5).  Safe to stop and run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.core.rotation import DEFAULT_BATCH_SIZE, RotationError, rotate_keys


class Command(BaseCommand):
    help = "用 XINFANG_FIELD_KEYS 的第一个密钥重新加密全部个人信息字段和附件（可中断后重新运行）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = rotate_keys(batch_size=options["batch_size"])
        except RotationError as exc:
            raise CommandError(str(exc)) from exc
        for label in sorted(report.rotated):
            rotated, current = report.rotated[label], report.current[label]
            self.stdout.write(f"{label}: rotated {rotated}, already current {current}")
        total = sum(report.rotated.values())
        self.stdout.write(f"rotated {total}, already current {sum(report.current.values())}")
        if report.missing:
            raise CommandError(
                f"{len(report.missing)} stored files are missing (e.g. {report.missing[0]}); "
                "everything else is rotated"
            )
