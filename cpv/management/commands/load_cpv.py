"""Loads the CPV 2008 list into the database; safe to run again."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cpv.services import DATA_FILE, SYNONYMS_FILE, CpvLoadError, cpv_load, synonyms_load


class Command(BaseCommand):
    help = (
        "Load the CPV 2008 codes from cpv/data/cpv2008.csv (adds and corrects; never deletes) "
        "and the portal's synonyms from cpv/data/synonyms.csv."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file", type=Path, default=DATA_FILE, help="A CSV with the header code,description."
        )
        parser.add_argument(
            "--synonyms",
            type=Path,
            default=SYNONYMS_FILE,
            help="A CSV with the header term,codes (the portal's own synonyms).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            result = cpv_load(path=options["file"])
            synonyms = synonyms_load(path=options["synonyms"])
        except (CpvLoadError, OSError) as error:
            raise CommandError(str(error)) from error
        seconds = time.perf_counter() - started
        if result.created or result.updated:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded {result.total:,} CPV codes: {result.created:,} new, "
                    f"{result.updated:,} updated, {result.unchanged:,} unchanged "
                    f"({seconds:.1f} s)."
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"All {result.total:,} CPV codes already loaded; nothing changed."
                )
            )
        if result.not_in_file:
            self.stdout.write(
                self.style.WARNING(
                    f"{len(result.not_in_file):,} stored codes are not in the file and were kept: "
                    + ", ".join(result.not_in_file[:10])
                    + (" …" if len(result.not_in_file) > 10 else "")
                )
            )
        self.stdout.write(
            f"Synonyms from {options['synonyms'].name}: {synonyms.created:,} added, "
            f"{synonyms.removed:,} removed, {synonyms.unchanged:,} unchanged."
        )
