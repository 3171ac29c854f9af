"""``xinfang restore BACKUP``: bring a backup of ``xinfang backup`` back into an empty database and
storage, and verify it (counts, checksums, the audit chain); ``--check`` only verifies the file."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.core.backup import BackupError, check_passphrase, restore_backup, unpack

from .backup import read_passphrase


class Command(BaseCommand):
    help = "把 xinfang backup 的备份恢复到空数据库和空附件目录，并核对清单、校验和与审计链。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", type=Path)
        parser.add_argument(
            "--passphrase-file", type=Path, help="file whose first line is the backup passphrase"
        )
        parser.add_argument(
            "--check", action="store_true", help="only decrypt and check the file against its manifest"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        passphrase = read_passphrase(options["passphrase_file"])
        try:
            if options["check"]:
                with tempfile.TemporaryDirectory(prefix="xinfang-check-") as work:
                    manifest = unpack(
                        options["backup"], Path(work), passphrase=check_passphrase(passphrase)
                    ).manifest
                self.stdout.write(
                    f"backup intact: {len(manifest['tables'])} tables, {len(manifest['files'])} files"
                )
                return
            report = restore_backup(options["backup"], passphrase=passphrase)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        if report.problems:
            raise CommandError("restored, but it does not match the backup:\n" + "\n".join(report.problems))
        manifest = report.manifest
        rows, tables, files = (
            sum(manifest["tables"].values()),
            len(manifest["tables"]),
            len(manifest["files"]),
        )
        self.stdout.write(f"restored {tables} tables, {rows} rows, {files} files: counts and checksums match")
        if report.audit:
            self.stdout.write(report.audit)
