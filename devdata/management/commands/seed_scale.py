"""Fills PostgreSQL with council-scale data (docs/design.md, "Scale it must hold")."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from cpv.services import cpv_load
from devdata import scale
from portal.models import BuyerOrganisation


class Command(BaseCommand):
    help = (
        "Fill PostgreSQL with council-scale data on top of the demo council: 5,000 suppliers, "
        "20,000 opportunities over ten years, 200,000 invitations, 100,000 bids with 300,000 "
        "files, awards, contracts, inbox messages and audit events. For benchmarks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Multiply every size by this (e.g. 0.1 for a tenth). Default 1: docs/design.md's.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Empty the whole database first (manage.py flush) and remove the seeded files. "
            "Only for a database kept for benchmarks.",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (default 2026).")
        parser.add_argument(
            "--payments",
            type=int,
            default=0,
            help="Also add this many generated published payments to the demo council's "
            "spending ledger (e.g. 1000000), drawn from its demo files' payees and categories.",
        )
        parser.add_argument(
            "--payments-only",
            action="store_true",
            help="Add only the --payments to the demo council (which needs seed_demo "
            "--opportunities): no other scale data.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "seed_scale refuses to run in production mode (DJANGO_ENV=production)."
            )
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_scale needs PostgreSQL (the scale is PostgreSQL's): set DATABASE_URL, e.g. "
                "postgres://postgres@127.0.0.1:5432/scaledb."
            )
        if options["scale"] <= 0:
            raise CommandError("--scale must be more than 0.")
        started = time.perf_counter()
        if options["payments_only"]:
            if options["payments"] <= 0:
                raise CommandError("--payments-only needs --payments N.")
            self._payments(options["payments"])
            self._analyse()
            return
        if options["reset"]:
            self.stdout.write("Emptying the database (flush) and removing the seeded files...")
            scale.flush_everything()
            scale.remove_files()
        elif scale.present():
            raise CommandError(
                "Scale data is already in this database. Run seed_scale --reset to empty it "
                "and seed again."
            )
        if not BuyerOrganisation.objects.filter(slug="demo-council").exists():
            self.stdout.write("Loading the demo council first (seed_demo)...")
        # Safe to run again: it adds only what is missing, and prints the demo logins.
        # With its opportunities and spending: the benchmarks read the demo's
        # panel opportunity, receipts and ledger, and the payments are drawn
        # from its spending files' payees and categories.
        call_command("seed_demo", opportunities=True, stdout=self.stdout)
        cpv_load(only=[code for code, _, _ in scale.TRADES])
        sizes = scale.Sizes().scaled(options["scale"]) if options["scale"] != 1 else scale.Sizes()
        self.stdout.write(f"Seeding {sizes} ...")
        report = scale.build(sizes, seed=options["seed"])
        if options["payments"] > 0:
            self._payments(options["payments"])
        self._analyse()
        seconds = time.perf_counter() - started
        self.stdout.write("")
        self.stdout.write(f"{'table':<40} {'rows made':>12}")
        for table, count in sorted(report.counts.items()):
            self.stdout.write(f"{table:<40} {count:>12,}")
        self.stdout.write("")
        steps = ", ".join(f"{name} {secs:.1f} s" for name, secs in report.seconds.items())
        self.stdout.write(f"Steps: {steps}")
        self.stdout.write(
            self.style.SUCCESS(f"Scale data ready in {seconds:.0f} s ({seconds / 60:.1f} min).")
        )

    def _payments(self, n: int) -> None:
        from devdata import demo_history
        from devdata.scale.payments import seed_payments

        buyer = BuyerOrganisation.objects.get(slug="demo-council")
        self.stdout.write(f"Adding {n:,} generated payments to the demo council's ledger...")
        try:
            made, seconds = seed_payments(buyer, n, by=demo_history.officers()[0])
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{made:,} payments (and their running totals) in {seconds:.0f} s.")

    def _analyse(self) -> None:
        # Fresh statistics for the planner, and (outside a transaction) the
        # visibility map that index-only scans need, as autovacuum would do later.
        self.stdout.write("Vacuuming and analysing the tables...")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
