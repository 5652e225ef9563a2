"""``manage.py import_spend --buyer demo-council FILE [--mapping NAME]``: what
the import pages do, in the foreground, with a one-line summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.models import ImportStatus, RefusedRow, SpendMapping
from ledger.services.imports import (
    headers_of,
    import_run,
    import_start,
    import_upload,
    remembered_columns,
    summary_line,
)
from ledger.spendfile import Field, ImportRefused, missing_fields
from portal.models import BuyerOrganisation, Role, User

# A file read from disk by someone at the server is not an upload through the
# web: it may be as large as a whole year of a large council's spending.
COMMAND_MAX_BYTES = 2 * 1024 * 1024 * 1024


class Command(BaseCommand):
    help = "Import a council's published spending file (CSV or XLSX)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--buyer", required=True, help="The council's slug")
        parser.add_argument(
            "--mapping",
            default="",
            help=(
                "A remembered mapping's name: its columns are used; a new name "
                "remembers the columns found for this file under it"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        name = path.name
        buyer = BuyerOrganisation.objects.filter(slug=options["buyer"]).first()
        if buyer is None:
            raise CommandError(f"No council {options['buyer']!r}.")
        by = (
            User.objects.filter(buyer=buyer, role=Role.OFFICER, is_active=True)
            .order_by("pk")
            .first()
        )
        if by is None:
            raise CommandError(f"{buyer} has no active officer to import as.")
        if not path.is_file():
            raise CommandError(f"{name}: no such file.")
        try:
            with path.open("rb") as handle:
                spend_import = import_upload(
                    buyer=buyer,
                    upload=UploadedFile(handle, name=name, size=path.stat().st_size),
                    by=by,
                    max_bytes=COMMAND_MAX_BYTES,
                )
        except ImportRefused as exc:
            raise CommandError(f"{name}: {' '.join(exc.problems)}") from exc
        headers = headers_of(spend_import)
        mapping_name = options["mapping"] or "Our spending file"
        mapping = SpendMapping.objects.filter(buyer=buyer, name=mapping_name).first()
        if options["mapping"] and mapping is not None:
            # A mapping named: its columns, as confirmed (each must be in the file).
            columns = dict(mapping.columns)
            # In the Code's order of the fields (a mapping's own order is not kept).
            absent = [columns[f] for f in Field if f in columns and columns[f] not in headers]
            if absent:
                raise CommandError(
                    f"{name}: line 1: the mapping {mapping_name!r} reads the column"
                    f"{'s' if len(absent) > 1 else ''} {', '.join(absent)}, not in this file "
                    f"(its headers are {', '.join(headers)})."
                )
        else:
            # As the page offers them: a remembered mapping that fits this file,
            # else the headers' suggestion (remembered as ``mapping_name``).
            columns = remembered_columns(buyer, headers)
        missing = missing_fields(columns)
        if missing:
            raise CommandError(
                f"{name}: line 1: no column found for {', '.join(missing).lower()} "
                f"(the headers are {', '.join(headers)})."
            )
        try:
            import_start(
                spend_import=spend_import,
                columns=columns,
                by=by,
                mapping_name=mapping_name,
                queue=False,
            )
        except ImportRefused as exc:
            raise CommandError(f"{name}: line 1: {' '.join(exc.problems)}") from exc
        spend_import = import_run(spend_import.pk)
        if spend_import.status == ImportStatus.FAILED:
            raise CommandError(f"{name}: {spend_import.error}")
        if spend_import.rows_read and spend_import.rows_refused == spend_import.rows_read:
            first = RefusedRow.objects.filter(spend_import=spend_import).order_by("line").first()
            where = f"line {first.line}: {first.reason}" if first else ""
            raise CommandError(f"{name}: no row could be read ({where}).")
        self.stdout.write(summary_line(spend_import, name))
