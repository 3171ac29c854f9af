"""``xinfang seed``: demo and benchmark data.  The work is done in xinfang.demo; this only parses,
checks and prints."""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from xinfang.core import crypto
from xinfang.demo.accounts import ensure_accounts
from xinfang.demo.documents import seed_letter_documents
from xinfang.demo.ledgers import seed_ledgers
from xinfang.demo.morning import ensure_routing_rules, portal_sample, prepare_morning
from xinfang.demo.petitions import SeedResult, seed_petitions
from xinfang.demo.tree import TreeMissing, ensure_tree, load_tree
from xinfang.organisations.models import User
from xinfang.stats.models import RefreshState
from xinfang.stats.rollup import rebuild

DEFAULT_DEMO_PETITIONS = 3000


class Command(BaseCommand):
    help = (
        "Seed demo data: --demo builds the organisation tree and the demo accounts (DEBUG only), "
        "then tops the demo petitions up to --petitions N.  Running it again adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--demo", action="store_true", help="build the demo organisation tree and demo accounts"
        )
        parser.add_argument(
            "--no-accounts",
            action="store_true",
            help="with --demo: no demo accounts (allowed without DEBUG, e.g. for benchmarks)",
        )
        parser.add_argument(
            "--petitions",
            type=int,
            default=None,
            metavar="N",
            help=f"top the demo petitions up to N (default with --demo: {DEFAULT_DEMO_PETITIONS})",
        )
        parser.add_argument(
            "--no-stats",
            action="store_true",
            help="do not rebuild the statistics counts at the end (run `xinfang rebuild_stats` later)",
        )
        parser.add_argument(
            "--no-search-index",
            action="store_true",
            help="do not index the new petitions for full-text search (run `xinfang search_reindex` later)",
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--batch-size", type=int, default=10_000, help="petitions per chunk")
        parser.add_argument(
            "--workers", type=int, default=None, help="render processes (default: one per core for big runs)"
        )
        parser.add_argument(
            "--method",
            choices=["auto", "copy", "orm"],
            default="auto",
            help="copy: PostgreSQL COPY; orm: bulk_create; auto: COPY on PostgreSQL",
        )
        parser.add_argument(
            "--defer-indexes",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="PostgreSQL: build secondary indexes and foreign keys after the load "
            "(default: for loads of 50,000 or more that at least double the table)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The replayed stories and the morning queue hundreds of notification deliveries for the
        # worker; django-q logs each at INFO, which would bury the accounts and the portal sample.
        queue_log = logging.getLogger("django-q")
        level = queue_log.level
        queue_log.setLevel(logging.WARNING)
        try:
            self._handle(**options)
        finally:
            queue_log.setLevel(level)

    def _handle(self, **options: Any) -> None:
        demo, accounts = options["demo"], options["demo"] and not options["no_accounts"]
        target = options["petitions"]
        if target is None:
            if not demo:
                raise CommandError("Nothing to do: give --demo and/or --petitions N.")
            target = DEFAULT_DEMO_PETITIONS
        if target < 0 or options["batch_size"] < 1:
            raise CommandError("--petitions must be >= 0 and --batch-size >= 1.")
        if options["method"] == "copy" and connection.vendor != "postgresql":
            raise CommandError("--method copy needs PostgreSQL.")
        if accounts and not settings.DEBUG:
            # The demo password is published: such accounts on a real system would be an open door.
            raise CommandError(
                "Refusing to create demo accounts (published password) with DEBUG off. "
                "Set DEBUG=1 on a development machine, or pass --no-accounts."
            )
        if target:
            self._check_keys()

        if demo:
            tree, created = ensure_tree()
            self.stdout.write(
                f"Organisation tree: {created} created, {len(tree.offices())} petition offices."
            )
        else:
            try:
                tree = load_tree()
            except TreeMissing:
                raise CommandError("No demo organisation tree: run `xinfang seed --demo` first.") from None
        rows = ensure_accounts(tree) if accounts else []
        if demo:
            admin = User.objects.filter(username="admin", is_active=True).first() if accounts else None
            added = ensure_routing_rules(tree, admin)
            self.stdout.write(f"Routing rules (分办规则): {added} added.")

        created = 0
        if target:
            result = seed_petitions(
                tree,
                target=target,
                seed=options["seed"],
                batch_size=options["batch_size"],
                workers=options["workers"],
                method=options["method"],
                defer_indexes=options["defer_indexes"],
                progress=self._progress,
            )
            self._report(result)
            created = result.created
        if demo and accounts and target:  # --petitions 0: the tree and accounts only
            started = time.perf_counter()
            morning = prepare_morning(tree)
            seconds = time.perf_counter() - started
            if morning.skipped:
                self.stdout.write(f"Demo morning skipped: {morning.skipped}.")
            else:
                made = ", ".join(f"{key} {n}" for key, n in morning.created.items()) or "nothing missing"
                notes = f"{morning.notified} notes ({seconds:.1f} s)"
                self.stdout.write(f"Demo morning (workbench items added): {made}; {notes}.")
        if demo and target:
            started = time.perf_counter()
            made = seed_letter_documents()
            self.stdout.write(
                f"Decision letters as documents: {made} issued ({time.perf_counter() - started:.1f} s)."
            )
        if demo and accounts and target:
            # Leaders' work, ledgers and campaigns: they name the demo leaders and clerks.
            started = time.perf_counter()
            made = ", ".join(f"{name} {n}" for name, n in seed_ledgers(tree).items())
            self.stdout.write(
                f"Leaders, ledgers and campaigns: {made} ({time.perf_counter() - started:.1f} s)."
            )
        if not options["no_search_index"]:
            # COPY and bulk_create write past the search index's receivers: index what has no row.
            from xinfang.search.indexer import index_missing

            started = time.perf_counter()
            made = index_missing()
            self.stdout.write(
                f"Search index: {made} petitions indexed ({time.perf_counter() - started:.1f} s)."
            )
        never_built = not RefreshState.objects.filter(rebuilt_at__isnull=False).exists()
        if not options["no_stats"] and (created or never_built):
            # The seed writes its rows in bulk, past the roll-up's markers: count everything afresh,
            # so the statistics pages show the demo years at once (a rerun that added nothing skips it).
            started = time.perf_counter()
            days = rebuild()
            self.stdout.write(f"Statistics rebuilt: {days} days ({time.perf_counter() - started:.1f} s).")
        if rows:
            self.stdout.write("\nDemo accounts (development only):")
            width = max(12, *(len(row.username) + 2 for row in rows))
            self.stdout.write(f"  {'username':<{width}}{'role':<12}{'organisation':<24}password")
            for row in rows:
                role, org = _pad(row.role, 12), _pad(row.organisation, 24)
                note = "" if row.created else "  (existing)"
                self.stdout.write(f"  {row.username:<{width}}{role}{org}{row.password}{note}")
            self.stdout.write("Staff pages: /staff/ (each account enrols a second factor at first login).")
            # On every run, an open petition with a code that works now (codes are stored hashed:
            # the one printed by an earlier run cannot be shown again, so the clerk reissues one).
            sample = portal_sample(tree)
            if sample is not None:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"\nTry the portal (/portal/ → 查询办理情况): petition {sample.number}, "
                        f"query code {sample.query_code} ({sample.status})."
                    )
                )

    def _check_keys(self) -> None:
        """Fail before any work when personal data could not be encrypted."""
        try:
            crypto.encrypt("check")
            crypto.blind_index("check", purpose="id")
        except ImproperlyConfigured as exc:
            raise CommandError(
                f"{exc} For a development machine: python -m xinfang.core.keygen > var/secrets.env"
            ) from None

    def _progress(self, done: int, total: int, seconds: float) -> None:
        rate = done / seconds if seconds else 0.0
        self.stdout.write(f"  {done:>10,} / {total:,} petitions  {100 * done / total:5.1f}%  {rate:>8,.0f}/s")
        self.stdout.flush()

    def _report(self, result: SeedResult) -> None:
        if not result.created:
            self.stdout.write(f"Petitions: {result.existing:,} already present (target {result.target:,}).")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Petitions: {result.created:,} created ({result.existing:,} were present), "
                f"{result.petitioners:,} petitioners, {result.events:,} events "
                f"in {result.seconds:.1f} s = {result.rate:,.0f} petitions/s "
                f"[{result.method}, {result.workers} workers"
                f"{', indexes built after the load' if result.deferred_indexes else ''}]."
            )
        )
        if result.driven:
            self.stdout.write(
                f"Replayed {result.driven:,} petitions of county 1 through the workflow services "
                f"({result.driven_actions:,} actions)."
            )
        for number, action, code in result.refused:
            self.stdout.write(
                self.style.WARNING(f"  {number}: {action} refused ({code}); its story stops there.")
            )
        phases = ", ".join(f"{name} {secs:.1f}" for name, secs in result.phases.items())
        self.stdout.write(f"Time by phase (s): {phases}")


def _pad(text: str, width: int) -> str:
    """Left-justify for a terminal, where a CJK character takes two columns."""
    used = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return text + " " * max(1, width - used)
