"""``python manage.py bench <name>``: benchmarks that print one JSON line last."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Run a benchmark against the real services and print its figures as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="benchmark", required=True)
        notifications = subparsers.add_parser(
            "notifications", help="Drain N notifications through one real Celery worker."
        )
        notifications.add_argument("--count", type=int, default=5000)
        notifications.add_argument("--concurrency", type=int, default=2)
        notifications.add_argument("--timeout", type=float, default=600)

        pages = subparsers.add_parser(
            "pages", help="Requests per second of the busiest pages on seed_scale's data."
        )
        pages.add_argument("--duration", type=float, default=15, help="Seconds per page.")
        pages.add_argument("--connections", type=int, default=8)
        pages.add_argument(
            "--warmup", type=float, default=1, help="Seconds before measuring, each turn."
        )
        pages.add_argument("--rounds", type=int, default=3, help="Turns through the pages.")
        pages.add_argument(
            "--only", nargs="*", help="Only the pages whose names contain these words."
        )
        pages.add_argument(
            "--breakdown",
            action="store_true",
            help="Where each page's time goes (wall, CPU, database, template, its slowest "
            "statement), in this process: no server, no load.",
        )
        pages.add_argument(
            "--requests", type=int, default=100, help="With --breakdown: requests per page."
        )

        rush = subparsers.add_parser(
            "deadline_rush", help="N invited suppliers bid with a 1 MB file just before a deadline."
        )
        rush.add_argument("--suppliers", type=int, default=500)
        rush.add_argument(
            "--lead", type=float, default=60, help="Seconds from the start to the deadline."
        )
        rush.add_argument(
            "--race", type=float, default=0.1, help="Share that starts in the 3 s around it."
        )
        rush.add_argument(
            "--spread",
            type=float,
            default=None,
            help=(
                "Capacity run: every supplier starts within the first SPREAD seconds (none "
                "races the deadline), so bids_per_s is what the server sustains."
            ),
        )

        for name, words in (
            (
                "spend_import",
                "A spending file of N realistic rows through the real import, against a "
                "plain COPY of it (PostgreSQL).",
            ),
            (
                "spend_floors",
                "The least each part of a spending import of N rows costs here, against a "
                "plain COPY of the file (PostgreSQL; ADR 15).",
            ),
        ):
            spend = subparsers.add_parser(name, help=words)
            spend.add_argument("--rows", type=int, default=1_000_000)
            spend.add_argument("--seed", type=int, default=18, help="Of the generated rows.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Benchmarks write and delete data: not in production mode.")
        name = options["benchmark"]
        try:
            if name == "notifications":
                from devdata.bench import notifications

                if options["count"] < 1:
                    raise CommandError("--count must be at least 1.")
                result = notifications.run(
                    count=options["count"],
                    concurrency=options["concurrency"],
                    timeout=options["timeout"],
                )
            elif name == "pages" and options["breakdown"]:
                from devdata.bench import breakdown

                if options["requests"] < 1:
                    raise CommandError("--requests must be at least 1.")
                result = breakdown.run(
                    requests=options["requests"], only=options["only"], out=self.stdout.write
                )
            elif name == "pages":
                from devdata.bench import pages

                result = pages.run(
                    duration=options["duration"],
                    connections=options["connections"],
                    warmup=options["warmup"],
                    rounds=options["rounds"],
                    only=options["only"],
                    out=self.stdout.write,
                )
            elif name in ("spend_import", "spend_floors"):
                from devdata.bench import spend_floors, spend_import

                if options["rows"] < 1:
                    raise CommandError("--rows must be at least 1.")
                bench = spend_import if name == "spend_import" else spend_floors
                result = bench.run(
                    rows=options["rows"], seed=options["seed"], out=self.stdout.write
                )
            else:
                from devdata.bench import deadline_rush

                if options["suppliers"] < 1:
                    raise CommandError("--suppliers must be at least 1.")
                result = deadline_rush.run(
                    suppliers=options["suppliers"],
                    lead=options["lead"],
                    race=options["race"],
                    spread=options["spread"],
                    out=self.stdout.write,
                )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result))
