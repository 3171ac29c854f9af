"""``xinfang audit verify`` and ``xinfang audit grants <role>``.

``verify`` walks the audit log's keyed hash chain (audit/chain.py) and reports the first broken
link, exiting non-zero; when the chain is intact it prints the head (seq and hash) to note down
outside the database, and ``--anchor SEQ:HASH`` checks such a note later (rows cut off the end).
``grants`` prints the PostgreSQL privileges of the application role (audit/roles.py).
"""

from __future__ import annotations

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
        anchor = _anchor(options["anchor"]) if options.get("anchor") else None
        result = verify(anchor=anchor)
        if isinstance(result, Break):
            raise CommandError(f"审计链断裂：{result}")
        self.stdout.write(f"审计链完整：共 {result.count} 条。")
        self.stdout.write(f"锚点（请记在数据库以外）：{result.seq}:{result.chain_hash}")
