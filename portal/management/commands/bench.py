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

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Benchmarks write and delete data: not in production mode.")
        if options["benchmark"] == "notifications":
            from portal.bench import notifications

            if options["count"] < 1:
                raise CommandError("--count must be at least 1.")
            try:
                result = notifications.run(
                    count=options["count"],
                    concurrency=options["concurrency"],
                    timeout=options["timeout"],
                )
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result))
