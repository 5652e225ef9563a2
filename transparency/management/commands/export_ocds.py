"""``manage.py export_ocds``: a council's awarded and cancelled opportunities
in a date range as one OCDS 1.1 release package, validated before it is
written."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.models import BuyerOrganisation
from transparency import ocds


def _date(value: str, option: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} must be a date like 2026-04-01; got {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Write a council's opportunities awarded or cancelled from --from to --to (inclusive, "
        "UK dates) as an Open Contracting Data Standard 1.1 release package."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--buyer", required=True, help="The council's slug, e.g. demo-council")
        parser.add_argument("--from", dest="first", required=True, help="First day, YYYY-MM-DD")
        parser.add_argument("--to", dest="last", required=True, help="Last day, YYYY-MM-DD")
        parser.add_argument(
            "--output", required=True, help="File to write, or - for standard output"
        )
        parser.add_argument(
            "--uri",
            help="The package's uri (default: where the council's auditors download the same "
            "package, under SITE_URL)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        first = _date(options["first"], "--from")
        last = _date(options["last"], "--to")
        if first > last:
            raise CommandError(f"--from ({first}) is after --to ({last}).")
        buyer = BuyerOrganisation.objects.filter(slug=options["buyer"]).first()
        if buyer is None:
            raise CommandError(f"No council has the slug {options['buyer']!r}.")
        span = f"from {first:%-d %B %Y} to {last:%-d %B %Y}"
        # By default the address the council's auditors download the same package from.
        uri = options["uri"] or settings.SITE_URL + ocds.council_package_path(buyer, first, last)
        data = ocds.council_package(buyer, first, last, uri=uri)
        if data is None:
            raise CommandError(
                f"{buyer.name} has no opportunity awarded or cancelled {span}; nothing written "
                "(a release package needs at least one release)."
            )
        releases = data["releases"]
        problems = ocds.validate(data)
        if problems:
            shown = "; ".join(problems[:3]) + (" …" if len(problems) > 3 else "")
            raise CommandError(
                f"The package does not validate against OCDS 1.1, so it was not written: {shown}"
            )
        text = ocds.dumps(data)
        output = options["output"]
        count = f"{len(releases)} release{'s' if len(releases) != 1 else ''}"
        if output == "-":
            self.stdout.write(text, ending="")
            self.stderr.write(f"Wrote {count} {span} to standard output.", style_func=str)
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Could not write {output}: {exc.strerror or exc}.") from None
        self.stdout.write(f"Wrote {count} of {buyer.name} {span} to {output}.")
