"""xinfang import_petitions FILE: bring an office's past petitions in (docs/import.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.imports import services
from xinfang.imports.models import ImportRun
from xinfang.imports.reader import sniff_format
from xinfang.organisations.choices import OrganisationKind
from xinfang.organisations.models import Organisation, User


class Command(BaseCommand):
    help = (
        "Import an office's past petitions from a CSV (UTF-8 or GBK) or XLSX file with the columns of "
        "docs/import.md, with their original dates, final state and reply text.  Rows already imported "
        "(same office, source and source id) are skipped; rejected rows are listed with their reasons."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV or XLSX file")
        parser.add_argument(
            "--office", help="the petition office's code or name (needed if there are several)"
        )
        parser.add_argument(
            "--source", default=services.default_source(), help="name of the old system (default: legacy)"
        )
        parser.add_argument(
            "--user", help="username recorded as the importer (default: the office's first intake clerk)"
        )
        parser.add_argument("--dry-run", action="store_true", help="check every row, import nothing")
        parser.add_argument("--report", help="write the rejected rows to this CSV file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        office = self._office(options["office"])
        actor = self._actor(options["user"], office)
        data = path.read_bytes()
        try:
            file_format = sniff_format(path.name, data[:8])
        except Exception as exc:  # noqa: BLE001
            raise CommandError(str(getattr(exc, "messages", [exc])[0])) from None
        run = ImportRun.objects.create(
            office=office,
            source=options["source"][:50],
            file_name=path.name[:200],
            file_format=file_format,
            created_by=actor,
            dry_run=options["dry_run"],
        )

        def progress(r: ImportRun) -> None:
            self.stderr.write(f"  {r.processed:,} / {r.total:,} rows", ending="\r")

        try:
            outcome = services.execute(
                run, data, actor=actor, progress=progress if sys.stderr.isatty() else None
            )
        except services.ImportRefused as exc:
            raise CommandError(str(exc)) from None
        run.refresh_from_db()
        verb = "would import" if options["dry_run"] else "imported"
        valid = outcome.total - outcome.rejected - outcome.skipped
        count = valid if options["dry_run"] else outcome.imported
        self.stdout.write(
            f"Run {run.pk}: {outcome.total:,} rows, {verb} {count:,}, "
            f"skipped {outcome.skipped:,} (imported before), rejected {outcome.rejected:,}."
        )
        for error in outcome.errors[:20]:
            self.stdout.write(f"  row {error.row} [{error.column}] {error.message}")
        if len(outcome.errors) > 20:
            self.stdout.write(f"  … {len(outcome.errors) - 20} more")
        if options["report"]:
            Path(options["report"]).write_bytes(services.report_csv(run))
            self.stdout.write(f"Rejected rows written to {options['report']}.")

    def _office(self, key: str | None) -> Organisation:
        offices = Organisation.objects.filter(kind=OrganisationKind.PETITION_OFFICE, is_active=True)
        if key:
            found = offices.filter(code=key).first() or offices.filter(name=key).first()
            if found is None:
                raise CommandError(f"No petition office with code or name {key!r}.")
            return found
        if offices.count() != 1:
            raise CommandError("Several petition offices: name one with --office CODE.")
        return offices.get()

    def _actor(self, username: str | None, office: Organisation) -> User:
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None or user.organisation_id != office.pk:
                raise CommandError(f"No active account {username!r} in {office.name}.")
            return user
        user = services.default_actor(office)
        if user is None:
            raise CommandError(f"{office.name} has no intake clerk: name the importer with --user.")
        return user
