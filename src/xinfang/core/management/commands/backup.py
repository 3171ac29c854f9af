"""``xinfang backup OUTPUT``: an encrypted backup of the whole site, taken while it runs
(core.backup; schedule, retention and off-site copies in docs/deployment.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.core.backup import BackupError, create_backup


def read_passphrase(path: Path | None) -> str:
    """The backup passphrase from a file (first line) or XINFANG_BACKUP_PASSPHRASE; never an
    argument, which every user of the machine could read in the process list."""
    if path is not None:
        try:
            return path.read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, IndexError) as exc:
            raise CommandError(f"cannot read the passphrase from {path}: {exc}") from None
    value = os.environ.get("XINFANG_BACKUP_PASSPHRASE", "")
    if not value:
        raise CommandError("give the backup passphrase with --passphrase-file or XINFANG_BACKUP_PASSPHRASE")
    return value


class Command(BaseCommand):
    help = "备份整个站点（数据库、附件、清单），加密写入一个文件；不含任何密钥。站点可照常运行。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "output", type=Path, help="the backup file to write, e.g. xinfang-2026-12-01.xfbak"
        )
        parser.add_argument(
            "--passphrase-file", type=Path, help="file whose first line is the backup passphrase"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path = options["output"]
        if output.exists():
            raise CommandError(f"{output} exists: a backup never overwrites another")
        try:
            manifest = create_backup(output, passphrase=read_passphrase(options["passphrase_file"]))
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from None
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"backup written to {output}: {len(manifest['tables'])} tables, {rows} rows, "
            f"{len(manifest['files'])} files; field keys needed to read the files: "
            f"{', '.join(manifest['file_key_ids']) or '-'}"
        )
        if manifest["missing_files"]:
            raise CommandError(
                f"{len(manifest['missing_files'])} stored files named by the database are missing "
                f"(e.g. {manifest['missing_files'][0]}); the backup holds everything else"
            )
