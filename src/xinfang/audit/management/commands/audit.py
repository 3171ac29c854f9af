"""``xinfang audit verify`` and ``xinfang audit grants <role>``.

``verify`` walks the audit log's keyed hash chain (audit/chain.py) and reports the first broken
link, exiting non-zero; when the chain is intact it prints the head (seq and hash) to note down
outside the database, and ``--anchor SEQ:HASH`` checks such a note later (rows cut off the end).
``--anchor-file PATH`` does both for a scheduled job: it checks the file's last anchor and, if the
chain is intact, appends the new one.
``grants`` prints the PostgreSQL privileges of the application role (audit/roles.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.audit.chain import Break, verify
from xinfang.audit.roles import grant_statements


def _anchor(value: str) -> tuple[int, str]:
    seq, sep, digest = value.partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64:
        raise CommandError("--anchor takes SEQ:HASH as printed by 'xinfang audit verify'")
    return int(seq), digest.lower()


class Command(BaseCommand):
    help = "Verify the audit log's hash chain, or print the database grants of the application role."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        check = sub.add_parser("verify", help="walk the chain; exit 1 at the first broken link")
        check.add_argument("--anchor", help="SEQ:HASH from an earlier verify, kept outside the database")
        check.add_argument(
            "--anchor-file", type=Path, help="check the file's last anchor, then append the new one"
        )
        grants = sub.add_parser("grants", help="print the GRANT/REVOKE statements for the application role")
        grants.add_argument("role", help="the PostgreSQL role the application connects as")
        grants.add_argument("--schema", default="public")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "grants":
            try:
                self.stdout.write("\n".join(grant_statements(options["role"], schema=options["schema"])))
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            return
        anchor_file: Path | None = options.get("anchor_file")
        noted = options.get("anchor") or (_last_line(anchor_file) if anchor_file else None)
        result = verify(anchor=_anchor(noted) if noted else None)
        if isinstance(result, Break):
            raise CommandError(f"审计链断裂：{result}")
        self.stdout.write(f"审计链完整：共 {result.count} 条。")
        self.stdout.write(f"锚点（请记在数据库以外）：{result.seq}:{result.chain_hash}")
        if anchor_file:
            with anchor_file.open("a", encoding="ascii") as out:
                out.write(f"{result.seq}:{result.chain_hash}\n")


def _last_line(path: Path) -> str | None:
    """The last anchor noted in ``path`` (None before the first run)."""
    if not path.exists():
        return None
    lines = [line.strip() for line in path.read_text(encoding="ascii").splitlines() if line.strip()]
    return lines[-1] if lines else None
